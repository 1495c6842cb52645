"""The periodic access tasks: scheduled, run in-process by default, and by a real worker."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from access import tasks
from access.models import AccessRequest, Grant
from tests.registry.factories import AgentFactory, capability

TASKS = {
    "access.tasks.expire_grants": 60.0,  # every minute
    "access.tasks.remind_expiring_grants": 300.0,
    "access.tasks.expire_stale_requests": None,  # hourly (crontab)
}


def test_beat_schedules_each_access_task():
    scheduled = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    for task, every in TASKS.items():
        assert task in scheduled
        if every is not None:
            assert scheduled[task] == every


def _grants(engineer):
    agent = AgentFactory(slug="pay-bot", owner=engineer)
    merge = capability("github:merge", high_risk=True)
    now = timezone.now()

    def grant(start, hours):
        return Grant.objects.create(
            agent=agent,
            capability=merge,
            starts_at=start,
            expires_at=start + timedelta(hours=hours),
        )

    return {
        "ended": grant(now - timedelta(hours=3), 2),
        "ending": grant(now - timedelta(hours=1, minutes=30), 2),  # 30 minutes left
        "running": grant(now, 8),
    }


@pytest.mark.django_db
def test_tasks_run_eagerly_in_the_embedded_default(engineer, committed):
    grants = _grants(engineer)
    assert tasks.expire_grants.delay().get() == 1
    with committed(execute=True):
        assert tasks.remind_expiring_grants.delay().get() == 1
    assert tasks.expire_stale_requests.delay().get() == 0
    assert Grant.objects.get(pk=grants["ended"].pk).expired
    assert Grant.objects.get(pk=grants["ending"].pk).expiry_reminder_sent_at is not None
    assert Grant.objects.filter(expired=True).count() == 1
    assert not AccessRequest.objects.exists()
    # The reminder is an email sent from its own task, after the commit.
    assert [m.to for m in mail.outbox] == [["eve@example.com"]]


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_marks_expired_grants(engineer, worker_queue):
    grants = _grants(engineer)
    assert tasks.expire_grants.apply_async(queue=worker_queue).get(timeout=60) == 1
    assert Grant.objects.get(pk=grants["ended"].pk).expired
    assert not Grant.objects.get(pk=grants["running"].pk).expired
