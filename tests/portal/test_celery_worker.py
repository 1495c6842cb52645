"""A real task through Redis to a real Celery worker process, against the test database."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from portal.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker_queue():
    """Start `celery worker` on a queue of its own, pointed at the test database."""
    queue = f"portal-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_real_worker_process_runs_the_task_against_the_test_database(worker_queue):
    result = heartbeat.apply_async(queue=worker_queue)
    answer = result.get(timeout=60)
    assert answer["status"] == "ok"
    assert answer["database"] == "postgresql"
    assert answer["name"] == connection.settings_dict["NAME"]
