"""Whole-render speed of a previz: plan -> takes -> critique -> cut -> provenance, as `director make` runs it.

A 30 s, 8-shot, 1280x720 24 fps film with the animatic backend. Measured in the same run, as the
baseline: one encode of the delivered film's own frames (real animatic frames, decoded beforehand,
not timed) with the encoder settings the previz cut uses (libx264 ultrafast, CRF 20), the floor no
render of those frames can beat.

Goal (issue 17.3): the whole render in <= 0.35 of the film's running time on 2 cores.

    .venv/bin/python bench/render.py [--seconds 30] [--resolution 720] [--profile]
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

from bench._goals import done, goal  # noqa: E402

BRIEF = ("A film in eight shots: a fishing boat leaves the harbour at dawn, gulls circle the mast, the fisherman "
         "checks his nets, waves break on the stone wall, a baker opens her shop, the town wakes up, children run "
         "along the quay, and the boat disappears into the mist. Cinematic, 35mm.")


def baseline_encode(film: Path, fps: float, out: Path) -> float:
    """One encode of the film's decoded frames with the previz cut's settings; only the encode is timed."""
    from tools.edit.video_io import read_video, write_video

    frames, _ = read_video(film)
    t0 = time.perf_counter()
    write_video(frames, fps, out, crf=20, preset="ultrafast")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--resolution", type=int, default=720)
    ap.add_argument("--profile", action="store_true", help="print the 25 costliest functions of the render")
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
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        result = director.render("bench", project)
        render_s = time.perf_counter() - t0
        if profiler:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

        stages: dict[str, float] = defaultdict(float)
        for shot in plan.storyboard.shots:
            for take in director.store.takes_for_shot(project, shot.id):
                for k, v in take.timings.items():
                    stages[k] += v
        w, h = plan.storyboard.size
        encode_s = baseline_encode(Path(result["cut"]), plan.storyboard.fps, Path(home) / "baseline.mp4")

    film = plan.storyboard.duration
    total = plan_s + render_s
    print(f"film: {film:g} s at {w}x{h}, {len(plan.storyboard.shots)} shots; takes made: {result['new_takes']}")
    print(f"import {import_s:.2f} s · plan {plan_s:.2f} s · render {render_s:.2f} s · total {total:.2f} s")
    print("take stages (summed over shots, which run side by side): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
    print(f"baseline: one ultrafast encode of the film's {film:g} s of real frames: {encode_s:.2f} s; "
          f"the whole render costs {total / encode_s:.1f}x that")
    goal("render time / film time", total / film, 0.35,
         baseline=f"one encode of the same frames {encode_s:.2f} s = {encode_s / film:.2f} of film time, same run")
    done()


if __name__ == "__main__":
    main()
