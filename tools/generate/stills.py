"""Keyframes: one still per shot, to approve before paying for video.

Offline, the still is the animatic's first frame of the shot (its palette, blocking, framing and
cast, exactly as the previz will open). With `DIRECTOR_DIFFUSERS_DEFAULT_T2I` naming a text-to-image
model (any local Stable Diffusion, SDXL or Flux folder, or a Hugging Face id in the local cache), the
still comes from that pipeline instead: loaded once, on the device and dtype the diffusers backend
chooses, used by one caller at a time (a pipeline's scheduler is not thread-safe).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import BackendError, GenerationRequest


@dataclass
class Still:
    image: np.ndarray      # (H, W, 3) uint8 RGB
    backend: str
    model: str


class DiffusersStills:
    """A text-to-image pipeline from a local folder or the cache, kept loaded for the next still."""

    def __init__(self) -> None:
        self._pipes: dict[str, Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def configured_model() -> str | None:
        from .diffusers_backend import DiffusersSettings

        return DiffusersSettings().default_t2i

    def make(self, model_id: str, prompt: str, negative: str, width: int, height: int, seed: int) -> Still:
        import torch

        from .diffusers_backend import DiffusersBackend

        backend = DiffusersBackend()
        with self._lock:
            pipe = self._pipes.get(model_id)
            if pipe is None:
                pipe = self._pipes[model_id] = self._load(backend, model_id)
            device, _ = backend.device_and_dtype()
            generator = torch.Generator("cpu").manual_seed(seed)
            # Image models work on multiples of 8 (SD) or 16 (Flux): make the still there, then fit it.
            w, h = max(16, width // 16 * 16), max(16, height // 16 * 16)
            kwargs: dict[str, Any] = {"prompt": prompt, "width": w, "height": h, "generator": generator, "output_type": "np"}
            if negative and "negative_prompt" in _call_parameters(pipe):
                kwargs["negative_prompt"] = negative
            if backend.settings.steps:
                kwargs["num_inference_steps"] = backend.settings.steps
            image = pipe(**kwargs).images[0]
        frame = (np.clip(np.asarray(image), 0, 1) * 255).round().astype(np.uint8)
        if frame.shape[:2] != (height, width):
            import cv2

            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LANCZOS4)
        return Still(frame, "diffusers", model_id)

    @staticmethod
    def _load(backend, model_id: str):
        import diffusers

        _, dtype = backend.device_and_dtype()
        try:
            pipe = diffusers.AutoPipelineForText2Image.from_pretrained(
                backend._resolve(model_id), dtype=dtype, local_files_only=not backend.settings.allow_downloads)
        except BackendError:
            raise
        except (OSError, ValueError) as exc:
            raise BackendError(f"could not load the text-to-image model '{model_id}' for keyframes "
                               f"(DIRECTOR_DIFFUSERS_DEFAULT_T2I): {exc}") from exc
        device, _ = backend.device_and_dtype()
        pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        return pipe


def _call_parameters(pipe) -> set[str]:
    import inspect

    return set(inspect.signature(pipe.__call__).parameters)


_diffusers_stills = DiffusersStills()


def make_still(request: GenerationRequest) -> Still:
    """The keyframe for one shot's request: the T2I model when configured, else the animatic's first frame."""
    model = DiffusersStills.configured_model()
    if model:
        return _diffusers_stills.make(model, request.prompt, request.negative_prompt, request.width, request.height,
                                      request.seed)
    from .animatic import AnimaticBackend

    backend = AnimaticBackend()
    one = GenerationRequest(**{**request.__dict__, "frames": 1})
    return Still(backend.generate(one).frames[0], "animatic", backend.model_id(one))
