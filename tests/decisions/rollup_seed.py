"""Random decision logs and activity over a few closed days, and what their rollups must hold,
computed here in Python from the rows themselves (the oracle the SQL is checked against)."""

import datetime
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from decisions.models import Activity, Decision, ReasonKind
from tests.registry.factories import AgentFactory, capability

UTC = datetime.UTC
KEYS = ("github:read", "github:write", "deploy:release")


def today() -> datetime.date:
    return datetime.datetime.now(UTC).date()


def day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=UTC)


@dataclass
class World:
    agents: list
    capabilities: list
    reporter: object


def world(reporter) -> World:
    return World([AgentFactory() for _ in range(3)], [capability(key) for key in KEYS], reporter)


def _moment(rng: random.Random, days: list[datetime.date]) -> datetime.datetime:
    start = day_start(rng.choice(days))
    # The edges of a day on purpose: its first instant, its last microsecond.
    edge = rng.random()
    if edge < 0.1:
        return start
    if edge < 0.2:
        return start + datetime.timedelta(days=1, microseconds=-1)
    return start + datetime.timedelta(
        seconds=rng.randrange(86400), microseconds=rng.randrange(10**6)
    )


def decisions(rng: random.Random, w: World, days: list[datetime.date], n: int) -> list[Decision]:
    rows = []
    for _ in range(n):
        agent = rng.choice([*w.agents, None])
        cap = rng.choice([*w.capabilities, None])
        rows.append(
            Decision(
                request_id=uuid.uuid4(),
                agent=agent,
                agent_slug=agent.slug if agent else rng.choice(["ghost", "phantom"]),
                capability=cap,
                capability_key=cap.key if cap else "nope:nothing",
                decision=rng.choice(["allow", "deny"]),
                reason="seeded",
                policy_version=rng.choice([None, 1, 2]),
                grant_id=rng.choice([None, None, 7]),
                exception_id=rng.choice([None, None, 9]),
                decided_at=_moment(rng, days),
            )
        )
    return Decision.objects.bulk_create(rows)


def activities(
    rng: random.Random, w: World, days: list[datetime.date], n: int, near: list[Decision]
) -> list[Activity]:
    """`n` actions; about half just after a decision of `near` (logged, or just out of reach)."""
    window = settings.DECISION_COVERS_ACTIVITY_SECONDS
    rows = []
    for _ in range(n):
        decided = rng.choice(near) if near and rng.random() < 0.5 else None
        if decided is not None and decided.agent and decided.capability:
            agent, cap = decided.agent, decided.capability
            lag = rng.choice([0, window, window + 1, rng.randrange(window)])
            at = decided.decided_at + datetime.timedelta(seconds=lag)
        else:
            agent, cap = rng.choice([*w.agents, None]), rng.choice([*w.capabilities, None])
            at = _moment(rng, days)
        flagged = rng.random() < 0.4
        rows.append(
            Activity(
                agent=agent,
                agent_slug=agent.slug if agent else "ghost",
                capability=cap,
                capability_key=cap.key if cap else "nope:nothing",
                outcome="success",
                occurred_at=at,
                reported_by=w.reporter,
                flagged=flagged,
                review_status=rng.choice(["pending", "expected", "incident"])
                if flagged
                else "not_needed",
            )
        )
    return Activity.objects.bulk_create(rows)


def reason_kind(d: Decision) -> str:
    """The reason kind, stated again in Python (decisions.rollups.REASON_KIND in SQL)."""
    if d.grant_id is not None:
        return ReasonKind.GRANT
    if d.exception_id is not None:
        return ReasonKind.EXCEPTION
    if d.decision == "allow":
        return ReasonKind.STANDING
    if d.agent_id is None:
        return ReasonKind.UNKNOWN_AGENT
    if d.capability_id is None:
        return ReasonKind.NOT_EVALUATED
    if d.policy_version is None:
        return ReasonKind.NO_POLICY
    return ReasonKind.RULE


def _group(rows, key, time) -> dict:
    groups: dict = defaultdict(lambda: [0, None, None, 0])
    for row in rows:
        at = getattr(row, time)
        group = groups[(at.astimezone(UTC).date(), *key(row))]
        group[0] += 1
        group[1] = at if group[1] is None else min(group[1], at)
        group[2] = at if group[2] is None else max(group[2], at)
        group[3] = max(group[3], row.pk)
    return {k: tuple(v) for k, v in groups.items()}


def expected_decision_rollups(rows: list[Decision], before: datetime.date) -> dict:
    """(day, agent, capability, decision, reason kind, version) -> (count, first, last, max id)."""
    return _group(
        [d for d in rows if d.decided_at.astimezone(UTC).date() < before],
        lambda d: (d.agent_slug, d.capability_key, d.decision, reason_kind(d), d.policy_version),
        "decided_at",
    )


def logged(action: Activity, log: list[Decision]) -> bool:
    window = datetime.timedelta(seconds=settings.DECISION_COVERS_ACTIVITY_SECONDS)
    return any(
        d.agent_id == action.agent_id
        and d.capability_id == action.capability_id
        and action.agent_id is not None
        and action.capability_id is not None
        and action.occurred_at - window <= d.decided_at <= action.occurred_at
        for d in log
    )


def expected_activity_rollups(
    rows: list[Activity], log: list[Decision], before: datetime.date
) -> dict:
    """(day, agent, capability, logged, flagged, status) -> (count, first, last, max id)."""
    return _group(
        [a for a in rows if a.occurred_at.astimezone(UTC).date() < before],
        lambda a: (a.agent_slug, a.capability_key, logged(a, log), a.flagged, a.review_status),
        "occurred_at",
    )
