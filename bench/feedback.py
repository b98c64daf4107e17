"""What feedback costs against the first make, both measured in the same run (issue 17.1).

A 6-shot, 24 s previz with crossfades between some shots is made; then "make shot 2 darker"
(one new take, the cut re-finished from cached pieces) and "swap shots 4 and 5" (no new take: only the
transitions whose neighbours changed are re-encoded) are timed.

Goals: one-shot feedback <= 0.3 of the first make; a reorder <= 0.15.

    .venv/bin/python bench/feedback.py [--resolution 360]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._goals import done, goal  # noqa: E402

BRIEF = ("A 24-second film in six shots: a cyclist crosses a bridge at sunrise, rides through a market, "
         "stops at a bakery, eats a croissant, waves to a friend, and rides into the hills.")


def pieces(result: dict) -> str:
    manifest = json.loads((Path(result["cut"]).parent / "manifest.json").read_text())
    p = manifest.get("pieces") or {}
    return f"{p.get('made', '?')} pieces encoded, {p.get('reused', '?')} reused, soundtrack {p.get('soundtrack')}"


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
        shots = [s.model_copy(update={"transition": "crossfade" if i % 2 == 0 else "cut"})
                 for i, s in enumerate(plan.storyboard.shots)]
        storyboard = plan.storyboard.model_copy(update={"shots": shots})
        project = director.start_project("bench", storyboard, "bench")
        made = director.render("bench", project)
        make_s = time.perf_counter() - t0
        made_pieces = pieces(made)
        t0 = time.perf_counter()
        changed = director.feedback("bench", project, "make shot 2 darker")
        feedback_s = time.perf_counter() - t0
        changed_pieces = pieces(changed)
        t0 = time.perf_counter()
        swapped = director.feedback("bench", project, "swap shots 4 and 5")
        reorder_s = time.perf_counter() - t0
        print(f"first make of {len(shots)} shots: {make_s:.2f} s ({made['new_takes']} takes; {made_pieces})")
        print(f"'make shot 2 darker': {feedback_s:.2f} s, changed {changed['changed_shots']}, "
              f"{changed['new_takes']} new takes, {changed['reused_takes']} reused; {changed_pieces}")
        print(f"'swap shots 4 and 5': {reorder_s:.2f} s, {swapped['new_takes']} new takes; {pieces(swapped)}")
    goal("feedback / first make", feedback_s / make_s, 0.3, baseline=f"first make {make_s:.2f} s, same run")
    goal("reorder / first make", reorder_s / make_s, 0.15, baseline=f"first make {make_s:.2f} s, same run")
    done()


if __name__ == "__main__":
    main()
