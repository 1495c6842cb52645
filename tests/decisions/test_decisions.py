"""The decision table, branch by branch, and the guarantees around it."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.rules import scope_covers
from decisions import policy_cache
from decisions.models import Decision
from decisions.services.engine import evaluate
from decisions.services.log import decide_and_record
from registry.services import policy as policy_services
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    policy = demo_policy(security)
    agents = {
        tier: AgentFactory(slug=f"{tier}-bot", owner=engineer, team=team, tier=tier)
        for tier in ("sandbox", "internal", "production")
    }
    return {"policy": policy, "agents": agents, "owner": engineer}


def decide(agent, key, scope=""):
    return evaluate(agent_slug=agent, capability_key=key, scope=scope)


# (tier, capability, holds) -> (decision, reason fragment). `holds`: none | grant | exception.
TABLE = [
    ("sandbox", "github:read", "none", "allow", "Standing allow"),
    ("sandbox", "github:write", "none", "deny", "No active grant"),
    ("sandbox", "github:write", "grant", "allow", "Active grant"),
    ("sandbox", "github:merge", "none", "deny", "request access and get approval"),
    ("sandbox", "github:merge", "grant", "allow", "Active grant"),
    ("sandbox", "deploy:release", "none", "deny", "Denied by rule"),
    ("sandbox", "deploy:release", "grant", "deny", "Denied by rule"),
    ("sandbox", "deploy:release", "exception", "allow", "overrides the deny rule"),
    ("production", "github:read", "none", "deny", "'jit'"),
    ("production", "github:read", "exception", "allow", "overrides the jit rule"),
    ("production", "vault:read_secret", "none", "deny", "Denied by rule"),
    ("production", "vault:read_secret", "exception", "allow", "Active exception"),
    ("internal", "vault:read_secret", "grant", "allow", "Active grant"),
]


@pytest.mark.parametrize(("tier", "key", "holds", "decision", "reason"), TABLE)
def test_decision_table(world, tier, key, holds, decision, reason):
    agent = world["agents"][tier]
    grant = make_grant(agent, key) if holds == "grant" else None
    exception = make_exception(agent, key) if holds == "exception" else None
    result = decide(agent.slug, key)
    assert (result.decision, result.policy_version) == (decision, 1)
    assert reason in result.reason
    assert result.grant_id == (grant.pk if grant and decision == "allow" else None)
    assert result.exception_id == (exception.pk if exception else None)


def test_no_rule_is_deny_and_an_exception_allows(world, security):
    capability("slack:post")
    result = decide("sandbox-bot", "slack:post")
    assert result.decision == "deny"
    assert "No rule for sandbox slack:post" in result.reason
    exception = make_exception(world["agents"]["sandbox"], "slack:post")
    assert decide("sandbox-bot", "slack:post").exception_id == exception.pk


@pytest.mark.parametrize(
    ("agent", "key", "reason"),
    [
        ("ghost", "github:read", "Unknown agent 'ghost'"),
        ("sandbox-bot", "github:fly", "Unknown capability 'github:fly'"),
        ("sandbox-bot", "", "Unknown capability ''"),
    ],
)
def test_unknown_things_are_denied_not_errors(world, agent, key, reason):
    result = decide(agent, key)
    assert result.decision == "deny"
    assert reason in result.reason
    assert result.policy_version == 1


@pytest.mark.parametrize("status", ["suspended", "retired"])
def test_suspended_or_retired_agent_is_denied_even_with_a_grant(world, status):
    agent = world["agents"]["sandbox"]
    make_grant(agent, "github:write")
    make_exception(agent, "github:write")
    agent.status = status
    agent.save()
    result = decide(agent.slug, "github:read")
    assert result.decision == "deny"
    assert f"is {status}" in result.reason


def test_grant_expiry_takes_effect_at_that_instant_without_any_task(world):
    agent = world["agents"]["sandbox"]
    grant = make_grant(agent, "github:write", hours=1)
    assert decide(agent.slug, "github:write").grant_id == grant.pk
    with time_machine.travel(grant.expires_at - timedelta(seconds=1)):
        assert decide(agent.slug, "github:write").decision == "allow"
    with time_machine.travel(grant.expires_at):
        assert decide(agent.slug, "github:write").decision == "deny"


def test_revoked_grant_and_exception_stop_counting_at_once(world):
    agent = world["agents"]["sandbox"]
    grant = make_grant(agent, "github:write")
    grant.revoked_at = timezone.now()
    grant.save()
    assert decide(agent.slug, "github:write").decision == "deny"
    exception = make_exception(agent, "deploy:release")
    exception.revoked_at = timezone.now()
    exception.status = "revoked"
    exception.save()
    assert decide(agent.slug, "deploy:release").decision == "deny"


def test_grant_for_another_agent_or_capability_does_not_count(world):
    make_grant(world["agents"]["internal"], "github:write")
    make_grant(world["agents"]["sandbox"], "github:merge")
    assert decide("sandbox-bot", "github:write").decision == "deny"


@pytest.mark.parametrize(
    ("grant_scope", "asked", "allowed"),
    [
        ("", "", True),
        ("", "acme/payments", True),
        ("acme/*", "acme/payments", True),
        ("acme/payments", "acme/payments", True),
        ("acme/payments", "acme/ledger", False),
        ("acme/*", "", False),
        ("acme/pay*", "evil/acme/payments", False),
    ],
)
def test_scope_matching(world, grant_scope, asked, allowed):
    assert scope_covers(grant_scope, asked) is allowed
    agent = world["agents"]["sandbox"]
    make_grant(agent, "github:write", scope=grant_scope)
    result = decide(agent.slug, "github:write", scope=asked)
    assert (result.decision == "allow") is allowed
    if not allowed:
        assert f"for scope '{asked}'" in result.reason or not asked


def test_new_policy_version_takes_effect_at_once(world, security):
    assert decide("sandbox-bot", "github:read").decision == "allow"
    draft = policy_services.policy_draft_create(actor=security)
    policy_services.policy_rule_set(
        actor=security,
        version=draft,
        tier="sandbox",
        capability=capability("github:read"),
        effect="deny",
    )
    assert decide("sandbox-bot", "github:read").decision == "allow"  # a draft is not in force
    policy_services.policy_publish(actor=security, version=draft, reason="Sandbox reads stop.")
    result = decide("sandbox-bot", "github:read")
    assert (result.decision, result.policy_version) == ("deny", 2)


def test_new_version_published_by_another_process_is_seen(world, security):
    """Another worker publishes: this process's snapshot is stale, the next decision is not."""
    decide("sandbox-bot", "github:read")
    assert policy_cache._snapshot.version == 1
    draft = policy_services.policy_draft_create(actor=security)
    policy_services.policy_rule_remove(
        actor=security, version=draft, tier="sandbox", capability=capability("github:read")
    )
    policy_services.policy_publish(actor=security, version=draft, reason="Sandbox reads stop.")
    assert policy_cache._snapshot.version == 1  # nothing told this process
    assert decide("sandbox-bot", "github:read").decision == "deny"


