"""Daily rollups: what they hold equals the raw rows, a day is rolled once whatever the number of
runs, a late row or a review re-rolls its day, and the open day is never rolled."""

import datetime
import random

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from decisions import rollups
from decisions.models import (
    ActivityRollup,
    Decision,
    DecisionRollup,
    ReasonKind,
    RolledDay,
    RollupWatermark,
)
from decisions.rollups import REASON_KIND, RollupRefused, roll_up_day, roll_up_due
from decisions.services.activity import activity_review
from decisions.services.log import decide_and_record
from registry.models import PolicyVersion
from tests.decisions import rollup_seed as seed
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, capability, demo_policy

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _decision_rollups() -> dict:
    return {
        (r.day, r.agent_slug, r.capability_key, r.decision, r.reason_kind, r.policy_version): (
            r.count,
            r.first_at,
            r.last_at,
            r.max_id,
        )
        for r in DecisionRollup.objects.all()
    }


def _activity_rollups() -> dict:
    return {
        (r.day, r.agent_slug, r.capability_key, r.logged, r.flagged, r.review_status): (
            r.count,
            r.first_at,
            r.last_at,
            r.max_id,
        )
        for r in ActivityRollup.objects.all()
    }


def _now() -> datetime.datetime:
    """A moment of today well past the grace after midnight: yesterday is due."""
    return seed.day_start(seed.today()) + datetime.timedelta(hours=12)


# --- the reason kind, against what the engine actually answers --------------------------------


def test_reason_kinds_of_the_engines_outcomes(engineer, security, gateway):
    agent = AgentFactory(slug="sandbox-bot", owner=engineer, tier="sandbox")
    capability("slack:post")
    capability("github:read")
    # Before any policy is published: no_policy.
    asked = [("sandbox-bot", "github:read", ReasonKind.NO_POLICY)]
    decide_and_record(agent_slug="sandbox-bot", capability_key="github:read", caller=gateway)
    demo_policy(security)
    make_grant(agent, "github:write")
    make_exception(agent, "deploy:release")
    asked += [
        ("sandbox-bot", "github:read", ReasonKind.STANDING),
        ("sandbox-bot", "github:write", ReasonKind.GRANT),
        ("sandbox-bot", "deploy:release", ReasonKind.EXCEPTION),
        ("sandbox-bot", "github:merge", ReasonKind.RULE),  # approval rule, no grant
        ("sandbox-bot", "slack:post", ReasonKind.RULE),  # no rule: default deny
        ("sandbox-bot", "github:fly", ReasonKind.NOT_EVALUATED),  # unknown capability
        ("ghost", "github:read", ReasonKind.UNKNOWN_AGENT),
    ]
    for slug, key, _ in asked[1:]:
        decide_and_record(agent_slug=slug, capability_key=key, caller=gateway)
    AgentFactory(slug="held-bot", status="suspended")
    decide_and_record(agent_slug="held-bot", capability_key="github:read", caller=gateway)
    asked.append(("held-bot", "github:read", ReasonKind.NOT_EVALUATED))
    deny_rule = AgentFactory(slug="prod-bot", tier="production")
    decide_and_record(agent_slug=deny_rule.slug, capability_key="vault:read_secret", caller=gateway)
    asked.append(("prod-bot", "vault:read_secret", ReasonKind.RULE))
    kinds = list(
        Decision.objects.order_by("pk")
        .annotate(kind=REASON_KIND)
        .values_list("agent_slug", "capability_key", "kind")
    )
    assert kinds == asked
    assert PolicyVersion.objects.count() == 1
    # The rollup of their day groups them by the same kinds.
    when = Decision.objects.first().decided_at
    Decision.objects.update(decided_at=when - DAY)
    roll_up_day(seed.today() - DAY, RolledDay.Log.DECISIONS)
    rolled = DecisionRollup.objects.values_list("reason_kind").annotate(n=Sum("count"))
    assert dict(rolled) == {
        ReasonKind.NO_POLICY: 1,
        ReasonKind.STANDING: 1,
        ReasonKind.GRANT: 1,
        ReasonKind.EXCEPTION: 1,
        ReasonKind.RULE: 3,
        ReasonKind.NOT_EVALUATED: 2,
        ReasonKind.UNKNOWN_AGENT: 1,
    }


# --- rollups equal the raw rows (a property over random logs) -------------------------------


