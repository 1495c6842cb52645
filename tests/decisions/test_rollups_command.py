"""`manage.py rollup_decisions [--day YYYY-MM-DD]` and the periodic task that rolls up what is
due."""

import datetime
import random
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from decisions import tasks
from decisions.models import DecisionRollup, RolledDay
from tests.decisions import rollup_seed as seed

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def run(*args: str) -> str:
    out = StringIO()
    call_command("rollup_decisions", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def yesterday(gateway):
    w = seed.world(gateway)
    day = seed.today() - DAY
    seed.decisions(random.Random(1), w, [day], 12)
    return day


def test_without_a_day_it_rolls_what_is_due_and_says_what(yesterday):
    with time_machine.travel(seed.day_start(seed.today()) + datetime.timedelta(hours=1)):
        out = run()
    assert f"Rolled up decisions {yesterday.isoformat()}: 12 rows into " in out
    # The first run rolls the days that have rows: no activity was reported.
    assert "Done: 1 log-day(s) rolled up, 12 raw rows counted." in out
    assert list(RolledDay.objects.values_list("log", "day")) == [("decisions", yesterday)]
    with time_machine.travel(seed.day_start(seed.today()) + datetime.timedelta(hours=2)):
        assert run() == "Nothing to roll up: every closed day is rolled up.\n"


def test_with_a_day_it_re_rolls_that_day(yesterday):
    assert f"Rolled up decisions {yesterday.isoformat()}: 12 rows" in run("--day", str(yesterday))
    out = run("--day", yesterday.isoformat())
    assert f"Re-rolled decisions {yesterday.isoformat()}: 12 rows" in out
    assert f"Re-rolled activity {yesterday.isoformat()}: 0 rows into 0 rollup rows." in out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13-01", "--day must be a date written YYYY-MM-DD; got '2026-13-01'."),
        ("yesterday", "--day must be a date written YYYY-MM-DD; got 'yesterday'."),
        ("", "--day must be a date written YYYY-MM-DD; got ''."),
        ("0001-01-01", "--day must fall between the years 1970 and 2999."),
    ],
)
def test_a_bad_date_is_a_clear_error_and_changes_nothing(yesterday, value, message):
    with pytest.raises(CommandError) as error:
        run("--day", value)
    assert str(error.value) == message
    assert not RolledDay.objects.exists()


@pytest.mark.parametrize(("offset", "when"), [(0, "today (UTC), still open"), (2, "in the future")])
def test_the_open_day_is_refused_and_nothing_changes(yesterday, offset, when):
    day = seed.today() + DAY * offset
    with pytest.raises(CommandError) as error:
        run("--day", day.isoformat())
    assert str(error.value) == f"{day.isoformat()} is {when}: only closed days are rolled up."
    assert not RolledDay.objects.exists()
    assert not DecisionRollup.objects.exists()


def test_the_periodic_task_rolls_what_is_due_and_is_scheduled(yesterday):
    with time_machine.travel(seed.day_start(seed.today()) + datetime.timedelta(hours=1)):
        assert tasks.roll_up.delay().get() == 1
        assert tasks.roll_up.delay().get() == 0
    schedule = settings.CELERY_BEAT_SCHEDULE["decisions-roll-up"]
    assert schedule["task"] == "decisions.tasks.roll_up"
    assert DecisionRollup.objects.filter(day=yesterday).exists()
