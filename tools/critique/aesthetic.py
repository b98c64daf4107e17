"""Aesthetic quality: the LAION aesthetic predictor on CLIP image embeddings.

The LAION predictors are a linear layer (``sa_0_4_vit_l_14_linear.pth``: 768 -> 1) or a stack of
linear layers with dropout and no activation (``improved-aesthetic-predictor``'s ``sac+logos+ava1-l14-
linearMSE.pth``: 768 -> 1024 -> 128 -> 64 -> 16 -> 1) applied to the L2-normalised image embedding of
CLIP ViT-L/14. Either kind of state dict is read here as the chain of its linear layers in key order.
Configure ``aesthetic_head`` (the weights file) and ``clip_model`` (the matching CLIP); otherwise, or
when their sizes do not match, the metric is not measured.

Value: mean predicted rating over the sampled frames, range 1..10, higher is better. Judged only when
``aesthetic_min`` is set; otherwise reported for picking between takes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from storyboards.schema import MetricResult

from .clip_score import ClipWeightsMissing, image_embeddings, load_clip, not_found_reason, sample_indices
from .settings import CriticSettings

NAME = "aesthetic"
PER_FRAME = "aesthetic rating (1..10)"


def plot_limits(settings) -> list[float]:
    return [settings.aesthetic_min] if settings.aesthetic_min is not None else []


@lru_cache(maxsize=4)
def load_head(path: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(weight (out, in), bias (out,)), ...] in the order the layers apply."""
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file

        state = load_file(path)
    else:
        import torch

        state = {k: v.float().numpy() for k, v in torch.load(path, map_location="cpu", weights_only=True).items()}
    weights = sorted(k for k in state if k.endswith("weight") and state[k].ndim == 2)

    def order(key: str) -> list:
        return [int(p) if p.isdigit() else p for p in key.split(".")]

    layers = []
    for k in sorted(weights, key=order):
        layers.append((state[k].astype(np.float32), state[k[: -len("weight")] + "bias"].astype(np.float32)))
    if not layers:
        raise ValueError(f"{path} holds no linear layers (keys: {', '.join(list(state)[:6])})")
    return layers


def measure(ctx) -> MetricResult:
    s: CriticSettings = ctx.settings
    base = dict(name=NAME, range=(1.0, 10.0), higher_is_better=True, threshold=s.aesthetic_min)
    if not s.aesthetic_head:
        return MetricResult(value=None, reason="not measured: no aesthetic predictor configured "
                            "(set DIRECTOR_CRITIC_AESTHETIC_HEAD to the LAION predictor's weights)", **base)
    try:
        head = load_head(s.aesthetic_head)
    except (OSError, ValueError, RuntimeError) as err:
        return MetricResult(value=None, reason=f"not measured: aesthetic predictor '{s.aesthetic_head}' "
                            f"could not be read ({err})", **base)
    try:
        clip = load_clip(s)
    except ClipWeightsMissing:
        return MetricResult(value=None, reason=not_found_reason(s), **base)
    picks = sample_indices(len(ctx.frames), s.clip_max_frames)
    emb = image_embeddings(ctx.frames[picks], clip, s.clip_batch_size)
    if emb.shape[1] != head[0][0].shape[1]:
        return MetricResult(value=None, reason=(
            f"not measured: the aesthetic predictor expects {head[0][0].shape[1]}-d CLIP embeddings, but "
            f"'{s.clip_model}' gives {emb.shape[1]} (it was trained on CLIP ViT-L/14)"), **base)
    x = emb
    for w, b in head:
        x = x @ w.T + b
    rating = x[:, 0]
    value = float(rating.mean())
    passed = None if s.aesthetic_min is None else value >= s.aesthetic_min
    reason = f"aesthetic rating {value:.2f}/10" + (
        "" if passed is None else f" (limit {s.aesthetic_min:g})" if passed else
        f": below the limit {s.aesthetic_min:g}")
    return MetricResult(value=round(value, 4), passed=passed, frames=[int(ctx.index[i]) for i in picks],
                        reason=reason, per_frame=[round(float(v), 4) for v in rating], **base)
