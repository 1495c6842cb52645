"""Report benchmark: the audit report over a year of 1,000,000 decisions and 100,000 grants.

Data (on PostgreSQL, database `portal_bench_report` unless BENCH_REPORT_DATABASE_URL says
otherwise; created if missing, filled once): the demo data, 1,000 agents, BENCH_DECISIONS
decisions (COPY), BENCH_GRANTS grants and BENCH_ACTIVITY reported actions spread over the
last 365 days. Measures, for the NIST AI RMF report over that year: the time to build the
report and serialize it as JSON, and to build it and stream the CSV; peak Python memory
(tracemalloc) and the process's peak RSS. Run with `make bench` or `python bench/report.py`.
"""

import json
import os
import random
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get(
    "BENCH_REPORT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_report"
)
os.environ["DATABASE_URL"] = BENCH_DB
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.pop("CELERY_BROKER_URL", None)

AGENTS = int(os.environ.get("BENCH_AGENTS", 1_000))
DECISIONS = int(os.environ.get("BENCH_DECISIONS", 1_000_000))
GRANTS = int(os.environ.get("BENCH_GRANTS", 100_000))
ACTIVITY = int(os.environ.get("BENCH_ACTIVITY", 20_000))
RUNS = int(os.environ.get("BENCH_RUNS", 3))
FRAMEWORK = os.environ.get("BENCH_FRAMEWORK", "nist-ai-rmf-1.0")
RESULTS = ROOT / "bench" / "results"


def populate() -> dict[str, float]:
    """Idempotent: data is generated once per bench database. Returns generation timings."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from access.models import Grant
    from bench.harness import copy_rows
    from bench.population import (
        DECISION_COLUMNS,
        YEAR,
        bench_activity,
        bench_agents,
        bench_grants,
    )
    from decisions.models import Decision
    from registry.models import Agent, Capability

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    timings: dict[str, float] = {}
    if Decision.objects.count() >= DECISIONS and Grant.objects.count() >= GRANTS:
        return timings
    rng = random.Random(42)
    now = timezone.now()
    gateway = User.objects.get(username="gateway")
    started = time.perf_counter()
    bench_agents("rbench", AGENTS, rng=rng, now=now)
    agents = list(Agent.objects.values_list("pk", "slug"))
    capabilities = list(Capability.objects.values_list("pk", "key"))
    timings["agents_s"] = round(time.perf_counter() - started, 2)

    print(f"generating {GRANTS:,} grants …", flush=True)
    started = time.perf_counter()
    bench_grants(GRANTS, agents=agents, capabilities=capabilities, rng=rng, now=now)
    timings["grants_s"] = round(time.perf_counter() - started, 2)

    print(f"generating {DECISIONS:,} decisions (COPY) …", flush=True)
    started = time.perf_counter()

    def decisions():
        for _ in range(DECISIONS):
            agent_id, slug = rng.choice(agents)
            capability_id, key = rng.choice(capabilities)
            allowed = rng.random() < 0.7
            yield (
                uuid.UUID(int=rng.getrandbits(128)), agent_id, slug, capability_id, key, "",
                "allow" if allowed else "deny", "bench", 1, None, None, gateway.pk,
                now - YEAR * rng.random(), "",
            )  # fmt: skip

    copy_rows(Decision._meta.db_table, DECISION_COLUMNS, decisions())
    timings["decisions_copy_s"] = round(time.perf_counter() - started, 2)

    print(f"generating {ACTIVITY:,} reported actions …", flush=True)
    started = time.perf_counter()
    bench_activity(ACTIVITY, agents=agents, capabilities=capabilities, rng=rng, now=now)
    timings["activity_s"] = round(time.perf_counter() - started, 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return timings


def _measure(label: str, work) -> dict[str, float]:
    """Run `work` RUNS times; wall time and tracemalloc peak of each run, best and worst."""
    from django.db import connection, reset_queries

    seconds, peaks, queries = [], [], []
    for _ in range(RUNS):
        reset_queries()
        tracemalloc.start()
        started = time.perf_counter()
        size = work()
        seconds.append(time.perf_counter() - started)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        queries.append(len(connection.queries))
    result = {
        "runs": RUNS,
        "best_s": round(min(seconds), 3),
        "worst_s": round(max(seconds), 3),
        "peak_python_mib": round(max(peaks) / 2**20, 2),
        "output_bytes": size,
        "queries": max(queries),
    }
    print(f"{label}: best {result['best_s']} s, worst {result['worst_s']} s, "
          f"peak {result['peak_python_mib']} MiB (tracemalloc), {result['queries']} queries, "
          f"{size:,} bytes")  # fmt: skip
    return result


def main() -> dict:
    from bench.harness import ensure_database

    ensure_database(BENCH_DB)
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from access.models import Grant
    from compliance.period import Period
    from compliance.reports.build import report_build
    from compliance.reports.export import report_csv_lines, report_json
    from controls.models import Framework
    from decisions.models import Activity, Decision

    generation = populate()
    settings.DEBUG = True  # count queries (connection.queries), reset per run
    today = timezone.now().date()
    period = Period(start=today - timedelta(days=364), end=today)
    framework = Framework.objects.get(key=FRAMEWORK)

    def as_json() -> int:
        return len(report_json(report_build(framework, period)))

    def as_csv() -> int:
        return sum(len(line) for line in report_csv_lines(report_build(framework, period)))

    as_json()  # warm caches (the catalogue, PostgreSQL's buffers)
    figures = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{os.cpu_count()} cores",
        "database": "PostgreSQL",
        "framework": FRAMEWORK,
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "data": {
            "decisions": Decision.objects.count(),
            "grants": Grant.objects.count(),
            "activity": Activity.objects.count(),
        },
        "generation": generation,
        "json": _measure("report → JSON", as_json),
        "csv": _measure("report → streamed CSV", as_csv),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "report.json"
    if not generation and path.exists():  # data made by an earlier run: keep its timings
        figures["generation"] = json.loads(path.read_text()).get("generation", {})
    path.write_text(json.dumps(figures, indent=2))
    print(f"process peak RSS {figures['max_rss_mib']} MiB; report benchmark → {path}")
    return figures


if __name__ == "__main__":
    main()
