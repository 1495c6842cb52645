"""The benchmarks' population: agents, grants over a year and reported actions.

One place for the shape of the data the report-side benchmarks share (bench/report.py and the
scale benchmark's decision log, bench/scale_seed.py), so their figures stay comparable. Each
function bulk-creates through the ORM (these are thousands of rows; the decision log's millions
go through COPY) and takes its random generator, so a benchmark's data is the same every run.
"""

import random
from datetime import datetime, timedelta

TIERS = ("sandbox", "internal", "production")
YEAR = timedelta(days=365)
# The decision log's columns, in the order the benchmarks COPY them.
DECISION_COLUMNS = [
    "request_id", "agent_id", "agent_slug", "capability_id", "capability_key", "scope",
    "decision", "reason", "policy_version", "grant_id", "exception_id", "caller_id",
    "decided_at", "credential_jti",
]  # fmt: skip


def bench_agents(prefix: str, count: int, *, rng: random.Random, now: datetime) -> None:
    """`count` agents `<prefix>-00000`…, owned by alice in team payments, tiers in turn."""
    from django.contrib.auth.models import User

    from registry.models import Agent, Team

    alice = User.objects.get(username="alice")
    team = Team.objects.get(slug="payments")
    Agent.objects.bulk_create(
        [
            Agent(
                slug=f"{prefix}-{i:05d}",
                name=f"{prefix} {i}",
                owner=alice,
                team=team,
                tier=TIERS[i % 3],
                workload_identity=f"spiffe://{prefix}/{i}",
                last_attested_at=now - timedelta(days=rng.randint(0, 120)),
            )
            for i in range(count)
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def bench_grants(
    count: int,
    *,
    agents: list[tuple[int, str]],
    capabilities: list[tuple[int, str]],
    rng: random.Random,
    now: datetime,
) -> None:
    """`count` grants of 1 to 24 hours, started at random over the year before `now`."""
    from access.models import Grant

    batch = []
    for _ in range(count):
        agent_id, _ = rng.choice(agents)
        capability_id, _ = rng.choice(capabilities)
        start = now - YEAR * rng.random()
        batch.append(
            Grant(
                agent_id=agent_id,
                capability_id=capability_id,
                starts_at=start,
                expires_at=start + timedelta(hours=rng.choice((1, 2, 4, 8, 24))),
            )
        )
        if len(batch) == 10_000:
            Grant.objects.bulk_create(batch)
            batch = []
    Grant.objects.bulk_create(batch)


def bench_activity(
    count: int,
    *,
    agents: list[tuple[int, str]],
    capabilities: list[tuple[int, str]],
    rng: random.Random,
    now: datetime,
) -> None:
    """`count` actions reported by the gateway over the year before `now`, 5% flagged (half of
    those still pending review)."""
    from django.contrib.auth.models import User

    from decisions.models import Activity

    gateway = User.objects.get(username="gateway")
    activity = []
    for _ in range(count):
        agent_id, slug = rng.choice(agents)
        capability_id, key = rng.choice(capabilities)
        flagged = rng.random() < 0.05
        activity.append(
            Activity(
                agent_id=agent_id,
                agent_slug=slug,
                capability_id=capability_id,
                capability_key=key,
                outcome="success",
                occurred_at=now - YEAR * rng.random(),
                reported_by=gateway,
                flagged=flagged,
                review_status=rng.choice(("pending", "expected")) if flagged else "not_needed",
            )
        )
    Activity.objects.bulk_create(activity, batch_size=5000)
