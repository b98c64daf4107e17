"""Frozen or duplicated frames in a shot that should move.

A frame in which less than ``frozen_change`` of the pixels changed by more than 6 grey levels from
the frame before is a repeat (no motion compensation: a real repeat is the same picture; a threshold
per pixel rather than a mean, so codec noise on a repeat does not count as change, and a slow move
over flat graphics, which changes few pixels but by a lot, does). The take fails when the
shot asks for motion (a camera move other than static, or an action) and there is a run of at least
``frozen_min_run`` identical frames, or repeats make up more than ``frozen_max_fraction`` of the clip.
For a static shot with no action this is reported but not judged: stillness is what was asked for.

Value: share of frames that change from the previous one, range 0..1, higher is better.
"""

from __future__ import annotations

import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis, pair_to_frames, runs

NAME = "frozen"
PER_FRAME = "pixels changed from previous frame (share)"


def plot_limits(settings) -> list[float]:
    return [settings.frozen_change]


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.gray)
    if n < 2:
        return MetricResult(name=NAME, value=None, reason="not measured: needs at least 2 frames")
    change = ctx.motion.changed
    # pair i: frame i+1 repeats frame i. Runs of black frames are exposure.py's finding, not a freeze.
    repeat = (ctx.motion.changed < s.frozen_change) & ~(ctx.blank[1:] & ctx.blank[:-1])
    value = float(1.0 - repeat.mean())
    # Frames in a repeated run: frame i and i+1 for every repeating pair.
    held = np.zeros(n, bool)
    held[1:] |= repeat
    held[:-1] |= repeat
    held_frames = ctx.frame_numbers(held)
    long_runs = [(a, b) for a, b in runs(list(np.flatnonzero(held))) if b - a + 1 >= s.frozen_min_run]
    too_many = repeat.mean() > s.frozen_max_fraction

    if not held.any():
        return MetricResult(
            name=NAME, value=round(value, 4), threshold=1.0 - s.frozen_max_fraction, passed=True,
            reason="every frame moves", per_frame=[round(float(v), 5) for v in pair_to_frames(change, n)],
        )
    frames_desc = ctx.describe_frames(held_frames)
    if not ctx.expects_motion:
        passed = None
        reason = f"{ctx.frames_are(held_frames, 'hold', 'holds')} still; the shot is static with no action, so this is not judged"
    elif long_runs or too_many:
        passed = False
        longest = max((b - a + 1 for a, b in runs(list(np.flatnonzero(held)))), default=0)
        asks = f"camera '{ctx.camera}'" if ctx.camera not in ("", "static") else "motion"
        reason = (f"{ctx.frames_are(held_frames)} frozen ({longest} identical frames in a row, {repeat.mean():.0%} of the clip "
                  f"repeats) but the shot asks for {asks}; limit {s.frozen_min_run - 1} repeats in a row")
    else:
        passed = True
        reason = f"a few repeated frames ({frames_desc}), within limits"
    return MetricResult(
        name=NAME, value=round(value, 4), range=(0.0, 1.0), higher_is_better=True,
        threshold=1.0 - s.frozen_max_fraction, passed=passed,
        frames=held_frames if passed is False else [], reason=reason,
        per_frame=[round(float(v), 5) for v in pair_to_frames(change, n)],
    )
