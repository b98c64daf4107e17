"""Subject consistency within a take, and style consistency across the shots of a film.

``measure`` (name "consistency"): does the take keep showing the same thing? VBench compares each
frame's DINO features with the first frame and the previous one; without a network we compare
colour content (a hue-saturation histogram, correlation) with the first frame and with the previous
frame, and coarse structure (a 32-px-wide grey thumbnail, normalised correlation) with the previous
frame only, since a camera move legitimately changes the structure relative to the first frame.
Per frame the three similarities are averaged. Value: mean over frames, range 0..1, higher is better;
frames below ``consistency_min`` are named (a subject that morphs, a scene that turns into another).

``style_consistency(clips)`` (name "style_consistency"): per shot, the mean and standard deviation of
L*, a*, b* (CIE Lab, on a few sampled frames); each shot's distance (Delta E-like, Euclidean over the
six numbers) to the film's mean. Value: the largest distance, range 0..~200, lower is better; the
`frames` of the result are the *shot indices* that stand out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from storyboards.schema import MetricResult

from .context import Analysis
from .intent import Intent
from .settings import CriticSettings

NAME = "consistency"
STYLE = "style_consistency"
PER_FRAME = "similarity to first and previous frame"


def plot_limits(settings) -> list[float]:
    return [settings.consistency_min]


def _hs_hist(frame: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(np.ascontiguousarray(frame[::2, ::2]), cv2.COLOR_RGB2HSV)
    h = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
    return cv2.normalize(h, h).astype(np.float32)


def _thumb(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    t = cv2.resize(gray, (32, max(4, round(32 * h / w))), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    t -= t.mean()
    norm = np.linalg.norm(t)
    return t / norm if norm > 1e-3 else t


def similarity_series(ctx: Analysis) -> np.ndarray:
    n = len(ctx.small)
    hists = [_hs_hist(f) for f in ctx.small]
    thumbs = [_thumb(g) for g in ctx.gray]
    sim = np.ones(n)
    seen = np.flatnonzero(~ctx.blank)    # blank frames are exposure.py's finding: compare around them
    if len(seen) < 2:
        return sim
    first = prev = seen[0]
    for t in seen[1:]:
        to_first = max(0.0, cv2.compareHist(hists[first], hists[t], cv2.HISTCMP_CORREL))
        to_prev = max(0.0, cv2.compareHist(hists[prev], hists[t], cv2.HISTCMP_CORREL))
        a, b = thumbs[prev], thumbs[t]
        prev = t
        # Two flat thumbnails (a plain sky) are the same structure, not an undefined one.
        struct = 1.0 if not a.any() and not b.any() else max(0.0, float(a @ b))
        sim[t] = (to_first + to_prev + struct) / 3.0
    return sim


def subject_series(ctx: Analysis) -> np.ndarray | None:
    """On a still background: per frame, how alike the moving subject's colours are to its first look
    (hue-saturation histogram correlation of the pixels that differ from the background, 0..1; NaN
    where no comparable subject is in view). None unless the shot asks for a static camera and the
    picture confirms it: with a moving camera the background is not known, and the whole-frame
    similarity above is all we judge.

    A subject that leaves, or a second one that enters, changes how much of the frame moves; such
    frames are not compared (NaN), so only a subject that turns into something else of about its own
    size counts as morphing."""
    m = ctx.motion
    if ctx.camera != "static" or len(m.shift) < 2 or float(np.median(np.abs(m.shift).max(axis=1))) > 0.3:
        return None
    small = ctx.small
    picks = np.unique(np.linspace(0, len(small) - 1, min(48, len(small))).round().astype(int))
    background = np.median(small[picks], axis=0).astype(np.int16)
    masks = [(np.abs(f.astype(np.int16) - background).max(axis=2) > 30).astype(np.uint8) for f in small]
    areas = np.array([float(mk.mean()) for mk in masks])
    series = np.full(len(small), np.nan)
    valid = np.flatnonzero((areas > 0.01) & ~ctx.blank)
    if len(valid) < 3:
        return series
    ref_idx = valid[:3]
    ref_area = float(areas[ref_idx].mean())
    hists = {}
    for i in valid:
        hsv = cv2.cvtColor(np.ascontiguousarray(small[i]), cv2.COLOR_RGB2HSV)
        h = cv2.calcHist([hsv], [0, 1], masks[i], [16, 8], [0, 180, 0, 256])
        hists[i] = cv2.normalize(h, h).astype(np.float32)
    ref = np.mean([hists[i] for i in ref_idx], axis=0).astype(np.float32)
    for i in valid:
        if 0.5 * ref_area <= areas[i] <= 2.0 * ref_area:
            series[i] = max(0.0, cv2.compareHist(ref, hists[i], cv2.HISTCMP_CORREL))
    return series


def measure(ctx: Analysis) -> MetricResult:
    s = ctx.settings
    n = len(ctx.small)
    if n < 2:
        return MetricResult(name=NAME, value=None, reason="not measured: needs at least 2 frames")
    sim = similarity_series(ctx)
    value = float(sim.mean())
    bad = sim < s.consistency_min
    reasons = []
    if bad.any():
        fr = ctx.frame_numbers(bad)
        reasons.append(f"{ctx.frames_are(fr, 'no longer look', 'no longer looks')} like the start of the take "
                       f"(similarity {sim[bad].min():.2f}, limit {s.consistency_min:g})")
    subject = subject_series(ctx)
    morph = np.zeros(n, bool)
    if subject is not None:
        low = np.nan_to_num(subject, nan=1.0) < s.subject_min
        if low.sum() >= s.subject_min_frames:
            morph = low
            fr = ctx.frame_numbers(morph)
            reasons.append(f"the subject changes into something else from {ctx.describe_frames(fr)}: its colours match its "
                           f"first look {np.nanmin(subject):.2f}, limit {s.subject_min:g}")
    bad |= morph
    if not reasons:
        reasons.append(f"consistent: similarity {value:.2f} on average, lowest {sim.min():.2f}")
    return MetricResult(
        name=NAME, value=round(value, 4), range=(0.0, 1.0), higher_is_better=True, threshold=s.consistency_min,
        passed=not bad.any(), frames=ctx.frame_numbers(bad), reason="; ".join(reasons),
        per_frame=[round(float(v), 4) for v in sim],
    )


def lab_statistics(frames: np.ndarray, samples: int = 8, width: int = 96) -> np.ndarray:
    """[mean L*, mean a*, mean b*, std L*, std a*, std b*] over `samples` evenly spaced frames."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"a clip is a (frames, height, width, 3) uint8 RGB array; got shape {frames.shape}")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(samples, len(frames))).round().astype(int))
    pixels = []
    for i in picks:
        f = frames[i]
        h, w = f.shape[:2]
        small = cv2.resize(f, (width, max(1, round(width * h / w))), interpolation=cv2.INTER_AREA)
        # float input in 0..1 gives true Lab units (L* 0..100, a*, b* about -128..127).
        pixels.append(cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3))
    lab = np.concatenate(pixels)
    return np.concatenate([lab.mean(axis=0), lab.std(axis=0)])


