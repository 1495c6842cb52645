"""Delivering notices for real: a receiver that fails is retried alone (emails go once), one
that is down ends failed and visible, nothing goes where nothing is configured, and the owner
hears of a revoked grant or a suspended agent."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from access import services as access
from access.models import Grant
from kernel import outbox
from kernel.models import OutboxMessage, OutboxStatus
from kernel.notice_channels import EMAIL, SLACK, WEBHOOK
from registry.services.agents import agent_suspend
from tests.kernel.notice_receiver import closed_port_url, silent_listener
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer, other_engineer])
    demo_policy(security)
    return {"agent": AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox")}


def file_request(actor, agent, key="github:merge"):
    return access.access_request_submit(
        actor=actor,
        agent=agent,
        capability=capability(key),
        duration_hours=1,
        justification="release 4.2",
    )


def retry_when_due(row: OutboxMessage) -> int:
    """Run the dispatcher once the row's backoff has passed."""
    row.refresh_from_db()
    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1), tick=False):
        return outbox.dispatch_due()


def test_a_webhook_answering_500_is_retried_alone_then_delivered(
    world, engineer, channels, committed
):
    channels.script("/hooks/", 500)
    with committed(execute=True):
        file_request(engineer, world["agent"])
    hook = OutboxMessage.objects.get(handler=WEBHOOK)
    assert (hook.status, hook.attempts) == (OutboxStatus.PENDING, 1)
    assert "answered HTTP 500: receiver is broken" in hook.last_error
    assert hook.next_attempt_at > hook.created_at + timedelta(seconds=20)  # the backoff
    assert OutboxMessage.objects.get(handler=EMAIL).status == OutboxStatus.DELIVERED
    assert OutboxMessage.objects.get(handler=SLACK).status == OutboxStatus.DELIVERED
    assert outbox.dispatch_due() == 0  # not due yet: nothing is tried again

    assert retry_when_due(hook) == 1
    hook.refresh_from_db()
    assert (hook.status, hook.attempts) == (OutboxStatus.DELIVERED, 2)
    first, second = channels.at("/hooks/")
    assert second.body == first.body  # the same event, byte for byte...
    assert second.headers["X-Portal-Signature"] == first.headers["X-Portal-Signature"]
    assert second.headers["X-Portal-Delivery"] == first.headers["X-Portal-Delivery"]
    assert len(mail.outbox) == 1  # ...and the email went once
    assert len(channels.at("/slack/")) == 1


def test_a_receiver_that_is_down_ends_failed_with_its_error_visible(
    world, engineer, channels, committed, settings, client, security
):
    settings.WEBHOOK_URLS = [closed_port_url("/hooks/secret-path")]
    with committed(execute=True):
        file_request(engineer, world["agent"])
    hook = OutboxMessage.objects.get(handler=WEBHOOK)
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        retry_when_due(hook)
    hook.refresh_from_db()
    assert (hook.status, hook.attempts) == (OutboxStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert "could not be reached" in hook.last_error
    assert "refused" in hook.last_error.lower()
    assert "secret-path" not in hook.last_error  # the receiver is named by its origin only
    assert len(mail.outbox) == 1
    assert len(channels.at("/slack/")) == 1
    assert client.get("/healthz").json()["outbox_failed"] == 1
    client.force_login(security)
    assert 'data-panel="outbox"' in client.get("/").content.decode()


def test_a_receiver_that_hangs_times_out_and_is_retried(world, engineer, channels, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    listener = silent_listener()
    host, port = listener.getsockname()
    settings.WEBHOOK_URLS = [f"http://{host}:{port}/hooks/"]
    try:
        file_request(engineer, world["agent"])
        outbox.dispatch_due()
    finally:
        listener.close()
    hook = OutboxMessage.objects.get(handler=WEBHOOK)
    assert (hook.status, hook.attempts) == (OutboxStatus.PENDING, 1)
    assert "timed out" in hook.last_error


def test_a_redirect_is_a_failed_attempt_never_followed(world, engineer, channels, committed):
    channels.script("/hooks/", 302)
    with committed(execute=True):
        file_request(engineer, world["agent"])
    hook = OutboxMessage.objects.get(handler=WEBHOOK)
    assert "answered HTTP 302" in hook.last_error
    assert channels.at("/elsewhere/") == []


def test_a_receiver_removed_from_the_settings_is_not_posted_to(
    world, engineer, channels, settings, receiver
):
    file_request(engineer, world["agent"])  # queued for /hooks/siem, not yet delivered
    settings.WEBHOOK_URLS = [receiver.url("/hooks/other")]
    outbox.dispatch_due()
    hook = OutboxMessage.objects.get(handler=WEBHOOK)
    assert "no longer in WEBHOOK_URLS" in hook.last_error
    assert channels.at("/hooks/") == []


def test_nothing_goes_to_slack_or_webhooks_when_they_are_not_set(
    world, engineer, receiver, committed
):
    with committed(execute=True):
        file_request(engineer, world["agent"])
    assert receiver.received == []
    assert list(OutboxMessage.objects.values_list("handler", flat=True)) == [EMAIL]
    assert "Open it in the portal: http://127.0.0.1:8000/requests/" in mail.outbox[0].body


def test_a_notice_with_nobody_to_email_queues_nothing(world, engineer, security, committed):
    type(security).objects.filter(pk=security.pk).update(email="")
    with committed(execute=True):
        file_request(engineer, world["agent"])
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_the_owner_and_the_requester_hear_that_a_grant_was_revoked(
    world, engineer, other_engineer, security, committed
):
    grant = Grant.objects.get(request=file_request(other_engineer, world["agent"], "github:write"))
    mail.outbox.clear()
    with committed(execute=True):
        access.grant_revoke(actor=security, grant=grant, reason="token leaked in CI logs")
    (email,) = mail.outbox
    assert sorted(email.to) == ["eve@example.com", "oscar@example.com"]
    assert email.subject == f"[Agent portal] Grant #{grant.pk} for sandbox-bot was revoked"
    assert "github:write for sandbox-bot was revoked by sec1" in email.body
    assert "Reason: token leaked in CI logs" in email.body
    assert f"Open it in the portal: http://127.0.0.1:8000/grants/{grant.pk}/" in email.body


def test_the_owner_hears_that_their_agent_was_suspended_and_why(
    world, engineer, security, committed
):
    with committed(execute=True):
        agent_suspend(actor=security, agent=world["agent"], reason="compromised workload token")
    (email,) = mail.outbox
    assert email.to == ["eve@example.com"]
    assert email.subject == "[Agent portal] Agent sandbox-bot was suspended"
    assert "was suspended by sec1" in email.body
    assert "Reason: compromised workload token" in email.body
    assert "Open it in the portal: http://127.0.0.1:8000/agents/sandbox-bot/" in email.body


def test_a_change_that_rolls_back_sends_nothing_anywhere(world, engineer, channels, committed):
    def change_that_fails() -> None:
        with transaction.atomic():
            file_request(engineer, world["agent"])
            raise RuntimeError("the change failed")

    with committed(execute=True), pytest.raises(RuntimeError):
        change_that_fails()
    assert not OutboxMessage.objects.exists()
    assert (mail.outbox, channels.received) == ([], [])
