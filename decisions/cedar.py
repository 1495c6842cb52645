"""A policy version as Cedar policies and a Cedar schema, and an agent's grants and exceptions as
Cedar entities: so a gateway that embeds Cedar can decide locally between calls to the portal.

The translation keeps the portal's decision (decisions.services.engine) exactly:

- a suspended or retired agent is refused whatever else holds (a `forbid`);
- a standing `allow` rule permits by the agent's tier;
- a `jit` or `approval` rule permits by tier when the request names a grant of this agent, for
  this capability, in force at `context.now`, whose scope covers the requested scope;
- an exception of this agent for this capability, in force at `context.now`, permits whatever
  the rule (also where there is none);
- `deny` and no rule are Cedar's default deny (an explicit forbid would override exceptions).

Time. Grants and exceptions carry `starts_at` and `expires_at` (Cedar `datetime`, to the
millisecond, rounded towards the shorter window) and the policies compare them with
`context.now`: entities fetched at one moment stay right until each grant or exception ends,
however long a gateway keeps them. The entities hold what is in force when they are fetched;
one that starts later, or a revocation, reaches the gateway when it fetches them again.

Scope. A grant's scope is a glob held as data, and Cedar's `like` takes only a pattern written
in the policy text, so the glob cannot be evaluated by Cedar. The request builder evaluates it
with the portal's own rule (access.rules.scope_covers: Python fnmatch, case-sensitive, `*`
also across `/`, `?`, `[seq]`, `[!seq]`; an unscoped grant covers every scope) and states the
result as the hierarchy: the requested `Scope` is a member of each grant that covers it, and
the policies require `resource in context.grant`.

Several grants. Cedar has no "for some grant in this set", so the builder names one grant in
`context.grant`: of those for the capability that cover the scope, the one that ends last.
Every grant in the entities was in force when they were fetched, so at any later moment one of
them is in force exactly when the one that ends last is. The same holds for exceptions.

Nothing here imports Cedar: it produces JSON and text (tests check them with cedarpy).
"""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from access.models import Grant
from access.rules import grant_active_q, scope_covers
from exceptions.models import PolicyException
from exceptions.rules import exception_in_force_q
from registry.models import Agent, AgentStatus, Capability, Effect, PolicyVersion
from registry.selectors.policy import policy_rules

AGENT, GRANT, EXCEPTION, SCOPE, ACTION = "Agent", "Grant", "Exception", "Scope", "Action"

_DATETIME = {"type": "Extension", "name": "datetime"}
_IN_FORCE = "{0}.starts_at <= context.now && context.now < {0}.expires_at"


def _literal(text: str) -> str:
    """A Cedar string literal. Tiers and capability keys are ASCII slugs, for which JSON's
    quoting is Cedar's; anything else is refused rather than mis-escaped."""
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"Not a Cedar-safe identifier: {text!r}")
    return json.dumps(text)


def _uid(kind: str, ident: str) -> dict[str, str]:
    return {"type": kind, "id": ident}


def _ref(kind: str, ident: str) -> dict[str, dict[str, str]]:
    return {"__entity": _uid(kind, ident)}


def cedar_datetime(value: datetime, *, round_up: bool = False) -> dict[str, Any]:
    """A Cedar `datetime` extension value, in UTC to the millisecond (rounded down, or up)."""
    utc = value.astimezone(UTC)
    whole = utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    if round_up and whole != utc:
        whole += timedelta(milliseconds=1)
    text = whole.strftime("%Y-%m-%dT%H:%M:%S") + f".{whole.microsecond // 1000:03d}Z"
    return {"__extn": {"fn": "datetime", "arg": text}}


# --- The policy: schema and policy text -------------------------------------------------------


