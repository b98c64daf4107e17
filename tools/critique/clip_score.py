"""Text alignment: CLIPScore between the shot's prompt and its frames.

CLIPScore (Hessel et al. 2021, as torchmetrics computes it): 100 x the cosine similarity of the CLIP
image embedding of a frame and the CLIP text embedding of the prompt. Per frame it is reported as
max(100 cos, 0); the take's value is max(mean of 100 cos, 0), exactly torchmetrics' `CLIPScore`.
Range 0..100, higher is better (matching prompts score ~25-35 on ViT-B/32; unrelated ones ~15).

Weights come from `settings.clip_model`: a local folder or a Hugging Face cache id, always loaded
with local_files_only=True. Nothing is downloaded. Without weights the metric is "not measured"
(value None) and says how to fix it; it never invents a number.

No CLIPProcessor (its default backend wants torchvision, which we do not install): frames are resized
(shortest side to the model's image_size, bicubic, as CLIP's processor does), centre-cropped, and
normalised with CLIP's mean/std here; the prompt is tokenised by the checkpoint's CLIPTokenizer,
truncated to the model's context length with the end token kept.

Up to `clip_max_frames` frames are sampled evenly and encoded in batches of `clip_batch_size`, in
bfloat16 on CPUs with avx512_bf16 (about 3x faster there) and float32 elsewhere.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

from storyboards.schema import MetricResult

from .settings import CriticSettings

NAME = "clip_score"
PER_FRAME = "CLIPScore (0..100)"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def plot_limits(settings) -> list[float]:
    return [settings.clip_min_score]


class ClipWeightsMissing(RuntimeError):
    pass


@dataclass
class LoadedClip:
    model: Any
    tokenizer: Any
    image_size: int
    max_tokens: int
    dtype: Any


_CACHE: dict[tuple[str, str], LoadedClip] = {}
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """avx512_bf16 or AMX: where casting CLIP to bfloat16 pays off (3x here); elsewhere it is slower."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _dtype_name(settings: CriticSettings) -> str:
    if settings.clip_dtype != "auto":
        return settings.clip_dtype
    return "bfloat16" if cpu_has_bf16() else "float32"


def weights_present(model: str) -> bool:
    """Whether CLIP weights are on disk, decided without importing torch or transformers (~5 s)."""
    from pathlib import Path

    local = Path(model).expanduser()
    if local.is_dir():
        return (local / "config.json").is_file()
    if local.suffix or model.startswith((".", "/", "~")):
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:   # the core install (`make demo`) has no Hugging Face stack, hence no CLIP
        return False
    found = try_to_load_from_cache(model, "config.json")
    return isinstance(found, str)


_MISSING: set[str] = set()


def load_clip(settings: CriticSettings) -> LoadedClip:
    """The CLIP model and tokenizer named by settings, loaded once per process and dtype."""
    key = (settings.clip_model, _dtype_name(settings))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if settings.clip_model in _MISSING or not weights_present(settings.clip_model):
            _MISSING.add(settings.clip_model)
            raise ClipWeightsMissing(f"no CLIP weights at '{settings.clip_model}'")
        import torch
        from transformers import CLIPModel, CLIPTokenizer

        try:
            model = CLIPModel.from_pretrained(settings.clip_model, local_files_only=True)
            tokenizer = CLIPTokenizer.from_pretrained(settings.clip_model, local_files_only=True)
        except (OSError, ValueError) as err:
            raise ClipWeightsMissing(str(err)) from err
        dtype = torch.bfloat16 if key[1] == "bfloat16" else torch.float32
        model = model.to(dtype).eval()
        image_size = int(model.config.vision_config.image_size)
        max_tokens = int(model.config.text_config.max_position_embeddings)
        if tokenizer.model_max_length and tokenizer.model_max_length < max_tokens:
            max_tokens = int(tokenizer.model_max_length)
        loaded = LoadedClip(model, tokenizer, image_size, max_tokens, dtype)
        _CACHE[key] = loaded
        return loaded


