"""Periodic work on the decision log. Each task fetches and calls a service."""

import logging

from celery import shared_task

from decisions import partitions, retention, rollups

logger = logging.getLogger(__name__)


@shared_task(name="decisions.tasks.ensure_partitions")
def ensure_partitions() -> list[str]:
    """This month's partitions and PARTITION_MONTHS_AHEAD more (PostgreSQL); those made."""
    return partitions.ensure_partitions()


@shared_task(name="decisions.tasks.prune_decisions")
def prune_decisions() -> int:
    """Drop the months past retention (rolled up first); how many went. While another prune
    runs (an operator's command), this run does nothing: tomorrow's will."""
    try:
        months = retention.prune(by=retention.TASK)
    except retention.PruneBusy as exc:
        logger.warning("retention: %s", exc.message)
        return 0
    return sum(month.dropped for month in months)


@shared_task(name="decisions.tasks.roll_up")
def roll_up() -> int:
    """Roll up the closed days that are due (decisions.rollups.roll_up_due); how many."""
    return len(rollups.roll_up_due())
