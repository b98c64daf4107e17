"""Identity: does the take still show the cast member in their reference picture?

For a shot with a cast member who has reference images, each sampled frame is compared with the
references and the best match counts:
- with CLIP weights (``clip_model`` in settings, never downloaded): cosine similarity of CLIP image
  embeddings, range -1..1 (about 0.5 for unrelated pictures, above 0.8 for the same subject), failing
  below ``identity_clip_min``;
- without them: a colour signature (hue-saturation histogram correlation, 0..1), failing below
  ``identity_colour_min``. It is a rough check and the reason says so: it catches a subject whose
  colours drifted (a red coat turned blue), not a face that changed.

A previz (the animatic) drawing a text-to-video shot paints the member as a labelled silhouette, not
as their photograph, so there the result is reported and not judged.

Value: the lowest per-frame similarity over the sampled frames; higher is better.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from storyboards.schema import MetricResult

from .settings import CriticSettings

NAME = "identity"
PER_FRAME = "similarity to the cast member's reference"


def plot_limits(settings) -> list[float]:
    return [settings.identity_colour_min]


def references_in(shot: dict[str, Any]) -> list[tuple[str, Path]]:
    """(member name, reference path) for every cast member in the shot who has reference images."""
    out = []
    for member in shot.get("cast_members") or []:
        for ref in member.get("references") or []:
            out.append((str(member.get("name") or member.get("id")), Path(ref)))
    return out


def _load(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _hs_hist(rgb: np.ndarray) -> np.ndarray:
    """Hue-saturation histogram of the picture's colourful pixels (a coat, a face, a fur), where a
    subject's identity shows; grey backgrounds and skies say little. All pixels when few are colourful."""
    small = cv2.resize(rgb, (128, max(1, round(128 * rgb.shape[0] / rgb.shape[1]))), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    colourful = ((hsv[..., 1] > 80) & (hsv[..., 2] > 40)).astype(np.uint8)
    mask = colourful if colourful.mean() > 0.01 else None
    hist = cv2.calcHist([hsv], [0, 1], mask, [18, 8], [0, 180, 0, 256])
    return cv2.normalize(hist, hist).astype(np.float32)


def _similarities(frames: np.ndarray, refs: list[np.ndarray], settings: CriticSettings) -> tuple[np.ndarray, str]:
    from .clip_score import ClipWeightsMissing, image_embeddings, load_clip, weights_present

    if weights_present(settings.clip_model):
        try:
            clip = load_clip(settings)
            f = image_embeddings(frames, clip, settings.clip_batch_size)
            r = image_embeddings(np.stack([cv2.resize(x, (frames.shape[2], frames.shape[1])) for x in refs]), clip,
                                 settings.clip_batch_size)
            return (f @ r.T).max(axis=1), "clip"
        except ClipWeightsMissing:
            pass
    ref_hists = [_hs_hist(x) for x in refs]
    sims = [max(max(0.0, cv2.compareHist(h, _hs_hist(np.ascontiguousarray(fr)), cv2.HISTCMP_CORREL)) for h in ref_hists)
            for fr in frames]
    return np.array(sims), "colour"


def measure(frames: np.ndarray, shot: dict[str, Any], settings: CriticSettings, backend: str | None = None) -> MetricResult | None:
    """None when the shot has no cast member with a reference (nothing to compare)."""
    refs = references_in(shot)
    if not refs:
        return None
    names = sorted({name for name, _ in refs})
    try:
        images = [_load(p) for _, p in refs]
    except OSError as err:
        return MetricResult(name=NAME, value=None, reason=f"not measured: a reference of {', '.join(names)} cannot be read ({err})")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(8, len(frames))).round().astype(int))
    sims, how = _similarities(frames[picks], images, settings)
    limit = settings.identity_clip_min if how == "clip" else settings.identity_colour_min
    value = float(sims.min())
    method = "CLIP image embeddings" if how == "clip" else "colour signature (no CLIP weights: a rough check of colours, not faces)"
    who = " and ".join(names)
    drawn = backend == "animatic" and shot.get("mode", "t2v") == "t2v"
    if drawn:
        passed, reason = None, (f"not judged: the previz draws {who} as a labelled silhouette, not as the reference picture "
                                f"({method} {value:.2f})")
    elif value < limit:
        worst = int(picks[int(sims.argmin())])
        passed, reason = False, (f"{who} no longer looks like the reference from frame {worst}: similarity {value:.2f}, "
                                 f"limit {limit:g}, by {method}")
    else:
        passed, reason = True, f"{who} matches the reference: similarity {value:.2f} at worst (limit {limit:g}), by {method}"
    return MetricResult(name=NAME, value=round(value, 4), range=(-1.0 if how == "clip" else 0.0, 1.0), higher_is_better=True,
                        threshold=limit, passed=passed, frames=[int(picks[int(sims.argmin())])] if passed is False else [],
                        reason=reason, per_frame=[round(float(s), 4) for s in sims])
