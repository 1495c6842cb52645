"""Break-glass through the API: its own endpoint, what it issues, and what it refuses."""

import pytest

from access.models import AccessRequest, Grant
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox")
    AgentFactory(
        slug="other-bot", owner=other_engineer, team=TeamFactory(slug="platform"), tier="sandbox"
    )


def body(**overrides):
    return {
        "agent": "pay-bot",
        "capability": "github:merge",
        "justification": "hotfix",
        "duration_hours": 2,
        **overrides,
    }


def post(api, user, url, data=None):
    return api.as_user(user).post(url, data or {}, format="json")


def test_break_glass_through_the_api(api, engineer, security, world):
    response = post(
        api,
        engineer,
        "/api/v1/access-requests/",
        body(capability="deploy:release", duration_hours=1, break_glass=True, incident="INC-9"),
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["break_glass"], data["grant"]["active"]) == (
        "approved",
        True,
        True,
    )
    queue = api.as_user(security).get("/api/v1/access-requests/?break_glass=true").json()
    assert queue["count"] == 1
    reviewed = post(
        api,
        security,
        f"/api/v1/access-requests/{data['id']}/review-break-glass/",
        {"note": "rollback was right"},
    )
    assert reviewed.json()["break_glass_reviewed_at"]


def test_break_glass_has_its_own_endpoint(api, engineer, security, world):
    url = "/api/v1/access-requests/break-glass/"
    emergency = body(capability="deploy:release", duration_hours=1, incident="INC-10")
    response = post(api, engineer, url, emergency)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["break_glass"], data["incident"]) == ("approved", True, "INC-10")
    assert data["grant"]["active"] is True


@pytest.mark.parametrize(
    ("user", "overrides", "status", "message"),
    [
        ("engineer", {"incident": ""}, 400, "incident reference"),
        ("engineer", {"incident": None}, 400, "incident reference"),
        ("engineer", {"duration_hours": 2}, 400, "at most 1 hour"),
        ("engineer", {"capability": "github:read"}, 400, "need approval"),
        ("engineer", {"agent": "ghost"}, 400, "ghost"),
        ("security", {}, 403, "owner"),
        ("auditor", {}, 403, "engineers and security"),
    ],
)
def test_break_glass_endpoint_refusals_change_nothing(
    api, role_users, world, user, overrides, status, message
):
    emergency = body(capability="deploy:release", duration_hours=1, incident="INC-11")
    response = post(
        api, role_users[user], "/api/v1/access-requests/break-glass/", {**emergency, **overrides}
    )
    assert response.status_code == status, response.content
    assert message in response.json()["detail"]
    assert not AccessRequest.objects.exists()
    assert not Grant.objects.exists()