@pytest.mark.parametrize("seed_value", range(6))
def test_rollups_equal_the_raw_rows_of_random_logs(seed_value, gateway):
    rng = random.Random(seed_value)
    w = seed.world(gateway)
    today = seed.today()
    days = [today - DAY * n for n in range(4)]  # three closed days and the open one
    log = seed.decisions(rng, w, days, rng.randrange(40, 160))
    actions = seed.activities(rng, w, days, rng.randrange(20, 90), log)
    done = roll_up_due(now=_now())
    assert _decision_rollups() == seed.expected_decision_rollups(log, today)
    assert _activity_rollups() == seed.expected_activity_rollups(actions, log, today)
    for day in days[1:]:
        for name, rows in (("decisions", log), ("activity", actions)):
            time = "decided_at" if name == "decisions" else "occurred_at"
            dated = [r for r in rows if getattr(r, time).astimezone(datetime.UTC).date() == day]
            record = RolledDay.objects.get(log=name, day=day)
            assert (record.rows, record.max_id) == (
                len(dated),
                max((r.pk for r in dated), default=0),
            )
    assert {(r.log, r.day) for r in done} == {
        (n, d) for n in ("decisions", "activity") for d in days[1:]
    }
    assert not RolledDay.objects.filter(day=today).exists()


def test_roll_up_day_is_idempotent(gateway):
    rng = random.Random(42)
    w = seed.world(gateway)
    yesterday = seed.today() - DAY
    log = seed.decisions(rng, w, [yesterday], 80)
    seed.activities(rng, w, [yesterday], 40, log)
    first = roll_up_day(yesterday)
    decisions, activity = _decision_rollups(), _activity_rollups()
    again = roll_up_day(yesterday)
    assert (_decision_rollups(), _activity_rollups()) == (decisions, activity)
    assert [(r.rows, r.groups, r.again) for r in first] == [
        (r.rows, r.groups, False) for r in again
    ]
    assert all(r.again for r in again)
    assert RolledDay.objects.filter(day=yesterday).count() == 2
    assert roll_up_due(now=_now()) == []  # nothing left to do


@pytest.mark.parametrize("offset", [0, 1, 30])
def test_the_open_day_and_later_are_refused_and_nothing_changes(offset, gateway):
    w = seed.world(gateway)
    day = seed.today() + DAY * offset
    seed.decisions(random.Random(1), w, [seed.today()], 10)
    with pytest.raises(RollupRefused, match="only closed days are rolled up") as refused:
        roll_up_day(day)
    assert ("still open" if offset == 0 else "in the future") in refused.value.message
    assert not RolledDay.objects.exists()
    assert not DecisionRollup.objects.exists()


def test_a_late_row_re_rolls_its_day_and_only_it(gateway):
    rng = random.Random(7)
    w = seed.world(gateway)
    today = seed.today()
    days = [today - DAY * n for n in (1, 2, 3)]
    log = seed.decisions(rng, w, days, 60)
    roll_up_due(now=_now())
    rolled_at = dict(RolledDay.objects.values_list("day", "rolled_at").filter(log="decisions"))
    assert roll_up_due(now=_now() + datetime.timedelta(minutes=10)) == []
    # A row dated two days ago arrives now (a late report, a clock behind).
    late = seed.decisions(rng, w, [days[1]], 1)
    done = roll_up_due(now=_now() + datetime.timedelta(minutes=20))
    assert [(r.log, r.day, r.again) for r in done if r.log == "decisions"] == [
        ("decisions", days[1], True)
    ]
    assert _decision_rollups() == seed.expected_decision_rollups(log + late, today)
    assert RolledDay.objects.get(log="decisions", day=days[1]).max_id == late[0].pk
    unchanged = dict(RolledDay.objects.values_list("day", "rolled_at").filter(log="decisions"))
    assert unchanged[days[0]] == rolled_at[days[0]]
    assert unchanged[days[1]] > rolled_at[days[1]]


def test_the_next_closed_day_is_rolled_after_its_grace(gateway):
    w = seed.world(gateway)
    today = seed.today()
    seed.decisions(random.Random(3), w, [today - DAY], 5)
    midnight = seed.day_start(today)
    roll_up_due(now=midnight - datetime.timedelta(hours=1))  # yesterday still open then
    assert not RolledDay.objects.exists()
    roll_up_due(now=midnight + datetime.timedelta(minutes=5))  # closed, within the grace
    assert not RolledDay.objects.exists()
    done = roll_up_due(now=midnight + rollups.GRACE)
    assert {(r.log, r.day, r.rows) for r in done} == {
        ("decisions", today - DAY, 5),
        ("activity", today - DAY, 0),
    }
    marks = RollupWatermark.objects.get(log="decisions")
    assert marks.closed_through == today - DAY


