"""Noise bursts: frames much grainier than the rest of the clip.

Per frame, Immerkaer's fast noise estimate (sigma, grey levels): the image is filtered with a
kernel that cancels smooth gradients and edges to first order, leaving mostly noise. Film grain that
is there all along is a style; a burst is a frame whose sigma is at least ``noise_ratio`` times the
clip's median *and* at least ``noise_min_delta`` above it.

Value: the noisiest frame's sigma divided by the clip's median, range 1..100 (capped), lower is better.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis

NAME = "noise"
PER_FRAME = "noise sigma / clip median"
_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def plot_limits(settings) -> list[float]:
    return [settings.noise_ratio]


def noise_sigma(gray: np.ndarray) -> np.ndarray:
    n, h, w = gray.shape
    out = np.empty(n)
    scale = math.sqrt(math.pi / 2.0) / (6.0 * (w - 2) * (h - 2))
    for i, g in enumerate(gray):
        r = cv2.filter2D(g, cv2.CV_32F, _KERNEL)[1:-1, 1:-1]
        out[i] = scale * float(cv2.norm(r, cv2.NORM_L1))
    return out


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.gray)
    if n < 3:
        return MetricResult(name=NAME, value=None, range=(1.0, 100.0), higher_is_better=False,
                            reason="not measured: needs at least 3 frames to compare with")
    sigma = noise_sigma(ctx.gray)
    seen = ~ctx.blank
    median = float(np.median(sigma[seen])) if seen.any() else 0.0
    ratio = sigma / max(median, 0.25)
    bad = (ratio >= s.noise_ratio) & (sigma - median >= s.noise_min_delta) & seen
    value = float(min(ratio.max(), 100.0))
    if bad.any():
        frames = ctx.frame_numbers(bad)
        reason = (f"{ctx.frames_are(frames, 'burst', 'bursts')} with noise: {sigma[bad].max():.1f} grey levels against "
                  f"{median:.1f} in the rest of the clip ({ratio[bad].max():.1f}x, limit {s.noise_ratio:g}x)")
    else:
        reason = f"no noise bursts: noise {median:.1f} grey levels, peak {ratio.max():.2f}x the median"
    return MetricResult(
        name=NAME, value=round(value, 3), range=(1.0, 100.0), higher_is_better=False, threshold=s.noise_ratio,
        passed=not bad.any(), frames=ctx.frame_numbers(bad), reason=reason,
        per_frame=[round(float(v), 3) for v in ratio],
    )
