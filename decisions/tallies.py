"""Counting the decision log and reported activity over a run of UTC days: the rollups for the
closed days that are rolled (and not stale), the raw rows for the rest (the open day, a closed
day not rolled yet, a day a review made stale). No figure is missing, none is counted twice,
and what the rolled days cost follows the number of days, agents and capabilities, never the
number of rows.

A figure is a Q over the fields both forms share, counted, or the earliest or latest time of
the rows matching one (`Earliest`, `Latest`). Decisions: `agent_slug`, `capability_key`,
`decision`, `reason_kind`, `policy_version`; activity: `agent_slug`, `capability_key`,
`logged`, `flagged`, `review_status`. A raw row gets `reason_kind` and `logged` from the very
expressions the rollups group by (decisions.rollups.REASON_KIND,
decisions.selectors.activity_logged), computed only when a figure asks for them, so both
forms give identical figures.
"""

import datetime
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncWeek

from decisions.models import RolledDay
from decisions.rollups import DAY, REASON_KIND, SOURCES, UTC, day_start, utc_today
from decisions.selectors import activity_logged

Runs = tuple[tuple[datetime.date, datetime.date], ...]  # [first, after) runs of days

# What a raw row lacks of its rollup's fields, by log: aliases, computed only if used.
_DERIVED: dict[str, Callable[[], dict[str, Any]]] = {
    RolledDay.Log.DECISIONS: lambda: {"reason_kind": REASON_KIND},
    RolledDay.Log.ACTIVITY: lambda: {"logged": activity_logged()},
}


@dataclass(frozen=True)
class DaySplit:
    """The days of a period for one log: those read from rollups, those read raw."""

    log: str
    rolled: Runs
    raw: Runs

    def clip(self, first: datetime.date, after: datetime.date) -> "DaySplit":
        """The same split, of the days [first, after) only."""

        def cut(runs: Runs) -> Runs:
            return tuple(
                (max(begin, first), min(end, after))
                for begin, end in runs
                if begin < after and end > first
            )

        return DaySplit(self.log, cut(self.rolled), cut(self.raw))

    def rollups(self) -> QuerySet | None:
        """The rollups of the rolled days, or None when there are none."""
        if not self.rolled:
            return None
        where = Q()
        for first, after in self.rolled:
            where |= Q(day__gte=first, day__lt=after)
        return SOURCES[self.log].rollup.objects.filter(where)

    def raw_rows(self) -> QuerySet | None:
        """The raw rows of the other days (with their derived fields), or None."""
        if not self.raw:
            return None
        source = SOURCES[self.log]
        where = Q()
        for first, after in self.raw:
            where |= Q(
                **{f"{source.time}__gte": day_start(first), f"{source.time}__lt": day_start(after)}
            )
        return source.raw.objects.filter(where).alias(**_DERIVED[self.log]())


