"""Decision benchmark: the in-process decision, the HTTP endpoint, and Cedar side by side.

Data (on PostgreSQL, database `portal_bench` unless BENCH_DATABASE_URL says otherwise):
10,000 agents, 100,000 grants (90% expired), 1,000 exceptions, the demo policy v1.
Measures (a) the in-process decision service (evaluation, recording, both), (b) the HTTP
endpoint under gunicorn with concurrent clients (wrk), against the portal's /healthz, and
(c) the same decisions by the Cedar engine (cedarpy.is_authorized), checking that both
engines agree on every one. Run with `make bench` or `python bench/decisions.py`.
"""

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.pop("CELERY_BROKER_URL", None)

AGENTS = int(os.environ.get("BENCH_AGENTS", 10_000))
GRANTS = int(os.environ.get("BENCH_GRANTS", 100_000))
EXCEPTIONS = int(os.environ.get("BENCH_EXCEPTIONS", 1_000))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", 5_000))
HTTP_SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", 10))
TIERS = ("sandbox", "internal", "production")


def populate() -> None:
    """Idempotent: data is generated once per bench database."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from access.models import Grant
    from exceptions.models import PolicyException
    from registry.models import Agent, Capability, Team

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    if Agent.objects.count() >= AGENTS:
        return
    rng = random.Random(42)
    alice = User.objects.get(username="alice")
    team = Team.objects.get(slug="payments")
    now = timezone.now()
    print(f"generating {AGENTS} agents, {GRANTS} grants, {EXCEPTIONS} exceptions …", flush=True)
    Agent.objects.bulk_create(
        [
            Agent(
                slug=f"bench-{i:05d}",
                name=f"Bench {i}",
                owner=alice,
                team=team,
                tier=TIERS[i % 3],
                status="suspended" if i % 50 == 0 else "active",
                workload_identity=f"spiffe://bench/{i}",
                last_attested_at=now,
            )
            for i in range(AGENTS)
        ],
        batch_size=2000,
    )
    agent_ids = list(Agent.objects.filter(slug__startswith="bench-").values_list("pk", flat=True))
    capability_ids = list(Capability.objects.values_list("pk", flat=True))
    grants = []
    for i in range(GRANTS):
        active = i % 10 == 0
        start = now - timedelta(hours=rng.randint(0, 2) if active else rng.randint(48, 24 * 300))
        grants.append(
            Grant(
                agent_id=rng.choice(agent_ids),
                capability_id=rng.choice(capability_ids),
                starts_at=start,
                expires_at=start + timedelta(hours=8),
                scope="",
            )
        )
    Grant.objects.bulk_create(grants, batch_size=5000)
    exceptions = [
        PolicyException(
            title=f"bench exception {i}",
            agent_id=rng.choice(agent_ids),
            capability_id=rng.choice(capability_ids),
            justification="bench",
            risk="low",
            requested_by=alice,
            status="active" if i % 2 == 0 else "expired",
            starts_at=now - timedelta(days=10),
            expires_at=now + timedelta(days=20) if i % 2 == 0 else now - timedelta(days=1),
        )
        for i in range(EXCEPTIONS)
    ]
    PolicyException.objects.bulk_create(exceptions, batch_size=1000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def requests_sample(n: int) -> list[tuple[str, str]]:
    from registry.models import Agent, Capability

    rng = random.Random(7)
    slugs = list(Agent.objects.filter(slug__startswith="bench-").values_list("slug", flat=True))
    keys = list(Capability.objects.values_list("key", flat=True))
    return [(rng.choice(slugs), rng.choice(keys)) for _ in range(n)]


def bench_in_process(sample: list[tuple[str, str]]) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from bench.harness import summarize
    from decisions.services.engine import evaluate
    from decisions.services.log import decision_record

    gateway = User.objects.get(username="gateway")
    queries = []
    for agent, key in sample[:200]:  # warm caches and the policy snapshot; count queries
        with CaptureQueriesContext(connection) as captured:
            evaluate(agent_slug=agent, capability_key=key)
        queries.append(len(captured))
    alone = []
    for agent, key in sample:  # the decision alone, as a gateway waits for it
        started = time.perf_counter()
        evaluate(agent_slug=agent, capability_key=key)
        alone.append(time.perf_counter() - started)
    evaluation, recording, total, results = [], [], [], []
    for agent, key in sample:
        started = time.perf_counter()
        result = evaluate(agent_slug=agent, capability_key=key)
        evaluated = time.perf_counter()
        decision_record(result=result, caller=gateway)
        done = time.perf_counter()
        evaluation.append(evaluated - started)
        recording.append(done - evaluated)
        total.append(done - started)
        results.append(result)
    reset_queries()
    endpoint = endpoint_in_process(sample[:2000])
    return {
        "evaluation_alone": summarize(alone),
        "evaluation": summarize(evaluation),
        "recording": summarize(recording),
        "evaluation_plus_recording": summarize(total),
        "max_queries_per_evaluation": max(queries[10:]),
        "endpoint_request": endpoint,
        "recording_share_of_request": round(
            statistics.median(recording) / (endpoint["median_ms"] / 1e3), 3
        ),
        "allowed_share": round(sum(r.allowed for r in results) / len(results), 3),
        "_results": results,
    }


def endpoint_in_process(sample: list[tuple[str, str]]) -> dict:
    """POST /api/v1/decisions/ through Django's whole stack, without a network, one thread."""
    from django.contrib.auth.models import User
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from bench.harness import summarize

    token, _ = Token.objects.get_or_create(user=User.objects.get(username="gateway"))
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    timings = []
    for index, (agent, key) in enumerate(sample):
        body = json.dumps({"agent": agent, "capability": key})
        started = time.perf_counter()
        response = client.post("/api/v1/decisions/", body, content_type="application/json")
        if index >= 100:  # the first ones warm up
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
    return summarize(timings)


