"""Run every metric on a take and turn the results into one verdict a person can read.

`critique_frames` analyses a downscaled copy (see context.py), runs the metrics, and returns a
`Critique`: every metric's result, pass/fail overall, the reasons (failing metrics and metrics that
could not be measured, each in words), and a combined score for picking the best take:

    score: passing takes land in [0.5, 1], failing ones in [0, 0.5). Within each band, the mean over
    judged metrics of how far each value sits from its limit toward the good end of its range.

Not-measured metrics (value None) never count for or against a take; informational ones (passed
None, e.g. shake in a handheld shot) do not either.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from storyboards.schema import Critique, MetricResult

from . import aesthetic, clip_score, consistency, exposure, flicker, frozen, identity, noise, scene_cut, sharpness, smoothness
from .context import Analysis
from .intent import shot_from_prompt
from .settings import CriticSettings

PIXEL_METRICS: dict[str, Callable[[Analysis], MetricResult]] = {
    "exposure": exposure.measure,
    "flicker": flicker.measure,
    "smoothness": smoothness.measure,
    "shake": smoothness.measure_shake,
    "frozen": frozen.measure,
    "scene_cut": scene_cut.measure,
    "noise": noise.measure,
    "sharpness": sharpness.measure,
    "consistency": consistency.measure,
}

# For the plot: what each metric's per-frame curve shows, and the limit(s) drawn on it.
PLOT_INFO: dict[str, tuple[str, Callable[[CriticSettings], list[float]]]] = {
    "exposure": (exposure.PER_FRAME, exposure.plot_limits),
    "flicker": (flicker.PER_FRAME, flicker.plot_limits),
    "smoothness": (smoothness.PER_FRAME, smoothness.plot_limits),
    "shake": (smoothness.SHAKE_PER_FRAME, smoothness.shake_plot_limits),
    "frozen": (frozen.PER_FRAME, frozen.plot_limits),
    "scene_cut": (scene_cut.PER_FRAME, scene_cut.plot_limits),
    "noise": (noise.PER_FRAME, noise.plot_limits),
    "sharpness": (sharpness.PER_FRAME, sharpness.plot_limits),
    "consistency": (consistency.PER_FRAME, consistency.plot_limits),
    "clip_score": (clip_score.PER_FRAME, clip_score.plot_limits),
    "aesthetic": (aesthetic.PER_FRAME, aesthetic.plot_limits),
    "identity": (identity.PER_FRAME, identity.plot_limits),
}


def _check_frames(frames: Any) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"frames must be a (frames, height, width, 3) RGB array; got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (0..255); got {arr.dtype}. Convert with (x * 255).round().astype(np.uint8)")
    if len(arr) == 0:
        raise ValueError("no frames to critique")
    return arr


def _goodness(m: MetricResult) -> float:
    """0..1: 0.5 at the limit, 1 at the good end of the range; below 0.5 exactly when it failed."""
    lo, hi = m.range
    good_end = hi if m.higher_is_better else lo
    if m.threshold is None or m.value is None:
        g = 0.75 if m.passed else 0.25
    else:
        span = abs(good_end - m.threshold) or 1.0
        toward = (m.value - m.threshold) if m.higher_is_better else (m.threshold - m.value)
        g = float(np.clip(0.5 + 0.5 * toward / span, 0.0, 1.0))
    # Frame-level failures can fail a metric whose clip-level value is fine, and the reverse.
    return min(g, 0.49) if m.passed is False else max(g, 0.5)


def summarise(metrics: dict[str, MetricResult]) -> Critique:
    """The verdict, reasons and score for a set of metric results."""
    reasons, not_measured, goods = [], [], []
    failed = False
    for name, m in metrics.items():
        if m.value is None:
            not_measured.append(name)
            reasons.append(f"{name}: {m.reason}")
            continue
        if m.passed is None:
            continue
        goods.append(_goodness(m))
        if m.passed is False:
            failed = True
            reasons.append(f"{name}: {m.reason}")
    # Failures first: they are what a person (or the regeneration loop) acts on.
    reasons.sort(key=lambda r: "not measured" in r)
    mean = float(np.mean(goods)) if goods else 1.0
    score = 0.5 * mean if failed else 0.5 + 0.5 * (mean - 0.5) / 0.5
    return Critique(metrics=metrics, verdict="fail" if failed else "pass", reasons=reasons,
                    score=round(float(np.clip(score, 0.0, 1.0)), 4), not_measured=not_measured)


def critique_frames(
    frames: np.ndarray,
    fps: float,
    *,
    prompt: str | None = None,
    shot: dict | None = None,
    backend: str | None = None,
    settings: CriticSettings | None = None,
) -> Critique:
    """Critique one take: (N, H, W, 3) uint8 RGB frames at `fps`.

    `prompt`: the composed prompt, for CLIP text alignment (not measured without one).
    `shot`: the Shot as a dict; `camera` and `action` decide whether stillness or shake is a fault.
    `backend`: applies that backend's overrides from `settings.backends` (default: shot['backend']).
    """
    arr = _check_frames(frames)
    if fps <= 0:
        raise ValueError(f"fps must be positive; got {fps}")
    # A free prompt ("a static locked-off shot of a vase") says what the camera and subject should do.
    shot = dict(shot or (shot_from_prompt(prompt) if prompt else {}))
    s = (settings or CriticSettings()).for_backend(backend or shot.get("backend"))
    index = np.arange(len(arr))
    if len(arr) > s.max_frames:
        # Even subsample; temporal metrics then compare frames `stride` apart, fps scaled to match.
        index = np.unique(np.linspace(0, len(arr) - 1, s.max_frames).round().astype(int))
        fps = fps * len(index) / len(arr)
        arr = arr[index]
    ctx = Analysis(frames=arr, fps=float(fps), settings=s, shot=shot, index=index)
    metrics = {name: fn(ctx) for name, fn in PIXEL_METRICS.items()}
    metrics["clip_score"] = clip_score.measure(ctx, prompt)
    metrics["aesthetic"] = aesthetic.measure(ctx)
    who = identity.measure(ctx.small, shot, s, backend or shot.get("backend"))
    if who is not None:
        metrics["identity"] = who
    return summarise(metrics)


def read_video(path: str | Path, max_short_side: int | None = None) -> tuple[np.ndarray, float]:
    """Decode a video to (N, H, W, 3) uint8 RGB with imageio-ffmpeg, optionally scaled down in ffmpeg."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no video at {path}")
    output_params: list[str] = []
    if max_short_side:
        # Only ever shrink; -2 keeps the other side even and the aspect ratio.
        m = int(max_short_side)
        output_params = ["-vf", f"scale='if(lt(iw,ih),min({m},iw),-2)':'if(lt(iw,ih),-2,min({m},ih))'"]
    try:
        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=output_params)
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration, subprocess.SubprocessError) as err:
        raise ValueError(f"could not read {path} as a video: {err}") from err
    w, h = meta["size"]
    chunks = [np.frombuffer(buf, np.uint8).reshape(h, w, 3) for buf in reader]
    if not chunks:
        raise ValueError(f"{path} has no video frames")
    return np.stack(chunks), float(meta.get("fps") or 24.0)


def critique_video(path: str | Path, prompt: str | None = None, shot: dict | None = None, *,
                   backend: str | None = None, settings: CriticSettings | None = None) -> Critique:
    """Critique a video file. Decoded at a short side just large enough for the analysis and CLIP."""
    s = settings or CriticSettings()
    frames, fps = read_video(path, max_short_side=max(s.analysis_short_side, 224))
    return critique_frames(frames, fps, prompt=prompt, shot=shot, backend=backend, settings=s)
