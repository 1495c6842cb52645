"""Scale benchmark: a decision log that grows for years without slowing anything.

Five figures, each measured in one run on this machine, written to bench/results/scale.json:

| key | what | target |
|---|---|---|
| report_10m_over_1m | audit report over a year, 10,000,000 decisions over 1,000,000 | ≤ 1.5 |
| insert_10m_over_empty | median single decision insert, 10,000,000 logged over none | ≤ 1.2 |
| batch_over_single | decisions/s, batches of 100 over single decisions (HTTP) | ≥ 5 |
| effective_over_decision | effective access (500 capabilities) over a decision (HTTP) | < 3 |
| rollup_day_seconds | seconds to roll up a day of 1,000,000 decisions | < 10 |

PostgreSQL only. Four databases of its own, made afresh and dropped at the end (names from
bench_scale_): `empty`, `1m`, `10m` (the decision logs, bench/scale_log.py) and `http` (the
500-capability catalogue, bench/scale_http.py), each served by a worker process of its own
(bench/scale_worker.py). A figure that cannot be measured is `null` in scale.json, with the
reason under "missing"; the run goes on. Run alone with `python bench/run.py scale`.
"""

import os
import time
from datetime import UTC, datetime

# bench/run.py runs this file as the module `bench`: the package's modules are imported in the
# functions, once it has run.

KEYS = (
    "report_10m_over_1m",
    "insert_10m_over_empty",
    "batch_over_single",
    "effective_over_decision",
    "rollup_day_seconds",
)
TARGETS = {
    "report_10m_over_1m": "<= 1.5",
    "insert_10m_over_empty": "<= 1.2",
    "batch_over_single": ">= 5",
    "effective_over_decision": "< 3",
    "rollup_day_seconds": "< 10",
}
DATABASES = {role: f"bench_scale_{role}" for role in ("empty", "1m", "10m", "http")}


def result(figures: dict, missing: dict[str, str], details: dict, seconds: float) -> dict:
    """What scale.json holds: every key (null when missing, with the reason under "missing")."""
    absent = [key for key in KEYS if figures.get(key) is None]
    return {
        **{key: figures.get(key) for key in KEYS},
        "missing": {key: missing.get(key, "not measured") for key in absent},
        "targets": TARGETS,
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{os.cpu_count()} cores",
        "run_seconds": round(seconds),
        "details": details,
    }


def run(workers: dict, urls: dict[str, str]) -> tuple[dict, dict, dict]:
    """Prepare every database at once, then measure one thing at a time on a quiet machine:
    the HTTP figures before the logs are loaded, then the logs'."""
    from bench import scale_http, scale_log
    from bench.harness import figure

    clock = Clock()
    for role, worker in workers.items():
        if role == "http":
            worker.send("prepare_http", capabilities=scale_http.CATALOGUE, agents=1_000, asks=2_000)
        else:
            worker.send("prepare_log", empty=role == "empty")
    prepared = {role: figure(f"the {role} database", w.receive) for role, w in workers.items()}
    figures: dict = {}
    missing: dict[str, str] = {}
    data, why = prepared["http"]
    details: dict = {"prepared": {role: answer for role, (answer, _) in prepared.items()}}
    details["prepared"]["http"] = {"capabilities": data["capabilities"]} if data else None
    clock.lap("prepare")
    if data is None:
        missing |= dict.fromkeys(scale_http.FIGURES, f"the catalogue could not be made: {why}")
    else:
        found, lost, details["http"] = scale_http.measure(data, urls["http"])
        figures |= found
        missing |= lost
    clock.lap("http")
    broken = {role: why for role in ("empty", "1m", "10m") if (why := prepared[role][1])}
    if broken:
        reason = "; ".join(f"{role}: {why}" for role, why in broken.items())
        missing |= dict.fromkeys(scale_log.FIGURES, f"a log could not be prepared: {reason}")
    else:
        found, lost, details["log"] = scale_log.measure(workers, clock)
        figures |= found
        missing |= lost
    details["phases_s"] = clock.laps
    return figures, missing, details


class Clock:
    """Seconds per phase of the run, for the record of where its time goes."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(now - self.last, 1)
        self.last = now


def databases(urls: dict[str, str]) -> None:
    """Each database made afresh (the figures are for this code and this data); NoFigure when
    PostgreSQL cannot be reached."""
    import psycopg

    from bench.harness import NoFigure, drop_database, ensure_database

    try:
        for url in urls.values():
            drop_database(url)
            ensure_database(url)
    except psycopg.OperationalError as exc:
        why = " ".join(str(exc).split())  # psycopg's message spans lines
        raise NoFigure(f"PostgreSQL could not be reached: {why}") from exc


def main() -> dict:
    from bench.harness import NoFigure, database_url, drop_database, save
    from bench.workers import Worker

    started = time.monotonic()
    urls = {role: database_url(name) for role, name in DATABASES.items()}
    try:
        databases(urls)
    except NoFigure as exc:
        print(f"NO FIGURE for {', '.join(KEYS)}: {exc}", flush=True)
        figures, missing, details = {}, dict.fromkeys(KEYS, str(exc)), {}
    else:
        workers = {
            role: Worker(role, "bench.scale_worker", {"DATABASE_URL": url})
            for role, url in urls.items()
        }
        try:
            figures, missing, details = run(workers, urls)
        finally:
            for worker in workers.values():
                worker.close()
            for url in urls.values():
                drop_database(url)
    figures = result(figures, missing, details, time.monotonic() - started)
    path = save("scale", figures)
    for key in KEYS:
        shown = figures[key] if figures[key] is not None else f"none: {figures['missing'][key]}"
        print(f"{key}: {shown} (target {TARGETS[key]})", flush=True)
    print(f"scale benchmark in {figures['run_seconds']} s → {path}", flush=True)
    return figures


if __name__ == "__main__":
    main()
