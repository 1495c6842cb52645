"""Arguments argparse lets through and the project's commands would choke on: each is a
CommandError that says what to give instead (on the command line: exit status 1, the message,
no traceback), and nothing is done."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kernel.models import OutboxMessage, OutboxStatus
from tests.child_database import child_database_url
from tests.registry.factories import demo_policy

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOOP = "--loop must be a number of seconds from 0 to 86400; got {}."


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as raised:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    return str(raised.value)


@pytest.mark.parametrize(
    ("given", "shown"), [("-1", "-1"), ("nan", "nan"), ("inf", "inf"), ("1e400", "inf")]
)
def test_dispatch_outbox_refuses_a_loop_that_is_no_number_of_seconds(given, shown):
    due = OutboxMessage.objects.create(
        handler="tests.flaky", payload={"n": 0}, next_attempt_at=timezone.now()
    )
    assert refusal("dispatch_outbox", "--loop", given) == LOOP.format(shown)
    due.refresh_from_db()
    assert (due.status, due.attempts) == (OutboxStatus.PENDING, 0)  # nothing was delivered


def test_dispatch_outbox_refuses_a_pause_longer_than_a_day():
    assert refusal("dispatch_outbox", "--loop", "86401") == LOOP.format("86401")


@pytest.fixture
def v1(security):
    return demo_policy(security)


def test_policy_export_to_a_directory_or_into_one_that_does_not_exist(v1, tmp_path):
    assert refusal("policy", "export", "--output", str(tmp_path)) == (
        f"--output {tmp_path} is a directory: name a file to write."
    )
    nowhere = tmp_path / "nonexistent" / "dir" / "x.yaml"
    assert refusal("policy", "export", "--output", str(nowhere)) == (
        f"--output {nowhere}: there is no directory {nowhere.parent}."
    )
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("version", ["0", "-3", "99999999999999999999"])
def test_policy_export_of_a_version_number_no_database_holds(v1, version):
    assert refusal("policy", "export", "--version", version) == (
        f"--version must be a version number from 1; got {version}."
    )


@pytest.mark.parametrize("password", ["", "   "])
def test_seed_demo_refuses_an_empty_password(password):
    assert refusal("seed_demo", "--password", password).startswith(
        "--password may not be empty: every demo user"
    )
    assert not User.objects.exists()
    call_command("seed_demo", stdout=StringIO())
    assert authenticate(username="alice", password="portal-demo") is not None


@pytest.mark.django_db(transaction=True)  # committed: the child process reads it
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dispatch_outbox", "--loop", "nan"], LOOP.format("nan")),
        (
            ["policy", "export", "--output", "/nonexistent/dir/x.yaml"],
            "--output /nonexistent/dir/x.yaml: there is no directory /nonexistent/dir.",
        ),
        (["seed_demo", "--password", ""], "--password may not be empty"),
    ],
)
def test_on_the_command_line_it_is_the_message_and_exit_status_1(v1, tmp_path, args, message):
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": child_database_url(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    assert f"CommandError: {message}" in completed.stderr
    assert "Traceback" not in completed.stderr