def cedar_schema(capability_keys: Iterable[str]) -> dict[str, Any]:
    """The Cedar schema (JSON format): entity types, and one action per capability."""
    window = {"starts_at": _DATETIME, "expires_at": _DATETIME}
    owned = {
        "agent": {"type": "Entity", "name": AGENT},
        "capability": {"type": "Entity", "name": ACTION},
    }
    context = {
        "type": "Record",
        "attributes": {
            "now": _DATETIME,
            "grant": {"type": "Entity", "name": GRANT, "required": False},
            "exception": {"type": "Entity", "name": EXCEPTION, "required": False},
        },
    }
    applies = {"principalTypes": [AGENT], "resourceTypes": [SCOPE], "context": context}
    record = {"type": "Record", "attributes": {}}
    return {
        "": {
            "entityTypes": {
                AGENT: {
                    "shape": {
                        **record,
                        "attributes": {"tier": {"type": "String"}, "status": {"type": "String"}},
                    }
                },
                GRANT: {
                    "shape": {
                        **record,
                        "attributes": {**owned, "scope": {"type": "String"}, **window},
                    }
                },
                EXCEPTION: {"shape": {**record, "attributes": {**owned, **window}}},
                SCOPE: {"memberOfTypes": [GRANT]},
            },
            "actions": {key: {"appliesTo": applies} for key in sorted(set(capability_keys))},
        }
    }


def _held(name: str) -> str:
    """`context.<name>` is this agent's, for this capability, and in force now."""
    held = f"context.{name}"
    return (
        f"context has {name} &&\n  {held}.agent == principal &&\n"
        f"  {held}.capability == action &&\n  {_IN_FORCE.format(held)}"
    )


def cedar_policies(rules: Iterable[tuple[str, str, str]], *, title: str = "") -> str:
    """Cedar policy text for one policy version; `rules` are (tier, capability key, effect)."""
    lines = [f"// {title}" if title else "// Agent Governance Portal policy"]
    lines += [
        "// Generated by the portal: change the policy there, not here.",
        "",
        "// A suspended or retired agent is refused, whatever else applies.",
        '@id("agent-not-active")',
        "forbid (principal, action, resource)",
        f"unless {{ principal.status == {_literal(AgentStatus.ACTIVE)} }};",
        "",
        "// An exception in force for the agent and capability overrides any rule (or none).",
        '@id("exception")',
        "permit (principal, action, resource)",
        f"when {{\n  {_held('exception')}\n}};",
    ]
    for tier, key, effect in sorted(rules):
        name = f"{tier} {key} {effect}"
        head = f"permit (principal, action == Action::{_literal(key)}, resource)"
        on_tier = f"principal.tier == {_literal(tier)}"
        lines.append("")
        if effect == Effect.ALLOW:
            lines += [
                "// Standing allow.",
                f"@id({_literal(name)})",
                head,
                f"when {{ {on_tier} }};",
            ]
        elif effect in (Effect.JIT, Effect.APPROVAL):
            lines += [
                "// Allowed with a grant in force whose scope covers the requested scope.",
                f"@id({_literal(name)})",
                head,
                f"when {{\n  {on_tier} &&\n  {_held('grant')} &&\n  resource in context.grant\n}};",
            ]
        else:
            lines.append(
                f"// {tier} {key}: deny (Cedar's default deny, which an exception overrides)"
            )
    return "\n".join(lines) + "\n"


def policy_cedar(version: PolicyVersion) -> dict[str, Any]:
    """A policy version (published or draft) as Cedar: its schema and its policies."""
    rules = [(rule.tier, rule.capability.key, rule.effect) for rule in policy_rules(version)]
    keys = Capability.objects.values_list("key", flat=True)
    title = f"Agent Governance Portal policy v{version.number} ({version.status})"
    return {
        "version": version.number,
        "status": version.status,
        "schema": cedar_schema(keys),
        "policies": cedar_policies(rules, title=title),
    }


# --- The entities: an agent, its grants and exceptions in force -------------------------------


def _window(starts_at: datetime, expires_at: datetime, revoked_at: datetime | None) -> dict:
    """The window the entity is good for: a revocation already known ends it early."""
    ends = min(expires_at, revoked_at) if revoked_at is not None else expires_at
    return {
        "starts_at": cedar_datetime(starts_at, round_up=True),
        "expires_at": cedar_datetime(ends),
    }


