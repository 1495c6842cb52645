from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils import timezone

from kernel.errors import ApplicationError, Forbidden
from registry.dashboard import inventory_panels
from registry.models import Agent, AgentStatus
from registry.rules import is_stale
from registry.services import agents as services
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(engineer):
    return TeamFactory(slug="payments", members=[engineer])


def register(actor, team, **overrides):
    fields = {
        "slug": "pay-bot",
        "name": "Pay bot",
        "team": team,
        "tier": "production",
        "workload_identity": "spiffe://acme/pay-bot",
        "repositories": ["acme/pay", " acme/pay ", ""],
    }
    return services.agent_register(actor=actor, **{**fields, **overrides})


def test_engineer_registers_an_agent_they_own_and_it_counts_as_attested(engineer, team):
    agent = register(engineer, team)
    assert agent.owner == engineer
    assert agent.status == AgentStatus.ACTIVE
    assert agent.repositories == ["acme/pay"]
    assert not is_stale(agent)
    entry = LogEntry.objects.get_for_object(agent).get()
    assert entry.actor == engineer


@pytest.mark.parametrize("role", ["auditor", "gateway", "norole"])
def test_roles_that_do_not_register_agents_are_refused(role_users, role):
    team = TeamFactory(members=[role_users[role]])
    with pytest.raises(Forbidden, match="Only engineers and security"):
        register(role_users[role], team)
    assert not Agent.objects.exists()


def test_engineer_cannot_file_an_agent_under_someone_elses_team(engineer):
    with pytest.raises(Forbidden, match="not a member of team 'strangers'"):
        register(engineer, TeamFactory(slug="strangers"))
    assert not Agent.objects.exists()


def test_engineer_cannot_register_an_agent_for_another_owner(engineer, other_engineer, team):
    with pytest.raises(Forbidden, match="agents that you own"):
        register(engineer, team, owner=other_engineer)


