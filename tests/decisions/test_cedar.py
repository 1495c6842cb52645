"""Cedar at the edge decides as the portal does: every tier, capability and holding, with the
entities a gateway fetched earlier, for the demo policy and for a random one."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import cedarpy
import pytest
import time_machine

from decisions.cedar import cedar_entities_by_agent, cedar_request, policy_cedar
from decisions.services.engine import evaluate
from registry.models import Capability, Tier
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy, publish_policy

pytestmark = pytest.mark.django_db

FETCHED = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)  # the gateway fetches the entities
DECIDED = FETCHED + timedelta(hours=3)  # and decides with them, later

IN_SCOPE, OUT_OF_SCOPE = "acme/payments-api", "other/payments-api"
# holding -> (which agent holds it, requested scope)
CASES = {
    "no grant": ("bare", IN_SCOPE),
    "grant in scope": ("granted", IN_SCOPE),
    "grant out of scope": ("granted", OUT_OF_SCOPE),
    "expired grant": ("expired", IN_SCOPE),
    "exception": ("excepted", IN_SCOPE),
    "suspended, holding everything": ("suspended", IN_SCOPE),
    "retired, holding everything": ("retired", IN_SCOPE),
}


def _agents(owner, keys: list[str]) -> dict[tuple[str, str], object]:
    """Per tier: an agent holding nothing, grants scoped `acme/*` for every capability, grants
    that end between fetch and decision, exceptions, and suspended/retired agents holding all."""
    team = TeamFactory(slug="payments", members=[owner])
    agents = {}
    with time_machine.travel(FETCHED, tick=False):
        for tier in Tier.values:
            for kind in ("bare", "granted", "expired", "excepted", "suspended", "retired"):
                status = kind if kind in ("suspended", "retired") else "active"
                agent = AgentFactory(
                    slug=f"{tier}-{kind}", owner=owner, team=team, tier=tier, status=status
                )
                agents[tier, kind] = agent
                for key in keys:
                    if kind in ("granted", "suspended", "retired"):
                        make_grant(agent, key, hours=8, scope="acme/*")
                    if kind == "expired":
                        make_grant(agent, key, hours=1)  # in force when fetched, not later
                    if kind in ("excepted", "suspended", "retired"):
                        make_exception(agent, key)
    return agents


def _cedar_allows(export: dict, entities: list[dict], **request) -> bool:
    cedar_req, cedar_entities = cedar_request(entities, **request)
    answer = cedarpy.is_authorized(cedar_req, export["policies"], cedar_entities, export["schema"])
    assert not answer.diagnostics.errors, answer.diagnostics.errors
    return answer.allowed


def _disagreements(version, agents) -> tuple[list, Counter]:
    """Every tier, capability and case, decided by the portal at DECIDED and by Cedar with the
    entities fetched at FETCHED and at DECIDED."""
    export = policy_cedar(version)
    validation = cedarpy.validate_policies(export["policies"], export["schema"])
    assert validation.validation_passed, [str(e) for e in validation.errors]
    fetched = {
        moment: cedar_entities_by_agent(list(agents.values()), at=moment)
        for moment in (FETCHED, DECIDED)
    }
    keys = sorted(Capability.objects.values_list("key", flat=True))
    wrong, outcomes = [], Counter()
    for tier in Tier.values:
        for key in keys:
            for case, (kind, scope) in CASES.items():
                slug = agents[tier, kind].slug
                ours = evaluate(agent_slug=slug, capability_key=key, scope=scope, at=DECIDED)
                outcomes[case, ours.decision] += 1
                for moment, entities in fetched.items():
                    theirs = _cedar_allows(
                        export, entities[slug], agent=slug, capability=key, scope=scope, now=DECIDED
                    )
                    if theirs != ours.allowed:
                        wrong.append((tier, key, case, moment, ours.reason))
    return wrong, outcomes


def test_cedar_decides_as_the_portal_for_the_demo_policy(security, engineer):
    version = demo_policy(security)
    agents = _agents(engineer, sorted(Capability.objects.values_list("key", flat=True)))
    wrong, outcomes = _disagreements(version, agents)
    assert wrong == []
    # Not vacuous: standing allows, grants and exceptions allow; scope, expiry and status deny.
    assert outcomes["no grant", "allow"] == 3  # the standing allows
    assert outcomes["grant in scope", "allow"] == 3 + 12  # and the 12 jit/approval rules
    assert outcomes["grant out of scope", "allow"] == 3
    assert outcomes["expired grant", "allow"] == 3
    assert outcomes["exception", "allow"] == 18  # every tier and capability
    assert outcomes["suspended, holding everything", "allow"] == 0
    assert outcomes["retired, holding everything", "allow"] == 0


def test_cedar_decides_as_the_portal_for_a_random_policy(security, engineer):
    rng = random.Random(1414)
    keys = [
        *("github:read", "github:write", "github:merge", "deploy:release", "vault:read_secret"),
        *("jira:write", "slack:post", "k8s:exec", "s3:write"),
    ]
    rules: dict[str, dict[str, tuple[str, int | None]]] = {tier: {} for tier in Tier.values}
    for tier in Tier.values:
        for key in keys:
            effect = rng.choice(["allow", "jit", "approval", "deny", None])
            if effect is not None:
                rules[tier][key] = (
                    effect,
                    rng.choice([1, 4, 24]) if effect in {"jit", "approval"} else None,
                )
    version = publish_policy(rules, security)
    chosen = Counter(effect for tier_rules in rules.values() for effect, _ in tier_rules.values())
    assert set(chosen) == {"allow", "jit", "approval", "deny"}  # every effect, and
    assert sum(chosen.values()) < len(keys) * 3  # some pairs without a rule
    agents = _agents(engineer, keys)
    wrong, outcomes = _disagreements(version, agents)
    assert wrong == []
    assert outcomes["grant in scope", "allow"] > outcomes["no grant", "allow"] > 0


PAY, LEDGER, DEEP, UPPER, EMPTY, STAR = (
    *("acme/payments-api", "acme/ledger", "acme/sub/dir-api", "Acme/payments-api", ""),
    "acme/*",
)
# grant scope -> the requested scopes it covers (of PAY, LEDGER, DEEP, UPPER, EMPTY, STAR)
GLOBS = {
    "acme/*": {PAY, LEDGER, DEEP, STAR},  # `*` also across `/`
    "acme/*-api": {PAY, DEEP},
    "acme/payments-api": {PAY},  # a plain scope is itself, case-sensitive
    "acme/pay?ents-api": {PAY},  # `?`: one character
    "acme/[lp]*": {PAY, LEDGER},  # a class
    "acme/[!p]*": {LEDGER, DEEP, STAR},  # a negated class
    "acme/[*]": {STAR},  # a literal `*`
    "*": {PAY, LEDGER, DEEP, UPPER, EMPTY, STAR},
    "a*e*i": {PAY, DEEP},
}


def test_a_grant_scope_covers_in_cedar_what_it_covers_in_the_portal(security, engineer):
    """Every glob feature of the portal's scopes, through the Cedar request and policies."""
    version = publish_policy({"production": {"github:write": ("jit", 8)}}, security)
    team = TeamFactory(slug="payments", members=[engineer])
    agents = {}
    for index, glob in enumerate(GLOBS):
        agents[glob] = AgentFactory(
            slug=f"glob-{index}", owner=engineer, team=team, tier="production"
        )
        make_grant(agents[glob], "github:write", scope=glob)
    export = policy_cedar(version)
    now = datetime.now(UTC)
    entities = cedar_entities_by_agent(list(agents.values()), at=now)
    for glob, agent in agents.items():
        covered = set()
        for scope in (PAY, LEDGER, DEEP, UPPER, EMPTY, STAR):
            request = {"agent": agent.slug, "capability": "github:write", "scope": scope}
            ours = evaluate(
                agent_slug=agent.slug, capability_key="github:write", scope=scope, at=now
            )
            theirs = _cedar_allows(export, entities[agent.slug], **request, now=now)
            assert theirs == ours.allowed, (glob, scope, ours.reason)
            if ours.allowed:
                covered.add(scope)
        assert covered == GLOBS[glob], glob


