"""Security changes an agent's tier on its edit page; what the identity bindings of the agent
do then (credentials hears of it through registry.signals.tier_changed) shows on the page the
form returns to, and in the mail its people get."""

import pytest
from django.core import mail

from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bound(engineer):
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="internal")
    provider = TrustProvider.objects.create(
        slug="gha",
        name="GitHub Actions",
        issuer="https://token.actions.githubusercontent.com",
        jwks={"keys": []},
        audience="https://portal.example",
    )
    binding = IdentityBinding.objects.create(
        agent=agent,
        provider=provider,
        subject="repo:acme/payments-api:ref:refs/heads/main",
        requested_by=engineer,
        required_approvals=0,
        status=BindingStatus.ACTIVE,
    )
    return agent, binding


def edit_tier(client, agent, tier):
    form = {
        "name": agent.name,
        "team": agent.team.slug,
        "tier": tier,
        "workload_identity": agent.workload_identity,
        "vendor": "",
        "description": "",
        "repositories": "",
    }
    return client.post(f"/agents/{agent.slug}/edit/", form, follow=True).content.decode()


def test_security_moves_an_agent_up_and_down_and_its_page_and_people_follow(
    client, security, engineer, bound, committed
):
    agent, binding = bound
    client.force_login(security)
    with committed(execute=True):
        page = edit_tier(client, agent, "production")
    assert "Agent pay-bot updated." in page
    assert "<strong>1 binding waits for security approval:</strong>" in page
    assert "production agent: no credential through it until security approves" in page
    (told,) = mail.outbox
    assert sorted(told.to) == ["eve@example.com", "sec1@example.com"]
    assert "Agent pay-bot is production now" in told.subject
    assert "subject repo:acme/payments-api:ref:refs/heads/main" in told.body

    mail.outbox.clear()
    with committed(execute=True):
        page = edit_tier(client, agent, "sandbox")
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE
    assert "binding waits for security approval" not in page
    assert 'data-testid="binding-status">active</span>' in page
    (told,) = mail.outbox
    assert told.to == ["eve@example.com"]
    assert "Agent pay-bot is sandbox now" in told.subject


def test_a_change_that_keeps_the_tier_touches_no_binding_and_tells_nobody(
    client, security, bound, committed
):
    agent, binding = bound
    client.force_login(security)
    with committed(execute=True):
        assert "Agent pay-bot updated." in edit_tier(client, agent, "internal")
        assert "Agent pay-bot updated." in edit_tier(client, agent, "sandbox")
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE
    assert mail.outbox == []
