"""Motion smoothness and camera shake.

``measure`` (name "smoothness"): the flow warping error. Each frame is predicted from the previous one
by optical flow; what the prediction misses is motion that is not smooth (stutter, morphing, objects
popping in or out). Value: 1 - mean warping error / 255, range 0..1, higher is better; frames whose
error exceeds ``warp_error_limit`` grey levels are named.

``measure_shake`` (name "shake"): the camera's path (the median flow, integrated over time) minus a
smoothed copy of itself. A pan, a zoom or a slow handheld drift is low-frequency and stays in the
smoothed path; jitter and shake are what is left. Value: RMS of that residual in % of frame width,
range 0..100, lower is better. Informational (not judged) when the shot asks for a handheld camera.
"""

from __future__ import annotations

import cv2
import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis, pair_to_frames

NAME = "smoothness"
SHAKE = "shake"
PER_FRAME = "flow warping error (/255)"
SHAKE_PER_FRAME = "shake (% of width)"


def plot_limits(settings) -> list[float]:
    return [settings.warp_error_limit]


def shake_plot_limits(settings) -> list[float]:
    return [settings.shake_limit]


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.gray)
    if n < 2:
        return MetricResult(name=NAME, value=None, reason="not measured: needs at least 2 frames")
    err = ctx.motion.warp_error
    value = float(1.0 - err.mean() / 255.0)
    per_frame = pair_to_frames(err, n)
    bad = per_frame > s.warp_error_limit
    bad[0] = False   # frame 0 only borrows frame 1's value
    bad[1:] &= ~(ctx.blank[1:] | ctx.blank[:-1])   # into or out of a blank frame: exposure.py's finding
    reasons = []
    if value < s.smoothness_min:
        reasons.append(
            f"motion is not smooth: optical flow predicts frames with {err.mean():.1f}/255 mean error "
            f"(smoothness {value:.3f}, limit {s.smoothness_min:g})"
        )
    passed = not reasons
    if bad.any():
        note = (f"{ctx.frames_are(ctx.frame_numbers(bad), 'do', 'does')} not follow from the frame before "
                f"(warping error up to {per_frame.max():.0f}/255, limit {s.warp_error_limit:g})")
        reasons.append(note)
    if not reasons:
        reasons.append(f"smooth: warping error {err.mean():.1f}/255")
    return MetricResult(
        name=NAME, value=round(value, 4), range=(0.0, 1.0), higher_is_better=True,
        threshold=s.smoothness_min, passed=passed, frames=ctx.frame_numbers(bad),
        reason="; ".join(reasons), per_frame=[round(float(v), 3) for v in per_frame],
    )


def _point_reflect(x: np.ndarray, pad: int) -> np.ndarray:
    """Pad by point reflection, so a straight line (a steady pan) continues straight past the ends."""
    pad = min(pad, len(x) - 1)
    if pad <= 0:
        return x
    head = 2 * x[0] - x[pad:0:-1]
    tail = 2 * x[-1] - x[-2:-pad - 2:-1]
    return np.concatenate([head, x, tail])


def shake_series(ctx: Analysis) -> np.ndarray:
    """Per frame: the high-frequency part of the camera path, % of frame width."""
    n = len(ctx.gray)
    shift = ctx.motion.shift.copy()
    # Flow into or out of a blank frame is meaningless: assume the camera kept its usual pace there.
    blind = ctx.blank[1:] | ctx.blank[:-1]
    if blind.any() and not blind.all():
        shift[blind] = np.median(shift[~blind], axis=0)
    path = np.zeros((n, 2))
    path[1:] = np.cumsum(shift, axis=0)
    # Shake is what moves faster than ~3 Hz: smooth with sigma ~ fps/20 frames (1.2 at 24 fps).
    sigma = max(1.0, float(ctx.fps) / 20.0)
    radius = int(3 * sigma + 0.5)
    k = cv2.getGaussianKernel(2 * radius + 1, sigma).ravel()
    resid = np.zeros(n)
    for axis in range(2):
        padded = _point_reflect(path[:, axis], radius)
        p = (len(padded) - n) // 2
        smooth = np.convolve(padded, k, mode="same")[p:p + n]
        resid += (path[:, axis] - smooth) ** 2
    return 100.0 * np.sqrt(resid) / ctx.width


def measure_shake(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.gray)
    if n < 4:
        return MetricResult(name=SHAKE, value=None, range=(0.0, 100.0), higher_is_better=False,
                            reason="not measured: needs at least 4 frames")
    shake = shake_series(ctx)
    value = float(np.sqrt((shake ** 2).mean()))
    bad = shake > s.shake_limit
    handheld = ctx.camera == "handheld"
    if handheld:
        passed = None
        reason = f"camera shakes {value:.2f}% of the frame width (RMS); expected for a handheld shot"
        frames: list[int] = []
    elif bad.sum() >= s.shake_min_frames:
        passed = False
        frames = ctx.frame_numbers(bad)
        reason = (f"{ctx.describe_frames(frames)}: the camera shakes {shake.max():.1f}% of the frame width "
                  f"between frames, limit {s.shake_limit:g}% (the shot does not ask for handheld)")
    else:
        passed = True
        frames = []
        reason = f"steady camera: shake {value:.2f}% of the frame width (RMS)"
    return MetricResult(
        name=SHAKE, value=round(value, 4), range=(0.0, 100.0), higher_is_better=False,
        threshold=s.shake_limit, passed=passed, frames=frames, reason=reason,
        per_frame=[round(float(v), 4) for v in shake],
    )
