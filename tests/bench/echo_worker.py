"""A worker for tests/bench/test_worker.py: answers like bench/scale_worker.py, no Django."""

import os

from bench.harness import NoFigure
from bench.workers import serve


def echo(**arguments):
    print("stray output goes to stderr, not into the answers")  # noqa: T201 (the point)
    return arguments


def broken():
    raise ValueError("the code measured broke")


def unmeasurable():
    raise NoFigure("the server answered nothing")


def crash():
    os._exit(3)  # as a worker killed mid-command (out of memory, a segfault)


if __name__ == "__main__":
    serve({"echo": echo, "broken": broken, "unmeasurable": unmeasurable, "crash": crash})
