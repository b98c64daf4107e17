"""The per-call analysis context: a downscaled copy of the clip and everything several metrics share.

Optical flow is the expensive part, so it runs once per consecutive pair here (cv2 DIS, ultrafast
preset, on the downscaled grey frames), and only per-pair statistics are kept: a 60 s shot would
otherwise hold gigabytes of flow fields. Metrics read these arrays; none computes flow itself.

Frame numbers everywhere are 0-based indices into the clip that was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from .intent import Intent
from .settings import CriticSettings

# Low-frequency residual: block size (px of the analysis copy) over which signed differences are
# averaged. Sensor-like noise averages out; a brightness change or a flickering region does not.
_LOWPASS_BLOCK = 8


@dataclass
class Motion:
    """Per consecutive pair (i, i+1); arrays of length N-1."""

    raw_mae: np.ndarray          # mean |frame i+1 - frame i|, grey levels, no compensation
    changed: np.ndarray          # share of pixels that changed by more than 6 grey levels
    warp_error: np.ndarray       # mean |frame i+1 - warp(frame i)| over pixels the flow keeps inside
    lowpass_residual: np.ndarray  # mean |block-averaged signed residual|: brightness / regional flicker
    shift: np.ndarray            # (N-1, 2) median flow (dx, dy), px of the analysis copy: the camera's move


@dataclass
class Analysis:
    frames: np.ndarray            # the clip as given (N, H, W, 3) uint8 RGB (possibly subsampled)
    fps: float
    settings: CriticSettings
    shot: dict[str, Any] = field(default_factory=dict)
    index: np.ndarray | None = None   # original frame number of each analysed frame

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = np.arange(len(self.frames))

    # ------------------------------------------------------------------ shared pixels
    @cached_property
    def small(self) -> np.ndarray:
        n, h, w, _ = self.frames.shape
        # Shrink by a whole factor: OpenCV's area resize is an exact, fast box filter then (0.3 ms a
        # frame against 3 ms for a fractional factor), and the short side lands near the setting
        # (1280x720 -> 320x180, 512x288 -> 256x144, 1920x1080 -> 320x180).
        k = max(1, int(round(min(h, w) / self.settings.analysis_short_side)))
        if k == 1:
            return np.ascontiguousarray(self.frames)
        size = (w // k, h // k)
        src = self.frames[:, : size[1] * k, : size[0] * k]
        out = np.empty((n, size[1], size[0], 3), np.uint8)
        # A power-of-two factor as successive halvings: OpenCV's 2x area path is so much faster that
        # two of them (720p -> 320x180) cost ~45% of one 4x box filter, for the same box average
        # (to a rounding of the intermediate image).
        halvings = k.bit_length() - 1 if k & (k - 1) == 0 else 0
        for i, f in enumerate(src):
            if halvings:
                for _ in range(halvings - 1):
                    f = cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA)
            cv2.resize(f, size, dst=out[i], interpolation=cv2.INTER_AREA)
        return out

    @cached_property
    def gray(self) -> np.ndarray:
        small = self.small
        out = np.empty(small.shape[:3], np.uint8)
        for i, f in enumerate(small):
            cv2.cvtColor(f, cv2.COLOR_RGB2GRAY, dst=out[i])
        return out

    @cached_property
    def luma_mean(self) -> np.ndarray:
        return self.gray.reshape(len(self.gray), -1).mean(axis=1)

    @cached_property
    def clipped(self) -> tuple[np.ndarray, np.ndarray]:
        """Per frame: share of pixels crushed black (<= black_level) and clipped white (>= white_level)."""
        s = self.settings
        flat = self.gray.reshape(len(self.gray), -1)
        dark = np.empty(len(flat))
        bright = np.empty(len(flat))
        for i, row in enumerate(flat):
            # A 256-bin histogram per frame is cheaper than two comparisons over every pixel.
            h = np.bincount(row, minlength=256)
            dark[i] = h[: s.black_level + 1].sum()
            bright[i] = h[s.white_level:].sum()
        return dark / flat.shape[1], bright / flat.shape[1]

    @cached_property
    def blank(self) -> np.ndarray:
        """Frames with (almost) no picture: black, blown out, or one flat colour. exposure.py reports
        them; other metrics skip them, so a black frame is not also called blurred, noisy or a cut."""
        dark, bright = self.clipped
        flat = np.array([float(g.std()) < 3.0 for g in self.gray[:, ::2, ::2]], bool)
        return flat | (dark + bright > self.settings.clipped_limit)

    @property
    def width(self) -> int:
        return self.gray.shape[2]

    # ------------------------------------------------------------------ the shot
    @property
    def camera(self) -> str:
        return str(self.shot.get("camera") or "").lower()

    @cached_property
    def intent(self) -> Intent:
        """The look the shot asked for (night, haze, high key...): see intent.py."""
        return Intent.from_shot(self.shot)

    @property
    def expects_motion(self) -> bool:
        """Does the shot ask for movement? Unknown shot: assume yes (a take that never moves is the usual failure)."""
        if "camera" not in self.shot and "action" not in self.shot:
            return True
        return self.camera not in ("", "static") or bool(str(self.shot.get("action") or "").strip())

    # ------------------------------------------------------------------ motion, once
    @cached_property
    def motion(self) -> Motion:
        g = self.gray
        n, h, w = g.shape
        m = max(n - 1, 0)
        raw = np.zeros(m)
        changed = np.zeros(m)
        werr = np.zeros(m)
        low = np.zeros(m)
        shift = np.zeros((m, 2))
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)  # type: ignore[attr-defined]  # not in the cv2 stubs
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        lw, lh = max(1, w // _LOWPASS_BLOCK), max(1, h // _LOWPASS_BLOCK)
        for i in range(m):
            prev, nxt = g[i], g[i + 1]
            ad = cv2.absdiff(prev, nxt)
            raw[i] = ad.mean()
            changed[i] = cv2.countNonZero(cv2.threshold(ad, 6, 255, cv2.THRESH_BINARY)[1]) / ad.size
            # Flow from i+1 back to i, so prev sampled at x + flow(x) predicts nxt at x.
            flow = dis.calc(nxt, prev, None)
            mx = gx + flow[..., 0]
            my = gy + flow[..., 1]
            warped = cv2.remap(prev, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            # Pixels whose source left the frame (a pan's incoming edge) are not evidence of anything.
            valid = ((mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)).astype(np.float32)
            nvalid = valid.sum()
            diff = cv2.subtract(nxt, warped, dtype=cv2.CV_32F) * valid
            if nvalid < 0.2 * h * w:   # almost all new content: fall back to the uncompensated change
                werr[i] = raw[i]
                low[i] = abs(float(nxt.mean()) - float(prev.mean()))
            else:
                werr[i] = float(cv2.norm(diff, cv2.NORM_L1)) / nvalid
                bd = cv2.resize(diff, (lw, lh), interpolation=cv2.INTER_AREA)
                bv = cv2.resize(valid, (lw, lh), interpolation=cv2.INTER_AREA)
                keep = bv > 0.5
                low[i] = float(np.abs(bd[keep] / bv[keep]).mean()) if keep.any() else werr[i]
            sub = flow[::4, ::4].reshape(-1, 2)
            shift[i] = np.median(sub, axis=0)
        return Motion(raw, changed, werr, low, shift)

    # ------------------------------------------------------------------ helpers for metrics
    def frame_numbers(self, mask_or_idx) -> list[int]:
        arr = np.asarray(mask_or_idx)
        idx = np.flatnonzero(arr) if arr.dtype == bool else arr.astype(int)
        return [int(self.index[i]) for i in idx]

    def describe_frames(self, frames: list[int], limit: int = 3) -> str:
        return describe_frames(frames, self.fps, limit)

    def frames_are(self, frames: list[int], plural: str = "are", singular: str = "is") -> str:
        """'frames 3–5 (…) are' / 'frame 3 (…) is': the subject of a sentence about these frames."""
        one = len(set(frames)) == 1
        return f"{self.describe_frames(frames)} {singular if one else plural}"


def pair_to_frames(values: np.ndarray, n: int) -> np.ndarray:
    """A per-pair series (pair i = frames i, i+1) as a per-frame one: each frame gets its change from the
    previous frame; frame 0 borrows frame 1's so curves do not start with a fake dip."""
    out = np.zeros(n)
    if n > 1:
        out[1:] = values
        out[0] = values[0]
    return out


def runs(frames: list[int]) -> list[tuple[int, int]]:
    """[3,4,5,9] -> [(3,5), (9,9)]"""
    out: list[tuple[int, int]] = []
    for f in sorted(set(frames)):
        if out and f == out[-1][1] + 1:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out


def describe_frames(frames: list[int], fps: float, limit: int = 3) -> str:
    """'frames 30–35 (1.25–1.46 s)', 'frame 7 (0.29 s)', 'frames 3–5, 12–18 and 2 more ranges'."""
    rs = runs(frames)
    if not rs:
        return "no frames"
    parts = []
    for a, b in rs[:limit]:
        parts.append(f"{a}" if a == b else f"{a}–{b}")
    word = "frame" if len(rs) == 1 and rs[0][0] == rs[0][1] else "frames"
    text = f"{word} {', '.join(parts)}"
    if len(rs) == 1 and fps:
        a, b = rs[0]
        text += f" ({a / fps:.2f} s)" if a == b else f" ({a / fps:.2f}–{(b + 1) / fps:.2f} s)"
    if len(rs) > limit:
        text += f" and {len(rs) - limit} more range{'s' if len(rs) - limit > 1 else ''}"
    return text
