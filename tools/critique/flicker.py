"""Temporal flicker: does the picture's brightness jump from frame to frame for no reason?

Value: VBench's temporal-flicker score, (255 - MAE) / 255, where MAE is the mean absolute difference
of consecutive frames *after motion compensation* (frame i warped onto frame i+1 by optical flow),
so that a pan or a zoom is not counted as flicker. Range 0..1, higher is better.

The take fails when that score is low, or when any frame "flickers": it is brighter (or darker) than
*both* its neighbours, either as a whole (mean luma) or regionally (the low-frequency part of the
motion-compensated difference). Requiring both neighbours separates flicker from a fade (monotonic)
and from a cut (one jump, then steady), which scene_cut.py reports.
"""

from __future__ import annotations

import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis, runs

NAME = "flicker"


def _against_both(series_step: np.ndarray, signed: bool) -> np.ndarray:
    """Per frame: how much it stands out against both neighbours (0 at the ends).

    `series_step[i]` is the change from frame i to i+1. With `signed`, the two changes must point
    opposite ways (up then down); unsigned residuals have no direction, so only their size counts.
    """
    n = len(series_step) + 1
    out = np.zeros(n)
    if n < 3:
        return out
    before, after = series_step[:-1], series_step[1:]   # into frame i, out of frame i, for i = 1..n-2
    size = np.minimum(np.abs(before), np.abs(after))
    if signed:
        size = np.where(np.sign(before) == -np.sign(after), size, 0.0)
    out[1:-1] = size
    return out


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.gray)
    if n < 2:
        return MetricResult(name=NAME, value=None, reason="not measured: needs at least 2 frames")
    m = ctx.motion
    score = float((255.0 - m.warp_error.mean()) / 255.0)

    swing = _against_both(np.diff(ctx.luma_mean), signed=True)
    local = _against_both(m.lowpass_residual, signed=False)
    bright_bad = (swing > s.flicker_brightness_limit) & ~ctx.blank   # a lone black frame: exposure.py
    local_bad = (local > s.flicker_local_limit) & ~ctx.blank
    # A faint pulse (2-5 grey levels) goes unnoticed on one frame but shimmers when it keeps
    # alternating; a run of such frames is flicker even below the per-frame limit.
    faint_bad = np.zeros(n, bool)
    for a, b in runs(list(np.flatnonzero((swing > s.flicker_faint_limit) & ~ctx.blank & ~bright_bad))):
        if b - a + 1 >= s.flicker_faint_min_run:
            faint_bad[a:b + 1] = True
    bad = bright_bad | local_bad | faint_bad

    reasons = []
    if faint_bad.any():
        frames = ctx.frame_numbers(faint_bad)
        reasons.append(
            f"{ctx.describe_frames(frames)} flicker faintly: brightness pulses {swing[faint_bad].mean():.1f}/255 up and "
            f"down on every frame, {faint_bad.sum()} frames running (limit {s.flicker_faint_min_run - 1} such frames in a row "
            f"above {s.flicker_faint_limit:g}/255)"
        )
    if bright_bad.any():
        frames = ctx.frame_numbers(bright_bad)
        reasons.append(
            f"{ctx.describe_frames(frames)} flicker: brightness swings {swing.max():.0f}/255 against the "
            f"neighbouring frames, limit {s.flicker_brightness_limit:g}"
        )
    if local_bad.any() and not bright_bad[local_bad].all():
        frames = ctx.frame_numbers(local_bad & ~bright_bad)
        reasons.append(
            f"{ctx.describe_frames(frames)} flicker in places: {local[local_bad].max():.0f}/255 change that "
            f"camera motion does not explain, limit {s.flicker_local_limit:g}"
        )
    if score < s.flicker_min_score:
        reasons.append(
            f"the picture changes {m.warp_error.mean():.1f}/255 per frame beyond the camera's motion "
            f"(flicker score {score:.3f}, limit {s.flicker_min_score:g})"
        )
    passed = not reasons
    if passed:
        reasons.append(f"steady: flicker score {score:.3f}, largest brightness swing {swing.max():.1f}/255")
    # The curve people see: how much each frame jumps against its neighbours, with the same limit.
    per_frame = np.maximum(swing, local)
    return MetricResult(
        name=NAME, value=round(score, 4), range=(0.0, 1.0), higher_is_better=True,
        threshold=s.flicker_min_score, passed=passed,
        frames=ctx.frame_numbers(bad), reason="; ".join(reasons),
        per_frame=[round(float(v), 3) for v in per_frame],
    )


PER_FRAME = "jump against both neighbours (/255)"


def plot_limits(settings) -> list[float]:
    return [settings.flicker_brightness_limit]