def _intended_offsets(stats: np.ndarray, reference: np.ndarray, intents: list[Intent], allowance: float) -> np.ndarray:
    """Each shot's Lab difference from the reference with the part its intent asked for taken out: a
    night shot may be darker (and lower in contrast, and cooler or warmer) by up to `allowance`, a
    high-key one brighter; never the other way."""
    delta = stats - reference
    for i, intent in enumerate(intents):
        if intent.tone == 0:
            continue
        for k in (0, 3):   # mean L*, spread of L*
            if np.sign(delta[i, k]) == intent.tone or k == 3:
                delta[i, k] = np.sign(delta[i, k]) * max(0.0, abs(delta[i, k]) - allowance)
        for k in (1, 2, 4, 5):   # a storm is bluer, candlelight warmer: colour follows the light
            delta[i, k] = np.sign(delta[i, k]) * max(0.0, abs(delta[i, k]) - allowance / 3)
    return delta


def style_consistency(
    clips: Sequence[np.ndarray] | Mapping[str, np.ndarray], settings: CriticSettings | None = None,
    looks: Sequence[str] | None = None,
) -> MetricResult:
    """Do the shots of a film share one look? `clips`: the takes in order, or {shot id: frames}.

    `looks`: each shot's asked-for look (its lighting, atmosphere, setting), in the same order. A shot
    that asks to be darker or brighter than the rest (night, storm, high key: see intent.py) is
    compared with the neutral shots and may differ in that direction: a look the person asked for is
    not a defect."""
    s = settings or CriticSettings()
    if isinstance(clips, Mapping):
        names = [str(k) for k in clips]
        arrays = list(clips.values())
    else:
        arrays = list(clips)
        names = [str(i) for i in range(len(arrays))]
    if len(arrays) < 2:
        return MetricResult(name=STYLE, value=None, range=(0.0, 200.0), higher_is_better=False,
                            reason="not measured: style consistency compares at least 2 shots")
    stats = np.stack([lab_statistics(a) for a in arrays])
    intents = [Intent.from_text(look) for look in looks] if looks is not None else [Intent()] * len(arrays)
    if len(intents) != len(arrays):
        raise ValueError(f"style_consistency: {len(arrays)} clips but {len(intents)} looks")
    neutral = [i for i, it in enumerate(intents) if it.tone == 0]
    # The film's look is that of the shots that ask for nothing special (all shots when none do).
    film = stats[neutral].mean(axis=0) if neutral and len(neutral) < len(arrays) else stats.mean(axis=0)
    raw = np.linalg.norm(stats - film, axis=1)
    dist = np.linalg.norm(_intended_offsets(stats, film, intents, s.style_intent_allowance), axis=1)
    bad = np.flatnonzero(dist > s.style_max_distance)
    label = (lambda i: f"shot {names[i]}") if isinstance(clips, Mapping) else (lambda i: f"shot {i + 1}")

    def tone_of(i: int) -> str:
        dl = stats[i, 0] - film[0]
        return "brighter" if dl > 5 else "darker" if dl < -5 else "differently coloured"

    if len(bad):
        parts = [f"{label(i)} is {tone_of(i)} than the rest of the film (Delta E {dist[i]:.0f} from the film's look"
                 + (", beyond what its light asks for" if intents[i].tone else "") + ")" for i in bad]
        reason = "; ".join(parts) + f"; limit {s.style_max_distance:g}"
    else:
        reason = f"one look across {len(arrays)} shots: largest Delta E {dist.max():.0f} from the film's look"
    asked = [i for i in range(len(arrays)) if intents[i].tone and raw[i] > s.style_max_distance and i not in bad]
    if asked:
        reason += "; " + "; ".join(f"{label(i)} is {tone_of(i)}, {intents[i].because()}" for i in asked)
    return MetricResult(
        name=STYLE, value=round(float(dist.max()), 3), range=(0.0, 200.0), higher_is_better=False,
        threshold=s.style_max_distance, passed=not len(bad), frames=[int(i) for i in bad], reason=reason,
        per_frame=[round(float(d), 3) for d in dist],
    )
