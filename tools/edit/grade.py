"""A light colour grade that pulls every shot toward the film's look, so the cut reads as one film.

Takes from a video model drift in colour from shot to shot (one warm, one cool, one a stop darker).
This is the editor's answer, a Reinhard-style statistics transfer done cheaply:

1. Per take, a few frames evenly spread over the part the cut uses are decoded small (96 px wide,
   yuv420p, the deblocking filter skipped: statistics do not need it); the mean and standard
   deviation of Y, U and V are the take's look. Results are cached per file (path, size, mtime),
   since a film is re-cut after every piece of feedback from the same takes.
2. The film's target is the duration-weighted mean of those statistics.
3. Each shot moves `strength` of the way toward the target (0.5: half way), per plane:
   ``out = new_mean + gain * (in - mean)``, with the gain clamped to 0.8-1.25 and the mean's shift to
   `MAX_SHIFT`, so the grade stays light: it evens out casts, it does not turn a night shot into day.
   A shot closer to the target than `MIN_DISTANCE` is left alone (identity), as is one whose
   transform would move no pixel by more than a code value.
4. The transform is three 256-entry lookup tables (Y; U and V as a gain around 128 plus an offset),
   applied with cv2.LUT straight on the yuv420p planes the assembler already has: no RGB round trip,
   about 2 ms per 720p frame.

Statistics are in 8-bit BT.709 limited-range YUV code values, the units the tables work in. A graded
frame is a frame the editor changed: the assembler sends it through `finish_frames` (label and
watermark) like the frames it makes itself.
"""

from __future__ import annotations

import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .timeline import Segment
from .video_io import ffmpeg_exe

STRENGTH = 0.5
GAIN_LIMITS = (0.8, 1.25)
# the largest change of a plane's mean, in code values: Y spans 219 of them, U and V 224
MAX_SHIFT = (20.0, 12.0, 12.0)
# distance (Euclidean over the six statistics, code values) below which a shot is left as it is
MIN_DISTANCE = 3.0
# a plane flatter than this (a solid background) has no contrast to match: its gain stays 1
MIN_STD = 2.0
SAMPLES = 6
STATS_WIDTH = 96
PLANES = ("Y", "U", "V")
_LEGAL = ((16, 235), (16, 240), (16, 240))    # limited-range bounds; a grade never pushes a pixel outside

_cache: dict[tuple, np.ndarray | None] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 512