def _runs(days: Iterable[datetime.date]) -> Runs:
    runs: list[tuple[datetime.date, datetime.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + DAY)
        else:
            runs.append((day, day + DAY))
    return tuple(runs)


def _gaps(runs: Runs, first: datetime.date, after: datetime.date) -> Runs:
    gaps, start = [], first
    for begin, end in runs:
        if begin > start:
            gaps.append((start, begin))
        start = end
    if start < after:
        gaps.append((start, after))
    return tuple(gaps)


def day_splits(
    first: datetime.date, after: datetime.date, *, now: datetime.datetime | None = None
) -> dict[str, DaySplit]:
    """Each log's split of the days [first, after): one query (the RolledDay index)."""
    rolled: dict[str, set[datetime.date]] = {log: set() for log in SOURCES}
    upto = min(after, utc_today(now))  # the open day and later are always raw
    for log, day in RolledDay.objects.filter(day__gte=first, day__lt=upto, stale=False).values_list(
        "log", "day"
    ):
        rolled[log].add(day)
    splits = {}
    for log, days in rolled.items():
        runs = _runs(days)
        splits[log] = DaySplit(log, runs, _gaps(runs, first, after))
    return splits


@dataclass(frozen=True)
class Earliest:
    """The earliest time of the rows matching `where`."""

    where: Q = field(default_factory=Q)


@dataclass(frozen=True)
class Latest:
    """The latest time of the rows matching `where`."""

    where: Q = field(default_factory=Q)


Figure = Q | Earliest | Latest


def _aggregates(figures: Mapping[str, Figure], *, rollup: bool, time: str) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for i, figure in enumerate(figures.values()):
        alias = f"figure_{i}"  # positional: a figure's name may clash with a field
        if isinstance(figure, Q):
            where = figure or None
            made[alias] = Sum("count", filter=where) if rollup else Count("pk", filter=where)
        elif isinstance(figure, Earliest):
            made[alias] = Min("first_at" if rollup else time, filter=figure.where or None)
        else:
            made[alias] = Max("last_at" if rollup else time, filter=figure.where or None)
    return made


def _combine(figure: Figure, values: list[Any]) -> Any:
    if isinstance(figure, Q):
        return sum(int(value or 0) for value in values)
    present = [value for value in values if value is not None]
    if not present:
        return None
    return min(present) if isinstance(figure, Earliest) else max(present)


def tally(split: DaySplit, figures: Mapping[str, Figure]) -> dict[str, Any]:
    """Each figure over the split's days: one query on the rollups, one on the raw rows (each
    only when it has days)."""
    time = SOURCES[split.log].time
    answers = []
    rollups, raw = split.rollups(), split.raw_rows()
    if rollups is not None:
        answers.append(rollups.aggregate(**_aggregates(figures, rollup=True, time=time)))
    if raw is not None:
        answers.append(raw.aggregate(**_aggregates(figures, rollup=False, time=time)))
    return {
        name: _combine(figure, [answer[f"figure_{i}"] for answer in answers])
        for i, (name, figure) in enumerate(figures.items())
    }


def sample_rows(
    split: DaySplit, where: Q, *, limit: int, by: Sequence[str] = (), lead: Q | None = None
) -> QuerySet | None:
    """The raw rows a report names as samples of those matching `where`: ordered by their time
    (those matching `lead` first) and cut at `limit` by the caller, they are the first `limit`
    of all the split's rows matching `where`. None when no row matches.

    Found without reading the split's rows: the rollups and the raw rows each give the
    `limit` groups (rows of one day, agent and capability, and `by`, which must make `lead`
    the same across a group) whose newest row comes first; the first `limit` rows all lie in
    those groups, between each one's first and newest row. Rollups and raw rows give the
    same groups, hence the same samples."""
    keys = ("day", "agent_slug", "capability_key", *by)
    first = (
        Case(When(lead, then=Value(1)), default=Value(0), output_field=IntegerField())
        if lead is not None
        else Value(0)
    )
    ranked = ("-lead", "-last", "-top")
    fields = ("lead", "last", "top", "first", *keys[1:])
    found: list[tuple] = []
    rollups, raw = split.rollups(), split.raw_rows()
    time = SOURCES[split.log].time
    if rollups is not None:
        found += (
            rollups.filter(where)
            .values(*keys)
            .annotate(
                lead=Max(first), last=Max("last_at"), top=Max("max_id"), first=Min("first_at")
            )
            .order_by(*ranked)
            .values_list(*fields)[:limit]
        )
    if raw is not None:
        found += (
            raw.filter(where)
            .annotate(day=TruncDate(time, tzinfo=UTC))
            .values(*keys)
            .annotate(lead=Max(first), last=Max(time), top=Max("pk"), first=Min(time))
            .order_by(*ranked)
            .values_list(*fields)[:limit]
        )
    if not found:
        return None
    window = Q()
    # Groups never share a row, so their highest ids differ: the order is total.
    for _, last, _, earliest, *group in sorted(found, reverse=True)[:limit]:
        bounds = {f"{time}__gte": earliest, f"{time}__lte": last}
        window |= Q(**dict(zip(keys[1:], group, strict=True)), **bounds)
    source = SOURCES[split.log]
    return source.raw.objects.filter(window).alias(**_DERIVED[split.log]()).filter(where)


def counts_per(
    split: DaySplit, per: Literal["day", "week"], by: str, where: Q | None = None
) -> Counter[tuple[datetime.date, str]]:
    """Rows matching `where` per UTC day (or week, by its Monday) and value of the field `by`:
    a GROUP BY on the rollups and one on the raw rows."""
    counts: Counter[tuple[datetime.date, str]] = Counter()
    where = where or Q()
    rollups, raw = split.rollups(), split.raw_rows()
    if rollups is not None:
        period = TruncWeek("day") if per == "week" else F("day")
        for when, value, n in (
            rollups.filter(where)
            .annotate(period=period)
            .values("period", by)
            .annotate(n=Sum("count"))
            .order_by()
            .values_list("period", by, "n")
        ):
            counts[(when, value)] += int(n)
    if raw is not None:
        time = SOURCES[split.log].time
        trunc = TruncWeek if per == "week" else TruncDate
        for when, value, n in (
            raw.filter(where)
            .annotate(period=trunc(time, tzinfo=UTC))
            .values("period", by)
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("period", by, "n")
        ):
            day = when.date() if isinstance(when, datetime.datetime) else when
            counts[(day, value)] += n
    return counts
