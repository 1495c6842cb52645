"""The registry's forms, posted and refused (by the form or by the service): their own page again
with a 400, the refusal beside its field, what was typed kept, and nothing changed."""

import pytest
from django.urls import reverse

from registry.models import Agent, PolicyRule, PolicyVersion
from registry.services import policy as policy_services
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production", name="Pay bot")
    demo_policy(security)


def page_of(response) -> str:
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "Back to the dashboard" not in page  # the form's own page, not the error page
    return page


def agent_data(**overrides):
    return {
        "slug": "form-bot",
        "name": "Form bot",
        "team": "payments",
        "tier": "internal",
        "workload_identity": "spiffe://acme/form-bot",
        "description": "Files the forms nobody likes",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),  # the form refuses it
        ({"slug": "pay-bot"}, "already exists"),  # the service refuses it
    ],
)
def test_a_refused_registration_is_a_400_on_its_form_with_what_was_typed(
    client, engineer, world, overrides, message
):
    client.force_login(engineer)
    data = agent_data(**overrides)
    page = page_of(client.post("/agents/new/", data))
    assert message in page
    assert f'value="{data["slug"]}"' in page
    assert 'value="spiffe://acme/form-bot"' in page
    assert "Files the forms nobody likes</textarea>" in page
    assert Agent.objects.count() == 1


def test_a_refused_edit_is_a_400_on_its_form_with_what_was_typed(client, engineer, world):
    client.force_login(engineer)
    data = agent_data(name="", description="A new description")
    page = page_of(client.post("/agents/pay-bot/edit/", data))
    assert "This field is required." in page
    assert "A new description</textarea>" in page
    agent = Agent.objects.get(slug="pay-bot")
    assert (agent.name, agent.tier) == ("Pay bot", "production")


@pytest.fixture
def draft(security, world):
    return policy_services.policy_draft_create(actor=security, notes="tighten")


def test_a_publish_reason_too_long_is_a_400_on_the_review_with_what_was_typed(
    client, security, draft
):
    client.force_login(security)
    reason = "Because " + "x" * 2000
    response = client.post(
        reverse("registry:policy-publish", args=[draft.number]), {"reason": reason}
    )
    page = page_of(response)
    assert "Ensure this value has at most 2000 characters (it has 2008)." in page
    assert f"Review draft v{draft.number} before publishing" in page
    assert f"{reason}</textarea>" in page
    draft.refresh_from_db()
    assert (draft.status, draft.publish_reason) == ("draft", "")


def test_a_policy_file_with_errors_is_a_400_on_its_form_with_what_was_pasted(
    client, security, world
):
    client.force_login(security)
    text = 'format: 1\ntiers:\n  sandbox:\n    "slack:post": {effect: allow}\n'
    versions, rules = PolicyVersion.objects.count(), PolicyRule.objects.count()
    page = page_of(client.post(reverse("registry:policy-import"), {"text": text}))
    assert "The file has 1 error; nothing was created." in page
    assert "unknown capability &#x27;slack:post&#x27;" in page
    assert "slack:post&quot;: {effect: allow}\n</textarea>" in page
    assert (PolicyVersion.objects.count(), PolicyRule.objects.count()) == (versions, rules)
