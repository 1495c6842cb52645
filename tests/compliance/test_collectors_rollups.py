"""Reports read daily rollups for the closed days rolled up and raw rows for the rest: the same
figures either way, correct right after a review, and a fixed number of queries whatever the
number of decisions (AGC-05, AGC-10, the dashboard's charts)."""

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.collectors import COLLECTORS
from compliance.period import Period, period_parse
from compliance.reports.build import collect_controls
from controls.models import Control
from decisions.dashboard import decisions_per_day, drift_per_week
from decisions.models import Activity, Decision, RolledDay
from decisions.rollups import roll_up_day, roll_up_due
from decisions.services.activity import activity_report, activity_review
from decisions.tallies import day_splits
from tests.decisions import rollup_seed as seed

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _now() -> datetime.datetime:
    return seed.day_start(seed.today()) + datetime.timedelta(hours=12)


def _evidence(ref_id: str, period: Period | None = None):
    evidence = COLLECTORS[ref_id].collect(period or period_parse(None, None))
    return evidence.checked, evidence.failed, evidence.figures, evidence.samples


def _charts():
    today = seed.today()
    splits = day_splits(today - DAY * 90, today + DAY)
    decisions = decisions_per_day(splits[RolledDay.Log.DECISIONS])
    drift = drift_per_week(splits[RolledDay.Log.ACTIVITY])
    return [
        [[cell.value for cell in row.cells] for row in chart.rows] + [chart.summary]
        for chart in (decisions, drift)
    ]


