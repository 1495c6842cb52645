"""Rolls and reviews at the same moment (PostgreSQL: the per-day advisory lock): a review the
roll could not see still marks the day stale, and two rolls of one day write it once."""

import datetime
import random
import threading

import pytest
from django.db import connection, transaction

from compliance.collectors import COLLECTORS
from compliance.period import period_parse
from decisions import rollups
from decisions.models import ActivityRollup, Decision, DecisionRollup, RolledDay
from decisions.services.activity import activity_review
from tests.decisions import rollup_seed as seed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DAY = datetime.timedelta(days=1)


def _in_thread(work) -> threading.Thread:
    def run():
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_review_during_the_roll_of_its_day_waits_then_marks_it_stale(gateway, security):
    w = seed.world(gateway)
    yesterday = seed.today() - DAY
    action = seed.activities(random.Random(1), w, [yesterday], 1, [])[0]
    action.flagged, action.review_status = True, "pending"
    action.save()
    rolled, release = threading.Event(), threading.Event()

    def roll():  # a roll that has counted the flag as pending and not committed yet
        with transaction.atomic():
            rollups._roll(RolledDay.Log.ACTIVITY, yesterday)
            rolled.set()
            release.wait(10)

    roller = _in_thread(roll)
    assert rolled.wait(10)
    reviewer = _in_thread(
        lambda: activity_review(actor=security, activity=action, verdict="expected", note="ok")
    )
    reviewer.join(0.5)
    assert reviewer.is_alive()  # waiting for the roll of its day
    release.set()
    roller.join(10)
    reviewer.join(10)
    record = RolledDay.objects.get(log="activity", day=yesterday)
    assert record.stale
    assert ActivityRollup.objects.get().review_status == "pending"  # what the roll saw
    evidence = COLLECTORS["AGC-10"].collect(period_parse(None, None))
    assert (evidence.checked, evidence.failed) == (1, 0)  # the stale day is read raw
    rollups.roll_up_due(now=seed.day_start(seed.today()) + datetime.timedelta(hours=12))
    assert ActivityRollup.objects.get().review_status == "expected"
    assert not RolledDay.objects.get(log="activity", day=yesterday).stale


def test_two_rolls_of_one_day_at_once_write_it_once(gateway):
    w = seed.world(gateway)
    yesterday = seed.today() - DAY
    log = seed.decisions(random.Random(2), w, [yesterday], 300)
    barrier = threading.Barrier(2)

    def roll():
        barrier.wait(10)
        rollups.roll_up_day(yesterday, RolledDay.Log.DECISIONS)

    for thread in [_in_thread(roll), _in_thread(roll)]:
        thread.join(20)
    groups = {
        (r.agent_slug, r.capability_key, r.decision, r.reason_kind, r.policy_version): r.count
        for r in DecisionRollup.objects.all()
    }
    expected = seed.expected_decision_rollups(log, seed.today())
    assert len(groups) == DecisionRollup.objects.count() == len(expected)
    assert sum(groups.values()) == Decision.objects.count() == 300
    assert RolledDay.objects.get(log="decisions", day=yesterday).rows == 300
