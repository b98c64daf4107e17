"""Frames per second of the animatic backend alone, against a plain numpy copy of as many frames.

    .venv/bin/python bench/animatic.py

The numpy copy (`frames.copy()` of an equal, already written array) is measured in the same run,
so the ratio holds even when the machine is busy; the absolute numbers do not.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.generate.animatic import AnimaticBackend  # noqa: E402
from tools.generate.base import GenerationRequest  # noqa: E402

FRAMES = 96
SHOT = dict(id="bench", subject="a lighthouse keeper", action="lights the lamp", setting="a rocky coast at dusk",
            lighting="golden hour", framing="wide")


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def numpy_copy_fps(W: int, H: int) -> float:
    frames = np.full((FRAMES, H, W, 3), 90, np.uint8)
    return FRAMES / best_of(lambda: frames.copy())


def make_inputs(tmp: Path, W: int, H: int) -> tuple[Path, Path]:
    import cv2
    import imageio_ffmpeg

    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([(xx * 255 // W), (yy * 255 // H), ((xx + yy) % 64) * 4], -1).astype(np.uint8)
    cv2.putText(img, "REFERENCE", (W // 8, H // 2), cv2.FONT_HERSHEY_SIMPLEX, H / 200, (255, 255, 255), max(1, H // 150))
    ref = tmp / "ref.png"
    cv2.imwrite(str(ref), img)
    clip = tmp / "clip.mp4"
    w = imageio_ffmpeg.write_frames(str(clip), (W, H), fps=24, codec="libx264", output_params=["-preset", "ultrafast"])
    w.send(None)
    for k in range(FRAMES):
        w.send(np.ascontiguousarray(np.roll(img, k * 4, axis=1)).tobytes())
    w.close()
    return ref, clip


def main() -> None:
    backend = AnimaticBackend()
    cases = [("t2v static", "t2v", "static", None), ("t2v pan_right", "t2v", "pan_right", None),
             ("t2v dolly_in", "t2v", "dolly_in", None), ("t2v zoom_in", "t2v", "zoom_in", None),
             ("t2v tracking", "t2v", "tracking", None), ("t2v handheld", "t2v", "handheld", None),
             ("i2v pan_right", "i2v", "pan_right", None), ("i2v zoom_in", "i2v", "zoom_in", None),
             ("v2v watercolor", "v2v", "static", "watercolor"), ("v2v noir", "v2v", "static", "film noir")]
    print(f"animatic backend, {FRAMES} frames per render, best of 3, {os.cpu_count()} cores "
          f"(load average {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory() as d:
        for W, H in ((1280, 720), (512, 288)):
            ref, clip = make_inputs(Path(d), W, H)
            base = numpy_copy_fps(W, H)
            print(f"\n{W}x{H}: numpy frames.copy() {base:8.0f} frames/s")
            for label, mode, cam, style in cases:
                shot = dict(SHOT, camera=cam, style=style or "")
                req = GenerationRequest(prompt="", frames=FRAMES, fps=24, width=W, height=H, seed=1, mode=mode, shot=shot,
                                        reference_image=ref if mode == "i2v" else None, source_video=clip if mode == "v2v" else None)
                backend.generate(req)  # warm: fonts, imports
                fps = FRAMES / best_of(lambda req=req: backend.generate(req))
                print(f"  {label:16s} {fps:8.0f} frames/s   {fps / base:5.2f}x numpy copy")
            base = numpy_copy_fps(W, H)
            print(f"  (numpy copy again: {base:.0f} frames/s)")


if __name__ == "__main__":
    main()
