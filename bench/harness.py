"""Shared pieces of the benchmarks: timing statistics, a gunicorn server, wrk, COPY, and the
one way a benchmark says it could not measure a figure (`NoFigure`, `figure`, `ratio`)."""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
T = TypeVar("T")


class NoFigure(RuntimeError):
    """A benchmark could not measure (a server that answered nothing, a load tool that
    completed no request): the message says what happened."""


def figure(name: str, measure: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run `measure`, which yields the figure `name`; when it cannot measure (NoFigure), say so
    and which figure is missing, and return (None, why) instead of crashing the benchmark."""
    try:
        return measure(), None
    except NoFigure as exc:
        print(f"NO FIGURE for {name}: {exc}", flush=True)
        return None, str(exc)


def ratio(numerator: float, denominator: float, what: str) -> float:
    """numerator / denominator, rounded; NoFigure when there is nothing to divide by."""
    if not denominator or denominator <= 0:
        raise NoFigure(f"{what}: the denominator measured nothing ({denominator!r})")
    return round(numerator / denominator, 3)


def median_round(rounds: list[tuple]) -> tuple:
    """Of rounds that alternate two measures, each (their ratio, …), the median one."""
    ordered = sorted(rounds, key=lambda measured: measured[0])
    return ordered[len(ordered) // 2]


def summarize(seconds: list[float]) -> dict[str, float]:
    """Median, p99 and mean in milliseconds."""
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1e3, 4),
        "p99_ms": round(p99 * 1e3, 4),
        "mean_ms": round(statistics.fmean(ordered) * 1e3, 4),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 4, threads: int = 1) -> Iterator[str]:
    """Serve the portal with gunicorn on a free loopback port; yields the base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "portal.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--access-logfile",
        "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise NoFigure(f"gunicorn did not start listening on {base} within 30 s")
        time.sleep(1.0)  # let every worker boot
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


WRK_POST = """
local bodies = {}
local i = 0
init = function(args)
  for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
end
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token %(token)s",
  }, bodies[i])
end
"""


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 1,
    bodies: list[dict] | None = None,
    token: str = "",
    path: str = "",
    headers: dict[str, str] | None = None,
) -> dict:
    """Run wrk against `url` (POSTing the bodies in turn when given, else GETting it with
    `headers`); returns rps and latency. NoFigure when wrk completed no 2xx/3xx answer."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if bodies is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as data:
            data.write("\n".join(json.dumps(b) for b in bodies))
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_POST % {"bodies": data.name, "path": path, "token": token})
        command += ["-s", script.name]
    return _run_wrk([*command, url])


def _run_wrk(command: list[str]) -> dict:
    """Run wrk; its figures, or NoFigure when it failed or completed no successful request."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    target = command[-1]
    if done.returncode:
        why = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise NoFigure(f"wrk against {target} failed: {why}")
    result = _parse_wrk(done.stdout)
    if result is None or result["requests"] - result["non_2xx"] <= 0:
        what = (
            "no parsable output"
            if result is None
            else f"{result['requests']} requests, {result['non_2xx']} of them non-2xx/3xx"
        )
        raise NoFigure(f"wrk completed no successful request against {target} ({what})")
    return result


def _parse_wrk(output: str) -> dict | None:
    """wrk's figures from its output (None when it has none: no summary line)."""

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    if rate is None or done is None:
        return None
    result = {"requests_per_second": float(rate[1])}
    for label in ("50%", "99%"):
        match = re.search(rf"^\s+{label}\s+(\S+)", output, re.MULTILINE)
        result[f"p{label[:-1]}_ms"] = round(ms(match[1]), 3) if match else None
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(errors[1]) if errors else 0
    result["requests"] = int(done[1])
    return result


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def copy_rows(table: str, columns: list[str], rows) -> None:
    """COPY rows into a table through the Django connection's psycopg cursor. COPY does not go
    through the on-demand partitions of the decision log and activity: for those, the months
    of their retention window up to this one are made first (decisions.partitions)."""
    from django.db import connection
    from django.utils import timezone

    from decisions.partitions import LOGS, ensure_months, months_between

    for log in LOGS.values():
        if log.table == table:
            now = timezone.now()
            since = now - timedelta(days=log.retention_days)
            ensure_months(log, months_between(since, now))

    with connection.cursor() as cursor:
        raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _admin(url: str):
    """A connection to the server's `postgres` database, and the name of `url`'s database."""
    import psycopg
    from dj_database_url import parse

    config = parse(url)
    admin = psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        dbname="postgres",
        autocommit=True,
    )
    return admin, config["NAME"]


def ensure_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database if it does not exist yet."""
    admin, name = _admin(url)
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    if exists.fetchone() is None:
        admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def drop_database(url: str) -> None:
    """Drop a benchmark's own PostgreSQL database, ending its sessions (if it exists)."""
    admin, name = _admin(url)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def database_url(name: str) -> str:
    """The URL of the benchmark database `name` on BENCH_POSTGRES (the local server)."""
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    return f"{server.rstrip('/')}/{name}"


# The gunicorn set-up of every HTTP benchmark on the decision API, measured best on 2 cores:
# 3 sync workers (PostgreSQL needs the rest) and wrk with 8 connections.
HTTP_WORKERS = int(os.environ.get("BENCH_WORKERS", 3))
HTTP_CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 8))


def server_env(database_url: str) -> dict[str, str]:
    """The settings gunicorn serves the portal with in the benchmarks (DEBUG off, persistent
    database connections) on `database_url`."""
    return {
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_CONN_MAX_AGE": "600",
    }


_FORM_POST = """
local bodies = {}
local i = 0
init = function(args)
  for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
end
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, bodies[i])
end
"""


def wrk_form(url: str, *, path: str, bodies: list[str], seconds: int, connections: int) -> dict:
    """wrk POSTing form-encoded bodies in turn (harness.wrk posts JSON with a token)."""
    with tempfile.NamedTemporaryFile("w", suffix=".form", delete=False) as data:
        data.write("\n".join(bodies))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_FORM_POST % {"bodies": data.name, "path": path})
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    try:
        return _run_wrk([*command, "-s", script.name, url])
    finally:
        os.unlink(data.name)
        os.unlink(script.name)


def warm_up(base: str, connections: int) -> None:
    """Wait until every worker answers: on a busy machine a worker takes many seconds to
    import the portal, and the socket accepts connections long before (harness.gunicorn only
    waits for the socket). Warm /healthz until its rate stops climbing."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise NoFigure(f"{base}/healthz answered nothing within 120 s: {exc}") from exc
            time.sleep(0.5)
    best = 0.0
    for _ in range(10):
        rate = warm(f"{base}/healthz", seconds=2, connections=connections)
        if best and rate <= best * 1.1:
            return
        best = max(best, rate)


def warm(url: str, **options: Any) -> float:
    """wrk run only to warm up (same options as `wrk`): its requests per second, 0 when it
    completed nothing (workers still booting), which is no failure: the measured runs after
    it say whether there is a figure."""
    try:
        return wrk(url, **options)["requests_per_second"]
    except NoFigure:
        return 0.0