def test_of_several_grants_cedar_uses_one_in_force_that_covers_the_scope(security, engineer):
    publish_policy({"production": {"github:write": ("jit", 8)}}, security)
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    with time_machine.travel(FETCHED, tick=False):
        make_grant(agent, "github:write", hours=1, scope="acme/*")  # wide, ends soon
        make_grant(agent, "github:write", hours=8, scope="acme/payments-api")  # narrow, later
        version = Capability.objects.get(key="github:write").rules.get().version
    export = policy_cedar(version)
    entities = cedar_entities_by_agent([agent], at=FETCHED)["pay-bot"]
    expected = {
        (30, "acme/ledger"): True,  # the wide grant, still in force
        (30, "acme/payments-api"): True,
        (120, "acme/ledger"): False,  # the wide grant has ended; the narrow one does not cover
        (120, "acme/payments-api"): True,  # the narrow one does
        (600, "acme/payments-api"): False,  # both have ended
    }
    for (minutes, scope), allowed in expected.items():
        now = FETCHED + timedelta(minutes=minutes)
        ours = evaluate(agent_slug="pay-bot", capability_key="github:write", scope=scope, at=now)
        request = {"agent": "pay-bot", "capability": "github:write", "scope": scope, "now": now}
        assert (ours.allowed, _cedar_allows(export, entities, **request)) == (allowed, allowed)


