"""Dashboard panels about decisions and drift: what waits for review, decisions per day, drift
flags per week. Each chart counts the daily rollups of its closed days and the raw rows of the
rest (decisions.tallies): a GROUP BY on each, whatever the number of rows."""

import datetime
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from decisions.limits import DECISION_CHART_DAYS, DRIFT_CHART_WEEKS
from decisions.models import Activity, DecisionOutcome, ReviewStatus, RolledDay
from decisions.tallies import DaySplit, counts_per, day_splits
from kernel.charts import WIDE, Cell, Chart, Row, Series
from kernel.dashboard import attention, chart_panel
from kernel.permissions import Action, AnyUser, can

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)
OUTCOMES = [
    Series(DecisionOutcome.ALLOW, "Allow", tone="ok", pattern="solid"),
    Series(DecisionOutcome.DENY, "Deny", tone="bad", pattern="hatch"),
]
VERDICTS = [
    Series(ReviewStatus.PENDING, "Awaiting review", tone="warn", pattern="hatch"),
    Series(ReviewStatus.INCIDENT, "Incident", tone="bad", pattern="cross"),
    Series(ReviewStatus.EXPECTED, "Expected", tone="ok", pattern="solid"),
]


def drift_panels(user: AnyUser) -> list[dict]:
    """Security: flagged activity to review and drift per week; security and auditors: the
    decision log per day."""
    panels: list[dict] = []
    reviews, audits = can(user, Action.REVIEW_ACTIVITY), can(user, Action.VIEW_AUDIT_TRAIL)
    if not (reviews or audits):
        return panels
    # Which days each chart reads from rollups: one query for both charts.
    today = _today()
    splits = day_splits(min(_first_day(today), _first_monday(today)), today + ONE_DAY)
    if reviews:
        waiting = Activity.objects.filter(flagged=True, review_status=ReviewStatus.PENDING)
        panels.append(
            attention(
                "drift",
                "Flagged activity to review (drift)",
                waiting.count(),
                reverse("decisions:review"),
                rank=30,
            )
        )
        panels.append(chart_panel(drift_per_week(splits[RolledDay.Log.ACTIVITY]), rank=40))
    if audits:
        panels.append(chart_panel(decisions_per_day(splits[RolledDay.Log.DECISIONS]), rank=10))
    return panels


def _instant(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=UTC)


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _link(name: str, start: datetime.date, end: datetime.date, **filters: str) -> str:
    """The list behind a count: `name`'s page from `start` to before `end` (UTC days)."""
    query = {**filters, "since": _iso(_instant(start)), "until": _iso(_instant(end))}
    return f"{reverse(name)}?{urlencode(query)}"


def _today() -> datetime.date:
    return timezone.now().astimezone(UTC).date()


def _first_day(today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=DECISION_CHART_DAYS - 1)


def _first_monday(today: datetime.date) -> datetime.date:
    this_week = today - datetime.timedelta(days=today.weekday())
    return this_week - datetime.timedelta(weeks=DRIFT_CHART_WEEKS - 1)


def _period_rows(
    starts: list[datetime.date],
    length: datetime.timedelta,
    counts: dict,
    series: Sequence[Series],
    view: str,
    field: str,
    label: Callable[[datetime.date], str],
) -> list[Row]:
    """A row per period from each start: a cell per series linking the view filtered to the
    period and the series (`field`), the row linking the whole period."""
    return [
        Row(
            key=start.isoformat(),
            label=label(start),
            axis_label=start.strftime("%b %-d"),
            cells=[
                Cell(
                    counts.get((start, s.key), 0),
                    _link(view, start, start + length, **{field: s.key}),
                )
                for s in series
            ],
            link=_link(view, start, start + length),
        )
        for start in starts
    ]


def decisions_per_day(split: DaySplit) -> Chart:
    """Allowed and denied per UTC day; `split`: the decision log's days, the chart's included."""
    today = _today()
    first = _first_day(today)
    counts = counts_per(split.clip(first, today + ONE_DAY), "day", "decision")
    days = [first + datetime.timedelta(days=n) for n in range(DECISION_CHART_DAYS)]
    rows = _period_rows(days, ONE_DAY, counts, OUTCOMES, "decisions:log", "decision", str)
    end = today + datetime.timedelta(days=1)
    chart = Chart(
        key="decisions-per-day",
        title=f"Decisions per day, last {DECISION_CHART_DAYS} days",
        series=OUTCOMES,
        rows=rows,
        row_heading="Day (UTC)",
        series_links=[_link("decisions:log", first, end, decision=s.key) for s in OUTCOMES],
        empty="No decision in this period.",
        width=WIDE,
    )
    allow, deny = (total["value"] for total in chart.totals)
    chart.summary = (
        f"{allow + deny} decisions from {first.isoformat()} to {today.isoformat()}: "
        f"{allow} allowed, {deny} denied."
    )
    return chart


def drift_per_week(split: DaySplit) -> Chart:
    """Flagged actions per week by review status; `split`: activity's days, the chart's
    included."""
    today = _today()
    this_week = today - datetime.timedelta(days=today.weekday())
    first = _first_monday(today)
    counts = counts_per(
        split.clip(first, today + ONE_DAY), "week", "review_status", Q(flagged=True)
    )
    mondays = [first + datetime.timedelta(weeks=n) for n in range(DRIFT_CHART_WEEKS)]
    rows = _period_rows(
        mondays,
        datetime.timedelta(weeks=1),
        counts,
        VERDICTS,
        "decisions:review",
        "review_status",
        lambda monday: f"Week of {monday.isoformat()}",
    )
    end = this_week + datetime.timedelta(weeks=1)
    chart = Chart(
        key="drift-per-week",
        title=f"Drift flags per week, last {DRIFT_CHART_WEEKS} weeks",
        series=VERDICTS,
        rows=rows,
        row_heading="Week (from Monday, UTC)",
        series_links=[_link("decisions:review", first, end, review_status=s.key) for s in VERDICTS],
        empty="No action was flagged in this period.",
        width=WIDE,
    )
    pending, incident, expected = (total["value"] for total in chart.totals)
    chart.summary = (
        f"{chart.grand_total} actions flagged since {first.isoformat()}: {pending} awaiting "
        f"review, {incident} incidents, {expected} expected."
    )
    return chart
