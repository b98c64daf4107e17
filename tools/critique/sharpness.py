"""Blur: variance of the Laplacian.

Measured on the analysis copy (short side ``analysis_short_side``), so the number does not depend on
the take's resolution: a 1280x720 and a 512x288 take of the same picture score alike. A frame fails
when its variance is below ``sharpness_min`` (the whole picture is soft) or below ``sharpness_drop``
times the clip's median (a blur burst in an otherwise sharp take).

Value: the clip's median Laplacian variance, range 0..~10000, higher is sharper.
"""

from __future__ import annotations

import cv2
import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis

NAME = "sharpness"
PER_FRAME = "Laplacian variance"


def plot_limits(settings) -> list[float]:
    return [settings.sharpness_min]


def laplacian_variance(gray: np.ndarray) -> np.ndarray:
    out = np.empty(len(gray))
    for i, g in enumerate(gray):
        _, std = cv2.meanStdDev(cv2.Laplacian(g, cv2.CV_16S, ksize=1))
        out[i] = float(std[0, 0]) ** 2
    return out


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.gray)
    if n == 0:
        return MetricResult(name=NAME, value=None, range=(0.0, 10000.0), reason="not measured: no frames")
    v = laplacian_variance(ctx.gray)
    seen = ~ctx.blank           # a black frame has no detail to be sharp; exposure.py reports it
    if not seen.any():
        return MetricResult(name=NAME, value=None, range=(0.0, 10000.0),
                            reason="not measured: every frame is blank")
    median = float(np.median(v[seen]))
    # A hazy, foggy or soft-focus look may be soft all over; a sudden blur burst still fails.
    floor = s.sharpness_min * (s.sharpness_soft_factor if ctx.intent.soft else 1.0)
    soft = (v < floor) & seen
    burst = (v < s.sharpness_drop * median) & seen
    bad = soft | burst
    reasons = []
    if soft.any():
        fr = ctx.frame_numbers(soft)
        what = "the whole take is" if soft.sum() == seen.sum() else ctx.frames_are(fr)
        reasons.append(f"{what} blurred: sharpness {v[soft].mean():.0f}, limit {floor:g}")
    if (burst & ~soft).any():
        fr = ctx.frame_numbers(burst & ~soft)
        reasons.append(f"{ctx.frames_are(fr, 'go', 'goes')} soft: sharpness {v[burst & ~soft].min():.0f} against "
                       f"{median:.0f} in the rest of the take")
    if not reasons and ctx.intent.soft and median < s.sharpness_min:
        reasons.append(f"soft by intent: {median:.0f}, {ctx.intent.because()} (limit for a soft look {floor:g})")
    elif not reasons:
        reasons.append(f"sharp: {median:.0f} (limit {s.sharpness_min:g})")
    return MetricResult(
        name=NAME, value=round(median, 2), range=(0.0, 10000.0), higher_is_better=True,
        threshold=floor, passed=not bad.any(), frames=ctx.frame_numbers(bad),
        reason="; ".join(reasons), per_frame=[round(float(x), 2) for x in v],
    )