def test_entities_hold_what_is_in_force_and_when_it_ends(security, engineer):
    demo_policy(security)
    agent = AgentFactory(slug="pay-bot", owner=engineer, tier="production")
    other = AgentFactory(slug="other-bot", owner=engineer, tier="production")
    with time_machine.travel(FETCHED, tick=False):
        grant = make_grant(agent, "github:read", hours=2, scope="acme/*")
        revoked = make_grant(agent, "github:write")
        revoked.revoked_at = FETCHED
        revoked.save()
        make_grant(agent, "github:merge", hours=1, starts_at=FETCHED - timedelta(hours=2))
        make_grant(other, "github:read")
        exception = make_exception(agent, "vault:read_secret")
    entities = cedar_entities_by_agent([agent], at=FETCHED)["pay-bot"]
    assert entities == [
        {
            "uid": {"type": "Agent", "id": "pay-bot"},
            "attrs": {"tier": "production", "status": "active"},
            "parents": [],
        },
        {
            "uid": {"type": "Grant", "id": str(grant.pk)},
            "attrs": {
                "agent": {"__entity": {"type": "Agent", "id": "pay-bot"}},
                "capability": {"__entity": {"type": "Action", "id": "github:read"}},
                "scope": "acme/*",
                "starts_at": {"__extn": {"fn": "datetime", "arg": "2025-06-02T08:59:00.000Z"}},
                "expires_at": {"__extn": {"fn": "datetime", "arg": "2025-06-02T10:59:00.000Z"}},
            },
            "parents": [],
        },
        {
            "uid": {"type": "Exception", "id": str(exception.pk)},
            "attrs": {
                "agent": {"__entity": {"type": "Agent", "id": "pay-bot"}},
                "capability": {"__entity": {"type": "Action", "id": "vault:read_secret"}},
                "starts_at": {"__extn": {"fn": "datetime", "arg": "2025-06-02T08:59:00.000Z"}},
                "expires_at": {"__extn": {"fn": "datetime", "arg": "2025-06-09T09:00:00.000Z"}},
            },
            "parents": [],
        },
    ]


def test_windows_round_to_the_millisecond_towards_the_shorter_window(security, engineer):
    demo_policy(security)
    agent = AgentFactory(slug="pay-bot", owner=engineer, tier="production")
    start = FETCHED + timedelta(microseconds=1500)
    make_grant(agent, "github:read", hours=1, starts_at=start)
    grant = cedar_entities_by_agent([agent], at=start)["pay-bot"][1]["attrs"]
    assert grant["starts_at"]["__extn"]["arg"] == "2025-06-02T09:00:00.002Z"  # up
    assert grant["expires_at"]["__extn"]["arg"] == "2025-06-02T10:00:00.001Z"  # down


def test_the_policy_text_names_every_rule(security):
    version = demo_policy(security)
    policies = policy_cedar(version)["policies"]
    assert policies.startswith("// Agent Governance Portal policy v1 (published)")
    assert '@id("sandbox github:read allow")' in policies
    assert '@id("production github:merge approval")' in policies
    assert "// production vault:read_secret: deny" in policies
    assert policies.count("permit (") == 1 + 3 + 12  # exception, allows, jit/approval
    assert policies.count("forbid (") == 1


def test_the_policies_themselves_require_the_grant_to_cover_the_scope(security, engineer):
    """A request naming a grant for a scope it does not cover (built by hand, or wrongly) is
    refused by Cedar, not only by the request builder."""
    version = publish_policy({"production": {"github:write": ("jit", 8)}}, security)
    agent = AgentFactory(slug="pay-bot", owner=engineer, tier="production")
    make_grant(agent, "github:write", scope="acme/*")
    export, now = policy_cedar(version), datetime.now(UTC)
    entities = cedar_entities_by_agent([agent], at=now)["pay-bot"]
    request, with_scope = cedar_request(
        entities, agent="pay-bot", capability="github:write", scope="acme/ledger", now=now
    )
    assert cedarpy.is_authorized(request, export["policies"], with_scope).allowed
    forged = {**request, "resource": {"type": "Scope", "id": "other/ledger"}}
    assert not cedarpy.is_authorized(forged, export["policies"], entities).allowed