def cedar_entities_by_agent(agents: Sequence[Agent], *, at: datetime) -> dict[str, list[dict]]:
    """Each agent's Cedar entities at `at`, by slug: the agent (tier, status), and its grants
    and exceptions in force then (access.rules, exceptions.rules). Two queries, however many
    agents."""
    by_id: dict[int, list[dict]] = {}
    slugs: dict[int, str] = {}
    for agent in agents:
        slugs[agent.pk] = agent.slug
        described = {"tier": agent.tier, "status": agent.status}
        by_id[agent.pk] = [{"uid": _uid(AGENT, agent.slug), "attrs": described, "parents": []}]
    grants = Grant.objects.filter(grant_active_q(at), agent_id__in=by_id).order_by("pk")
    for pk, agent_id, key, scope, starts, expires, revoked in grants.values_list(
        "pk", "agent_id", "capability__key", "scope", "starts_at", "expires_at", "revoked_at"
    ):
        attrs: dict[str, Any] = {
            "agent": _ref(AGENT, slugs[agent_id]),
            "capability": _ref(ACTION, key),
            "scope": scope,
            **_window(starts, expires, revoked),
        }
        by_id[agent_id].append({"uid": _uid(GRANT, str(pk)), "attrs": attrs, "parents": []})
    exceptions = PolicyException.objects.filter(
        exception_in_force_q(at), agent_id__in=by_id, capability__isnull=False
    ).order_by("pk")
    for pk, agent_id, key, starts, expires, revoked in exceptions.values_list(
        "pk", "agent_id", "capability__key", "starts_at", "expires_at", "revoked_at"
    ):
        attrs = {
            "agent": _ref(AGENT, slugs[agent_id]),
            "capability": _ref(ACTION, key),
            **_window(starts, expires, revoked),
        }
        by_id[agent_id].append({"uid": _uid(EXCEPTION, str(pk)), "attrs": attrs, "parents": []})
    return {slugs[agent_id]: entities for agent_id, entities in by_id.items()}


def agent_cedar_entities(agent: Agent, *, at: datetime) -> list[dict]:
    return cedar_entities_by_agent([agent], at=at)[agent.slug]


# --- The request: what a gateway asks Cedar for one agent action ------------------------------


def _held_for(entities: Iterable[dict], kind: str, agent: str, capability: str) -> list[dict]:
    return [
        entity
        for entity in entities
        if entity["uid"]["type"] == kind
        and entity["attrs"]["agent"]["__entity"] == _uid(AGENT, agent)
        and entity["attrs"]["capability"]["__entity"] == _uid(ACTION, capability)
    ]


def _ending_last(held: list[dict]) -> dict | None:
    # The datetime texts have one fixed width, so they sort as the moments do.
    return max(held, key=lambda e: e["attrs"]["expires_at"]["__extn"]["arg"], default=None)


def cedar_request(
    entities: Sequence[dict], *, agent: str, capability: str, scope: str = "", now: datetime
) -> tuple[dict[str, Any], list[dict]]:
    """The Cedar request for "may `agent` use `capability` on `scope` at `now`", and the
    entities to decide it with (the agent's, plus the requested scope as a resource that is a
    member of each grant covering it). Allowed exactly when Cedar says Allow."""
    grants = [
        grant
        for grant in _held_for(entities, GRANT, agent, capability)
        if scope_covers(grant["attrs"]["scope"], scope)
    ]
    resource = {
        "uid": _uid(SCOPE, scope),
        "attrs": {},
        "parents": [grant["uid"] for grant in grants],
    }
    context: dict[str, Any] = {"now": cedar_datetime(now)}
    grant = _ending_last(grants)
    if grant is not None:
        context["grant"] = {"__entity": grant["uid"]}
    exception = _ending_last(_held_for(entities, EXCEPTION, agent, capability))
    if exception is not None:
        context["exception"] = {"__entity": exception["uid"]}
    request = {
        "principal": _uid(AGENT, agent),
        "action": _uid(ACTION, capability),
        "resource": _uid(SCOPE, scope),
        "context": context,
    }
    return request, [*entities, resource]
