"""Fit a film under a file-size limit (a chat platform's upload cap) by re-encoding it.

The bitrate comes from the duration: (limit x 8 - audio - container overhead) / seconds. When that
leaves too few bits per pixel for the picture to hold up, the resolution goes down too (never below
MIN_SHORT_SIDE on the short side, where the invisible watermark still reads). Single-pass ABR can
overshoot a little, so the result is measured and, if still over, encoded again at a lower rate.

The re-encode keeps the burned-in label and the watermark (both are in the pixels); it drops the C2PA
manifest (ffmpeg does not carry it over), so callers sign the fitted file again.
"""

from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.edit.video_io import EditError, atomic_output, ffmpeg_exe, probe

MIN_SHORT_SIDE = 256          # the watermark needs at least this much picture
MIN_BITS_PER_PIXEL = 0.05     # below this, H.264 at veryfast turns to mush: trade pixels for bits
MIN_VIDEO_KBPS = 40
AUDIO_KBPS = 64
OVERHEAD = 0.94               # share of the limit left for the streams after the MP4 boxes
ATTEMPTS = 3


@dataclass(frozen=True)
class FitResult:
    path: Path
    bytes: int
    width: int
    height: int
    video_kbps: int
    scaled: bool           # the resolution went down too
    source_bytes: int


def _size(n: float) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def _even(x: float) -> int:
    return max(2, int(x) // 2 * 2)


def plan_size(width: int, height: int, fps: float, video_kbps: float) -> tuple[int, int]:
    """The largest size at or below (width, height) where `video_kbps` gives MIN_BITS_PER_PIXEL."""
    bpp = video_kbps * 1000 / max(1.0, width * height * (fps or 24))
    if bpp >= MIN_BITS_PER_PIXEL:
        return width, height
    scale = math.sqrt(bpp / MIN_BITS_PER_PIXEL)
    short = min(width, height)
    scale = max(scale, min(1.0, MIN_SHORT_SIDE / short))
    return _even(width * scale), _even(height * scale)


def fit_to_size(src: str | os.PathLike, dst: str | os.PathLike, max_bytes: int, reserve: int = 0) -> FitResult:
    """Write `dst`, a re-encode of `src` no larger than `max_bytes - reserve` (room for what is added
    after, a C2PA manifest). Raises EditError when the film is too long for the limit at any watchable
    quality (the message says how long would fit)."""
    src, dst = Path(src), Path(dst)
    max_bytes = max_bytes - reserve
    info = probe(src, count_frames=False)
    duration = float(info.get("duration") or 0)
    if duration <= 0:
        raise EditError(f"{src.name} has no duration; cannot compute a bitrate for it")
    total_kbps = max_bytes * 8 * OVERHEAD / duration / 1000
    # Speech and a music bed stay intelligible at 32 kb/s AAC; a tight budget goes to the picture first.
    audio_kbps = (AUDIO_KBPS if total_kbps > 4 * AUDIO_KBPS else 32) if info.get("has_audio") else 0
    video_kbps = total_kbps - audio_kbps
    if video_kbps < MIN_VIDEO_KBPS:
        longest = max_bytes * 8 * OVERHEAD / ((MIN_VIDEO_KBPS + audio_kbps) * 1000)
        raise EditError(f"a {duration:.0f} s film cannot fit in {_size(max_bytes)} at a watchable quality "
                        f"(about {longest:.0f} s would)")
    width, height = int(info["width"]), int(info["height"])
    source_bytes = src.stat().st_size
    tmp = dst.with_name(f".{dst.stem}.{os.getpid()}.fitting.mp4")
    try:
        for _ in range(ATTEMPTS):
            w, h = plan_size(width, height, info.get("fps") or 24, video_kbps)
            _encode(src, tmp, w, h, int(video_kbps), audio_kbps)
            size = tmp.stat().st_size
            if size <= max_bytes:
                with atomic_output(dst) as out:
                    os.replace(tmp, out)
                return FitResult(dst, size, w, h, int(video_kbps), (w, h) != (width, height), source_bytes)
            # Over by a little (single-pass rate control): aim lower in proportion, with a margin.
            video_kbps = (video_kbps + audio_kbps) * max_bytes / size * 0.92 - audio_kbps
            if video_kbps < MIN_VIDEO_KBPS:
                break
    finally:
        tmp.unlink(missing_ok=True)
    raise EditError(f"could not bring {src.name} under {_size(max_bytes)}")


def _encode(src: Path, dst: Path, width: int, height: int, video_kbps: int, audio_kbps: int) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
           "-vf", f"scale={width}:{height}:flags=lanczos", "-c:v", "libx264", "-preset", "veryfast",
           "-b:v", f"{video_kbps}k", "-maxrate", f"{video_kbps}k", "-bufsize", f"{video_kbps}k",
           "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    cmd += ["-c:a", "aac", "-b:a", f"{audio_kbps}k"] if audio_kbps else ["-an"]
    out = subprocess.run(cmd + ["-f", "mp4", str(dst)], capture_output=True)
    if out.returncode != 0:
        tail = out.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise EditError(f"re-encoding {src.name} to fit failed: {tail[0]}")
