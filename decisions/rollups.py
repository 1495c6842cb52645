"""Daily rollups of the decision log and of reported activity: what reports count instead of
the raw rows, so their cost follows the number of days, agents and capabilities, not of rows.

A closed day (UTC) is rolled up by one INSERT ... SELECT ... GROUP BY per log, in one
transaction with the removal of the day's previous rollups and the record of the roll
(RolledDay): idempotent, serialised per day (an advisory lock on PostgreSQL; SQLite has one
writer), and never on the decision path (a periodic task and `manage.py rollup_decisions`).
Reports read rollups for the closed days that are rolled and not stale, the raw rows for the
rest (decisions.tallies): no figure is ever missing, none is counted twice.

What is due (roll_up_due), found without scanning the log:
- each day that closed since the last run, once GRACE has passed (a decision taken at
  23:59:59 is committed a moment later);
- a day that got rows after it was rolled (a late activity report, a server's clock behind):
  sought among the rows inserted since the last runs only, by primary key from the
  watermark (RollupWatermark), and compared with the day's RolledDay.max_id;
- a day marked stale since (an activity reviewed after its day was rolled: the review marks
  it in its own transaction, `mark_changed`, and reports read that day raw until re-rolled).
"""

import datetime
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Max,
    Min,
    Model,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from decisions.models import (
    Activity,
    ActivityRollup,
    Decision,
    DecisionOutcome,
    DecisionRollup,
    ReasonKind,
    RolledDay,
    RollupWatermark,
)
from decisions.selectors import activity_logged
from kernel.errors import ApplicationError

logger = logging.getLogger(__name__)
UTC = datetime.UTC
DAY = datetime.timedelta(days=1)
# roll_up_due leaves a day this long after it closed: a decision decided in its last second
# is committed a moment later, and a late row found after the roll costs a re-roll.
GRACE = datetime.timedelta(minutes=10)
Log = RolledDay.Log

# Why a decision came out as it did, from its stored columns, in the order the engine
# (decisions.services.engine.decide) reaches its answers. Stated once: the rollups group by
# it and reports filter raw rows by it (tests/decisions/test_rollups.py checks it against
# the engine's outcomes).
REASON_KIND = Case(
    When(grant_id__isnull=False, then=Value(ReasonKind.GRANT)),
    When(exception_id__isnull=False, then=Value(ReasonKind.EXCEPTION)),
    When(decision=DecisionOutcome.ALLOW, then=Value(ReasonKind.STANDING)),
    When(agent_id__isnull=True, then=Value(ReasonKind.UNKNOWN_AGENT)),
    When(capability_id__isnull=True, then=Value(ReasonKind.NOT_EVALUATED)),
    When(policy_version__isnull=True, then=Value(ReasonKind.NO_POLICY)),
    default=Value(ReasonKind.RULE),
    output_field=CharField(),
)


class RollupRefused(ApplicationError):
    """A day that cannot be rolled up (still open, or its raw rows are gone)."""

    default_code = "rollup_refused"


@dataclass(frozen=True)
class Rolled:
    """One log's day rolled up: raw rows counted into `groups` rollup rows."""

    log: str
    day: datetime.date
    rows: int
    groups: int
    again: bool  # the day had been rolled before (a re-roll)

    def __str__(self) -> str:
        verb = "Re-rolled" if self.again else "Rolled up"
        return (
            f"{verb} {self.log} {self.day.isoformat()}: "
            f"{self.rows} rows into {self.groups} rollup rows."
        )