def _seed(gateway, rng: random.Random, n: int):
    w = seed.world(gateway)
    today = seed.today()
    days = [today - DAY * k for k in range(12)]  # eleven closed days and the open one
    log = seed.decisions(rng, w, days, n)
    seed.activities(rng, w, days, n // 2, log)
    return w, days


@pytest.mark.parametrize("seed_value", range(4))
def test_figures_are_identical_from_rollups_and_from_raw_rows(seed_value, gateway):
    _seed(gateway, random.Random(seed_value), 150)
    today = seed.today()
    periods = [
        period_parse(None, None),  # the closed days and today
        Period(today - DAY * 8, today - DAY * 2),  # closed days only
        Period(today - DAY * 3, today - DAY * 3),  # one closed day
    ]
    refs = ("AGC-05", "AGC-10")
    raw = {(ref, p): _evidence(ref, p) for ref in refs for p in periods}
    charts = _charts()
    controls = list(Control.objects.filter(active=True))
    report = {
        ref: (r.status, r.evidence.figures)
        for ref, r in collect_controls(controls, periods[0]).items()
    }
    assert roll_up_due(now=_now())
    assert {(ref, p): _evidence(ref, p) for ref in refs for p in periods} == raw
    assert _charts() == charts
    rolled = collect_controls(controls, periods[0])
    assert {ref: (r.status, r.evidence.figures) for ref, r in rolled.items()} == report
    assert raw[("AGC-05", periods[0])][0] > 0


def test_rolled_days_are_read_from_rollups_not_from_the_raw_log(gateway):
    _seed(gateway, random.Random(5), 120)
    period = Period(seed.today() - DAY * 10, seed.today() - DAY)
    figures = _evidence("AGC-05", period)[2]
    assert figures["decisions_recorded"] > 0
    roll_up_due(now=_now())
    Decision.objects.all().delete()  # as if retention had dropped them
    assert _evidence("AGC-05", period)[2] == figures


def test_a_review_after_rolling_updates_agc10_at_once(gateway, security):
    w = seed.world(gateway)
    yesterday = seed.today() - DAY
    action = seed.activities(random.Random(1), w, [yesterday], 1, [])[0]
    action.flagged, action.review_status = True, "pending"
    action.save()
    roll_up_due(now=_now())
    checked, failed, figures, samples = _evidence("AGC-10")
    assert (checked, failed, figures["awaiting_review"]) == (1, 1, 1)
    assert figures["oldest_awaiting_review"] == action.occurred_at
    assert samples[0].id == str(action.pk)
    assert samples[0].failed
    activity_review(actor=security, activity=action, verdict="expected", note="known job")
    # Before any re-roll: the day is stale, read raw.
    checked, failed, figures, samples = _evidence("AGC-10")
    assert (failed, figures["awaiting_review"], figures["reviewed_expected"]) == (0, 0, 1)
    assert figures["oldest_awaiting_review"] is None
    assert not samples[0].failed
    assert "reviewed by sec1 as expected" in samples[0].label
    assert [r.day for r in roll_up_due(now=_now() + datetime.timedelta(minutes=10))] == [yesterday]
    assert _evidence("AGC-10")[:3] == (checked, failed, figures)


def test_a_late_report_counts_before_and_after_its_day_is_re_rolled(gateway):
    w, days = _seed(gateway, random.Random(8), 60)
    roll_up_due(now=_now())
    before = _evidence("AGC-10")[0]
    seed.activities(random.Random(9), w, [days[4]], 3, [])
    after_roll = roll_up_due(now=_now() + datetime.timedelta(minutes=10))
    assert [(r.log, r.day) for r in after_roll] == [("activity", days[4])]
    assert _evidence("AGC-10")[0] == before + 3


def test_a_late_report_through_the_service_counts_at_once_before_the_re_roll(gateway):
    """A gateway reporting actions of a day already rolled up: AGC-05 and AGC-10 count them
    right away (the day is read raw until re-rolled), and the same once it is re-rolled."""
    w, days = _seed(gateway, random.Random(8), 60)
    roll_up_due(now=_now())
    before = {ref: _evidence(ref) for ref in ("AGC-05", "AGC-10")}
    agent, cap = w.agents[0], w.capabilities[0]
    late = seed.day_start(days[4]) + datetime.timedelta(hours=6)
    item = {"agent": agent.slug, "capability": cap.key, "outcome": "success", "occurred_at": late}
    reported = activity_report(actor=gateway, items=[item, item])
    assert all(row.flagged for row in reported)  # no policy covers them: drift
    now = {ref: _evidence(ref) for ref in ("AGC-05", "AGC-10")}
    assert now["AGC-05"][2]["actions_reported"] == before["AGC-05"][2]["actions_reported"] + 2
    assert now["AGC-10"][0] == before["AGC-10"][0] + 2
    assert now["AGC-10"][2]["awaiting_review"] == before["AGC-10"][2]["awaiting_review"] + 2
    assert [(r.log, r.day) for r in roll_up_due(now=_now() + datetime.timedelta(minutes=10))] == [
        ("activity", days[4])
    ]
    assert {ref: _evidence(ref)[:3] for ref in now} == {ref: e[:3] for ref, e in now.items()}


def _queries(ref_id: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        COLLECTORS[ref_id].collect(period_parse(None, None))
    return len(captured)


@pytest.mark.parametrize(
    # The days' split; the decisions' rollups and raw rows; the activity's rollups and raw rows;
    # the failing groups in the rollups and in the raw rows, and their rows by id; AGC-05 also
    # the newest decisions when fewer than five actions failed.
    ("ref_id", "queries"),
    [("AGC-05", 8), ("AGC-10", 6)],
)
def test_collect_costs_the_same_queries_whatever_the_volume(
    ref_id, queries, gateway, django_assert_num_queries
):
    rng = random.Random(3)
    _seed(gateway, rng, 100)
    roll_up_due(now=_now())
    few = _queries(ref_id)
    w = seed.world(gateway)
    days = [seed.today() - DAY * k for k in range(12)]
    log = seed.decisions(rng, w, days, 2000)
    seed.activities(rng, w, days, 1000, log)
    for day in days[1:]:
        roll_up_day(day)
    assert Activity.objects.count() > 1000
    with django_assert_num_queries(queries):
        COLLECTORS[ref_id].collect(period_parse(None, None))
    assert few == queries


def test_a_period_of_closed_rolled_days_reads_no_raw_aggregate(gateway):
    _, days = _seed(gateway, random.Random(6), 80)
    for day in days[1:]:  # those with rows and those without
        roll_up_day(day)
    period = Period(days[-1], days[1])
    with CaptureQueriesContext(connection) as captured:
        COLLECTORS["AGC-10"].collect(period)
    raw = [q["sql"] for q in captured if 'FROM "decisions_activity"' in q["sql"]]
    # Only the sample rows: the newest failing groups' rows, by time, cut at five.
    assert len(raw) == 1, raw
    assert "LIMIT 5" in raw[0]
    assert "GROUP BY" not in raw[0]
    assert "COUNT(" not in raw[0]
