"""Black frames, blown-out frames and clipping.

Per frame, the share of pixels crushed to black (luma <= ``black_level``) or clipped to white
(luma >= ``white_level``). A frame with more than ``clipped_limit`` of its pixels clipped fails the
take, and the reason says which way: "black" when the frame is (almost) all dark, "blown out" when
it is (almost) all white, otherwise how much of it is clipped.

Value: share of frames within the limit, range 0..1, higher is better (1.0 = every frame exposed).
"""

from __future__ import annotations

import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis

NAME = "exposure"
PER_FRAME = "clipped pixels (share)"


def plot_limits(settings) -> list[float]:
    return [settings.clipped_limit]


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    g = ctx.gray
    n = len(g)
    if n == 0:
        return MetricResult(name=NAME, value=None, reason="not measured: no frames")
    dark, bright = ctx.clipped
    intent = ctx.intent
    # A night or low-key shot may be mostly dark, a high-key one mostly white: only a frame with no
    # picture left (flat) fails then. The relaxed side is named in the reason.
    flat = np.array([float(f.std()) < s.exposure_flat_std for f in g[:, ::2, ::2]], bool)
    counted_dark = np.where(flat | (dark >= s.exposure_lost_share), dark, 0.0) if intent.low_key else dark
    counted_bright = np.where(flat | (bright >= s.exposure_lost_share), bright, 0.0) if intent.high_key else bright
    clipped = counted_dark + counted_bright
    bad = clipped > s.clipped_limit
    black = bad & (dark >= 0.95)
    blown = bad & (bright >= 0.75)
    partial = bad & ~black & ~blown
    reasons = []
    if black.any():
        fr = ctx.frame_numbers(black)
        reasons.append(f"{ctx.frames_are(fr)} black "
                       f"(mean brightness {ctx.luma_mean[black].mean():.0f}/255)")
    if blown.any():
        fr = ctx.frame_numbers(blown)
        reasons.append(f"{ctx.frames_are(fr)} blown out "
                       f"({bright[blown].mean():.0%} of pixels clipped white)")
    if partial.any():
        fr = ctx.frame_numbers(partial)
        side = "dark" if dark[partial].mean() > bright[partial].mean() else "bright"
        reasons.append(f"{ctx.describe_frames(fr)}: {clipped[partial].max():.0%} of pixels clipped, mostly {side} "
                       f"(limit {s.clipped_limit:.0%})")
    passed = not reasons
    if passed:
        raw = dark + bright
        if raw.max() > s.clipped_limit and (intent.low_key or intent.high_key):
            side = "dark" if dark.max() >= bright.max() else "bright"
            reasons.append(f"{side} by intent: up to {raw.max():.0%} of a frame clipped {side}, {intent.because()}; "
                           f"no frame lost its picture")
        else:
            reasons.append(f"exposed: at most {clipped.max():.0%} of any frame clipped")
    return MetricResult(
        name=NAME, value=round(float(1.0 - bad.mean()), 4), range=(0.0, 1.0), higher_is_better=True,
        threshold=1.0, passed=passed, frames=ctx.frame_numbers(bad), reason="; ".join(reasons),
        per_frame=[round(float(v), 4) for v in dark + bright],
    )

