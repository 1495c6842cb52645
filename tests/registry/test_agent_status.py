"""Suspending, reactivating and retiring an agent: why is asked, kept and shown."""

import pytest

from registry.models import Agent
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    return {"agent": AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")}


def test_suspend_and_reactivate_need_a_reason_which_the_agent_keeps(api, security, world):
    client = api.as_user(security)
    refused = client.post("/api/v1/agents/pay-bot/suspend/", {}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.json()["errors"]
    assert Agent.objects.get(slug="pay-bot").status == "active"
    body = {"reason": "Leaked a token."}
    assert client.post("/api/v1/agents/pay-bot/suspend/", body, format="json").status_code == 200
    agent = Agent.objects.get(slug="pay-bot")
    assert (agent.status, agent.status_reason, agent.status_changed_by) == (
        "suspended",
        "Leaked a token.",
        security,
    )
    back = {"reason": "Token rotated."}
    assert client.post("/api/v1/agents/pay-bot/reactivate/", back, format="json").status_code == 200
    assert Agent.objects.get(slug="pay-bot").status_reason == "Token rotated."


def test_retiring_asks_for_confirmation_and_takes_an_optional_reason(client, engineer, world):
    client.force_login(engineer)
    confirm = client.get("/agents/pay-bot/retire/").content.decode()
    assert "leaves service for good" in confirm
    response = client.post("/agents/pay-bot/retire/", {"reason": ""}, follow=True)
    assert "Agent pay-bot retired." in response.content.decode()
    assert Agent.objects.get(slug="pay-bot").status == "retired"


def test_the_confirmation_page_is_refused_to_the_wrong_role(client, engineer, world):
    client.force_login(engineer)
    assert client.get("/agents/pay-bot/suspend/").status_code == 403
    assert client.post("/agents/pay-bot/suspend/", {"reason": "x"}).status_code == 403
    assert Agent.objects.get(slug="pay-bot").status == "active"


def test_the_agents_list_sorts_by_a_column_and_keeps_its_filters(client, engineer, world):
    team = world["agent"].team
    AgentFactory(slug="alpha-bot", owner=engineer, team=team, tier="sandbox", vendor="zeta")
    AgentFactory(slug="zulu-bot", owner=engineer, team=team, tier="sandbox", vendor="alpha")
    client.force_login(engineer)
    page = client.get("/agents/?tier=sandbox&sort=-agent")
    assert [a.slug for a in page.context["page"]] == ["zulu-bot", "alpha-bot"]
    by_vendor = client.get("/agents/?tier=sandbox&sort=vendor")
    assert [a.slug for a in by_vendor.context["page"]] == ["zulu-bot", "alpha-bot"]
    html = by_vendor.content.decode()
    assert 'href="?tier=sandbox&amp;sort=-vendor"' in html  # the filter stays in the link
    refused = client.get("/agents/?sort=password").content.decode()
    assert "This list cannot be sorted by “password”" in refused


def test_retiring_someone_elses_agent_is_refused_before_the_form(client, other_engineer, world):
    client.force_login(other_engineer)
    shown = client.get("/agents/pay-bot/retire/")
    assert shown.status_code == 403
    assert "leaves service for good" not in shown.content.decode()
    posted = client.post("/agents/pay-bot/retire/", {"reason": "x"})
    assert posted.status_code == 403
    refusal = "Only the agent&#x27;s owner, its team&#x27;s members and security edit or retire"
    assert refusal in shown.content.decode()
    assert refusal in posted.content.decode()
    assert Agent.objects.get(slug="pay-bot").status == "active"
