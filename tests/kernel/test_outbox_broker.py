"""Broker outage, for real: Redis and a Celery worker process on PostgreSQL (CI requires them).

With the broker unreachable a write answers as usual and its notice waits in the outbox; once
the broker is back, a real worker delivers it."""

import threading

import pytest

from kernel.models import OutboxMessage, OutboxStatus
from kernel.outbox import dispatch_outbox
from portal.celery import app as celery_app
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def _point_broker_at(url: str) -> None:
    celery_app.conf.broker_url = url
    celery_app._pool = None  # the next publish opens a connection to `url`
    celery_app.amqp._producer_pool = None


def _wait_for_nudges() -> None:
    for thread in threading.enumerate():
        if thread.name == "outbox-nudge":
            thread.join(timeout=30)


def test_a_write_with_the_broker_down_answers_and_its_notice_is_delivered_later(
    worker_queue, api, engineer, security
):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    real_broker = celery_app.conf.broker_url
    _point_broker_at("redis://127.0.0.1:9/0")  # nothing listens on port 9
    try:
        response = api.as_user(engineer).post(
            "/api/v1/access-requests/",
            {
                "agent": "pay-bot",
                "capability": "github:merge",
                "justification": "hotfix",
                "duration_hours": 2,
            },
            format="json",
        )
        _wait_for_nudges()
    finally:
        _point_broker_at(real_broker)
    assert response.status_code == 201, response.content
    waiting = OutboxMessage.objects.get()
    assert waiting.status == OutboxStatus.PENDING
    assert (waiting.handler, waiting.payload["event"]) == (
        "kernel.notice.email",
        "access_request.filed",
    )

    delivered = dispatch_outbox.apply_async(queue=worker_queue).get(timeout=60)
    assert delivered == 1
    waiting.refresh_from_db()
    assert waiting.status == OutboxStatus.DELIVERED
