"""Impact benchmark: a draft's impact over 100,000 logged decisions, every one distinct.

Data (PostgreSQL, database `portal_bench_impact` unless BENCH_IMPACT_DATABASE_URL says
otherwise; created if missing, filled once): the demo data, 1,000 agents across the tiers,
10,000 grants in force (scoped and not), and BENCH_IMPACT_DECISIONS decisions in the last 30
days, each a different (agent, capability, scope), so the replay decides every one of them
twice (the worst case: a real log repeats the same asks). The draft changes a rule in every
tier. Measures the whole impact (`compliance.policy_impact.policy_impact`: distinct triples,
facts, the replay, warnings, AGC-02/AGC-06 on both versions), median of BENCH_RUNS runs;
the target is under 5 s. Run with `make bench` or `python bench/policy_impact.py`.
"""

import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get(
    "BENCH_IMPACT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_impact"
)
os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.pop("CELERY_BROKER_URL", None)

AGENTS = 1_000
DECISIONS = int(os.environ.get("BENCH_IMPACT_DECISIONS", 100_000))
GRANTS = 10_000
RUNS = int(os.environ.get("BENCH_RUNS", 3))
TIERS = ("sandbox", "internal", "production")
SCOPES = [f"acme/repo-{i}" for i in range(40)]


def populate() -> None:
    """Idempotent: the data is generated once per bench database."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from access.models import Grant
    from bench.harness import copy_rows
    from decisions.models import Decision
    from registry.models import Agent, Capability, Team

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    if Decision.objects.count() >= DECISIONS:
        return
    rng = random.Random(7)
    now = timezone.now()
    alice, gateway = User.objects.get(username="alice"), User.objects.get(username="gateway")
    team = Team.objects.get(slug="payments")
    Agent.objects.bulk_create(
        [
            Agent(
                slug=f"ibench-{i:05d}",
                name=f"Impact bench {i}",
                owner=alice,
                team=team,
                tier=TIERS[i % 3],
                workload_identity=f"spiffe://bench-impact/{i}",
            )
            for i in range(AGENTS)
        ],
        ignore_conflicts=True,
    )
    agents = list(Agent.objects.filter(slug__startswith="ibench-").values_list("pk", "slug"))
    capabilities = list(Capability.objects.values_list("pk", "key"))
    Grant.objects.bulk_create(
        Grant(
            agent_id=rng.choice(agents)[0],
            capability_id=rng.choice(capabilities)[0],
            scope=rng.choice(["", "acme/*", "acme/repo-1*"]),
            starts_at=now - timedelta(hours=1),
            expires_at=now + timedelta(hours=8),
        )
        for _ in range(GRANTS)
    )
    triples = [(a, c, s) for a in agents for c in capabilities for s in SCOPES]
    rng.shuffle(triples)
    columns = [
        "request_id", "agent_id", "agent_slug", "capability_id", "capability_key", "scope",
        "decision", "reason", "policy_version", "grant_id", "exception_id", "caller_id",
        "decided_at", "credential_jti",
    ]  # fmt: skip
    rows = (
        (
            uuid.UUID(int=rng.getrandbits(128)), agent_id, slug, capability_id, key, scope,
            "deny", "bench", 1, None, None, gateway.pk,
            now - timedelta(days=29) * rng.random(), "",
        )
        for (agent_id, slug), (capability_id, key), scope in triples[:DECISIONS]
    )  # fmt: skip
    copy_rows(Decision._meta.db_table, columns, rows)


def draft():
    """The draft: v1 with one rule loosened or tightened in each tier."""
    from django.contrib.auth.models import User

    from registry.models import Capability, PolicyVersion
    from registry.services import policy as services

    existing = PolicyVersion.objects.filter(status="draft").first()
    if existing is not None:
        return existing
    sam = User.objects.get(username="sam")
    version = services.policy_draft_create(actor=sam, notes="bench")
    for tier, key, effect, hours in (
        ("sandbox", "github:read", "deny", None),
        ("internal", "github:write", "allow", None),
        ("production", "github:merge", "jit", 4),
    ):
        services.policy_rule_set(
            actor=sam,
            version=version,
            tier=tier,
            capability=Capability.objects.get(key=key),
            effect=effect,
            max_duration_hours=hours,
        )
    return version


def main() -> dict:
    import django

    from bench.harness import ensure_database, save

    ensure_database(BENCH_DB)
    django.setup()
    from compliance.policy_impact import policy_impact

    populate()
    version = draft()
    seconds, impact = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        impact = policy_impact(version, days=30)
        seconds.append(time.perf_counter() - started)
    assert impact is not None
    result = {
        "decisions_replayed": impact.replay.replayed,
        "summary": impact.replay.summary,
        "warnings": len(impact.warnings),
        "median_s": round(statistics.median(seconds), 3),
        "runs_s": [round(s, 3) for s in seconds],
        "target_s": 5.0,
    }
    print(result, flush=True)
    save("policy_impact", result)
    if result["median_s"] >= 5.0:
        raise SystemExit("the impact of a draft over 100,000 decisions took 5 s or more")
    return result


if __name__ == "__main__":
    main()
