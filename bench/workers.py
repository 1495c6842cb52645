"""Worker processes: a benchmark's parts that run on databases of their own, each in a process
of its own answering commands, so measures on two databases alternate (bench/scale.py)."""

import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from typing import Any

from bench.harness import ROOT, NoFigure


class Worker:
    """A process of its own on one database that answers commands (`serve`): measures on two
    databases alternate between two workers, each with its own connection and caches, so both
    see the same machine; slow preparations run in several at once."""

    def __init__(self, name: str, module: str, env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, command: str, **arguments: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"command": command, **arguments}) + "\n")
        self.process.stdin.flush()

    def receive(self) -> Any:
        """The answer to the command sent last; NoFigure when the worker could not do it."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:  # its end of the pipe closed: it exited, or is exiting
            try:
                status = self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                status = None
            raise NoFigure(f"the {self.name} worker exited (status {status})")
        answer = json.loads(line)
        if "error" in answer:
            raise NoFigure(f"{self.name}: {answer['error']}")
        return answer["result"]

    def ask(self, command: str, **arguments: Any) -> Any:
        self.send(command, **arguments)
        return self.receive()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(commands: dict[str, Callable[..., Any]]) -> None:
    """A worker's side: a JSON command a line on stdin, a JSON answer a line on the stdout it
    started with (anything else printed goes to stderr). A command that fails answers with the
    error (its traceback on stderr), so the figure it was for is missing and the run goes on."""
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        request = json.loads(line)
        name = request.pop("command")
        try:
            answer = {"result": commands[name](**request)}
        except NoFigure as exc:
            answer = {"error": str(exc)}
        except Exception as exc:  # reported to the orchestrator, which goes on
            traceback.print_exc()
            answer = {"error": f"{name} failed: {type(exc).__name__}: {exc}"}
        channel.write(json.dumps(answer, default=str) + "\n")
        channel.flush()
