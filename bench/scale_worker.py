"""A worker of the scale benchmark: one process on one database (DATABASE_URL), answering the
orchestrator's commands (bench/scale.py, through bench.harness.Worker): prepare the data, load
the decision log, roll days up, time the audit report or single decision inserts.

Run by the orchestrator as `python -m bench.scale_worker`; not a benchmark on its own.
"""

import os
import time
from dataclasses import replace
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.pop("CELERY_BROKER_URL", None)

FRAMEWORK = os.environ.get("BENCH_FRAMEWORK", "nist-ai-rmf-1.0")


def prepare_log(empty: bool = False) -> dict:
    from bench.scale_seed import prepare_log as prepare

    return prepare(empty=empty)


def prepare_http(capabilities: int, agents: int, asks: int) -> dict:
    from bench.scale_catalogue import prepare

    return prepare(capabilities=capabilities, agents=agents, asks=asks)


def load(total: int, spike: str | None = None, spike_count: int = 0) -> dict:
    from bench.scale_seed import load_log

    return load_log(os.environ["DATABASE_URL"], total=total, spike=spike, spike_count=spike_count)


def _rollups():
    from bench.harness import NoFigure

    try:
        from decisions import rollups
    except ImportError as exc:
        raise NoFigure(f"no daily rollups to measure: {exc}") from exc
    return rollups


def rollup_day(day: str) -> dict:
    """Roll one closed day up (`roll_up_day`, both logs, as `manage.py rollup_decisions
    --day` does): seconds, and per log the raw rows read and the rollup rows written."""
    rollups = _rollups()
    started = time.perf_counter()
    rolled = rollups.roll_up_day(date.fromisoformat(day))
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "logs": {str(r.log): {"rows": r.rows, "groups": r.groups} for r in rolled},
    }


def rollup_due() -> dict:
    """Roll up every closed day not rolled up yet (or grown since): seconds."""
    rollups = _rollups()
    started = time.perf_counter()
    rolled = rollups.roll_up_due()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "days": len(rolled)}


def report(runs: int = 1) -> list[float]:
    """Build the framework's audit report over the year ending today and serialize it as
    JSON (what GET …/reports/ answers), `runs` times: the seconds of each."""
    from django.utils import timezone

    from compliance.period import Period
    from compliance.reports.build import report_build
    from compliance.reports.export import report_json
    from controls.models import Framework

    today = timezone.now().date()
    period = Period(start=today - timedelta(days=364), end=today)
    framework = Framework.objects.get(key=FRAMEWORK)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        report_json(report_build(framework, period))
        seconds.append(time.perf_counter() - started)
    return seconds


def insert(count: int) -> list[float]:
    """Record `count` decisions one by one through the service's path (`decision_record`:
    one prepared INSERT, autocommit): the seconds of each."""
    from django.utils import timezone

    from bench.scale_seed import insert_results
    from decisions.services.log import decision_record

    results = insert_results(count)
    seconds = []
    for fresh in results:
        result = replace(fresh, decided_at=timezone.now())  # dated as it is sent
        started = time.perf_counter()
        decision_record(result=result, caller=None)
        seconds.append(time.perf_counter() - started)
    return seconds


def counts() -> dict:
    """Rows in the decision log, in this month of it (where inserts go), and in its rollups."""
    from django.utils import timezone

    from decisions.models import Decision, DecisionRollup

    month = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return {
        "decisions": Decision.objects.count(),
        "this_month": Decision.objects.filter(decided_at__gte=month).count(),
        "rollups": DecisionRollup.objects.count(),
    }


COMMANDS = {
    "prepare_log": prepare_log,
    "prepare_http": prepare_http,
    "load": load,
    "rollup_day": rollup_day,
    "rollup_due": rollup_due,
    "report": report,
    "insert": insert,
    "counts": counts,
}

if __name__ == "__main__":
    import django

    django.setup()
    from bench.workers import serve

    serve(COMMANDS)
