"""Monthly partitions of the decision log and of reported activity, on PostgreSQL.

The one place that knows partition names (`decisions_decision_p2026_11`) and bounds (a UTC
calendar month, `[2026-11-01, 2026-12-01)`). Migration 0004 turns both tables into tables
partitioned by range of their time column; the embedded SQLite default keeps plain tables
behind the same models, and everything here is then a no-op.

Partitions are made three ways, so an insert never fails for want of one:
- ahead, by the daily task (`ensure_partitions`: this month and PARTITION_MONTHS_AHEAD more);
- by the migration, for the rows already there and the retention window behind now;
- on demand (`insert_covered`): an insert PostgreSQL refuses because no partition covers a
  row ("no partition of relation … found for row") makes that row's month and runs again,
  once. Inside a transaction the first try runs in a savepoint, so the transaction survives
  the refusal; a savepoint costs two round trips, so it is taken only until this process has
  seen the month written (the hot path pays nothing: one month is written all month long).

A new partition is created on its own and then ATTACHed: attaching takes only a SHARE UPDATE
EXCLUSIVE lock on the parent, which neither inserts nor reads wait for (CREATE TABLE …
PARTITION OF would take an ACCESS EXCLUSIVE one, queued behind a long report and blocking
every decision behind it).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from decisions.models import Activity, Decision, RolledDay

T = TypeVar("T")

# Serialises partition DDL across processes (pg_advisory_xact_lock's key: any fixed bigint).
_DDL_LOCK = 0x64_65_63_69_73_69_6F_6E  # "decision"
# The daily task gives up waiting for a lock after this long and tries again the next day.
TASK_LOCK_TIMEOUT = "5s"
_BOUNDS = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")
# SQLSTATE check_violation without a constraint name: no partition covers the row.
_CHECK_VIOLATION = "23514"


@dataclass(frozen=True)
class PartitionedLog:
    name: str  # a RolledDay.Log value: "decisions", "activity"
    table: str
    column: str  # the partition key
    retention_setting: str

    @property
    def retention_days(self) -> int:
        return int(getattr(settings, self.retention_setting))


DECISIONS = PartitionedLog(
    RolledDay.Log.DECISIONS, Decision._meta.db_table, "decided_at", "DECISION_RETENTION_DAYS"
)
ACTIVITY = PartitionedLog(
    RolledDay.Log.ACTIVITY, Activity._meta.db_table, "occurred_at", "ACTIVITY_RETENTION_DAYS"
)
LOGS = {log.name: log for log in (DECISIONS, ACTIVITY)}


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None: MINVALUE, or the DEFAULT partition
    end: datetime | None  # None: MAXVALUE, or the DEFAULT partition
    rows: int | None  # the planner's estimate; None before the partition was first analysed


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the calendar month `moment` falls in."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def months_between(first: datetime, last: datetime) -> list[datetime]:
    """The starts of every month from `first`'s to `last`'s, both included."""
    month, end = month_start(first), month_start(last)
    found = []
    while month <= end:
        found.append(month)
        month = add_months(month, 1)
    return found


def partition_name(log: PartitionedLog, start: datetime) -> str:
    return f"{log.table}_p{start:%Y_%m}"


def _literal(moment: datetime) -> str:
    # DDL takes no parameters; the bound is a datetime computed here, never input.
    return f"'{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


def is_partitioned(log: PartitionedLog) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [log.table])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def partitions(table: str) -> list[Partition]:
    """The partitions of `table` (a table name or a log's name), oldest first, with bounds and
    row estimates; [] for a plain table (SQLite, or before migration 0004)."""
    table = LOGS[table].table if table in LOGS else table
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        rows = cursor.fetchall()
    found = [_partition(name, bound, estimate) for name, bound, estimate in rows]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda p: (p.start or oldest, p.name))


def _partition(name: str, bound: str, estimate: int) -> Partition:
    match = _BOUNDS.search(bound or "")
    start = end = None
    if match:  # MINVALUE/MAXVALUE are not quoted and stay None
        start, end = (datetime.fromisoformat(text) for text in match.groups())
    return Partition(name, start, end, estimate if estimate >= 0 else None)


def _covers(existing: list[Partition], start: datetime) -> bool:
    end = add_months(start, 1)
    return any(
        p.start is not None and p.end is not None and p.start <= start and end <= p.end
        for p in existing
    )


def create_partition(log: PartitionedLog, start: datetime, *, lock_timeout: str = "") -> bool:
    """Make and attach the partition of the month starting at `start` unless one covers it
    (True when made). `lock_timeout`: give up (OperationalError) rather than wait longer."""
    name = connection.ops.quote_name(partition_name(log, start))
    parent = connection.ops.quote_name(log.table)
    bounds = f"FROM ({_literal(start)}) TO ({_literal(add_months(start, 1))})"
    with transaction.atomic(), connection.cursor() as cursor:
        previous = None
        if lock_timeout:  # SET LOCAL, put back below: an outer transaction keeps its own
            cursor.execute(
                "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                [lock_timeout],
            )
            previous = cursor.fetchone()[0]
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DDL_LOCK])
        made = not _covers(partitions(log.table), start)  # or another process made it
        if made:
            # Like the parent (columns, defaults, CHECKs); ATTACH adds its indexes and keys.
            cursor.execute(
                f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES {bounds}")
        if previous is not None:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    _remember(log, {start})
    return made


def ensure_months(
    log: PartitionedLog, starts: Iterable[datetime], *, lock_timeout: str = ""
) -> list[str]:
    """A partition for each month starting at one of `starts` (see `months_between`); the
    names of those made. Nothing on a plain table."""
    if not is_partitioned(log):
        return []
    existing = partitions(log.table)
    made = []
    for start in sorted(set(starts)):
        if not _covers(existing, start) and create_partition(log, start, lock_timeout=lock_timeout):
            made.append(partition_name(log, start))
    return made


def ensure_partitions(months_ahead: int | None = None, at: datetime | None = None) -> list[str]:
    """This month's partition and `months_ahead` more (PARTITION_MONTHS_AHEAD), for both logs;
    idempotent. The names of those made (none on SQLite)."""
    ahead = settings.PARTITION_MONTHS_AHEAD if months_ahead is None else months_ahead
    current = month_start(at or timezone.now())
    made = []
    for log in LOGS.values():
        months = months_between(current, add_months(current, ahead))
        made += ensure_months(log, months, lock_timeout=TASK_LOCK_TIMEOUT)
    return made


# --- On demand -------------------------------------------------------------------------------

# Months this process has written to (or made), per table: an insert into one of them needs no
# savepoint. Only months retention cannot have dropped since are trusted (see `_trusted`).
_seen: dict[str, set[datetime]] = {}


def _trusted(log: PartitionedLog, months: set[datetime]) -> bool:
    seen = _seen.get(log.table, set())
    if not months <= seen:
        return False
    # Retention drops a month once its end is older than the window: by then, it may be gone.
    horizon = timezone.now() - timedelta(days=log.retention_days)
    return all(add_months(month, 1) > horizon for month in months)


def _remember(log: PartitionedLog, months: set[datetime]) -> None:
    """Trust `months` once the transaction that wrote them commits: a partition made inside a
    transaction that rolls back is gone again (in autocommit, at once)."""
    transaction.on_commit(lambda: _seen.setdefault(log.table, set()).update(months))


def forget(log: PartitionedLog, start: datetime) -> None:
    """The month's partition was dropped: its next insert here takes the guarded path."""
    _seen.get(log.table, set()).discard(start)


def _no_partition(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return getattr(cause, "sqlstate", None) == _CHECK_VIOLATION and not getattr(
        diag, "constraint_name", None
    )


def insert_covered(log: PartitionedLog, moments: Iterable[datetime], insert: Callable[[], T]) -> T:
    """Run `insert` (rows dated `moments`, in `log`); if PostgreSQL refuses it because no
    partition covers a row, make the missing months' partitions and run it once more."""
    if connection.vendor != "postgresql":
        return insert()
    months = {month_start(moment) for moment in moments}
    trusted = _trusted(log, months)
    guarded = connection.in_atomic_block and not trusted
    try:
        result = _run(insert, savepoint=guarded)
    except IntegrityError as exc:
        if not _no_partition(exc):
            raise
        if connection.in_atomic_block and not guarded:
            raise  # the transaction is lost already: nothing to retry in
        ensure_months(log, months)  # only the months written: a stray date makes one, not a span
        result = _run(insert, savepoint=connection.in_atomic_block)
    if not trusted:
        _remember(log, months)
    return result


def _run(insert: Callable[[], T], *, savepoint: bool) -> T:
    if not savepoint:
        return insert()
    with transaction.atomic():
        return insert()
