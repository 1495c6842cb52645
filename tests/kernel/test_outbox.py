"""The outbox: work a change asks for is a row in the change's transaction, delivered after
commit with retries, and never lost or stalled when the broker is down."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from kernel import outbox
from kernel.models import OutboxMessage, OutboxStatus
from kernel.notifications import Event, link, notice, queue_notice

pytestmark = pytest.mark.django_db

failures: list[int] = []


@notice
def hello(pk: int) -> Event:
    return Event(
        name="tests.hello",
        object_type="test",
        object_id=pk,
        url=link("/"),
        subject=f"hello {pk}",
        body="body",
        recipients=["someone@example.com"],
    )


@outbox.handler("tests.flaky")
def flaky(*, n: int) -> None:
    failures.append(n)
    raise ConnectionError("the mail server hung up")


def test_a_notice_is_a_row_until_the_change_commits_then_it_is_delivered(committed):
    with committed(execute=True), transaction.atomic():
        queue_notice(hello, 7)
        row = OutboxMessage.objects.get()
        assert (row.status, len(mail.outbox)) == (OutboxStatus.PENDING, 0)
    row.refresh_from_db()
    assert row.status == OutboxStatus.DELIVERED
    assert row.delivered_at is not None
    assert [m.subject for m in mail.outbox] == ["[Agent portal] hello 7"]


def test_a_change_that_rolls_back_queues_nothing(committed):
    def change_that_fails() -> None:
        with transaction.atomic():
            queue_notice(hello, 8)
            raise RuntimeError("the change failed")

    with committed(execute=True), pytest.raises(RuntimeError):
        change_that_fails()
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_an_unregistered_notice_is_refused_at_once():
    def not_a_notice(pk: int) -> int:
        return 0

    with pytest.raises(LookupError, match="not a registered notice"):
        queue_notice(not_a_notice, 1)


def test_a_failed_delivery_is_retried_with_backoff_then_kept_as_failed(committed):
    with committed(execute=True):
        outbox.enqueue("tests.flaky", n=1)
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "ConnectionError: the mail server hung up" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert outbox.dispatch_due() == 0  # not due yet: nothing is tried again
    assert row.attempts == OutboxMessage.objects.get().attempts
    for _ in range(outbox.MAX_ATTEMPTS):
        OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        outbox.dispatch_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert outbox.backlog() == {"pending": 0, "failed": 1}


def test_backoff_doubles_and_is_capped():
    assert outbox.backoff(1) == outbox.BACKOFF_BASE
    assert outbox.backoff(2) == outbox.BACKOFF_BASE * 2
    assert outbox.backoff(30) == outbox.BACKOFF_CAP


def test_dispatch_outbox_command_delivers_what_is_due(capsys):
    # A notice row as queued before notices had channels: rendered, then its email sent,
    # in the same run (2 rows delivered).
    with transaction.atomic():
        OutboxMessage.objects.create(
            handler="kernel.notice",
            payload={"notice_name": f"{hello.__module__}.hello", "pk": 3},
            next_attempt_at=timezone.now(),
        )
    call_command("dispatch_outbox")
    assert "delivered 2; pending 0, failed 0" in capsys.readouterr().out
    assert [m.subject for m in mail.outbox] == ["[Agent portal] hello 3"]


def test_security_sees_undelivered_messages_on_the_dashboard(client, security, engineer):
    OutboxMessage.objects.create(
        handler="tests.flaky",
        payload={"n": 2},
        next_attempt_at=timezone.now(),
        status=OutboxStatus.FAILED,
        attempts=outbox.MAX_ATTEMPTS,
    )
    client.force_login(security)
    page = client.get("/").content.decode()
    assert 'data-panel="outbox"' in page
    assert "1 / 0" in page
    client.force_login(engineer)
    assert 'data-panel="outbox"' not in client.get("/").content.decode()


def test_healthz_reports_the_broker_and_the_backlog(client):
    OutboxMessage.objects.create(
        handler="tests.flaky", payload={"n": 3}, next_attempt_at=timezone.now()
    )
    body = client.get("/healthz").json()
    assert body["database"] == "ok"
    assert body["outbox_pending"] == 1
    assert body["broker"] in {"in-process", "ok"}
    assert body["status"] == "ok"


def test_healthz_is_degraded_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on port 9
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "unavailable"
    assert response.json()["status"] == "degraded"
