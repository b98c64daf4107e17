"""Whole-render speed: plan -> takes -> critique -> cut -> provenance, the way `director make` runs it.

Goal (issue 3): a 30 s 1280x720 24 fps previz renders at least 2x faster than real time on 2 cores
(goal 4x). Printed beside it, measured in the same run: encoding the same number of frames once with
the same encoder settings, the floor no render can beat.

    .venv/bin/python bench/render.py [--seconds 30] [--resolution 720]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BRIEF = ("A harbour at dawn: a fishing boat leaves the harbour, gulls circle the mast, the fisherman checks his nets, "
         "waves break on the stone wall, the town wakes up, and the boat disappears into the mist. Cinematic, 35mm.")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--resolution", type=int, default=720)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as home:
        os.environ["DIRECTOR_HOME"] = home
        t0 = time.perf_counter()
        from agent.session import Director
        import_s = time.perf_counter() - t0

        director = Director()
        t0 = time.perf_counter()
        plan = director.plan(BRIEF, {"seconds": args.seconds, "resolution": args.resolution})
        project = director.start_project("bench", plan.storyboard, "bench")
        plan_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = director.render("bench", project)
        render_s = time.perf_counter() - t0

        stages: dict[str, float] = defaultdict(float)
        frames = 0
        for shot in plan.storyboard.shots:
            for take in director.store.takes_for_shot(project, shot.id):
                frames += take.frames
                for k, v in take.timings.items():
                    stages[k] += v
        w, h = plan.storyboard.size

        # Baseline: one encode of the same number of frames, same encoder and settings as the takes.
        import numpy as np

        from tools.edit.video_io import write_video

        frame = np.random.default_rng(0).integers(0, 255, (1, h, w, 3), dtype=np.uint8)
        smooth = np.ascontiguousarray(np.repeat(frame, 24, axis=0))
        n = sum(plan.storyboard.frames_for(s) for s in plan.storyboard.shots)
        t0 = time.perf_counter()
        write_video((smooth[i % 24] for i in range(n)), plan.storyboard.fps, Path(home) / "baseline.mp4", crf=18, preset="veryfast")
        encode_s = time.perf_counter() - t0

    film = args.seconds
    total = plan_s + render_s
    print(f"film: {film:g} s at {w}x{h}, {len(plan.storyboard.shots)} shots, {n} frames; takes made: {result['new_takes']}")
    print(f"import {import_s:.2f} s · plan {plan_s:.2f} s · render {render_s:.2f} s · total {total:.2f} s")
    print("take stages (summed over shots, which run side by side): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
    print(f"real-time factor: {film / total:.2f}x faster than real time (goal >= 2x, stretch 4x)")
    print(f"baseline, one encode of {n} frames in the same run: {encode_s:.2f} s -> our whole render costs {total / encode_s:.2f}x that")


if __name__ == "__main__":
    main()
