"""Every notice reaches people where they are: an email with absolute links, a Slack message
(Block Kit) and a signed JSON webhook, delivered to a real HTTP receiver on 127.0.0.1."""

import hashlib
import hmac
import json
from datetime import datetime

import pytest
from django.core import mail
from django.utils import timezone

from access.services import access_request_submit
from decisions.services.activity import activity_report
from kernel.models import OutboxMessage, OutboxStatus
from tests.kernel.conftest import PORTAL, WEBHOOK_SECRET
from tests.kernel.notice_scenarios import SCENARIOS
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db

WEBHOOK_KEYS = {"event", "object_type", "object_id", "url", "occurred_at", "data"}


@pytest.fixture
def world(engineer, security, gateway):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return {
        "engineer": engineer,
        "security": security,
        "gateway": gateway,
        "sandbox": AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox"),
        "prod": AgentFactory(slug="prod-bot", owner=engineer, team=team, tier="production"),
    }


def _recompute(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_each_notice_goes_by_email_slack_and_a_signed_webhook(kind, world, channels, committed):
    scenario = SCENARIOS[kind]
    act = scenario.prepare(world)
    OutboxMessage.objects.all().delete()  # what the setup queued (a filed request...) is not
    mail.outbox.clear()  # this test's notice
    with committed(execute=True):
        object_id, path = act()
    url = f"{PORTAL}{path}"

    # Email: to the people concerned, with the absolute deep link and no relative one.
    emails = [m for m in mail.outbox if set(m.to) == scenario.recipients]
    assert len(emails) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert f"Open it in the portal: {url}\n" in emails[0].body
    assert " /approvals/" not in emails[0].body
    assert ": /" not in emails[0].body

    # Slack: one Block Kit message linking to the object.
    (slack,) = channels.at("/slack/")
    message = slack.json()
    assert url in message["text"]
    section, _, actions, context = message["blocks"]
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith(f"*<{url}|")
    assert actions["elements"][0] == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open in the portal"},
        "url": url,
    }
    assert scenario.event in context["elements"][0]["text"]
    assert "X-Portal-Signature" not in slack.headers

    # Webhook: the exact body shape, signed with the shared secret.
    (hook,) = channels.at("/hooks/siem")
    assert hook.headers["Content-Type"] == "application/json"
    assert hmac.compare_digest(hook.headers["X-Portal-Signature"], _recompute(hook.body))
    assert hook.headers["X-Portal-Event"] == scenario.event
    document = hook.json()
    assert set(document) == WEBHOOK_KEYS
    assert document["event"] == scenario.event
    assert (document["object_type"], document["object_id"]) == (scenario.object_type, object_id)
    assert document["url"] == url
    assert datetime.fromisoformat(document["occurred_at"]).utcoffset().total_seconds() == 0
    assert isinstance(document["data"], dict)
    assert document["data"]

    # Every delivery is its own row, and all of them went out.
    rows = OutboxMessage.objects.filter(payload__event=scenario.event)
    assert sorted(rows.values_list("handler", flat=True)) == [
        "kernel.notice.email",
        "kernel.notice.slack",
        "kernel.notice.webhook",
    ]
    assert set(rows.values_list("status", flat=True)) == {OutboxStatus.DELIVERED}


def test_webhook_data_holds_facts_not_what_people_typed(world, channels, committed):
    act = SCENARIOS["request filed"].prepare(world)
    with committed(execute=True):
        act()
    (hook,) = channels.at("/hooks/")
    data = hook.json()["data"]
    assert data["agent"] == "sandbox-bot"
    assert data["capability"] == "github:merge"
    assert data["scope"] == "acme/payments-api"
    assert data["requested_by"] == "eve"
    assert "release 4.2" not in hook.body.decode()  # the justification stays in the portal
    stored = json.dumps(list(OutboxMessage.objects.values_list("payload", flat=True)))
    assert WEBHOOK_SECRET not in stored  # rows never hold the signing key...
    assert "not-a-real-token" not in stored  # ...nor the Slack webhook's secret path
    assert "/hooks/siem" not in stored


def test_slack_shows_what_people_typed_as_text_never_as_a_mention(
    world, channels, committed, engineer
):
    agent = world["sandbox"]
    with committed(execute=True):
        access_request_submit(
            actor=engineer,
            agent=agent,
            capability=capability("github:merge"),
            duration_hours=1,
            justification="<!channel> look <https://evil.example|here> & now",
        )
    text = json.dumps(channels.at("/slack/")[0].json())
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; look &lt;https://evil.example|here&gt; &amp; now" in text


def test_a_drift_report_is_one_notice_however_many_actions_it_flags(
    world, channels, committed, gateway
):
    items = [
        {
            "agent": "prod-bot",
            "capability": "deploy:release",
            "target": f"acme/repo-{n}",
            "outcome": "success",
            "occurred_at": timezone.now(),
        }
        for n in range(60)
    ]
    covered = {"agent": "sandbox-bot", "capability": "github:read", "outcome": "success"}
    items.append({**covered, "occurred_at": timezone.now()})  # a standing allow: not drift
    with committed(execute=True):
        activity_report(actor=gateway, items=items)
    (hook,) = channels.at("/hooks/")
    data = hook.json()["data"]
    assert (data["count"], len(data["activities"])) == (60, 50)
    assert data["activities"][0]["target"] == "acme/repo-0"
    (email,) = mail.outbox
    assert "60 actions" in email.body
    assert "… and 10 more." in email.body
    assert email.to == ["sec1@example.com"]
