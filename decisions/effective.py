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
from decisions.many_facts import many_facts
from decisions.services.engine import decide
from registry.models import Agent, Capability


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


def effective_access(agent: Agent, *, at: datetime | None = None) -> list[Effective]:
    at = at or timezone.now()
    catalogue = [
        policy_cache.CapabilityInfo(pk, key, high_risk)
        for pk, key, high_risk in Capability.objects.order_by("key").values_list(
            "pk", "key", "high_risk"
        )
    ]
    facts = many_facts(slugs={agent.slug}, capability_ids={c.id for c in catalogue}, at=at)
    rows = []
    for capability in catalogue:
        result = decide(
            facts.for_pair(agent.slug, capability.id),
            capability,
            agent_slug=agent.slug,
            capability_key=capability.key,
        )
        pair = (agent.slug, capability.id)
        grants = facts.grants.get(pair, [])
        until = None
        if result.grant_id is not None:
            until = next(g.expires_at for g in grants if g.id == result.grant_id)
        elif result.exception_id is not None:
            exceptions = facts.exceptions.get(pair, [])
            until = next(e.expires_at for e in exceptions if e.id == result.exception_id)
        rows.append(
            Effective(
                capability=capability.key,
                high_risk=capability.high_risk,
                decision=result.decision,
                reason=result.reason,
                until=until,
                grant=result.grant_id,
                exception=result.exception_id,
                scoped=[ScopedGrant(g.id, g.scope, g.expires_at) for g in grants if g.scope],
            )
        )
    return rows
