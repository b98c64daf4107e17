"""Start-up: wall time of `director --help` against a bare `python -c pass`, both in the same run.

The best of N runs of each is kept (the machine is shared: the best run is the one nobody else
disturbed). Goal (issue 17.2): `director --help` under 0.3 s.

    .venv/bin/python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._goals import done, goal  # noqa: E402


def best_of(cmd: list[str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    bare = best_of([sys.executable, "-c", "pass"], args.runs)
    help_s = best_of([sys.executable, "-m", "server.cli", "--help"], args.runs)
    print(f"python -c pass: {bare * 1000:.0f} ms   director --help: {help_s * 1000:.0f} ms   "
          f"ratio {help_s / bare:.1f}x the bare interpreter")
    goal("director --help", help_s, 0.3, unit=" s", baseline=f"bare interpreter {bare * 1000:.0f} ms, same run")
    done()


if __name__ == "__main__":
    main()