def test_a_review_after_the_roll_marks_the_day_stale_then_re_rolls_it(gateway, security):
    rng = random.Random(11)
    w = seed.world(gateway)
    yesterday = seed.today() - DAY
    seed.activities(rng, w, [yesterday], 30, [])
    waiting = seed.activities(rng, w, [yesterday], 1, [])[0]
    waiting.flagged, waiting.review_status = True, "pending"
    waiting.save()
    roll_up_due(now=_now())
    activity_review(actor=security, activity=waiting, verdict="incident", note="not expected")
    assert RolledDay.objects.get(log="activity", day=yesterday).stale
    done = roll_up_due(now=_now() + datetime.timedelta(minutes=10))
    assert [(r.log, r.day) for r in done] == [("activity", yesterday)]
    record = RolledDay.objects.get(log="activity", day=yesterday)
    assert not record.stale
    group = ActivityRollup.objects.get(
        day=yesterday,
        agent_slug=waiting.agent_slug,
        capability_key=waiting.capability_key,
        review_status="incident",
        flagged=True,
    )
    assert group.count >= 1


def test_a_review_of_a_day_not_rolled_marks_nothing(gateway, security):
    w = seed.world(gateway)
    action = seed.activities(random.Random(5), w, [seed.today()], 1, [])[0]
    action.flagged, action.review_status = True, "pending"
    action.save()
    activity_review(actor=security, activity=action, verdict="expected", note="known job")
    assert not RolledDay.objects.exists()


def test_when_nothing_is_due_a_run_reads_only_the_new_rows_by_key(gateway):
    rng = random.Random(9)
    w = seed.world(gateway)
    today = seed.today()
    log = seed.decisions(rng, w, [today - DAY * n for n in range(1, 6)], 200)
    roll_up_due(now=_now())
    roll_up_due(now=_now() + datetime.timedelta(minutes=10))
    seed.decisions(rng, w, [today], 50)  # today's rows: not due
    with CaptureQueriesContext(connection) as captured:
        assert roll_up_due(now=_now() + datetime.timedelta(minutes=20)) == []
    sql = [q["sql"] for q in captured.captured_queries]
    # Per log: the watermark, the highest id, the rows inserted since the watermark (by key;
    # activity has none), the stale days, the watermark written: never the closed days' rows.
    assert len(sql) == 9, "\n".join(sql)
    reads = [s for s in sql if '"decisions_decision"' in s and "GROUP BY" in s]
    assert len(reads) == 1
    assert '"decisions_decision"."id" >' in reads[0]
    assert max(d.pk for d in log) < RollupWatermark.objects.get(log="decisions").checked_id


def test_a_day_whose_raw_rows_were_pruned_keeps_its_rollups(gateway):
    w = seed.world(gateway)
    yesterday = seed.today() - DAY
    seed.decisions(random.Random(2), w, [yesterday], 20)
    roll_up_day(yesterday, RolledDay.Log.DECISIONS)
    kept = _decision_rollups()
    Decision.objects.all().delete()  # what dropping the month's partition does
    with pytest.raises(RollupRefused, match="raw rows were pruned"):
        roll_up_day(yesterday, RolledDay.Log.DECISIONS)
    assert _decision_rollups() == kept
    assert RolledDay.objects.get(log="decisions", day=yesterday).rows == 20


def test_a_late_decision_re_rolls_the_activity_it_may_cover(gateway):
    """An action is `logged` by a decision up to a few minutes before it: a decision arriving
    late for its day re-rolls that day's activity (and the next day's)."""
    w = seed.world(gateway)
    yesterday = seed.today() - DAY
    agent, cap = w.agents[0], w.capabilities[0]
    action = seed.activities(random.Random(4), w, [yesterday], 1, [])[0]
    action.agent, action.agent_slug, action.capability = agent, agent.slug, cap
    action.capability_key = cap.key
    action.save()
    roll_up_due(now=_now())
    assert ActivityRollup.objects.get().logged is False
    Decision.objects.create(
        request_id=__import__("uuid").uuid4(),
        agent=agent,
        agent_slug=agent.slug,
        capability=cap,
        capability_key=cap.key,
        decision="allow",
        reason="late",
        decided_at=action.occurred_at - datetime.timedelta(seconds=1),
    )
    done = roll_up_due(now=_now() + datetime.timedelta(minutes=10))
    assert {(r.log, r.day) for r in done} == {("decisions", yesterday), ("activity", yesterday)}
    assert ActivityRollup.objects.get().logged is True
    assert timezone.now() >= RolledDay.objects.get(log="activity").rolled_at
