"""Whole-render speed of a previz: plan -> takes -> critique -> cut -> provenance, as `director make` runs it.

A 30 s, 8-shot, 1280x720 24 fps film with the animatic backend. Measured in the same run, as the
baseline: one encode of the delivered film's own frames (real animatic frames, decoded beforehand,
not timed) with the encoder settings the previz cut uses (libx264 ultrafast, CRF 20), the floor no
render of those frames can beat.

Goal (issue 17.3): the whole render in <= 0.35 of the film's running time on 2 cores.

The median of `--runs` renders (3), each in a new process and a fresh workspace, as `director make`
runs: this machine's speed varies by 10-20 % from one run to the next, and a single run says as much
about the machine as about the code.

    .venv/bin/python bench/render.py [--seconds 30] [--resolution 720] [--runs 3] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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


def one_render(seconds: float, resolution: int, profile: bool) -> dict:
    """One `director make` of the bench film in a fresh workspace, in this (fresh) process: its times,
    and the baseline encode."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["DIRECTOR_HOME"] = home
        t0 = time.perf_counter()
        from agent.session import Director

        import_s = time.perf_counter() - t0
        director = Director()
        t0 = time.perf_counter()
        plan = director.plan(BRIEF, {"seconds": seconds, "resolution": resolution})
        project = director.start_project("bench", plan.storyboard, "bench")
        plan_s = time.perf_counter() - t0
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        result = director.render("bench", project)
        render_s = time.perf_counter() - t0
        if profiler:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25, file=sys.stderr)

        stages: dict[str, float] = defaultdict(float)
        for shot in plan.storyboard.shots:
            for take in director.store.takes_for_shot(project, shot.id):
                for k, v in take.timings.items():
                    stages[k] += v
        encode_s = baseline_encode(Path(result["cut"]), plan.storyboard.fps, Path(home) / "baseline.mp4")
    from agent.planner.length import film_seconds

    sb = plan.storyboard
    return {"film": film_seconds(sb), "size": list(sb.size), "shots": len(sb.shots), "takes": result["new_takes"],
            "import": import_s, "plan": plan_s, "render": render_s, "total": plan_s + render_s, "encode": encode_s,
            "stages": stages}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--resolution", type=int, default=720)
    ap.add_argument("--runs", type=int, default=3,
                    help="renders to take the median of, each in a new process as `director make` runs "
                         "(a shared 2-core machine varies by 10-20%% run to run)")
    ap.add_argument("--profile", action="store_true", help="print the 25 costliest functions of each render")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)   # a single run, as JSON (the child)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_render(args.seconds, args.resolution, args.profile)))
        return

    child = [sys.executable, __file__, "--one", "--seconds", str(args.seconds), "--resolution", str(args.resolution)]
    runs = [json.loads(subprocess.run(child + (["--profile"] if args.profile else []), check=True, capture_output=True,
                                      text=True).stdout) for _ in range(max(1, args.runs))]
    film, (w, h) = runs[0]["film"], runs[0]["size"]
    print(f"film: {film:g} s at {w}x{h}, {runs[0]['shots']} shots; takes made: {runs[0]['takes']} a run")
    for i, r in enumerate(runs, 1):
        print(f"run {i}: import {r['import']:.2f} s · plan {r['plan']:.2f} s · render {r['render']:.2f} s · total "
              f"{r['total']:.2f} s ({r['total'] / film:.3f} of film time) · baseline encode {r['encode']:.2f} s · take "
              "stages " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(r["stages"].items(), key=lambda kv: -kv[1])))
    total, encode = statistics.median(r["total"] for r in runs), statistics.median(r["encode"] for r in runs)
    print(f"median of {len(runs)}: plan + render {total:.2f} s; one ultrafast encode of the film's {film:g} s of real "
          f"frames {encode:.2f} s; the whole render costs {total / encode:.1f}x that")
    goal("render time / film time (median)", total / film, 0.35,
         baseline=f"one encode of the same frames {encode:.2f} s = {encode / film:.2f} of film time, same runs")
    done()


if __name__ == "__main__":
    main()
