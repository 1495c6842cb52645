"""Retention of the raw decision log and of reported activity.

Raw rows are kept DECISION_RETENTION_DAYS (decisions) and ACTIVITY_RETENTION_DAYS (activity)
days. Older ones go a whole month at a time: on PostgreSQL each monthly partition whose upper
bound is older than now minus the retention is DETACHed and DROPped, never deleted row by row;
on SQLite, whose tables are plain, one set-based DELETE per table removes the rows before the
same month boundary (a raw delete: Activity is audited, and a QuerySet.delete() would write a
trail entry per row).

Before a month goes, every day in it that holds rows the daily rollups do not (never rolled, or
rows arriving after its roll-up) is rolled up (decisions.rollups), so daily counts outlive the
raw rows; for a month of decisions, the same days of activity too (whether an action was
logged is read from the decisions just before it). A month with a day that still is not
rolled up is kept and said so. The month is
checked, rolled up and dropped in one transaction that first locks its partition against
writes, so what was counted is what goes. Each drop is a `PrunedPartition` row, audited: the
audit trail shows it with its row count.

Pruning runs as the system: retention is a policy set in the settings, not a person's decision
(the nightly task and `manage.py prune_decisions` write their entries as "retention task" and
"manage.py prune_decisions").
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from decisions import partitions, rollups
from decisions.models import Activity, Decision, PrunedPartition, RolledDay
from decisions.partitions import ACTIVITY, DECISIONS, LOGS, PartitionedLog
from kernel.audit import audit_source
from kernel.errors import ApplicationError

logger = logging.getLogger(__name__)

TASK = "retention task"
MODELS: dict[str, type[Decision] | type[Activity]] = {
    LOGS["decisions"].table: Decision,
    LOGS["activity"].table: Activity,
}


@dataclass(frozen=True)
class Month:
    """A month (on SQLite: everything before a month boundary) past retention."""

    log: PartitionedLog
    partition: str  # "" on SQLite
    start: datetime
    end: datetime  # excluded
    rows: int = 0
    to_roll_up: tuple[tuple[str, date], ...] = ()  # (log, day)s the rollups do not hold yet
    kept_because: str = ""  # set when it was not (or would not be) dropped
    dropped: bool = False


def cutoff(log: PartitionedLog, now: datetime | None = None) -> datetime:
    """Raw rows older than this are past retention."""
    return (now or timezone.now()) - timedelta(days=log.retention_days)


def retained_since(log: PartitionedLog | str) -> datetime | None:
    """The earliest instant whose raw rows are kept: the end of the last range retention
    dropped (None while nothing was dropped: every raw row is still there)."""
    name = log.name if isinstance(log, PartitionedLog) else log
    return PrunedPartition.objects.filter(log=name).aggregate(until=Max("range_end"))["until"]


def retained_since_each() -> dict[str, datetime]:
    """`retained_since` of each log that lost rows to retention (by log name), in one query."""
    ends = PrunedPartition.objects.order_by().values("log").annotate(until=Max("range_end"))
    return {row["log"]: row["until"] for row in ends}


def expired(log: PartitionedLog, now: datetime | None = None) -> list[Month]:
    """The months of `log` past retention, oldest first (not yet surveyed: rows 0)."""
    limit = cutoff(log, now)
    if partitions.is_partitioned(log):
        return [
            Month(log, p.name, p.start, p.end)
            for p in partitions.partitions(log.table)
            if p.start is not None and p.end is not None and p.end <= limit
        ]
    boundary = partitions.month_start(limit)
    model = MODELS[log.table]
    oldest = model.objects.filter(**{f"{log.column}__lt": boundary}).aggregate(at=Min(log.column))
    if oldest["at"] is None:
        return []
    return [Month(log, "", partitions.month_start(oldest["at"]), boundary)]


def _days(log: PartitionedLog, month: Month) -> dict[date, tuple[int, int]]:
    """(rows, highest id) of each UTC day of `log` in the month's range that has rows."""
    column = log.column
    rows = (
        MODELS[log.table]
        .objects.filter(**{f"{column}__gte": month.start, f"{column}__lt": month.end})
        .annotate(day=TruncDate(column, tzinfo=UTC))
        .order_by()
        .values("day")
        .annotate(rows=Count("id"), top=Max("id"))
        .values_list("day", "rows", "top")
    )
    return {day: (count, top) for day, count, top in rows}


def _not_rolled(log: PartitionedLog, days: dict[date, tuple[int, int]]) -> list[tuple[str, date]]:
    """The days whose rollups do not hold their rows: never rolled, marked stale, or rows
    added (a higher id) or gone since."""
    rolled = {row.day: row for row in RolledDay.objects.filter(log=log.name, day__in=list(days))}
    return [
        (log.name, day)
        for day, (count, top) in sorted(days.items())
        if day not in rolled
        or rolled[day].stale
        or rolled[day].max_id < top
        or rolled[day].rows != count
    ]


