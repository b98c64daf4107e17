"""Every threshold the critic uses, in one place.

Set any of them through the environment with the prefix ``DIRECTOR_CRITIC_`` (e.g.
``DIRECTOR_CRITIC_FLICKER_BRIGHTNESS_LIMIT=8``, ``DIRECTOR_CRITIC_CLIP_MODEL=/models/clip-vit-b32``),
or build ``CriticSettings(...)`` in code. ``backends`` holds per-backend overrides, e.g.
``DIRECTOR_CRITIC_BACKENDS='{"diffusers": {"noise_ratio": 2.5}}'``; ``for_backend(name)`` applies them.

Units: grey levels are 0..255 of the luma of the analysis copy (short side ``analysis_short_side``),
fractions are 0..1, "% of width" is a percentage of the frame width.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CriticSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_CRITIC_", extra="forbid", validate_assignment=True)

    # --- analysis
    analysis_short_side: int = Field(180, ge=64, le=720, description="frames are analysed shrunk by the whole factor that brings the short side nearest this (px)")
    max_frames: int = Field(1440, ge=2, description="longer clips are analysed on an even subsample of this many frames")

    # --- flicker (flicker.py)
    flicker_min_score: float = Field(0.95, description="VBench-style score (255 - motion-compensated MAE)/255 at least this")
    flicker_brightness_limit: float = Field(6.0, description="a frame's mean brightness may jump against both neighbours by at most this many grey levels")
    flicker_local_limit: float = Field(6.0, description="low-frequency change left after motion compensation, against both neighbours, grey levels")
    flicker_faint_limit: float = Field(1.5, description="a fainter brightness pulse (grey levels) that fails when it keeps alternating...")
    flicker_faint_min_run: int = Field(6, ge=3, description="...for this many frames in a row")

    # --- smoothness and shake (smoothness.py)
    smoothness_min: float = Field(0.90, description="1 - mean flow warping error/255 at least this")
    warp_error_limit: float = Field(25.0, description="a frame's flow warping error above this many grey levels is flagged")
    shake_limit: float = Field(0.5, description="high-frequency camera motion, % of frame width, per frame")
    shake_min_frames: int = Field(3, description="this many shaking frames fail the take")

    # --- frozen (frozen.py)
    frozen_change: float = Field(0.002, description="a frame in which less than this share of pixels changed (by > 6 grey levels) is a repeat")
    frozen_min_run: int = Field(3, ge=2, description="this many identical frames in a row fail a shot that should move")
    frozen_max_fraction: float = Field(0.3, description="or this share of all frames repeated")

    # --- exposure (exposure.py)
    black_level: int = Field(16, description="luma at or below this is crushed black")
    white_level: int = Field(245, description="luma at or above this is clipped white")
    clipped_limit: float = Field(0.5, description="a frame with more than this share of clipped pixels is flagged")
    exposure_flat_std: float = Field(1.5, description="a night or high-key shot fails only frames whose grey spread is below this...")
    exposure_lost_share: float = Field(0.98, description="...or with at least this share of pixels clipped (no picture left)")

    # --- cuts (scene_cut.py)
    cut_min_distance: float = Field(0.25, description="colour-histogram (Bhattacharyya) distance that can be a cut")
    cut_ratio: float = Field(3.0, description="and at least this many times the distance between neighbouring frames")

    # --- noise (noise.py)
    noise_ratio: float = Field(1.8, description="a frame noisier than this many times the clip's median noise is a burst")
    noise_min_delta: float = Field(1.5, description="and noisier by at least this many grey levels (sigma)")

    # --- sharpness (sharpness.py)
    sharpness_min: float = Field(15.0, description="variance of the Laplacian at the analysis size; below is blurred")
    sharpness_soft_factor: float = Field(0.1, gt=0, le=1, description="a shot that asks for haze, fog or soft focus may be this share of sharpness_min")
    sharpness_drop: float = Field(0.35, description="a frame below this share of the clip's median sharpness is a blur burst")

    # --- consistency (consistency.py)
    consistency_min: float = Field(0.45, description="similarity of each frame to the first and to the previous frame, 0..1")
    subject_min: float = Field(0.35, description="on a still background: the moving subject's colours against its first look, 0..1")
    subject_min_frames: int = Field(3, ge=1, description="this many frames below subject_min fail the take (a subject that morphs)")
    style_intent_allowance: float = Field(45.0, description="Delta E a shot may differ in the direction its lighting/atmosphere asks (darker for night, brighter for high key)")
    identity_clip_min: float = Field(0.75, description="CLIP image similarity of a take to its cast member's reference, at least")
    identity_colour_min: float = Field(0.35, description="without CLIP: colour-signature similarity to the reference, at least")
    style_max_distance: float = Field(20.0, description="a shot's Lab colour statistics may lie at most this far (Delta E) from the film's mean")

    # --- CLIP text alignment (clip_score.py)
    clip_model: str = Field("openai/clip-vit-base-patch32", description="local folder or Hugging Face cache id; never downloaded")
    clip_max_frames: int = Field(16, ge=1, description="frames sampled evenly for CLIP")
    clip_batch_size: int = Field(16, ge=1)
    clip_min_score: float = Field(20.0, description="CLIPScore (0..100) at least this")
    clip_dtype: Literal["auto", "float32", "bfloat16"] = Field("auto", description="auto: bfloat16 on CPUs with avx512_bf16, else float32")

    # --- aesthetic (aesthetic.py)
    aesthetic_head: str | None = Field(None, description="LAION aesthetic predictor weights (.pth / .safetensors); needs the matching CLIP in clip_model")
    aesthetic_min: float | None = Field(None, description="1..10; None: report only")

    # --- per-backend overrides: {"backend name": {"field": value}}
    backends: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def for_backend(self, backend: str | None) -> CriticSettings:
        """These settings with the overrides for `backend` applied (unchanged when it has none)."""
        overrides = self.backends.get(backend or "", {})
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(type(self).model_fields) - {"backends"})
        if unknown:
            raise ValueError(
                f"critic overrides for backend '{backend}' name unknown settings: {', '.join(unknown)}; "
                f"known: {', '.join(sorted(type(self).model_fields))}"
            )
        data = self.model_dump()
        data.update(overrides)
        return type(self).model_validate(data)
