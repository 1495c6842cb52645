"""A binding added to a production agent waits for security, and security is told; whoever
added it and the agent's owner are told when security approves or rejects it. A binding on a
lower tier is active when added: nobody needs telling."""

import pytest
from django.conf import settings
from django.core import mail

from credentials.models import BindingStatus, IdentityBinding
from kernel.models import OutboxMessage
from tests.credentials.pages import login, make_agents, make_provider
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db

SUBJECT = "repo:acme/payments-api:environment:production"


@pytest.fixture
def agents(engineer, other_engineer):
    make_provider("gha", name="GitHub Actions")
    return make_agents(engineer, other_engineer)


def add(client, slug):
    data = {"provider": "gha", "subject": SUBJECT, "claims": "ref=refs/heads/main"}
    response = client.post(f"/agents/{slug}/identities/add/", data)
    assert response.status_code == 302, response.content
    return IdentityBinding.objects.get(agent__slug=slug)


def added_before(client, slug):
    """A binding added earlier: what that queued is not this test's notice."""
    binding = add(client, slug)
    OutboxMessage.objects.all().delete()
    return binding


def test_security_is_told_a_production_binding_waits_for_it(
    client, engineer, security, agents, committed
):
    with committed(execute=True):
        binding = add(login(client, engineer), "pay-bot")
    (told,) = mail.outbox
    assert told.to == ["sec1@example.com"]
    assert (
        told.subject
        == f"[Agent portal] Identity binding approval needed: #{binding.pk} for agent pay-bot"
    )
    assert (
        f"eve added a workload identity binding to the production agent {agents['pay'].name} "
        "(pay-bot, team payments, owner eve):\n"
        f"- #{binding.pk} GitHub Actions (gha), subject {SUBJECT}, claims ref=refs/heads/main\n"
    ) in told.body
    assert "Token exchanges through it are refused until security approves it." in told.body
    assert f"{settings.PORTAL_BASE_URL}/approvals/#identity-bindings\n" in told.body


def test_a_binding_on_a_lower_tier_tells_nobody(client, engineer, agents, committed):
    with committed(execute=True):
        binding = add(login(client, engineer), "play-bot")
    assert binding.status == BindingStatus.ACTIVE
    assert mail.outbox == []
    assert not OutboxMessage.objects.exists()


def test_the_owner_is_told_when_security_approves(client, engineer, security, agents, committed):
    binding = added_before(login(client, engineer), "pay-bot")
    with committed(execute=True):
        login(client, security).post(f"/trust/bindings/{binding.pk}/approve/")
    (told,) = mail.outbox
    assert told.to == ["eve@example.com"]
    assert told.subject == f"[Agent portal] Identity binding #{binding.pk} for agent pay-bot active"
    assert "Approved by sec1. Token exchanges through it work from now on." in told.body


def test_the_owner_is_told_why_security_rejected(client, engineer, security, agents, committed):
    binding = added_before(login(client, engineer), "pay-bot")
    with committed(execute=True):
        login(client, security).post(
            f"/trust/bindings/{binding.pk}/reject/",
            {"comment": "pull requests may not act as production"},
        )
    (told,) = mail.outbox
    assert told.to == ["eve@example.com"]
    assert (
        told.subject == f"[Agent portal] Identity binding #{binding.pk} for agent pay-bot rejected"
    )
    assert "Rejected by sec1: pull requests may not act as production\n" in told.body
    assert "No credential is issued through it." in told.body


def test_removing_a_waiting_binding_tells_nobody(client, engineer, agents, committed):
    binding = added_before(login(client, engineer), "pay-bot")
    with committed(execute=True):
        client.post(f"/agents/pay-bot/identities/{binding.pk}/remove/")
    binding.refresh_from_db()
    assert binding.status == BindingStatus.REMOVED
    assert mail.outbox == []


def test_a_teammate_who_added_it_and_the_owner_are_both_told(
    client, engineer, security, agents, committed
):
    mate = make_user("tess", "engineer")
    agents["pay"].team.members.add(mate)
    binding = added_before(login(client, mate), "pay-bot")
    assert binding.requested_by == mate
    with committed(execute=True):
        login(client, security).post(f"/trust/bindings/{binding.pk}/approve/")
    (told,) = mail.outbox
    assert sorted(told.to) == ["eve@example.com", "tess@example.com"]


def test_approval_needed_skips_security_who_asked_or_own_the_agent(
    client, engineer, security, second_security, agents, committed, settings
):
    """sec1 owns pay-bot and sec2 adds a binding: neither may approve it; the team's mailbox
    is told all the same."""
    settings.SECURITY_TEAM_EMAIL = "security-team@example.com"
    agents["pay"].owner = security
    agents["pay"].save()
    with committed(execute=True):
        add(login(client, second_security), "pay-bot")
    (told,) = mail.outbox
    assert told.to == ["security-team@example.com"]