def bench_cedar(sample: list[tuple[str, str]], ours: list) -> dict:
    """The same decisions by Cedar, with the portal's own export (decisions.cedar): the
    published policy, and each agent's entities fetched once, as a gateway would."""
    import cedarpy
    from django.utils import timezone

    from bench.harness import summarize
    from decisions.cedar import cedar_entities_by_agent, cedar_request, policy_cedar
    from registry.models import Agent
    from registry.selectors.policy import policy_latest_published

    version = policy_latest_published()
    assert version is not None, "seed_demo publishes policy v1"
    policies = policy_cedar(version)["policies"]
    slugs = {agent for agent, _ in sample}
    now = timezone.now()
    entities = cedar_entities_by_agent(list(Agent.objects.filter(slug__in=slugs)), at=now)
    timings, disagreements = [], []
    for (agent, key), our in zip(sample, ours, strict=True):
        request, cedar_entities = cedar_request(
            entities[agent], agent=agent, capability=key, now=now
        )
        started = time.perf_counter()
        answer = cedarpy.is_authorized(request, policies, cedar_entities)
        timings.append(time.perf_counter() - started)
        if answer.allowed != our.allowed:
            disagreements.append((agent, key, our.decision, our.reason))
    return {
        "is_authorized": summarize(timings),
        "policies": policies.count("permit (") + policies.count("forbid ("),
        "disagreements": len(disagreements),
        "disagreement_samples": disagreements[:5],
    }