def pixel_values(frames: np.ndarray, image_size: int) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB -> (N, 3, S, S) float32, as CLIP's image processor makes them."""
    out = np.empty((len(frames), 3, image_size, image_size), np.float32)
    mean = np.array(CLIP_MEAN, np.float32)
    std = np.array(CLIP_STD, np.float32)
    for i, f in enumerate(frames):
        h, w = f.shape[:2]
        if h <= w:
            nh, nw = image_size, int(image_size * w / h)
        else:
            nh, nw = int(image_size * h / w), image_size
        img = Image.fromarray(np.ascontiguousarray(f))
        if (nh, nw) != (h, w):
            img = img.resize((nw, nh), Image.Resampling.BICUBIC)
        a = np.asarray(img, np.float32)
        top, left = (nh - image_size) // 2, (nw - image_size) // 2
        a = a[top:top + image_size, left:left + image_size] * np.float32(1 / 255)
        out[i] = ((a - mean) / std).transpose(2, 0, 1)
    return out


def _features(output) -> Any:
    # transformers 5 returns a model output whose pooler_output is the projected embedding.
    return output if hasattr(output, "norm") else output.pooler_output


def image_embeddings(frames: np.ndarray, clip: LoadedClip, batch_size: int) -> np.ndarray:
    """L2-normalised CLIP image embeddings, float32 (N, D)."""
    import torch

    chunks = []
    with torch.inference_mode():
        for start in range(0, len(frames), batch_size):
            px = torch.from_numpy(pixel_values(frames[start:start + batch_size], clip.image_size)).to(clip.dtype)
            emb = _features(clip.model.get_image_features(pixel_values=px)).float()
            chunks.append(emb / emb.norm(dim=-1, keepdim=True))
    return torch.cat(chunks).numpy()


def text_embedding(text: str, clip: LoadedClip) -> np.ndarray:
    import torch

    tok = clip.tokenizer(text, truncation=True, max_length=clip.max_tokens, return_tensors="pt")
    with torch.inference_mode():
        emb = _features(clip.model.get_text_features(input_ids=tok["input_ids"],
                                                      attention_mask=tok["attention_mask"])).float()
    emb = emb / emb.norm(dim=-1, keepdim=True)
    return emb[0].numpy()


def sample_indices(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def not_found_reason(settings: CriticSettings) -> str:
    return (f"not measured: CLIP weights '{settings.clip_model}' not found "
            f"(set DIRECTOR_CRITIC_CLIP_MODEL to a local path)")


def clip_score(frames: np.ndarray, prompt: str, settings: CriticSettings | None = None,
               index: np.ndarray | None = None, batch_size: int | None = None) -> MetricResult:
    """CLIPScore of `prompt` against up to `clip_max_frames` evenly sampled frames."""
    s = settings or CriticSettings()
    base = dict(name=NAME, range=(0.0, 100.0), higher_is_better=True, threshold=s.clip_min_score)
    if not prompt or not prompt.strip():
        return MetricResult(value=None, reason="not measured: no prompt to compare the frames with", **base)
    try:
        clip = load_clip(s)
    except ClipWeightsMissing:
        return MetricResult(value=None, reason=not_found_reason(s), **base)
    picks = sample_indices(len(frames), s.clip_max_frames)
    img = image_embeddings(np.asarray(frames)[picks], clip, batch_size or s.clip_batch_size)
    txt = text_embedding(prompt, clip)
    raw = 100.0 * img @ txt
    value = max(float(raw.mean()), 0.0)
    per_frame = np.maximum(raw, 0.0)
    numbers = [int(index[i]) if index is not None else int(i) for i in picks]
    passed = value >= s.clip_min_score
    if passed:
        reason = f"the frames match the prompt: CLIPScore {value:.1f} (limit {s.clip_min_score:g})"
    else:
        worst = numbers[int(np.argmin(raw))]
        reason = (f"the frames do not look like the prompt: CLIPScore {value:.1f}, limit {s.clip_min_score:g} "
                  f"(worst at frame {worst}: {per_frame.min():.1f})")
    return MetricResult(value=round(value, 4), passed=passed, frames=numbers, reason=reason,
                        per_frame=[round(float(v), 4) for v in per_frame], **base)


def measure(ctx, prompt: str | None) -> MetricResult:
    return clip_score(ctx.frames, prompt or "", ctx.settings, index=ctx.index)
