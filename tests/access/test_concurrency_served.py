"""Concurrent writes through a real server: gunicorn (processes and threads, as `make run`
users and a small deployment would) on the embedded default, a SQLite file with the portal's
own settings for it (portal/databases.py: WAL, a busy timeout, transactions that take the write
lock when they begin), and on PostgreSQL (row locks). Six identical requests filed at once,
three security members pressing the final Approve at once: one wins, the others get the
ordinary 400 that says why, never a 503 "database is locked"."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from access import services
from tests.child_database import child_database_url
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

# Committed: the server's processes read this test's data (on PostgreSQL, the test database).
pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world():
    owner = make_user("owner", "engineer")
    approvers = [make_user(f"approver{i}", "security") for i in range(4)]
    demo_policy(approvers[0])
    team = TeamFactory(slug="payments", members=[owner])
    agent = AgentFactory(slug="pay-bot", owner=owner, team=team, tier="production")
    tokens = {user.username: Token.objects.create(user=user).key for user in [owner, *approvers]}
    return agent, owner, approvers, tokens


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Path | None]]:
    """The portal on this test's data (SQLite: a copy in a file), under gunicorn with 3 worker
    processes of 2 threads each; yields its base URL and the SQLite file (None: PostgreSQL)."""
    url = child_database_url(tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    env.pop("CELERY_BROKER_URL", None)  # the embedded default: tasks run in-process
    # gunicorn is handed the listening socket itself (fd://), so no other process can take
    # the port between choosing it and gunicorn binding it.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        fd = listener.fileno()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"fd://{fd}",
             "--workers", "3", "--threads", "2", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            pass_fds=[fd],
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base)
        yield base, Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(base: str) -> None:
    deadline = time.monotonic() + 60
    answered = 0
    while answered < 6:  # the server answers (the workers share one listening socket)
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):  # noqa: S310
                answered += 1
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer on {base} within 60 s")
            time.sleep(0.2)


def post(base: str, path: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def at_once(calls: list) -> list[tuple[int, dict]]:
    """Run every call in a thread of its own, released together; their answers."""
    barrier = threading.Barrier(len(calls))
    answers: list[tuple[int, dict]] = []

    def run(call):
        barrier.wait()
        answers.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def rows(database: Path | None, sql: str) -> list[tuple]:
    """What the server wrote: in the SQLite file, or in the PostgreSQL test database."""
    if database is None:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    with sqlite3.connect(database) as reading:
        return reading.execute(sql).fetchall()


def outcomes(answers: list[tuple[int, dict]]) -> list[tuple[int, str]]:
    return sorted((status, body.get("code", "")) for status, body in answers)


def test_six_identical_requests_at_once_file_one(world, served):
    tokens = world[3]
    base, database = served
    body = {
        "agent": "pay-bot",
        "capability": "github:merge",
        "justification": "hotfix",
        "duration_hours": 1,
    }
    calls = [lambda: post(base, "/api/v1/access-requests/", tokens["owner"], body)] * 6
    answers = at_once(calls)
    assert outcomes(answers) == [(201, "")] + [(400, "duplicate_request")] * 5, answers
    assert rows(database, "SELECT status FROM access_accessrequest") == [("pending",)]
    if database is not None:
        assert rows(database, "PRAGMA journal_mode") == [("wal",)]  # the settings, not luck


@pytest.fixture
def half_approved(world):
    """A request for a high-risk capability of a production agent (two approvers), approved
    once: the next approval is the final one."""
    agent, owner, approvers, _ = world
    request = services.access_request_submit(
        actor=owner,
        agent=agent,
        capability=capability("github:merge"),
        duration_hours=1,
        justification="hotfix",
    )
    services.access_request_approve(actor=approvers[0], access_request=request)
    return request


def test_three_final_approvals_at_once_issue_one_grant(world, half_approved, served):
    _, _, approvers, tokens = world
    base, database = served  # a copy made after the first approval
    path = f"/api/v1/access-requests/{half_approved.pk}/approve/"
    calls = [
        (lambda user=user: post(base, path, tokens[user.username], {})) for user in approvers[1:]
    ]
    answers = at_once(calls)
    losers = [(400, "invalid_transition")] * 2
    assert outcomes(answers) == [(200, ""), *losers], answers
    assert rows(database, "SELECT COUNT(*) FROM access_grant") == [(1,)]
    assert rows(database, "SELECT COUNT(*) FROM access_approval") == [(2,)]
    assert rows(database, "SELECT status FROM access_accessrequest") == [("approved",)]
