"""A real task through Redis to a real Celery worker process, against the test database."""

from pathlib import Path

import pytest
from django.db import connection

from kernel.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_a_real_worker_process_runs_the_task_against_the_test_database(worker_queue):
    result = heartbeat.apply_async(queue=worker_queue)
    answer = result.get(timeout=60)
    assert answer["status"] == "ok"
    assert answer["database"] == "postgresql"
    assert answer["name"] == connection.settings_dict["NAME"]
