"""The scale benchmark's plumbing: workers answer commands, a command that fails leaves its figure
missing (and the run going), and scale.json names every figure, null with the reason when it
could not be measured. No database, no load."""

import json

import pytest

from bench import scale
from bench.harness import NoFigure, save
from bench.workers import Worker


@pytest.fixture
def worker():
    started = Worker("echo", "tests.bench.echo_worker", {})
    yield started
    started.close()


def test_worker_answers_in_order_whatever_it_prints(worker) -> None:
    worker.send("echo", n=1)
    worker.send("echo", n=2)
    assert worker.receive() == {"n": 1}
    assert worker.receive() == {"n": 2}


def test_failing_command_is_a_missing_figure_not_a_crash(worker) -> None:
    with pytest.raises(NoFigure, match="echo: broken failed: ValueError: the code measured broke"):
        worker.ask("broken")
    with pytest.raises(NoFigure, match="echo: the server answered nothing"):
        worker.ask("unmeasurable")
    assert worker.ask("echo", still="here") == {"still": "here"}


def test_worker_that_died_is_no_figure(worker) -> None:
    worker.send("crash")
    with pytest.raises(NoFigure, match=r"the echo worker exited \(status 3\)"):
        worker.receive()


def test_scale_json_has_every_key_null_with_the_reason(tmp_path, monkeypatch) -> None:
    figures = {"batch_over_single": 20.3, "rollup_day_seconds": 4.2}
    missing = {"report_10m_over_1m": "1m: report failed: TypeError: …"}
    written = scale.result(figures, missing, {"log": {}}, seconds=612.4)
    monkeypatch.setattr("bench.harness.RESULTS", tmp_path)
    saved = json.loads(save("scale", written).read_text())
    assert {key: saved[key] for key in scale.KEYS} == {
        "report_10m_over_1m": None,
        "insert_10m_over_empty": None,
        "batch_over_single": 20.3,
        "effective_over_decision": None,
        "rollup_day_seconds": 4.2,
    }
    assert saved["missing"] == {
        "report_10m_over_1m": "1m: report failed: TypeError: …",
        "insert_10m_over_empty": "not measured",
        "effective_over_decision": "not measured",
    }
    assert saved["run_seconds"] == 612


def test_http_figure_refuses_a_run_with_error_answers() -> None:
    from bench.scale_http import answered

    clean = {"requests_per_second": 200.0, "non_2xx": 0, "requests": 2000}
    assert answered(clean, "/api/v1/decisions/") is clean
    with pytest.raises(NoFigure, match=r"/api/v1/decisions/batch/ answered 3 of 270 with errors"):
        answered({**clean, "non_2xx": 3, "requests": 270}, "/api/v1/decisions/batch/")