def test_security_may_assign_any_owner_and_team(security, engineer):
    agent = register(security, TeamFactory(slug="any"), owner=engineer)
    assert agent.owner == engineer


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "Bad Slug!"}, "slug"),
        ({"tier": "galaxy"}, "tier"),
        ({"workload_identity": ""}, "workload_identity"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_saved(engineer, team, overrides, field):
    with pytest.raises(ValidationError) as caught:
        register(engineer, team, **overrides)
    assert field in caught.value.message_dict
    assert not Agent.objects.exists()


def test_duplicate_slug_and_workload_identity_name_the_field(engineer, team):
    register(engineer, team)
    with pytest.raises(ValidationError) as slug_error:
        register(engineer, team, workload_identity="spiffe://acme/other")
    assert "slug" in slug_error.value.message_dict
    with pytest.raises(ValidationError) as identity_error:
        register(engineer, team, slug="other")
    assert "workload_identity" in identity_error.value.message_dict
    assert Agent.objects.count() == 1


@pytest.mark.parametrize("repositories", ["acme/pay", [["acme/pay"]], {"a": "b"}])
def test_repositories_must_be_a_list_of_strings(repositories):
    """The shape is the serializer's to check (the form's field always gives a list)."""
    from registry.api.serializers import AgentIn, AgentPatchIn
    from registry.forms import RepositoriesField

    for serializer in (AgentIn, AgentPatchIn):
        checked = serializer(data={"repositories": repositories}, partial=True)
        assert not checked.is_valid()
        assert "repositories" in checked.errors
    assert RepositoriesField(required=False).clean(" acme/pay \n\n b/c ") == ["acme/pay", "b/c"]


def test_owner_and_team_members_edit_others_cannot(engineer, other_engineer, team):
    agent = register(engineer, team)
    teammate = TeamFactory(slug="payments").members.create(username="mate")
    teammate.groups.add(*engineer.groups.all())
    services.agent_update(actor=teammate, agent=agent, description="updated by a teammate")
    with pytest.raises(Forbidden):
        services.agent_update(actor=other_engineer, agent=agent, description="hijack")
    agent.refresh_from_db()
    assert agent.description == "updated by a teammate"


def test_only_security_changes_the_tier(engineer, security, team):
    agent = register(engineer, team)
    with pytest.raises(Forbidden, match="Only security changes an agent's tier"):
        services.agent_update(actor=engineer, agent=agent, tier="sandbox")
    services.agent_update(actor=security, agent=agent, tier="internal")
    agent.refresh_from_db()
    assert agent.tier == "internal"


def test_status_and_owner_are_not_editable_through_update(engineer, team):
    agent = register(engineer, team)
    with pytest.raises(ApplicationError, match="cannot be changed here: owner, status"):
        services.agent_update(actor=engineer, agent=agent, status="active", owner=engineer)


def stale_count(user) -> int:
    """The dashboard's count of stale attestations (retired agents do not count)."""
    panels = {panel["key"]: panel for panel in inventory_panels(user)}
    return panels["stale-agents"]["value"]


def test_attestation_refreshes_the_stale_flag(engineer, team):
    agent = register(engineer, team)
    retired = register(engineer, team, slug="old-bot", workload_identity="spiffe://acme/old")
    Agent.objects.filter(pk=retired.pk).update(status=AgentStatus.RETIRED)
    assert stale_count(engineer) == 0
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert is_stale(Agent.objects.get(pk=agent.pk))
        assert stale_count(engineer) == 1
        services.agent_attest(actor=engineer, agent=agent)
        agent.refresh_from_db()
        assert not is_stale(agent)
        assert stale_count(engineer) == 0


def test_only_owner_or_team_member_attests(other_engineer, security, engineer, team):
    agent = register(engineer, team)
    for outsider in (other_engineer, security):
        with pytest.raises(Forbidden, match="owner or a member of its team"):
            services.agent_attest(actor=outsider, agent=agent)


# (from, to) -> allowed. Every pair of the agent status pipeline.
STATUS_MATRIX = {
    ("active", "suspended"): True,
    ("active", "retired"): True,
    ("active", "active"): False,
    ("suspended", "active"): True,
    ("suspended", "retired"): True,
    ("suspended", "suspended"): False,
    ("retired", "active"): False,
    ("retired", "suspended"): False,
    ("retired", "retired"): False,
}
SERVICE_FOR = {
    "suspended": services.agent_suspend,
    "active": services.agent_reactivate,
    "retired": services.agent_retire,
}


@pytest.mark.parametrize(("pair", "allowed"), list(STATUS_MATRIX.items()))
def test_status_transition_matrix(security, pair, allowed):
    source, target = pair
    agent = AgentFactory(status=source)
    if allowed:
        SERVICE_FOR[target](actor=security, agent=agent)
        agent.refresh_from_db()
        assert agent.status == target
    else:
        said = (
            f"is already {source}"
            if source == target
            else f"is {source}; it cannot become {target}"
        )
        with pytest.raises(ApplicationError, match=said):
            SERVICE_FOR[target](actor=security, agent=agent)
        agent.refresh_from_db()
        assert agent.status == source


def test_only_security_suspends_and_reactivates(engineer, team):
    agent = register(engineer, team)
    with pytest.raises(Forbidden, match="Only security suspends"):
        services.agent_suspend(actor=engineer, agent=agent)
    agent.refresh_from_db()
    assert agent.status == "active"


def test_a_tier_change_is_told_to_other_apps_once_and_nothing_else_is(security, engineer, team):
    """registry.signals.tier_changed: how credentials (never imported by the registry) learns
    that a production agent's bindings need security's approval again."""
    from registry.signals import tier_changed

    heard = []

    def listen(sender, agent, previous, actor, **kwargs):
        heard.append((agent.slug, previous, agent.tier, actor.username))

    agent = AgentFactory(slug="bot", owner=engineer, team=team, tier="sandbox")
    tier_changed.connect(listen, dispatch_uid="test.listen")
    try:
        services.agent_update(actor=security, agent=agent, description="new words")
        services.agent_update(actor=security, agent=agent, tier="sandbox")
        services.agent_update(actor=security, agent=agent, tier="production")
    finally:
        tier_changed.disconnect(dispatch_uid="test.listen")
    assert heard == [("bot", "sandbox", "production", "sec1")]


def test_an_edit_is_not_refused_for_a_value_it_did_not_touch(engineer, security, team):
    """A description stored before its 4000-character limit does not block security's tier
    change; editing the description itself is checked against the limit."""
    agent = AgentFactory(slug="old-bot", owner=engineer, team=team, tier="sandbox")
    Agent.objects.filter(pk=agent.pk).update(description="x" * 5000)
    agent.refresh_from_db()
    services.agent_update(actor=security, agent=agent, tier="internal")
    agent.refresh_from_db()
    assert (agent.tier, len(agent.description)) == ("internal", 5000)
    with pytest.raises(ValidationError) as refused:
        services.agent_update(actor=engineer, agent=agent, description="y" * 4001)
    assert "description" in refused.value.message_dict
    agent.refresh_from_db()
    assert agent.description == "x" * 5000
