"""Minimal video read/write through the ffmpeg binary that imageio-ffmpeg ships.

The safety checks need only two things: decode a few frames of a finished file (to look for
the watermark and the label) and, in tests and benchmarks, encode frames the way a platform
would re-encode them. Both go through pipes of raw RGB, so there is no temp image on disk.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def encode_h264(frames: np.ndarray, path: str | Path, *, fps: int = 24, crf: int = 23,
                size: tuple[int, int] | None = None, preset: str = "veryfast") -> Path:
    """Write (N, H, W, 3) uint8 RGB frames as H.264/yuv420p MP4, optionally scaled to `size` (w, h).

    Written atomically (temp file in the same folder, then os.replace)."""
    frames = np.ascontiguousarray(frames)
    n, h, w, _ = frames.shape
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")
    cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-r", str(fps), "-i", "-"]
    if size is not None:
        cmd += ["-vf", f"scale={size[0]}:{size[1]}:flags=area"]
    cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(tmp)]
    proc = subprocess.run(cmd, input=frames.tobytes(), capture_output=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg could not encode {path}: {proc.stderr.decode(errors='replace')[-500:]}")
    os.replace(tmp, path)
    return path


def probe(path: str | Path) -> dict:
    """Size, fps and duration of a video, from ffmpeg's header parse (no full decode)."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(gen)
    finally:
        gen.close()
    return meta


def decode_frames(path: str | Path, *, max_frames: int | None = None, spread: bool = True,
                  keyframes_only: bool = False) -> np.ndarray:
    """Decode up to `max_frames` RGB frames, spread evenly over the whole file when `spread`
    (or only its keyframes, the intra-coded frames, when `keyframes_only`).

    Spreading matters: the first seconds of a cut are often a flat title card, the hardest
    content for any invisible mark. Keyframes matter after a re-encode: they keep an invisible
    mark almost intact where predicted frames of moving content carry it moved with the picture."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no video at {path}")
    meta = probe(path)
    w, h = meta["size"]
    vf = []
    duration = float(meta.get("duration") or 0.0)
    fps = float(meta.get("fps") or 24.0)
    if keyframes_only:
        cmd = [ffmpeg_exe(), "-loglevel", "error", "-skip_frame", "nokey", "-i", str(path), "-fps_mode", "passthrough"]
    else:
        if max_frames and spread and duration > 0 and duration * fps > max_frames:
            vf = ["-vf", f"fps={max_frames / duration:.6f}"]
        cmd = [ffmpeg_exe(), "-loglevel", "error", "-i", str(path), *vf]
    if max_frames:
        cmd += ["-frames:v", str(max_frames)]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode {path}: {proc.stderr.decode(errors='replace')[-500:]}")
    data = np.frombuffer(proc.stdout, np.uint8)
    n = data.size // (w * h * 3)
    return data[: n * w * h * 3].reshape(n, h, w, 3)