def test_no_published_policy_means_deny(engineer):
    AgentFactory(slug="lonely", owner=engineer)
    capability("github:read")
    result = decide("lonely", "github:read")
    assert (result.decision, result.policy_version) == ("deny", None)
    assert "No policy version is published" in result.reason


@pytest.mark.parametrize(
    ("tier", "key", "decision"),
    [
        ("sandbox", "github:read", "allow"),  # standing allow
        ("sandbox", "github:write", "allow"),  # via a grant
        ("sandbox", "deploy:release", "deny"),
        ("internal", "github:write", "deny"),
        ("ghost", "github:read", "deny"),
    ],
)
def test_a_decision_is_one_query(world, tier, key, decision):
    decide("sandbox-bot", "github:read")  # load the snapshot
    make_grant(world["agents"]["sandbox"], "github:write")
    with CaptureQueriesContext(connection) as captured:
        assert decide(f"{tier}-bot", key).decision == decision
    assert len(captured) == 1, [q["sql"] for q in captured]


def test_a_capability_created_after_the_snapshot_costs_one_more_query_once(world):
    decide("sandbox-bot", "github:read")
    capability("slack:post")
    with CaptureQueriesContext(connection) as captured:
        assert "No rule for sandbox slack:post" in decide("sandbox-bot", "slack:post").reason
    assert len(captured) == 2
    with CaptureQueriesContext(connection) as captured:
        decide("sandbox-bot", "slack:post")
    assert len(captured) == 1


def test_decide_and_record_commits_the_evidence(world, gateway):
    agent = world["agents"]["sandbox"]
    grant = make_grant(agent, "github:write")
    result, record = decide_and_record(
        agent_slug=agent.slug, capability_key="github:write", scope="acme/x", caller=gateway
    )
    stored = Decision.objects.get(pk=record)
    assert (stored.decision, stored.grant_id, stored.policy_version) == ("allow", grant.pk, 1)
    assert (stored.agent_id, stored.caller, stored.scope) == (agent.pk, gateway, "acme/x")
    assert stored.request_id == result.request_id
    assert stored.reason == result.reason


def test_the_decision_query_agrees_with_the_exceptions_rule(world):
    """decision_facts writes in SQL what exceptions.rules.exception_in_force_q says: check both
    agree for exceptions in every status and window (tests/decisions/test_active_rules.py holds
    the full table, for grants too)."""
    from decisions.selectors import decision_facts
    from exceptions.models import PolicyException
    from exceptions.rules import exception_in_force_q

    agent = world["agents"]["sandbox"]
    deploy = capability("deploy:release")
    now = timezone.now()
    cases = [
        ("active", now - timedelta(days=1), now + timedelta(days=1), None),
        ("active", now + timedelta(days=1), now + timedelta(days=2), None),  # not yet started
        ("expired", now - timedelta(days=2), now - timedelta(days=1), None),
        ("revoked", now - timedelta(days=1), now + timedelta(days=1), now - timedelta(hours=1)),
        ("pending", now - timedelta(days=1), now + timedelta(days=1), None),
        ("rejected", now - timedelta(days=1), now + timedelta(days=1), None),
    ]
    for status, starts, expires, revoked in cases:
        PolicyException.objects.all().delete()
        exception = make_exception(agent, "deploy:release")
        PolicyException.objects.filter(pk=exception.pk).update(
            status=status, starts_at=starts, expires_at=expires, revoked_at=revoked
        )
        expected = PolicyException.objects.filter(
            exception_in_force_q(now), agent=agent, capability=deploy
        ).first()
        facts = decision_facts(agent_slug=agent.slug, capability_id=deploy.pk, at=now)
        assert facts.exception_ids == ([expected.pk] if expected else []), status
