"""What a one-shot change costs against the full make (issue 7 goal: <= 0.3 of the full make).

A 6-shot film is made, then "make shot 2 darker" regenerates shot 2 alone and re-assembles; both are
timed in the same run.

    .venv/bin/python bench/feedback.py [--resolution 360]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BRIEF = ("A 24-second film in six shots: a cyclist crosses a bridge at sunrise, rides through a market, "
         "stops at a bakery, eats a croissant, waves to a friend, and rides into the hills.")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=360)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["DIRECTOR_HOME"] = home
        from agent.session import Director

        director = Director()
        t0 = time.perf_counter()
        plan = director.plan(BRIEF, {"resolution": args.resolution})
        project = director.start_project("bench", plan.storyboard, "bench")
        made = director.render("bench", project)
        make_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        changed = director.feedback("bench", project, "make shot 2 darker")
        feedback_s = time.perf_counter() - t0
    print(f"full make of {len(plan.storyboard.shots)} shots: {make_s:.2f} s ({made['new_takes']} takes)")
    print(f"'make shot 2 darker': {feedback_s:.2f} s, changed {changed['changed_shots']}, "
          f"{changed['new_takes']} new takes, {changed['reused_takes']} reused")
    print(f"ratio feedback / make: {feedback_s / make_s:.2f} (goal <= 0.3)")


if __name__ == "__main__":
    main()
