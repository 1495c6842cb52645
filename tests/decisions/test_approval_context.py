"""The drift flags of the last 30 days beside what security approves (issue #15, point 1):
decisions contributes them to approvals.context, for those who read activity."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access import services
from decisions.models import Activity
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security, gateway):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    other = AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox")
    request = services.access_request_submit(
        actor=engineer,
        agent=agent,
        capability=capability("github:merge", high_risk=True),
        justification="hotfix",
        duration_hours=2,
    )
    return {"agent": agent, "other": other, "request": request, "gateway": gateway}


def flag(world, agent, key, days_ago, flagged=True, target="acme/payments-api"):
    return Activity.objects.create(
        agent=agent,
        agent_slug=agent.slug,
        capability=capability(key),
        capability_key=key,
        target=target,
        outcome="success",
        occurred_at=timezone.now() - timedelta(days=days_ago),
        reported_by=world["gateway"],
        flagged=flagged,
        review_status="pending" if flagged else "not_needed",
    )


def test_security_sees_the_agents_latest_drift_flags_beside_the_request(client, security, world):
    agent = world["agent"]
    for day in range(1, 7):
        flag(world, agent, f"tool{day}:act", day)
    flag(world, agent, "old:act", 31)  # before the window
    flag(world, agent, "fine:act", 1, flagged=False)  # covered: not drift
    flag(world, world["other"], "elsewhere:act", 1)  # another agent's
    client.force_login(security)
    page = client.get("/approvals/").content.decode()
    row = page.split(f'data-request="{world["request"].pk}"')[1].split("</tr>")[0]
    assert "Drift flags, last 30 days" in row
    assert "6 flagged; the latest 5:" in row
    assert "tool1:act" in row
    assert "tool5:act" in row
    assert "tool6:act" not in row  # the oldest of six, beyond the five shown
    for absent in ("old:act", "fine:act", "elsewhere:act"):
        assert absent not in row
    assert "Awaiting review" in row


def test_no_drift_is_said_and_engineers_do_not_read_activity(client, engineer, auditor, world):
    client.force_login(auditor)
    page = client.get(f"/requests/{world['request'].pk}/").content.decode()
    assert "No drift flagged in the last 30 days." in page
    flag(world, world["agent"], "tool:act", 2)
    client.force_login(engineer)
    page = client.get(f"/requests/{world['request'].pk}/").content.decode()
    assert "Drift flags" not in page
    assert "Active grants" in page


def test_the_queue_reads_drift_once_for_every_row(
    client, engineer, security, world, django_assert_num_queries
):
    client.force_login(security)
    client.get("/approvals/")
    with django_assert_num_queries(10):
        client.get("/approvals/")
    for i in range(20):
        agent = AgentFactory(slug=f"bot-{i}", owner=engineer, team=world["agent"].team)
        flag(world, agent, "tool:act", 1)
        services.access_request_submit(
            actor=engineer,
            agent=agent,
            capability=capability("github:merge", high_risk=True),
            justification="j",
            duration_hours=1,
        )
    with django_assert_num_queries(10):
        page = client.get("/approvals/").content.decode()
    assert page.count("1 flagged:") == 20