@dataclass
class ShotGrade:
    """One shot's grade: per plane (Y, U, V) a gain and the mean it lands on, and the tables doing it."""

    shot_id: str
    distance: float                         # before grading, to the film's target (code values)
    stats: np.ndarray                       # [mean Y, U, V, std Y, U, V] of the take
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offsets: tuple[float, float, float] = (0.0, 0.0, 0.0)   # out = gain * (in - pivot) + pivot + offset
    luts: np.ndarray | None = field(default=None, repr=False)   # (3, 256) uint8; None: identity

    @property
    def identity(self) -> bool:
        return self.luts is None

    def summary(self) -> dict:
        """How far the shot was from the film's look, and what was done to it, per plane:
        out = gain * (in - pivot) + pivot + offset, the pivot being 16 for Y and 128 for U and V."""
        return {
            "distance": round(self.distance, 2),
            "y_gain": round(self.gains[0], 3), "y_offset": round(self.offsets[0], 2),
            "u_gain": round(self.gains[1], 3), "u_offset": round(self.offsets[1], 2),
            "v_gain": round(self.gains[2], 3), "v_offset": round(self.offsets[2], 2),
        }

    def apply_i420(self, data: bytes | bytearray | memoryview, width: int, height: int) -> bytes | memoryview:
        """Raw yuv420p frames through this shot's tables (returns the input unchanged for identity)."""
        if self.luts is None:
            return data
        import cv2

        plane, quarter = width * height, (width // 2) * (height // 2)
        frame_bytes = plane + 2 * quarter
        src = np.frombuffer(data, np.uint8).reshape(-1, frame_bytes)
        out = np.empty_like(src)
        # each plane of all the frames at once: a (frames, plane bytes) view with a row stride cv2 accepts
        for p, (a, b) in enumerate(((0, plane), (plane, plane + quarter), (plane + quarter, frame_bytes))):
            cv2.LUT(src[:, a:b], self.luts[p], dst=out[:, a:b])
        return out.data.cast("B")


def _stats_size(width: int, height: int) -> tuple[int, int]:
    w = min(STATS_WIDTH, width) // 2 * 2
    return w, max(2, round(w * height / width / 2) * 2)


def take_statistics(path: str | os.PathLike, used_frames: int, width: int, height: int,
                    samples: int = SAMPLES) -> np.ndarray | None:
    """[mean Y, U, V, std Y, U, V] over `samples` frames spread over the first `used_frames` of the take
    (in the take's own frame numbering), at a small size with the cut's aspect. None if it cannot be read:
    the assembler's own decoder then says what is wrong with the take."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return None
    sw, sh = _stats_size(width, height)
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, used_frames, samples, sw, sh)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    picks = sorted({round(i) for i in np.linspace(0, max(used_frames - 1, 0), max(1, samples))})
    select = "+".join(f"eq(n\\,{i})" for i in picks)
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1",
           "-skip_loop_filter", "all", "-i", str(path),
           "-vf", f"select='{select}',scale={sw}:{sh}:flags=area", "-fps_mode", "passthrough",
           "-frames:v", str(len(picks)), "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    out = subprocess.run(cmd, capture_output=True)
    plane, quarter = sw * sh, (sw // 2) * (sh // 2)
    n = len(out.stdout) // (plane + 2 * quarter)
    stats = None
    if out.returncode == 0 and n > 0:
        raw = np.frombuffer(out.stdout, np.uint8, count=n * (plane + 2 * quarter)).reshape(n, -1).astype(np.float32)
        parts = (raw[:, :plane], raw[:, plane:plane + quarter], raw[:, plane + quarter:])
        stats = np.array([p.mean() for p in parts] + [p.std() for p in parts], np.float64)
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.pop(next(iter(_cache)))
        _cache[key] = stats
    return stats


def shot_grade(shot_id: str, stats: np.ndarray, target: np.ndarray, strength: float = STRENGTH) -> ShotGrade:
    """The light transform moving `stats` `strength` of the way toward `target` (see the module notes)."""
    distance = float(np.linalg.norm(stats - target))
    grade = ShotGrade(shot_id, distance, stats)
    if distance < MIN_DISTANCE or strength <= 0:
        return grade
    gains, offsets, luts = [], [], []
    x = np.arange(256, dtype=np.float64)
    for p in range(3):
        mean, std, t_mean, t_std = stats[p], stats[3 + p], target[p], target[3 + p]
        shift = float(np.clip(strength * (t_mean - mean), -MAX_SHIFT[p], MAX_SHIFT[p]))
        gain = 1.0
        if std >= MIN_STD and t_std >= MIN_STD:
            gain = float(np.clip((std + strength * (t_std - std)) / std, *GAIN_LIMITS))
        # contrast around the shot's own mean, then the mean moves: written as gain * (x - pivot) + pivot + offset,
        # the pivot being black for Y and neutral (128) for U and V
        pivot = 16.0 if p == 0 else 128.0
        offset = mean + shift - pivot - gain * (mean - pivot)
        lo, hi = _LEGAL[p]
        lut = np.clip(gain * (x - pivot) + pivot + offset, lo, hi)
        # pixels already outside the legal range are left where they are, not pulled in
        lut = np.where((x < lo) | (x > hi), x, lut)
        gains.append(gain)
        offsets.append(float(offset))
        luts.append(np.rint(lut).astype(np.uint8))
    luts = np.stack(luts)
    if np.abs(luts.astype(np.int16) - np.arange(256, dtype=np.int16)).max() <= 1:
        return grade                        # moves nothing visibly: keep the take's own pixels
    grade.gains, grade.offsets, grade.luts = tuple(gains), tuple(offsets), luts
    return grade


def plan_grade(shots: list[Segment], infos: list[dict], width: int, height: int, fps: float,
               strength: float = STRENGTH) -> dict[int, ShotGrade]:
    """A grade per shot segment (keyed by its index in `shots`); shots whose take could not be sampled
    are left out of the target and ungraded. Empty when there is nothing to compare (fewer than 2 shots)."""
    if strength <= 0 or len(shots) < 2:
        return {}
    if not 0 < strength <= 1:
        raise ValueError(f"grade strength {strength} must be between 0 (off) and 1 (all the way to the film's look)")

    def used(s: Segment, info: dict) -> int:
        # the take's frames that show in the cut, in the take's own frame rate
        n = round(s.frames * (info.get("fps") or fps) / fps)
        return max(1, min(n, info.get("frames") or n))

    with ThreadPoolExecutor(max_workers=min(2, len(shots))) as pool:
        stats = list(pool.map(lambda si: take_statistics(si[0].path, used(*si), width, height), zip(shots, infos)))
    have = [i for i, st in enumerate(stats) if st is not None]
    if len(have) < 2:
        return {}
    weights = np.array([shots[i].frames for i in have], np.float64)
    target = (np.stack([stats[i] for i in have]) * weights[:, None]).sum(axis=0) / weights.sum()
    return {i: shot_grade(shots[i].shot_id, stats[i], target, strength) for i in have}
