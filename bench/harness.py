"""Shared pieces of the benchmarks: timing statistics, a gunicorn server, and wrk."""

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


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
            raise RuntimeError("gunicorn did not start")
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
) -> dict:
    """Run wrk against `url` (POSTing the bodies in turn when given); returns rps and latency."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    script = None
    if bodies is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as data:
            data.write("\n".join(json.dumps(b) for b in bodies))
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_POST % {"bodies": data.name, "path": path, "token": token})
        command += ["-s", script.name]
    output = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    return _parse_wrk(output)


def _parse_wrk(output: str) -> dict:
    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    result = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])}
    for label in ("50%", "99%"):
        match = re.search(rf"^\s+{label}\s+(\S+)", output, re.MULTILINE)
        result[f"p{label[:-1]}_ms"] = round(ms(match[1]), 3)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(errors[1]) if errors else 0
    result["requests"] = int(re.search(r"(\d+) requests in", output)[1])
    return result


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def copy_rows(table: str, columns: list[str], rows) -> None:
    """COPY rows into a table through the Django connection's psycopg cursor."""
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def ensure_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database if it does not exist yet."""
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
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
    if exists.fetchone() is None:
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()


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
        output = subprocess.run(  # noqa: S603
            [*command, "-s", script.name, url], capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(data.name)
        os.unlink(script.name)
    return _parse_wrk(output)


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
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    best = 0.0
    for _ in range(10):
        rate = wrk(f"{base}/healthz", seconds=2, connections=connections)["requests_per_second"]
        if rate <= best * 1.1:
            return
        best = max(best, rate)
