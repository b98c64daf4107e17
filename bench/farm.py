"""The Ray farm against the local farm, same 8-shot animatic film, same run.

Goal (issue 11): on one machine, rendering through Ray costs at most 1.3x the local (in-process) farm.
Ray's one-off start is printed apart: a farm starts once per process and serves every render after it.
Both renders make the same takes (same frames hashes), which the script checks.

    .venv/bin/python bench/farm.py [--resolution 360] [--seconds 3] [--cpus N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL = 1.3
SUBJECTS = ["a fishing boat", "gulls over the mast", "a fisherman with nets", "waves on the stone wall",
            "a baker opening shutters", "a church bell tower", "a red buoy", "the boat fading into mist"]
CAMERAS = ["dolly_in", "pan_left", "static", "tracking", "tilt_up", "orbit", "zoom_in", "dolly_out"]


def storyboard(resolution: int, seconds: float):
    from storyboards.schema import Shot, Storyboard

    return Storyboard(title="Harbour at dawn", resolution=resolution, fps=24, shots=[
        Shot(id=f"shot{i + 1}", duration=seconds, subject=subject, setting="a stone harbour at dawn",
             atmosphere="calm, misty", camera=CAMERAS[i], seed=1000 + i)
        for i, subject in enumerate(SUBJECTS)])


def render(engine: str, board, home: Path) -> tuple[float, dict]:
    from agent.session import Director
    from storyboards.store import Store
    from storyboards.workspace import Workspace

    os.environ["DIRECTOR_FARM"] = engine
    workspace = Workspace(home / engine).ensure()
    director = Director(store=Store(workspace=workspace), workspace=workspace)
    project = director.start_project("bench", board, "bench")
    t0 = time.perf_counter()
    director.render("bench", project, out_dir=home / f"out-{engine}")
    seconds = time.perf_counter() - t0
    manifest = json.loads((home / f"out-{engine}" / "manifest.json").read_text())
    return seconds, manifest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=360)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")   # a private, local instance
    board = storyboard(args.resolution, args.seconds)
    w, h = board.size

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["DIRECTOR_HOME"] = str(home)
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
        start_s = time.perf_counter() - t0
        from tools.farm import default_workers

        # warm both once (imports, Ray workers' imports), then time: the steady state a server sees
        warm = storyboard(64, 0.5)
        render("local", warm, home / "warm")
        render("ray", warm, home / "warm")
        local_s, local_m = render("local", board, home)
        ray_s, ray_m = render("ray", board, home)
        ray.shutdown()

    same = ([t["params"]["frames_xxh3"] for t in local_m["takes"]]
            == [t["params"]["frames_xxh3"] for t in ray_m["takes"]])
    ratio = ray_s / local_s
    print(f"film: 8 shots x {args.seconds:g} s at {w}x{h}, 24 fps, animatic, default settings; "
          f"{args.cpus} CPUs for Ray, {default_workers()} local workers")
    print(f"local farm: {local_s:6.2f} s")
    print(f"ray farm:   {ray_s:6.2f} s   (Ray's one-off start: {start_s:.1f} s, not counted)")
    print(f"ratio ray/local: {ratio:.2f}x   goal <= {GOAL}x   {'MET' if ratio <= GOAL else 'NOT MET'}")
    print(f"same takes (frames hashes): {same}; ray nodes used: {ray_m['farm']['nodes_used']}")


if __name__ == "__main__":
    main()