def bench_http(sample: list[tuple[str, str]]) -> dict:
    """Decisions per second over HTTP against /healthz's requests per second, alternating;
    NoFigure (bench.harness) when the server or wrk measured nothing."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from bench.harness import (
        HTTP_CONNECTIONS,
        HTTP_WORKERS,
        gunicorn,
        median_round,
        ratio,
        server_env,
        warm,
        warm_up,
        wrk,
    )

    token = Token.objects.get_or_create(user=User.objects.get(username="gateway"))[0].key
    bodies = [{"agent": agent, "capability": key} for agent, key in sample[:2000]]
    rounds = int(os.environ.get("BENCH_HTTP_ROUNDS", 3))
    from django.db import connection

    from decisions.models import Decision

    with connection.cursor() as cursor:  # settle the decision log the in-process runs grew
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Decision._meta.db_table)}")
    post = {
        "connections": HTTP_CONNECTIONS,
        "bodies": bodies,
        "token": token,
        "path": "/api/v1/decisions/",
    }
    with gunicorn(server_env(BENCH_DB), workers=HTTP_WORKERS) as base:
        warm_up(base, HTTP_CONNECTIONS)
        warm(base + "/api/v1/decisions/", seconds=2, **post)
        pairs = []
        for _ in range(rounds):  # alternate, so both see the same machine
            healthz = wrk(f"{base}/healthz", seconds=HTTP_SECONDS, connections=HTTP_CONNECTIONS)
            decisions = wrk(base + "/api/v1/decisions/", seconds=HTTP_SECONDS, **post)
            rate = ratio(
                decisions["requests_per_second"], healthz["requests_per_second"], "/healthz"
            )
            pairs.append((rate, healthz, decisions))
    rate, healthz, decisions = median_round(pairs)
    return {
        "workers": HTTP_WORKERS,
        "connections": HTTP_CONNECTIONS,
        "rounds": rounds,
        "ratios": sorted(pair[0] for pair in pairs),
        "healthz": healthz,
        "decisions": decisions,
        "decisions_vs_healthz": rate,
    }


def main() -> dict:
    from bench.harness import ensure_database

    ensure_database(BENCH_DB)
    import django

    django.setup()
    from bench.harness import figure, save

    populate()
    sample = requests_sample(SAMPLES)
    in_process = bench_in_process(sample)
    ours = in_process.pop("_results")
    cedar = bench_cedar(sample, ours)
    http, missing = figure("http decisions/s (decisions_vs_healthz)", lambda: bench_http(sample))
    # The target compares the decision (our data lookup included) with Cedar's evaluation.
    ratio = round(
        in_process["evaluation_alone"]["median_ms"] / cedar["is_authorized"]["median_ms"], 3
    )
    figures = {
        "data": {"agents": AGENTS, "grants": GRANTS, "exceptions": EXCEPTIONS, "samples": SAMPLES},
        "in_process": in_process,
        "cedar": cedar,
        "portal_median_over_cedar_median": ratio,
        "http": http if http is not None else {"decisions_vs_healthz": None, "missing": missing},
    }
    path = save("decisions", figures)
    print(f"decisions benchmark → {path}")
    print(
        f"in-process: evaluation alone median {in_process['evaluation_alone']['median_ms']} ms, "
        f"p99 {in_process['evaluation_alone']['p99_ms']} ms; endpoint request median "
        f"{in_process['endpoint_request']['median_ms']} ms, recording share "
        f"{in_process['recording_share_of_request']}"
    )
    print(
        f"in-process: evaluation median {in_process['evaluation']['median_ms']} ms, "
        f"p99 {in_process['evaluation']['p99_ms']} ms; with recording median "
        f"{in_process['evaluation_plus_recording']['median_ms']} ms; "
        f"≤{in_process['max_queries_per_evaluation']} queries"
    )
    print(
        f"cedar is_authorized: median {cedar['is_authorized']['median_ms']} ms, "
        f"p99 {cedar['is_authorized']['p99_ms']} ms; disagreements {cedar['disagreements']}"
    )
    print(f"portal/cedar median ratio: {ratio}")
    if http is None:
        print(f"http: no figure ({missing})")
        return figures
    print(
        f"http: {http['decisions']['requests_per_second']} decisions/s "
        f"(p50 {http['decisions']['p50_ms']} ms, p99 {http['decisions']['p99_ms']} ms), "
        f"healthz {http['healthz']['requests_per_second']} req/s, "
        f"ratio {http['decisions_vs_healthz']}"
    )
    return figures


if __name__ == "__main__":
    main()