def utc_today(now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(UTC).date()


def day_start(day: datetime.date) -> datetime.datetime:
    """The first instant of a UTC day."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=UTC)


@dataclass(frozen=True)
class _Source:
    raw: type[Decision] | type[Activity]
    time: str  # the raw rows' indexed time column
    rollup: type[DecisionRollup] | type[ActivityRollup]
    derived: Callable[[], dict[str, Any]]  # columns computed from the raw row, by name
    keys: tuple[str, ...]  # what a rollup row groups by, in the rollup table's terms

    def groups(self, day: datetime.date) -> QuerySet:
        """One closed day of the raw log, grouped into the rollup's rows."""
        window = {f"{self.time}__gte": day_start(day), f"{self.time}__lt": day_start(day + DAY)}
        return (
            self.raw.objects.filter(**window)
            .annotate(**self.derived())
            .values(*self.keys)
            .annotate(
                day=Value(day),
                count=Count("pk"),
                first_at=Min(self.time),
                last_at=Max(self.time),
                max_id=Max("pk"),
            )
            .order_by()
        )


SOURCES: dict[str, _Source] = {
    Log.DECISIONS: _Source(
        Decision,
        "decided_at",
        DecisionRollup,
        derived=lambda: {"reason_kind": REASON_KIND},
        keys=("agent_slug", "capability_key", "decision", "reason_kind", "policy_version"),
    ),
    Log.ACTIVITY: _Source(
        Activity,
        "occurred_at",
        ActivityRollup,
        derived=lambda: {"logged": activity_logged()},
        keys=("agent_slug", "capability_key", "logged", "flagged", "review_status"),
    ),
}


def _insert_select(rollup: type[Model], groups: QuerySet) -> int:
    """INSERT INTO the rollup table the rows `groups` selects (its columns, in their order);
    the number of rows inserted. The SELECT is the ORM's, so REASON_KIND and the `logged`
    rule are the very expressions reports use."""
    select, params = groups.query.sql_with_params()
    names = list(groups.query.selected or ())
    quote = connection.ops.quote_name
    column = {field.name: str(field.column) for field in rollup._meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(rollup._meta.db_table)} ({columns}) {select}", params)
        return cursor.rowcount


def _lock(log: str, day: datetime.date) -> None:
    """Serialise what writes or invalidates one log's day (a roll, a review marking it): on
    PostgreSQL a transaction-scoped advisory lock; SQLite allows one writer anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = zlib.crc32(f"rollup:{log}".encode()) & 0x7FFFFFFF
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [key, day.toordinal()])


@transaction.atomic
def _roll(log: str, day: datetime.date) -> Rolled:
    _lock(log, day)
    source = SOURCES[log]
    before = RolledDay.objects.filter(log=log, day=day).first()
    source.rollup.objects.filter(day=day).delete()
    groups = _insert_select(source.rollup, source.groups(day))
    totals = source.rollup.objects.filter(day=day).aggregate(rows=Sum("count"), top=Max("max_id"))
    rows = int(totals["rows"] or 0)
    if before is not None and rows < before.rows:
        # The raw log is append-only: fewer rows now means its partition was dropped
        # (retention). The rollups are all that is left of the day: keep them.
        raise RollupRefused(
            f"{log} {day.isoformat()} now holds {rows} raw rows, {before.rows} when it was "
            "rolled up: its raw rows were pruned, so its rollups are kept as they are."
        )
    RolledDay.objects.update_or_create(
        log=log,
        day=day,
        defaults={
            "rows": rows,
            "max_id": totals["top"] or 0,
            "rolled_at": timezone.now(),
            "stale": False,
        },
    )
    return Rolled(log, day, rows, groups, again=before is not None)


def roll_up_day(
    day: datetime.date, log: str | None = None, *, now: datetime.datetime | None = None
) -> list[Rolled]:
    """(Re)write the rollups of one closed UTC day, for one log or both (one transaction).

    Refused for today and later: the open day is always read raw."""
    today = utc_today(now)
    if day >= today:
        when = "today (UTC), still open" if day == today else "in the future"
        raise RollupRefused(
            f"{day.isoformat()} is {when}: only closed days are rolled up.", field="day"
        )
    logs = [log] if log else list(SOURCES)
    with transaction.atomic():
        return [_roll(name, day) for name in logs]


def mark_changed(log: str, at: datetime.datetime) -> None:
    """Something a rollup of `log` counts changed for the day of `at` (an activity reviewed):
    if that day is rolled, mark it stale, so reports read it raw until roll_up_due re-rolls
    it. Call inside the transaction that makes the change: the lock orders it after a roll
    of that day in progress, which could not have seen the change."""
    day = at.astimezone(UTC).date()
    _lock(log, day)
    RolledDay.objects.filter(log=log, day=day, stale=False).update(stale=True)


def _days(first: datetime.date, after: datetime.date) -> set[datetime.date]:
    return {first + datetime.timedelta(days=n) for n in range(max(0, (after - first).days))}


def _late_days(log: str, low: int, top: int, until: datetime.date) -> set[datetime.date]:
    """Days before `until` holding rows with ids in (low, top] that their roll did not count
    (or that are not rolled): one read of those rows by primary key."""
    if top <= low:
        return set()
    source = SOURCES[log]
    time = source.time
    found = dict(
        source.raw.objects.filter(pk__gt=low, pk__lte=top, **{f"{time}__lt": day_start(until)})
        .annotate(day=TruncDate(time, tzinfo=UTC))
        .values("day")
        .annotate(top=Max("pk"))
        .order_by()
        .values_list("day", "top")
    )
    if not found:
        return set()
    rolled = dict(
        RolledDay.objects.filter(log=log, day__in=list(found)).values_list("day", "max_id")
    )
    return {day for day, highest in found.items() if day not in rolled or highest > rolled[day]}


def _due(
    log: str, mark: RollupWatermark | None, top: int, until: datetime.date
) -> set[datetime.date]:
    """The days of `log` to (re)roll now, all before `until`."""
    due = _late_days(log, mark.lagged_id if mark else 0, top, until)
    if mark is not None:
        due |= _days(mark.closed_through + DAY, until)
    stale = RolledDay.objects.filter(log=log, stale=True, day__lt=until)
    due |= set(stale.values_list("day", flat=True))
    return due


def _advance(log: str, mark: RollupWatermark | None, top: int, until: datetime.date) -> None:
    """Record how far this run looked (one statement)."""
    through = until - DAY
    if mark is None:
        # The first run read every row: the next one starts from here. A concurrent first
        # run wrote the same (ignore_conflicts).
        first = RollupWatermark(
            log=log,
            checked_id=top,
            lagged_id=top,
            closed_through=through,
            checked_at=timezone.now(),
        )
        RollupWatermark.objects.bulk_create([first], ignore_conflicts=True)
        return
    RollupWatermark.objects.filter(pk=mark.pk).update(
        checked_id=top,
        # The next run reads from the id this run started from: a row whose insert was still
        # uncommitted now, with an id below `top`, is seen then.
        lagged_id=mark.checked_id,
        closed_through=max(through, mark.closed_through),
        checked_at=timezone.now(),
    )


def roll_up_due(now: datetime.datetime | None = None) -> list[Rolled]:
    """Roll up every closed day that is due (see the module's docstring), decisions first;
    what was rolled. A day whose decisions changed re-rolls that day's and the next day's
    activity too (an action is `logged` by a decision up to a few minutes before it)."""
    now = now or timezone.now()
    until = (now - GRACE).astimezone(UTC).date()  # the first day not to roll yet
    done: list[Rolled] = []
    changed: set[datetime.date] = set()
    for log in SOURCES:
        mark = RollupWatermark.objects.filter(log=log).first()
        top = SOURCES[log].raw.objects.aggregate(top=Max("pk"))["top"] or 0
        due = _due(log, mark, top, until)
        if log == Log.ACTIVITY and changed:
            near = {day for day in changed if day < until}
            due |= set(
                RolledDay.objects.filter(log=log, day__in=near).values_list("day", flat=True)
            )
        for day in sorted(due):
            try:
                rolled = _roll(log, day)
            except RollupRefused as exc:
                logger.warning("Rollup skipped: %s", exc.message)
                continue
            done.append(rolled)
            if log == Log.DECISIONS:
                changed |= {day, day + DAY}
        _advance(log, mark, top, until)
    return done
