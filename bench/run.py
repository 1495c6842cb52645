"""Run every benchmark (`make bench`): each module in BENCHES that exists, by its `main()`.

Each benchmark runs in a process of its own, so one's settings, data and memory peak never
leak into another's figures. Add a benchmark by writing bench/<name>.py with a `main()`
and naming it here. Pass names to run some only: `python bench/run.py report`.
"""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BENCHES = [
    "report",  # the audit report over a year of decisions and grants (bench/report.py)
    "decisions",  # the decision API (bench/decisions.py, written separately)
    "credentials",  # the token exchange against the decision (bench/credentials.py)
    "policy_impact",  # a draft's impact over 100,000 logged decisions (bench/policy_impact.py)
    "scale",  # 10,000,000 decisions: report, insert, rollup, batch, effective (bench/scale.py)
]


def main(names: list[str]) -> int:
    failed = []
    for name in names or BENCHES:
        module = BENCH / f"{name}.py"
        if not module.exists():
            print(f"== {name}: not here yet (bench/{name}.py), skipped", flush=True)
            continue
        print(f"== {name}", flush=True)
        code = (
            "import runpy, sys; sys.path.insert(0, sys.argv[1]); "
            "runpy.run_path(sys.argv[2], run_name='bench')['main']()"
        )
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", code, str(BENCH.parent), str(module)], check=False
        )
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
