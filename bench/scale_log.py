"""The scale benchmark's decision-log figures, from three workers (bench/scale_worker.py), one
per database: `empty` (the demo with its decision log emptied), `1m` (SMALL decisions over the
year ending today) and `10m` (LARGE: LARGE - SPIKE over that year and SPIKE more on one day of
a closed month, SPIKE_DAYS ago). Both logs have the same population (bench/scale_seed.py).

- rollup_day_seconds: `roll_up_day` of the spike day (its SPIKE decisions and the year's share),
  timed alone, first (target under 10 s). Then every other closed day is rolled up in both
  (`roll_up_due`, timed apart: the task's cost, not the report's).
- report_10m_over_1m: the median time of the audit report over the year (built and serialized
  as JSON) on `10m` over its median on `1m`, the two alternating run by run (target ≤ 1.5).
- insert_10m_over_empty: the median single decision insert (`decision_record`, the service's
  own path) on `10m` over the median on `empty`, alternating round by round (target ≤ 1.2).
"""

import os
import statistics
from datetime import UTC, datetime, timedelta

from bench.harness import NoFigure, figure, ratio, summarize
from bench.workers import Worker

SMALL = int(os.environ.get("BENCH_SCALE_SMALL", 1_000_000))
LARGE = int(os.environ.get("BENCH_SCALE_LARGE", 10_000_000))
SPIKE = int(os.environ.get("BENCH_SCALE_SPIKE", 1_000_000))
# The spike day is in a closed month (45 days back always is): the month the inserts go to then
# holds its share of the year's decisions, as it would in a log spread over the year.
SPIKE_DAYS = 45
REPORT_ROUNDS = int(os.environ.get("BENCH_SCALE_REPORT_ROUNDS", 7))
INSERT_ROUNDS = int(os.environ.get("BENCH_SCALE_INSERT_ROUNDS", 20))
INSERTS = int(os.environ.get("BENCH_SCALE_INSERTS", 300))  # per round
FIGURES = ("rollup_day_seconds", "report_10m_over_1m", "insert_10m_over_empty")


def measure(workers: dict[str, Worker], clock) -> tuple[dict, dict, dict]:
    """(figures, missing figures and why, details); the workers' databases are prepared.
    `clock` (bench/scale.py's Clock) records each step's seconds."""
    figures: dict = dict.fromkeys(FIGURES)
    details: dict = {"small": SMALL, "large": LARGE, "spike": SPIKE}
    spike = (datetime.now(UTC).date() - timedelta(days=SPIKE_DAYS)).isoformat()
    loaded, why = figure("the decision logs' load", lambda: _load(workers, spike))
    clock.lap("load")
    if loaded is None:
        return figures, dict.fromkeys(FIGURES, f"the logs could not be loaded: {why}"), details
    details["load"] = loaded
    steps = (
        ("rollup_day_seconds", lambda: _rollups(workers, spike)),
        ("report_10m_over_1m", lambda: _reports(workers)),
        ("insert_10m_over_empty", lambda: _inserts(workers)),
    )
    missing = {}
    for name, step in steps:
        value, why = figure(name, step)
        clock.lap(name)
        if value is None:
            missing[name] = why
        else:
            figures[name], details[name] = value
    counted, _ = figure("the logs' row counts", lambda: _counts(workers))
    details["counts"] = counted
    return figures, missing, details


def _counts(workers: dict[str, Worker]) -> dict:
    return {role: workers[role].ask("counts") for role in ("1m", "10m")}


def _load(workers: dict[str, Worker], spike: str) -> dict:
    """Both logs at once (two loaders each): COPY, indexes, VACUUM ANALYZE."""
    workers["1m"].send("load", total=SMALL)
    workers["10m"].send("load", total=LARGE - SPIKE, spike=spike, spike_count=SPIKE)
    return {role: workers[role].receive() for role in ("1m", "10m")}


def _rollups(workers: dict[str, Worker], spike: str) -> tuple[float, dict]:
    day = workers["10m"].ask("rollup_day", day=spike)
    year = {role: workers[role].ask("rollup_due") for role in ("1m", "10m")}
    return day["seconds"], {"spike_day": spike, **day, "rest_of_year": year}


def _reports(workers: dict[str, Worker]) -> tuple[float, dict]:
    timings: dict[str, list[float]] = {"1m": [], "10m": []}
    for role in timings:  # warm each: the catalogue, PostgreSQL's buffers
        workers[role].ask("report", runs=1)
    for _ in range(REPORT_ROUNDS):
        for role, seconds in timings.items():
            seconds += workers[role].ask("report", runs=1)
    medians = {role: statistics.median(seconds) for role, seconds in timings.items()}
    value = ratio(medians["10m"], medians["1m"], "the report's median on 1,000,000 decisions")
    return value, {
        "median_s": {role: round(median, 3) for role, median in medians.items()},
        "runs_s": {role: [round(s, 3) for s in seconds] for role, seconds in timings.items()},
    }


def _inserts(workers: dict[str, Worker]) -> tuple[float, dict]:
    timings: dict[str, list[float]] = {"empty": [], "10m": []}
    for role in timings:  # warm each: prepared statement, caches
        workers[role].ask("insert", count=50)
    for _ in range(INSERT_ROUNDS):
        for role, seconds in timings.items():
            seconds += workers[role].ask("insert", count=INSERTS)
    if not all(timings.values()):
        raise NoFigure("no insert was timed")
    medians = {role: statistics.median(seconds) for role, seconds in timings.items()}
    value = ratio(medians["10m"], medians["empty"], "the insert's median on the empty log")
    return value, {role: summarize(seconds) for role, seconds in timings.items()}
