"""The video models the diffusers backend knows, with the limits each one puts on a request.

A person asks for "4 seconds at 24 fps, 1280x720"; each model accepts only some sizes, frame counts
and frame rates. This table says which, and `ModelSpec` snaps a request onto them. The backend then
makes the frames the model can make and fits them back to exactly what was asked for.

Nothing here imports torch or diffusers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

FAMILIES = ("ltx", "wan", "cogvideox", "animatediff", "svd")


@dataclass(frozen=True)
class ModelSpec:
    id: str                                   # Hugging Face repo id (or any name a pipeline is registered under)
    family: str                               # one of FAMILIES: decides the call arguments
    pipelines: dict[str, str]                 # mode -> diffusers pipeline class name
    fps: int | None                           # native frame rate; None: the model renders at any rate asked
    frame_step: int = 1                       # valid frame counts are frame_step * n + frame_offset ...
    frame_offset: int = 0
    min_frames: int = 1
    max_frames: int = 10_000                  # ... up to this many per call
    frame_counts: tuple[int, ...] = ()        # or exactly one of these (overrides the step rule)
    size_multiple: int = 8
    native_size: tuple[int, int] = (512, 512)  # (width, height) the model was trained at
    fixed_size: bool = False                  # True: only native_size works
    max_area: int | None = None               # cap on width*height per call (memory and training range)
    max_prompt_tokens: int = 77
    uses_prompt: bool = True                  # SVD is conditioned on the image alone
    vram_gb: float = 12.0                     # GPU memory a full load needs; less -> model CPU offload
    steps: int = 30                           # default denoising steps
    guidance: float = 5.0                     # default classifier-free guidance scale
    base_model: str | None = None             # AnimateDiff: the Stable Diffusion 1.5 model the adapter runs on
    note: str = ""

    # ---- frames ---------------------------------------------------------------------------------
    def valid_frames(self, n: int) -> int:
        """The smallest frame count this model accepts that is >= n (or the largest it accepts)."""
        if self.frame_counts:
            bigger = [c for c in sorted(self.frame_counts) if c >= n]
            return bigger[0] if bigger else max(self.frame_counts)
        n = max(n, self.min_frames)
        k = math.ceil((n - self.frame_offset) / self.frame_step)
        count = k * self.frame_step + self.frame_offset
        if count > self.max_frames:
            count = ((self.max_frames - self.frame_offset) // self.frame_step) * self.frame_step + self.frame_offset
        return max(count, self.frame_offset if self.frame_offset > 0 else self.frame_step)

    @property
    def longest(self) -> int:
        return max(self.frame_counts) if self.frame_counts else self.valid_frames(self.max_frames)

    def frame_rule(self) -> str:
        if self.frame_counts:
            return " or ".join(str(c) for c in self.frame_counts) + " frames"
        rule = f"{self.frame_step}n+{self.frame_offset}" if self.frame_offset else f"multiples of {self.frame_step}"
        return f"{rule} frames, at most {self.max_frames}"

    # ---- size -----------------------------------------------------------------------------------
    def generation_size(self, width: int, height: int) -> tuple[int, int]:
        """The size to generate at for a requested output size: same aspect, within the model's area,
        snapped to its multiple. The output is resized/cropped back to the requested size afterwards."""
        if self.fixed_size:
            nw, nh = self.native_size
            # a fixed-size model still serves portrait shots the right way round
            return (nw, nh) if (width >= height) == (nw >= nh) else (nh, nw)
        w, h = float(width), float(height)
        if self.max_area and w * h > self.max_area:
            scale = math.sqrt(self.max_area / (w * h))
            w, h = w * scale, h * scale
        m = self.size_multiple
        gw, gh = max(m, int(round(w / m)) * m), max(m, int(round(h / m)) * m)
        if self.max_area and gw * gh > self.max_area:   # rounding up went past the cap: round down
            gw, gh = max(m, int(w // m) * m), max(m, int(h // m) * m)
        return gw, gh

    def with_limits(self, **overrides) -> ModelSpec:
        return replace(self, **overrides)


def _spec(**kw) -> ModelSpec:
    return ModelSpec(**kw)


# Numbers come from each model card / the diffusers docs for the pipeline.
MODELS: dict[str, ModelSpec] = {
    s.id: s
    for s in [
        _spec(
            id="Lightricks/LTX-Video", family="ltx",
            pipelines={"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline"},
            fps=None, frame_step=8, frame_offset=1, max_frames=257, size_multiple=32,
            native_size=(768, 512), max_area=768 * 512, max_prompt_tokens=128, vram_gb=16, steps=40, guidance=3.0,
            note="2B DiT; renders at any frame rate (frame_rate argument); 8n+1 frames, sizes multiple of 32",
        ),
        _spec(
            id="Wan-AI/Wan2.1-T2V-1.3B-Diffusers", family="wan",
            pipelines={"t2v": "WanPipeline", "v2v": "WanVideoToVideoPipeline"},
            fps=16, frame_step=4, frame_offset=1, max_frames=81, size_multiple=16,
            native_size=(832, 480), max_area=832 * 480, max_prompt_tokens=512, vram_gb=10, steps=50, guidance=5.0,
        ),
        _spec(
            id="Wan-AI/Wan2.1-T2V-14B-Diffusers", family="wan",
            pipelines={"t2v": "WanPipeline", "v2v": "WanVideoToVideoPipeline"},
            fps=16, frame_step=4, frame_offset=1, max_frames=81, size_multiple=16,
            native_size=(1280, 720), max_area=1280 * 720, max_prompt_tokens=512, vram_gb=48, steps=50, guidance=5.0,
        ),
        _spec(
            id="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", family="wan",
            pipelines={"i2v": "WanImageToVideoPipeline"},
            fps=16, frame_step=4, frame_offset=1, max_frames=81, size_multiple=16,
            native_size=(832, 480), max_area=832 * 480, max_prompt_tokens=512, vram_gb=48, steps=50, guidance=5.0,
        ),
        _spec(
            id="Wan-AI/Wan2.1-I2V-14B-720P-Diffusers", family="wan",
            pipelines={"i2v": "WanImageToVideoPipeline"},
            fps=16, frame_step=4, frame_offset=1, max_frames=81, size_multiple=16,
            native_size=(1280, 720), max_area=1280 * 720, max_prompt_tokens=512, vram_gb=60, steps=50, guidance=5.0,
        ),
        _spec(
            id="THUDM/CogVideoX-2b", family="cogvideox",
            pipelines={"t2v": "CogVideoXPipeline", "v2v": "CogVideoXVideoToVideoPipeline"},
            fps=8, frame_counts=(49,), size_multiple=16, native_size=(720, 480), fixed_size=True,
            max_prompt_tokens=226, vram_gb=18, steps=50, guidance=6.0,
        ),
        _spec(
            id="THUDM/CogVideoX-5b", family="cogvideox",
            pipelines={"t2v": "CogVideoXPipeline", "v2v": "CogVideoXVideoToVideoPipeline"},
            fps=8, frame_counts=(49,), size_multiple=16, native_size=(720, 480), fixed_size=True,
            max_prompt_tokens=226, vram_gb=26, steps=50, guidance=6.0,
        ),
        _spec(
            id="THUDM/CogVideoX-5b-I2V", family="cogvideox",
            pipelines={"i2v": "CogVideoXImageToVideoPipeline"},
            fps=8, frame_counts=(49,), size_multiple=16, native_size=(720, 480), fixed_size=True,
            max_prompt_tokens=226, vram_gb=26, steps=50, guidance=6.0,
        ),
        _spec(
            id="guoyww/animatediff-motion-adapter-v1-5-2", family="animatediff",
            pipelines={"t2v": "AnimateDiffPipeline", "v2v": "AnimateDiffVideoToVideoPipeline"},
            fps=8, frame_counts=(16,), size_multiple=8, native_size=(512, 512), max_area=512 * 512,
            max_prompt_tokens=77, vram_gb=8, steps=25, guidance=7.5,
            base_model="stable-diffusion-v1-5/stable-diffusion-v1-5",
            note="a motion adapter on a Stable Diffusion 1.5 base (base_model)",
        ),
        _spec(
            id="stabilityai/stable-video-diffusion-img2vid", family="svd",
            pipelines={"i2v": "StableVideoDiffusionPipeline"},
            fps=7, frame_counts=(14,), size_multiple=64, native_size=(1024, 576), max_area=1024 * 576,
            uses_prompt=False, vram_gb=16, steps=25, guidance=3.0,
        ),
        _spec(
            id="stabilityai/stable-video-diffusion-img2vid-xt", family="svd",
            pipelines={"i2v": "StableVideoDiffusionPipeline"},
            fps=7, frame_counts=(25,), size_multiple=64, native_size=(1024, 576), max_area=1024 * 576,
            uses_prompt=False, vram_gb=20, steps=25, guidance=3.0,
        ),
    ]
}

# A family's limits, for a pipeline that is not in the table (a fine-tune in a local folder, or a
# pipeline registered in code): the first table entry of that family, with the union of its modes.
_FAMILY_TEMPLATE = {
    "ltx": "Lightricks/LTX-Video",
    "wan": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
    "cogvideox": "THUDM/CogVideoX-2b",
    "animatediff": "guoyww/animatediff-motion-adapter-v1-5-2",
    "svd": "stabilityai/stable-video-diffusion-img2vid-xt",
}
# Pipelines that run on the same weights, per family: LTX does t2v and i2v with one checkpoint; a Wan or
# CogVideoX text-to-video checkpoint also does v2v, but their image-to-video models are separate checkpoints.
_FAMILY_GROUPS = {
    "ltx": [{"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline"}],
    "wan": [{"t2v": "WanPipeline", "v2v": "WanVideoToVideoPipeline"}, {"i2v": "WanImageToVideoPipeline"}],
    "cogvideox": [{"t2v": "CogVideoXPipeline", "v2v": "CogVideoXVideoToVideoPipeline"},
                  {"i2v": "CogVideoXImageToVideoPipeline"}],
    "animatediff": [{"t2v": "AnimateDiffPipeline", "v2v": "AnimateDiffVideoToVideoPipeline"}],
    "svd": [{"i2v": "StableVideoDiffusionPipeline"}],
}
# diffusers pipeline class name -> (family, mode), to read a local folder's model_index.json
PIPELINE_CLASSES = {cls: (fam, mode) for fam, groups in _FAMILY_GROUPS.items()
                    for group in groups for mode, cls in group.items()}


def family_spec(family: str, model_id: str, mode: str | None = None, **overrides) -> ModelSpec:
    """Limits for a model of a known family that is not in MODELS."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family '{family}'; one of: {', '.join(FAMILIES)}")
    base = MODELS[_FAMILY_TEMPLATE[family]]
    groups = _FAMILY_GROUPS[family]
    # the tasks this checkpoint can do: those sharing weights with the one it was made for
    pipelines = next((g for g in groups if mode in g), groups[0])
    return replace(base, id=model_id, pipelines=dict(pipelines), **overrides)


def guess_family(model_id: str) -> str | None:
    text = model_id.lower()
    for key, fam in (("ltx", "ltx"), ("wan", "wan"), ("cogvideo", "cogvideox"), ("animatediff", "animatediff"),
                     ("stable-video-diffusion", "svd"), ("svd", "svd")):
        if key in text:
            return fam
    return None


def spec_for(model_id: str) -> ModelSpec | None:
    if model_id in MODELS:
        return MODELS[model_id]
    fam = guess_family(model_id)
    return family_spec(fam, model_id) if fam else None


def describe_models() -> str:
    rows = []
    for s in MODELS.values():
        fps = f"{s.fps} fps" if s.fps else "any fps"
        rows.append(f"{s.id}: {'/'.join(s.pipelines)}, {s.frame_rule()}, {fps}, sizes multiple of {s.size_multiple}")
    return "\n".join(rows)


__all__ = ["FAMILIES", "MODELS", "ModelSpec", "PIPELINE_CLASSES", "describe_models", "family_spec", "guess_family",
           "spec_for"]
