"""Replay the decision log against a draft: which answers would change if it were published.

Every distinct (agent, capability, scope) the log saw since a moment is decided twice by the
decision table itself (`decisions.services.engine.decide`), once with the published rules and
once with the draft's, on today's agents, grants and exceptions. The facts are read in a fixed
number of queries whatever the size of the log: the distinct triples, the agents, the active
grants, the active exceptions; the decisions then run in memory.
"""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

from access.models import Grant
from access.rules import grant_active_q
from decisions import policy_cache
from decisions.models import Decision
from decisions.selectors import DecisionFacts
from decisions.services.engine import decide
from exceptions.models import PolicyException
from exceptions.rules import exception_in_force_q
from registry.models import Agent, Capability

ALLOW_TO_DENY = "allow_to_deny"
DENY_TO_ALLOW = "deny_to_allow"


@dataclass(frozen=True)
class ChangedDecision:
    agent: str
    capability: str
    scope: str
    published: str
    draft: str
    reason: str  # the draft's

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Replay:
    since: datetime
    replayed: int = 0
    summary: dict[str, int] = field(
        default_factory=lambda: {ALLOW_TO_DENY: 0, DENY_TO_ALLOW: 0, "unchanged": 0}
    )
    changes: list[ChangedDecision] = field(default_factory=list)


def _logged(since: datetime) -> list[tuple[int, int, str]]:
    return list(
        Decision.objects.filter(
            decided_at__gte=since, agent_id__isnull=False, capability_id__isnull=False
        )
        .values_list("agent_id", "capability_id", "scope")
        .order_by()
        .distinct()
    )


Pair = tuple[int, int]  # (agent id, capability id)


def _facts_now(
    agent_ids: set[int], at: datetime
) -> tuple[dict[int, tuple[str, str, str]], dict[Pair, list[tuple[int, str]]], dict[Pair, list]]:
    """What a decision would read now, for these agents and every capability at once: each
    agent's (slug, tier, status), the active grants and the exceptions in force."""
    agents = {
        pk: (slug, tier, status)
        for pk, slug, tier, status in Agent.objects.filter(pk__in=agent_ids).values_list(
            "pk", "slug", "tier", "status"
        )
    }
    grants: dict[Pair, list[tuple[int, str]]] = defaultdict(list)
    for pk, agent_id, capability_id, scope in Grant.objects.filter(
        grant_active_q(at), agent_id__in=agent_ids
    ).values_list("pk", "agent_id", "capability_id", "scope"):
        grants[(agent_id, capability_id)].append((pk, scope))
    exceptions: dict[Pair, list[int]] = defaultdict(list)
    for pk, agent_id, capability_id in PolicyException.objects.filter(
        exception_in_force_q(at), agent_id__in=agent_ids
    ).values_list("pk", "agent_id", "capability_id"):
        exceptions[(agent_id, capability_id)].append(pk)
    return agents, grants, exceptions


def replay(*, draft: int, published: int | None, since: datetime, at: datetime) -> Replay:
    """Decide every logged (agent, capability, scope) since `since` by `published` (a version
    number, or None: nothing published, all deny) and by `draft`; report what differs."""
    result = Replay(since=since)
    triples = _logged(since)
    if not triples:
        return result
    agents, grants, exceptions = _facts_now({agent_id for agent_id, _, _ in triples}, at)
    capabilities = {
        pk: policy_cache.CapabilityInfo(pk, key, high_risk)
        for pk, key, high_risk in Capability.objects.filter(
            pk__in={capability_id for _, capability_id, _ in triples}
        ).values_list("pk", "key", "high_risk")
    }
    # Agents and capabilities are never deleted (PROTECT); skip defensively all the same.
    triples = [t for t in triples if t[0] in agents and t[1] in capabilities]
    snapshots = {version: policy_cache.load(version) for version in {draft, published}}
    for agent_id, capability_id, scope in sorted(triples, key=lambda t: (agents[t[0]], t[1:])):
        capability = capabilities[capability_id]
        slug, tier, status = agents[agent_id]
        agent_facts = DecisionFacts(
            agent_id=agent_id,
            tier=tier,
            status=status,
            at=at,
            grants=sorted(grants.get((agent_id, capability_id), [])),
            exception_ids=sorted(exceptions.get((agent_id, capability_id), [])),
        )
        answers = []
        for version in (published, draft):
            agent_facts.policy_version = version
            answers.append(
                decide(
                    agent_facts,
                    capability,
                    agent_slug=slug,
                    capability_key=capability.key,
                    scope=scope,
                    snapshot=snapshots[version],
                )
            )
        before, after = answers
        result.replayed += 1
        if before.decision == after.decision:
            result.summary["unchanged"] += 1
            continue
        result.summary[f"{before.decision}_to_{after.decision}"] += 1
        result.changes.append(
            ChangedDecision(
                slug, capability.key, scope, before.decision, after.decision, after.reason
            )
        )
    return result
