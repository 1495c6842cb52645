"""What decisions shows beside a subject awaiting approval (approvals.context): the drift flags
(activity nothing covered) of its agent in the last DRIFT_CONTEXT_DAYS days."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from decisions.models import Activity
from kernel.permissions import Action, AnyUser, can_any
from registry.models import Agent

DRIFT_CONTEXT_DAYS = 30
# The latest flags listed per agent; `flags_total` on each says how many there are in all.
DRIFT_CONTEXT_SHOWN = 5


def agent_drift_context(agents: Sequence[Agent], user: AnyUser) -> dict | None:
    """The agents' flagged activity of the last DRIFT_CONTEXT_DAYS days, latest first (one
    query, however many agents), for those who read activity: security and auditors."""
    if not can_any(user, Action.REVIEW_ACTIVITY, Action.VIEW_AUDIT_TRAIL):
        return None
    since = timezone.now() - timedelta(days=DRIFT_CONTEXT_DAYS)
    by_agent_latest = [F("occurred_at").desc(), F("id").desc()]
    flags = (
        Activity.objects.filter(
            flagged=True, occurred_at__gte=since, agent__in=[agent.pk for agent in agents]
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("agent_id")], order_by=by_agent_latest),
            flags_total=Window(Count("id"), partition_by=[F("agent_id")]),
        )
        .filter(rank__lte=DRIFT_CONTEXT_SHOWN)
        .order_by("agent_id", "rank")
    )
    by_agent: dict[int | None, list[Activity]] = defaultdict(list)
    for flag in flags:
        by_agent[flag.agent_id].append(flag)
    return {
        "key": "drift",
        "title": f"Drift flags, last {DRIFT_CONTEXT_DAYS} days",
        "template": "decisions/_context_drift.html",
        "empty": f"No drift flagged in the last {DRIFT_CONTEXT_DAYS} days.",
        "by_agent": by_agent,
    }
