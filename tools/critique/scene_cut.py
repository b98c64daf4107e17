"""Sudden cuts inside a shot.

A shot is one continuous take; a hard cut inside it (the generator jumped to another scene) is a
failure. Per frame, a colour histogram (8x8x8 RGB); between consecutive frames, the Bhattacharyya
distance (0 = same colours, 1 = nothing in common). A cut is a pair whose distance is at least
``cut_min_distance`` *and* ``cut_ratio`` times the typical distance around it (so fast motion or
steady flicker, which change every frame, are not cuts), after which the picture does not return
(so a one-frame flash is flicker, not a cut).

Value: number of cuts found, range 0..frames, lower is better; the threshold is 0.
"""

from __future__ import annotations

import cv2
import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis, pair_to_frames

NAME = "scene_cut"
PER_FRAME = "colour change from previous frame (0..1)"
_NEIGHBOURS = 4


def plot_limits(settings) -> list[float]:
    return [settings.cut_min_distance]


def _histograms(small: np.ndarray) -> list[np.ndarray]:
    out = []
    for f in small:
        # Every other pixel is plenty for a 512-bin histogram, at a quarter of the cost.
        h = cv2.calcHist([np.ascontiguousarray(f[::2, ::2])], [0, 1, 2], None, [8, 8, 8], [0, 256, 0, 256, 0, 256])
        out.append(h)
    return out


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.small)
    if n < 2:
        return MetricResult(name=NAME, value=None, range=(0.0, float(max(n, 1))), higher_is_better=False,
                            reason="not measured: needs at least 2 frames")
    hists = _histograms(ctx.small)
    d = np.array([cv2.compareHist(hists[i], hists[i + 1], cv2.HISTCMP_BHATTACHARYYA) for i in range(n - 1)])
    cuts: list[int] = []      # index of the first frame after the cut
    for i, di in enumerate(d):
        if di < s.cut_min_distance or ctx.blank[i] or ctx.blank[i + 1]:
            continue   # cutting to or from a blank frame is exposure.py's finding
        lo, hi = max(0, i - _NEIGHBOURS), min(len(d), i + _NEIGHBOURS + 1)
        around = np.concatenate([d[lo:i], d[i + 1:hi]])
        typical = float(np.median(around)) if len(around) else 0.0
        if di < s.cut_ratio * typical:
            continue
        if i + 2 < n and cv2.compareHist(hists[i], hists[i + 2], cv2.HISTCMP_BHATTACHARYYA) < s.cut_min_distance:
            continue   # frame i+2 looks like frame i again: a flash, not a cut
        cuts.append(i + 1)
    per_frame = pair_to_frames(d, n)
    per_frame[0] = 0.0
    if cuts:
        where = ", ".join(f"{ctx.index[c]} ({ctx.index[c] / ctx.fps:.2f} s)" for c in cuts[:5])
        reason = (f"sudden cut{'s' if len(cuts) > 1 else ''} inside the shot at frame{'s' if len(cuts) > 1 else ''} "
                  f"{where}: colours change {max(d[c - 1] for c in cuts):.2f} at once, limit {s.cut_min_distance:g}")
    else:
        reason = "one continuous shot"
    return MetricResult(
        name=NAME, value=float(len(cuts)), range=(0.0, float(n)), higher_is_better=False, threshold=0.0,
        passed=not cuts, frames=ctx.frame_numbers(cuts), reason=reason,
        per_frame=[round(float(v), 4) for v in per_frame],
    )
