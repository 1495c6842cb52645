"""Suspension voids access: nothing covers what a suspended or retired agent does."""

import pytest
from django.utils import timezone

from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


def item(agent, key):
    return {
        "agent": agent,
        "capability": key,
        "target": "acme/payments",
        "outcome": "success",
        "occurred_at": timezone.now().isoformat().replace("+00:00", "Z"),
    }


@pytest.mark.parametrize("status", ["suspended", "retired"])
def test_activity_of_a_suspended_agent_is_always_flagged(api, gateway, engineer, security, status):
    demo_policy(security)
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox")
    make_grant(agent, "github:write")
    make_exception(agent, "jira:write")
    agent.status = status
    agent.save()
    response = api.as_user(gateway).post(
        "/api/v1/activity/",
        [
            item("sandbox-bot", "github:read"),  # standing allow, were it active
            item("sandbox-bot", "github:write"),  # its grant
            item("sandbox-bot", "jira:write"),  # its exception
        ],
        format="json",
    )
    assert response.status_code == 201, response.content
    for row in response.json():
        assert row["flagged"] is True
        assert row["covered_by"] == ""
        assert f"is {status}" in row["flag_reason"]
