"""What an agent may do now, capability by capability: its effective access.

Every capability in the catalogue is decided as a gateway's unscoped question would be
(`engine.decide`, on facts read in one query by `decisions.many_facts`), with until when the
answer holds (the grant's or the exception's end; a standing rule has none), and the scoped
grants that allow it only for some scopes. Nothing is recorded: this is a view, not a
decision anyone acted on.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from decisions import policy_cache
from decisions.many_facts import ManyFacts, many_facts
from decisions.services.engine import decide
from registry.models import Agent, AgentStatus, Capability


@dataclass(frozen=True)
class ScopedGrant:
    grant: int
    scope: str
    until: datetime


@dataclass(frozen=True)
class Effective:
    capability: str
    high_risk: bool
    decision: str
    reason: str
    until: datetime | None
    grant: int | None
    exception: int | None
    scoped: list[ScopedGrant] = field(default_factory=list)


class _TierAnswers:
    """What an active agent of a tier gets for a capability it holds nothing for (no grant, no
    exception in force): it depends on the published version, the tier and the capability
    alone. Decided by the engine itself the first time, then kept as long as the process holds
    the same policy snapshot (`decisions.policy_cache`: a newer version, or the snapshot
    cleared, starts afresh); a capability renamed or re-rated is another key."""

    MAX = 50_000

    def __init__(self) -> None:
        self.snapshot: policy_cache.PolicySnapshot | None = None
        self.rows: dict[tuple[str, policy_cache.CapabilityInfo], Effective] = {}

    def of(self, version: int) -> dict[tuple[str, policy_cache.CapabilityInfo], Effective]:
        """The answers kept for this version's snapshot (none yet after a change)."""
        snapshot = policy_cache.snapshot_for(version)
        if snapshot is not self.snapshot or len(self.rows) >= self.MAX:
            self.snapshot, self.rows = snapshot, {}
        return self.rows


_holding_nothing = _TierAnswers()


def effective_access(agent: Agent, *, at: datetime | None = None) -> list[Effective]:
    at = at or timezone.now()
    catalogue = [
        policy_cache.CapabilityInfo(pk, key, high_risk)
        for pk, key, high_risk in Capability.objects.order_by("key").values_list(
            "pk", "key", "high_risk"
        )
    ]
    facts = many_facts(slugs={agent.slug}, capability_ids=None, at=at)
    slug, version = agent.slug, facts.policy_version
    _, tier, status = facts.agents.get(slug, (0, "", ""))
    # Anything but an active agent under a published version, holding nothing for the
    # capability, is decided capability by capability.
    kept = (
        _holding_nothing.of(version)
        if version is not None and status == AgentStatus.ACTIVE
        else None
    )
    held = facts.grants.keys() | facts.exceptions.keys()
    rows = []
    for capability in catalogue:
        if kept is None or (slug, capability.id) in held:
            rows.append(_decided(facts, slug, capability))
            continue
        row = kept.get((tier, capability))
        if row is None:
            row = kept[(tier, capability)] = _decided(facts, slug, capability)
        rows.append(row)
    return rows


def _decided(facts: ManyFacts, slug: str, capability: policy_cache.CapabilityInfo) -> Effective:
    """The engine's answer for this capability, with until when it holds."""
    result = decide(
        facts.for_pair(slug, capability.id),
        capability,
        agent_slug=slug,
        capability_key=capability.key,
    )
    pair = (slug, capability.id)
    grants = facts.grants.get(pair, [])
    until = None
    if result.grant_id is not None:
        until = next(g.expires_at for g in grants if g.id == result.grant_id)
    elif result.exception_id is not None:
        exceptions = facts.exceptions.get(pair, [])
        until = next(e.expires_at for e in exceptions if e.id == result.exception_id)
    return Effective(
        capability=capability.key,
        high_risk=capability.high_risk,
        decision=result.decision,
        reason=result.reason,
        until=until,
        grant=result.grant_id,
        exception=result.exception_id,
        scoped=[ScopedGrant(g.id, g.scope, g.expires_at) for g in grants if g.scope],
    )