def _unrolled(month: Month) -> tuple[int, list[tuple[str, date]]]:
    """The month's rows, and the (log, day)s to roll up before it goes: its own days, and for
    decisions the same days of activity too (an action counts as logged by a decision just
    before it; rolled after the decisions went, it would not)."""
    days = _days(month.log, month)
    missing = _not_rolled(month.log, days)
    if month.log is DECISIONS:
        missing += _not_rolled(ACTIVITY, _days(ACTIVITY, month))
    return sum(count for count, _ in days.values()), missing


def survey(month: Month, *, roll_up: bool) -> Month:
    """The month with its row count and the days not rolled up; with `roll_up`, those days are
    rolled up first (and if any still is not, the month is kept, saying why)."""
    rows, missing = _unrolled(month)
    why = ""
    if missing and roll_up:
        try:
            for log, day in missing:
                rollups.roll_up_day(day, log)
        except rollups.RollupRefused as exc:
            why = exc.message
        rows, missing = _unrolled(month)
        listed = ", ".join(f"{log} {day.isoformat()}" for log, day in missing[:5])
        why = why or (f"{len(missing)} day(s) could not be rolled up: {listed}" if missing else "")
    return replace(month, rows=rows, to_roll_up=tuple(missing), kept_because=why)


def _drop(month: Month) -> int:
    """Detach and drop the month's partition, or delete its rows on SQLite; rows gone."""
    if not month.partition:
        model = MODELS[month.log.table]
        doomed = model.objects.filter(**{f"{month.log.column}__lt": month.end})
        return doomed._raw_delete(doomed.db)  # one DELETE, no signals, no per-row trail entry
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # The detach waits for the parent's lock at most this long; the next run tries again.
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [partitions.TASK_LOCK_TIMEOUT]
        )
        cursor.execute(
            f"ALTER TABLE {quote(month.log.table)} DETACH PARTITION {quote(month.partition)}"
        )
        # Deferred key checks of rows this transaction wrote run now: PostgreSQL drops no table
        # with checks pending (activity's foreign keys are deferred).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE {quote(month.partition)}")
    partitions.forget(month.log, month.start)
    return month.rows


def _prune_month(month: Month, *, dry_run: bool, by: str, now: datetime) -> Month:
    if dry_run:
        return survey(month, roll_up=False)
    with transaction.atomic():
        if month.partition:  # no row enters the month between its count and its drop
            with connection.cursor() as cursor:
                quote = connection.ops.quote_name
                cursor.execute(f"LOCK TABLE {quote(month.partition)} IN SHARE MODE")
        month = survey(month, roll_up=True)
        if month.kept_because:
            return month
        rows = _drop(month)
        with audit_source(by):
            PrunedPartition.objects.create(
                log=month.log.name,
                partition=month.partition,
                range_start=month.start,
                range_end=month.end,
                rows=rows,
                pruned_at=now,
                pruned_by=by,
            )
    where = month.partition or f"{month.log.table} rows before {month.end:%Y-%m-%d}"
    logger.info("retention: dropped %s %s (%s rows)", month.log.name, where, rows)
    return replace(month, rows=rows, dropped=True)


# One prune at a time (the nightly task and an operator's command): a session advisory lock on
# PostgreSQL; SQLite lets one writer in at a time anyway.
PRUNE_LOCK = 0x70_72_75_6E  # "prun"


class PruneBusy(ApplicationError):
    """Another prune is running (the nightly task, or `manage.py prune_decisions`)."""

    def __init__(self) -> None:
        super().__init__(
            "Another prune of the decision log is running; nothing was done. Try again once "
            "it has finished.",
            code="prune_running",
        )


@contextmanager
def _only_prune() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [PRUNE_LOCK])
        if not cursor.fetchone()[0]:
            raise PruneBusy()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PRUNE_LOCK])


def prune(*, dry_run: bool = False, by: str = TASK, now: datetime | None = None) -> list[Month]:
    """Drop (or, `dry_run`, only list) every month past retention in both logs, each in its own
    transaction; the months, with what became of each. Refused (PruneBusy) while another prune
    runs: two would race for the same partitions."""
    with _only_prune():
        return _prune(dry_run=dry_run, by=by, now=now or timezone.now())


def _prune(*, dry_run: bool, by: str, now: datetime) -> list[Month]:
    done = []
    for log in LOGS.values():
        for month in expired(log, now):
            try:
                done.append(_prune_month(month, dry_run=dry_run, by=by, now=now))
            except OperationalError as exc:  # a lock not granted in time: kept until next run
                logger.warning("retention: kept %s %s: %s", log.name, month.partition, exc)
                done.append(replace(month, kept_because=f"busy: {exc}".strip()))
    return done
