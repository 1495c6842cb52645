"""The decision: may agent A use capability C (on scope S) now? Fast enough for every action.

Evaluation reads one query (`decisions.selectors.decision_facts`): the number of the
latest published policy version, the agent, and its active grants and exceptions for the
capability, together. The rules themselves come from the in-memory snapshot in
`decisions.policy_cache`, which reloads whenever that query shows a newer version; a
capability created since the snapshot costs one more query, once.

Recording is separate (`decisions.services.log`): the answer is returned only after
its record is durable.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from access.rules import scope_covers
from decisions import policy_cache
from decisions.selectors import DecisionFacts, decision_facts
from registry.models import AgentStatus, Effect

ALLOW = "allow"
DENY = "deny"


@dataclass(frozen=True)
class DecisionResult:
    decision: str
    reason: str
    policy_version: int | None
    agent_slug: str
    capability_key: str
    scope: str
    agent_id: int | None = None
    capability_id: int | None = None
    grant_id: int | None = None
    exception_id: int | None = None
    decided_at: datetime = field(default_factory=timezone.now)
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW


def evaluate(
    *, agent_slug: str, capability_key: str, scope: str = "", at: datetime | None = None
) -> DecisionResult:
    """Decide by the latest published policy, the agent's grants and its exceptions."""
    facts, capability = read_facts(agent_slug=agent_slug, capability_key=capability_key, at=at)
    return decide(
        facts, capability, agent_slug=agent_slug, capability_key=capability_key, scope=scope
    )


def read_facts(
    *, agent_slug: str, capability_key: str, at: datetime | None = None, token: str | None = None
) -> tuple[DecisionFacts, policy_cache.CapabilityInfo | None]:
    """The one query a decision needs (plus, given a token, who is asking: same round trip)."""
    at = at or timezone.now()
    capability = policy_cache.capability_info(policy_cache.current(), capability_key)
    facts = decision_facts(
        agent_slug=agent_slug,
        capability_id=capability.id if capability else None,
        at=at,
        token=token,
    )
    return facts, capability


def decide(
    facts: DecisionFacts,
    capability: policy_cache.CapabilityInfo | None,
    *,
    agent_slug: str,
    capability_key: str,
    scope: str = "",
    snapshot: policy_cache.PolicySnapshot | None = None,
) -> DecisionResult:
    """The decision table, on facts already read: no query unless the policy changed.

    `snapshot` replaces the published rules (a draft replayed before it is published)."""
    at = facts.at
    version = facts.policy_version
    base: dict[str, Any] = {
        "agent_slug": agent_slug,
        "capability_key": capability_key,
        "scope": scope,
        "policy_version": version,
        "decided_at": at,
    }
    if facts.agent_id is None:
        return DecisionResult(DENY, f"Unknown agent '{agent_slug}'.", **base)
    base["agent_id"] = facts.agent_id
    if facts.status != AgentStatus.ACTIVE:
        return DecisionResult(DENY, f"Agent '{agent_slug}' is {facts.status}.", **base)
    if capability is None:
        return DecisionResult(DENY, f"Unknown capability '{capability_key}'.", **base)
    base["capability_id"] = capability.id
    if version is None:
        return DecisionResult(DENY, "No policy version is published: default deny.", **base)
    if snapshot is None:
        snapshot = policy_cache.snapshot_for(version)
    tier = facts.tier
    rule = snapshot.rule(tier, capability.id)
    effect = rule.effect if rule else None
    where = f"{tier} {capability_key} in policy v{version}"
    if effect == Effect.ALLOW:
        return DecisionResult(ALLOW, f"Standing allow: {where}.", **base)
    return _by_grant_or_exception(facts, effect, where, scope, base)


def _by_grant_or_exception(
    facts: DecisionFacts, effect: str | None, where: str, scope: str, base: dict[str, Any]
) -> DecisionResult:
    """The rule is not a standing allow: an active grant (for jit/approval) or exception."""
    grants = facts.grants
    exception_id = facts.exception_ids[0] if facts.exception_ids else None
    if effect in (Effect.JIT, Effect.APPROVAL):
        for grant_id, grant_scope in grants:
            if scope_covers(grant_scope, scope):
                return DecisionResult(
                    ALLOW,
                    f"Active grant #{grant_id} ({effect} rule: {where}).",
                    grant_id=grant_id,
                    **base,
                )
    if exception_id is not None:
        ruled = f"{effect} rule" if effect else "no rule"
        return DecisionResult(
            ALLOW,
            f"Active exception #{exception_id} overrides the {ruled} ({where}).",
            exception_id=exception_id,
            **base,
        )
    if effect in (Effect.JIT, Effect.APPROVAL):
        hint = "request access" if effect == Effect.JIT else "request access and get approval"
        scoped = f" for scope '{scope}'" if scope and grants else ""
        return DecisionResult(
            DENY, f"No active grant{scoped}: {where} is '{effect}'; {hint}.", **base
        )
    if effect == Effect.DENY:
        return DecisionResult(DENY, f"Denied by rule: {where}.", **base)
    return DecisionResult(DENY, f"No rule for {where}: default deny.", **base)
