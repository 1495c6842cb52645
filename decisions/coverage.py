"""What covered each reported action, for a whole batch in a constant number of queries.

An action is covered when, at the moment it happened, something allowed it: a standing
`allow` rule of the policy version then in force, a grant then active, an exception then
in force, or an `allow` decision for the same agent and capability shortly before; nothing
covers an agent that is suspended or retired (its grants and exceptions are void). Each kind
is read once for the whole batch (four queries, whatever its size) and matched here, with
the same rules the ORM forms state (access.rules, exceptions.rules).
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings

from access.models import Grant
from access.rules import grant_is_active
from decisions.models import Decision, DecisionOutcome
from exceptions.models import PolicyException
from exceptions.rules import exception_is_in_force
from registry.models import Agent, AgentStatus, Capability, Effect, PolicyRule, PolicyStatus

Action = tuple[Agent, Capability, datetime]
Key = tuple[int, int]  # (agent id, capability id)


def coverage_for(actions: Sequence[Action]) -> list[str | None]:
    """For each (agent, capability, occurred_at): what allowed it, in words, or None."""
    if not actions:
        return []
    agent_ids = {agent.pk for agent, _, _ in actions}
    capability_ids = {capability.pk for _, capability, _ in actions}
    first = min(at for _, _, at in actions)
    last = max(at for _, _, at in actions)
    rules = _standing_rules({agent.tier for agent, _, _ in actions}, capability_ids, last)
    grants = _by_key(
        Grant.objects.filter(
            agent_id__in=agent_ids,
            capability_id__in=capability_ids,
            starts_at__lte=last,
            expires_at__gt=first,
        ).order_by("pk")
    )
    exceptions = _by_key(
        PolicyException.objects.filter(
            agent_id__in=agent_ids,
            capability_id__in=capability_ids,
            status__in=PolicyException.EVER_ACTIVE_STATUSES,
            starts_at__lte=last,
            expires_at__gt=first,
        ).order_by("pk")
    )
    window = timedelta(seconds=settings.DECISION_COVERS_ACTIVITY_SECONDS)
    decisions = _by_key(
        Decision.objects.filter(
            agent_id__in=agent_ids,
            capability_id__in=capability_ids,
            decision=DecisionOutcome.ALLOW,
            decided_at__gte=first - window,
            decided_at__lte=last,
        ).only("pk", "agent_id", "capability_id", "decided_at")
    )
    covered: list[str | None] = []
    for agent, capability, at in actions:
        key = (agent.pk, capability.pk)
        if agent.status != AgentStatus.ACTIVE:
            covered.append(None)  # suspension voids every grant, exception and allow
            continue
        covered.append(
            _standing(rules, agent.tier, capability.pk, at)
            or next((f"grant #{g.pk}" for g in grants[key] if grant_is_active(g, at)), None)
            or next(
                (f"exception #{e.pk}" for e in exceptions[key] if exception_is_in_force(e, at)),
                None,
            )
            or _latest_decision(decisions[key], at - window, at)
        )
    return covered


def _by_key(rows) -> dict[Key, list]:
    grouped: dict[Key, list] = defaultdict(list)
    for row in rows:
        grouped[(row.agent_id, row.capability_id)].append(row)
    return grouped


def _standing_rules(
    tiers: set[str], capability_ids: set[int], last: datetime
) -> dict[tuple[str, int], list[tuple[int, datetime, str]]]:
    """(tier, capability) -> [(version, published_at, effect)], newest version first."""
    rows = (
        PolicyRule.objects.filter(
            version__status=PolicyStatus.PUBLISHED,
            version__published_at__lte=last,
            tier__in=tiers,
            capability_id__in=capability_ids,
        )
        .order_by("-version__number")
        .values_list("tier", "capability_id", "version__number", "version__published_at", "effect")
    )
    rules: dict[tuple[str, int], list[tuple[int, datetime, str]]] = defaultdict(list)
    for tier, capability_id, number, published_at, effect in rows:
        if published_at is not None:  # always set on a published version
            rules[(tier, capability_id)].append((number, published_at, effect))
    return rules


def _standing(rules, tier: str, capability_id: int, at: datetime) -> str | None:
    """The newest published version (by `at`) with a rule here: covered when it allows."""
    for number, published_at, effect in rules[(tier, capability_id)]:
        if published_at <= at:
            return f"standing allow (policy v{number})" if effect == Effect.ALLOW else None
    return None


def _latest_decision(decisions: list[Decision], since: datetime, until: datetime) -> str | None:
    inside = [d for d in decisions if since <= d.decided_at <= until]
    if not inside:
        return None
    latest = max(inside, key=lambda d: (d.decided_at, d.pk))
    return f"allow decision #{latest.pk}"
