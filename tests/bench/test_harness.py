"""The benchmark harness (bench/harness.py): a benchmark that cannot measure says which figure is
missing and why instead of crashing, whatever wrk or the server did. wrk's output is faked here:
these tests run no load and no server."""

import subprocess

import pytest

from bench import harness
from bench.harness import NoFigure, figure, median_round, ratio

# What wrk 4.1 printed against a server that accepted connections and never answered.
NOTHING_ANSWERED = """Running 2s test @ http://127.0.0.1:8766/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 2.00s, 0.00B read
Requests/sec:      0.00
Transfer/sec:       0.00B
"""

ANSWERED = """Running 10s test @ http://127.0.0.1:8000/api/v1/decisions/
  1 threads and 8 connections
  Latency Distribution
     50%    4.80ms
     75%    5.51ms
     90%    6.20ms
     99%    1.02s
  16180 requests in 10.00s, 9.11MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   1618.00
Transfer/sec:      0.91MB
"""


def fake_wrk(monkeypatch, stdout: str, *, returncode: int = 0, stderr: str = "") -> list:
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, returncode, stdout=stdout, stderr=stderr)

    monkeypatch.setattr(harness.subprocess, "run", run)
    return calls


def test_wrk_reads_rate_latency_and_errors(monkeypatch) -> None:
    fake_wrk(monkeypatch, ANSWERED)
    result = harness.wrk("http://127.0.0.1:8000/api/v1/decisions/", seconds=10, connections=8)
    assert result == {
        "requests_per_second": 1618.0,
        "p50_ms": 4.8,
        "p99_ms": 1020.0,
        "non_2xx": 12,
        "requests": 16180,
    }


def test_wrk_that_completed_no_request_is_no_figure(monkeypatch) -> None:
    fake_wrk(monkeypatch, NOTHING_ANSWERED)
    with pytest.raises(NoFigure, match=r"no successful request against http://127.0.0.1:8766/"):
        harness.wrk("http://127.0.0.1:8766/", seconds=2, connections=2)


def test_wrk_whose_every_answer_was_an_error_is_no_figure(monkeypatch) -> None:
    only_errors = ANSWERED.replace(
        "Non-2xx or 3xx responses: 12", "Non-2xx or 3xx responses: 16180"
    )
    fake_wrk(monkeypatch, only_errors)
    with pytest.raises(NoFigure, match="16180 requests, 16180 of them non-2xx"):
        harness.wrk("http://127.0.0.1:8000/api/v1/decisions/", seconds=10, connections=8)


def test_wrk_that_could_not_connect_is_no_figure(monkeypatch) -> None:
    fake_wrk(
        monkeypatch, "", returncode=1, stderr="unable to connect to 127.0.0.1:9 Connection refused"
    )
    with pytest.raises(NoFigure, match=r"failed: unable to connect to 127\.0\.0\.1:9"):
        harness.wrk("http://127.0.0.1:9/", seconds=1, connections=1)


def test_wrk_form_says_so_too(monkeypatch) -> None:
    fake_wrk(monkeypatch, NOTHING_ANSWERED)
    with pytest.raises(NoFigure):
        harness.wrk_form(
            "http://127.0.0.1:8766", path="/oauth/token/", bodies=["a=b"], seconds=1, connections=1
        )


def test_wrk_sends_headers_for_a_get(monkeypatch) -> None:
    calls = fake_wrk(monkeypatch, ANSWERED)
    harness.wrk(
        "http://127.0.0.1:8000/api/v1/agents/a/effective/",
        seconds=1,
        connections=1,
        headers={"Authorization": "Token abc"},
    )
    assert calls[0][calls[0].index("-H") + 1] == "Authorization: Token abc"
    assert calls[0][-1] == "http://127.0.0.1:8000/api/v1/agents/a/effective/"


def test_figure_names_the_missing_figure_and_goes_on(capsys) -> None:
    def nothing_answered() -> float:
        raise NoFigure("wrk completed no successful request against http://x/")

    assert figure("batch_over_single", nothing_answered) == (
        None,
        "wrk completed no successful request against http://x/",
    )
    assert "NO FIGURE for batch_over_single: wrk completed no" in capsys.readouterr().out
    assert figure("rollup_day_seconds", lambda: 2.5) == (2.5, None)


def test_figure_lets_a_bug_through() -> None:
    with pytest.raises(ZeroDivisionError):
        figure("anything", lambda: 1 / 0)


def test_ratio_with_nothing_to_divide_by_is_no_figure() -> None:
    assert ratio(1618.0, 3020.0, "/healthz") == 0.536
    with pytest.raises(NoFigure, match="/healthz: the denominator measured nothing"):
        ratio(1618.0, 0.0, "/healthz")


def test_median_round_is_the_middle_ratio() -> None:
    rounds = [(0.55, "c"), (0.52, "a"), (0.54, "b")]
    assert median_round(rounds) == (0.54, "b")
