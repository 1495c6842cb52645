"""The scale benchmark's HTTP figures, under gunicorn and wrk as bench/decisions.py runs them
(bench.harness: HTTP_WORKERS sync workers, HTTP_CONNECTIONS connections, alternating rounds,
the median round reported):

- batch_over_single: decisions per second delivered by POST /api/v1/decisions/batch/ with
  batches of BATCH over single POST /api/v1/decisions/ (target at least 5);
- effective_over_decision: the median time of GET /api/v1/agents/{slug}/effective/ against the
  500-capability catalogue over a single decision's median, each alone on one connection
  (target under 3).
"""

import os

from bench.harness import (
    HTTP_CONNECTIONS,
    HTTP_WORKERS,
    NoFigure,
    figure,
    gunicorn,
    median_round,
    ratio,
    server_env,
    warm,
    warm_up,
    wrk,
)

BATCH = 100
CATALOGUE = 500
SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", 10))
ROUNDS = int(os.environ.get("BENCH_HTTP_ROUNDS", 3))
DECISION = "/api/v1/decisions/"
BATCH_PATH = "/api/v1/decisions/batch/"
FIGURES = ("batch_over_single", "effective_over_decision")


def measure(data: dict, url: str) -> tuple[dict, dict, dict]:
    """(figures, missing figures and why, details), from a server on `url`'s database, which
    its worker filled (`data`: scale_catalogue.prepare's answer)."""
    figures: dict = dict.fromkeys(FIGURES)
    details: dict = {"workers": HTTP_WORKERS, "connections": HTTP_CONNECTIONS, "rounds": ROUNDS}
    details["catalogue"] = data["capabilities"]
    missing = {}
    try:
        with gunicorn(server_env(url), workers=HTTP_WORKERS) as base:
            warm_up(base, HTTP_CONNECTIONS)
            for name, run in zip(FIGURES, (_batch, _effective), strict=True):
                value, why = figure(name, lambda run=run: run(base, data))
                if value is None:
                    missing[name] = why
                else:
                    figures[name], details[name] = value
    except NoFigure as exc:  # no server: neither figure
        print(f"NO FIGURE for {', '.join(FIGURES)}: {exc}", flush=True)
        missing = dict.fromkeys(FIGURES, str(exc))
    return figures, missing, details


def answered(result: dict, what: str) -> dict:
    """A wrk run whose every answer was a success; NoFigure if some were errors (a rate or a
    latency that counts error answers is not the figure)."""
    if result["non_2xx"]:
        raise NoFigure(f"{what} answered {result['non_2xx']} of {result['requests']} with errors")
    return result


def _batch(base: str, data: dict) -> tuple[float, dict]:
    asks = [{"agent": agent, "capability": key} for agent, key in data["asks"]]
    batches = [{"requests": asks[i : i + BATCH]} for i in range(0, len(asks), BATCH)]
    post = {"connections": HTTP_CONNECTIONS, "token": data["token"]}
    single = {"bodies": asks, "path": DECISION, **post}
    batch = {"bodies": batches, "path": BATCH_PATH, **post}
    warm(base + DECISION, seconds=2, **single)
    warm(base + BATCH_PATH, seconds=2, **batch)
    rounds = []
    for _ in range(ROUNDS):  # alternate, so both see the same machine
        one = answered(wrk(base + DECISION, seconds=SECONDS, **single), DECISION)
        many = answered(wrk(base + BATCH_PATH, seconds=SECONDS, **batch), BATCH_PATH)
        per_second = many["requests_per_second"] * BATCH
        rounds.append((ratio(per_second, one["requests_per_second"], "decisions/s"), one, many))
    value, one, many = median_round(rounds)
    return value, {
        "single_decisions_per_second": one["requests_per_second"],
        "batch_decisions_per_second": round(many["requests_per_second"] * BATCH, 1),
        "batch_requests": many,
        "single_requests": one,
        "batch": BATCH,
        "ratios": sorted(r[0] for r in rounds),
    }


def _effective(base: str, data: dict) -> tuple[float, dict]:
    asks = [{"agent": agent, "capability": key} for agent, key in data["asks"]]
    token = data["token"]
    effective = f"{base}/api/v1/agents/{data['effective_agent']}/effective/"
    header = {"Authorization": f"Token {token}"}
    single = {"bodies": asks, "path": DECISION, "token": token, "connections": 1}
    warm(effective, seconds=2, connections=1, headers=header)
    rounds = []
    for _ in range(ROUNDS):  # one request at a time: the time of an answer, not a throughput
        one = answered(wrk(base + DECISION, seconds=SECONDS // 2 or 1, **single), DECISION)
        view = wrk(effective, seconds=SECONDS // 2 or 1, connections=1, headers=header)
        view = answered(view, effective)
        rounds.append((ratio(view["p50_ms"], one["p50_ms"], "decision median"), one, view))
    value, one, view = median_round(rounds)
    return value, {
        "decision_median_ms": one["p50_ms"],
        "effective_median_ms": view["p50_ms"],
        "effective_p99_ms": view["p99_ms"],
        "capabilities": data["capabilities"],
        "ratios": sorted(r[0] for r in rounds),
    }
