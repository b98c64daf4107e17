"""The `diffusers` backend: real text-, image- and video-to-video models run locally.

LTX-Video, Wan 2.1, CogVideoX, AnimateDiff and Stable Video Diffusion through Hugging Face diffusers.

- Which model: the request's `model`, else the default for its mode (settings below).
- Weights: a local folder (DIRECTOR_DIFFUSERS_MODEL_PATHS) or the Hugging Face cache, never the network
  unless DIRECTOR_DIFFUSERS_ALLOW_DOWNLOADS=1. A missing model is a BackendError saying how to fetch it.
- Each model's limits (sizes, frame counts, fps, prompt length; see diffusers_models.py) are met by
  `plan()`, not by the person asking. Shots longer than one call are made as consecutive segments, each
  continued from the last frame of the previous one (when the model can start from an image), or
  retimed. The result is always exactly request.frames frames of request.width x request.height, and
  `result.notes` says what was done to get there.
- One pipeline per model id per backend instance (one instance per process via `get_backend`), placed
  on the best device with a fitting dtype; model CPU offload when the GPU is smaller than the model
  needs; VAE tiling/slicing on accelerators.

Settings (environment, prefix DIRECTOR_DIFFUSERS_): DEFAULT_T2V, DEFAULT_I2V, DEFAULT_V2V, MODEL_PATHS
(JSON {"model id": "/folder"}), ALLOW_DOWNLOADS, CACHE_DIR, DEVICE, DTYPE, LORA_PATHS (JSON {"model id":
["/a.safetensors", ...]}), LORA_SCALE, STEPS, GUIDANCE.

torch and diffusers are imported inside the methods that need them, so importing this file is cheap.
"""

from __future__ import annotations

import inspect
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.enhance.frames import cover, fit_size, read_video
from tools.enhance.interpolate import retime
from tools.generate.base import EXCLUSIVE, BackendError, GenerationError, GenerationRequest, GenerationResult, Timer
from tools.generate.diffusers_models import (
    MODELS,
    PIPELINE_CLASSES,
    ModelSpec,
    family_spec,
    guess_family,
)


class DiffusersSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_DIFFUSERS_", extra="ignore")

    default_t2v: str = "Lightricks/LTX-Video"
    default_i2v: str = "Lightricks/LTX-Video"
    default_v2v: str = "THUDM/CogVideoX-2b"
    default_t2i: str | None = None         # keyframes: a text-to-image model (SD/SDXL/Flux); None: the animatic's first frame
    model_paths: dict[str, Path] = {}
    allow_downloads: bool = False
    cache_dir: Path | None = None          # Hugging Face hub cache; None: HF_HOME / HF_HUB_CACHE as usual
    device: str | None = None              # cuda | cuda:1 | mps | cpu; None: the best available
    dtype: str | None = None               # float32 | float16 | bfloat16; None: chosen for the device
    lora_paths: dict[str, list[str]] = {}  # model id -> LoRA weight files or folders
    lora_scale: float = 1.0
    steps: int | None = None               # None: the model's default
    guidance: float | None = None          # None: the model's default
    default_strength: float = 0.6          # v2v: how far from the source clip when the request gives none


@dataclass
class Plan:
    """What will be generated for a request, and how it is fitted back to what was asked."""

    model_id: str
    spec: ModelSpec
    mode: str
    width: int                  # generation size
    height: int
    fps: int                    # generation frame rate
    needed: int                 # frames at `fps` that cover the shot
    segments: list[int]         # frame count of each pipeline call
    strategy: str               # single | segments | retimed
    steps: int
    guidance: float
    notes: list[str] = field(default_factory=list)

    @property
    def made_frames(self) -> int:
        if self.mode == "v2v":
            return self.needed   # chunks of the source; padding is dropped again
        if self.strategy != "segments":
            return sum(self.segments)
        # each continuation starts on the previous segment's last frame, which is not repeated
        return sum(self.segments) - (len(self.segments) - 1)


_DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16", "half": "float16",
           "bfloat16": "bfloat16", "bf16": "bfloat16"}


class DiffusersBackend:
    name: ClassVar[str] = "diffusers"
    modes: ClassVar[tuple[str, ...]] = ("t2v", "i2v", "v2v")
    # A pipeline's scheduler keeps per-call state (its step index): two shots on one pipeline at once
    # corrupt each other (IndexError from the scheduler). The farm gives each model one owner at a time.
    concurrency: ClassVar[str] = EXCLUSIVE

    def __init__(
        self,
        settings: DiffusersSettings | None = None,
        *,
        pipelines: dict[str, Any] | None = None,
        pipeline_factory: Callable[[str, ModelSpec, str], Any] | None = None,
        specs: dict[str, ModelSpec] | None = None,
    ):
        """pipelines: ready pipeline objects by model id (used as they are, never loaded from disk).
        pipeline_factory(model_id, spec, mode) -> pipeline: replaces loading from disk.
        specs: limits for model ids that are not in the table."""
        self.settings = settings or DiffusersSettings()
        self._factory = pipeline_factory
        self._specs: dict[str, ModelSpec] = dict(specs or {})
        self._pipes: dict[str, Any] = {}                 # model id -> the loaded pipeline
        self._derived: dict[tuple[str, str], Any] = {}   # (model id, class name) -> same components, other task
        self._placement: dict[str, dict[str, Any]] = {}
        self._injected: set[str] = set()
        self._lock = threading.Lock()
        self._signatures: dict[type, set[str]] = {}
        for model_id, pipe in (pipelines or {}).items():
            self.register_pipeline(model_id, pipe)

    # ---- registration (tests, notebooks, other code that already holds a pipeline) -------------------
    def register_pipeline(self, model_id: str, pipe: Any, kind: str | None = None, **limits) -> ModelSpec:
        """Serve `model_id` with this pipeline object. kind: the model family (ltx, wan, cogvideox,
        animatediff, svd), by default read from the pipeline's class. limits: ModelSpec fields to override
        (a tiny test model: native_size, frame_counts, max_prompt_tokens, ...)."""
        cls_name = type(pipe).__name__
        fam_mode = PIPELINE_CLASSES.get(cls_name)
        kind = kind or (fam_mode[0] if fam_mode else None) or guess_family(model_id)
        if kind is None:
            raise BackendError(f"cannot tell which model family pipeline {cls_name} is; pass kind=")
        spec = self.register_model(model_id, kind, mode=fam_mode[1] if fam_mode else None, **limits)
        with self._lock:
            self._pipes[model_id] = pipe
            self._injected.add(model_id)
            self._placement.pop(model_id, None)
            self._derived = {k: v for k, v in self._derived.items() if k[0] != model_id}
        return spec

    def register_model(self, model_id: str, kind: str, mode: str | None = None, **limits) -> ModelSpec:
        """Limits for a model id the table does not know (a fine-tune, a test model)."""
        base = MODELS.get(model_id)
        spec = base.with_limits(**limits) if base and base.family == kind else family_spec(kind, model_id, mode, **limits)
        self._specs[model_id] = spec
        return spec

    # ---- the Backend protocol -------------------------------------------------------------------------
    def model_id(self, request: GenerationRequest) -> str:
        if request.model:
            return request.model
        s = self.settings
        return {"t2v": s.default_t2v, "i2v": s.default_i2v, "v2v": s.default_v2v}.get(request.mode, s.default_t2v)

    def spec(self, model_id: str) -> ModelSpec:
        if model_id in self._specs:
            return self._specs[model_id]
        if model_id in MODELS:
            return MODELS[model_id]
        folder = self._local_folder(model_id)
        if folder is not None and (folder / "model_index.json").is_file():
            cls_name = json.loads((folder / "model_index.json").read_text()).get("_class_name", "")
            if cls_name in PIPELINE_CLASSES:
                fam, mode = PIPELINE_CLASSES[cls_name]
                return self.register_model(model_id, fam, mode, **_limits_from_folder(fam, folder))
        fam = guess_family(model_id)
        if fam:
            return self.register_model(model_id, fam)
        known = ", ".join(MODELS)
        raise BackendError(
            f"the diffusers backend does not know model '{model_id}' and cannot tell its family from the name. "
            f"Known models: {known}. For another checkpoint of one of these families, point "
            "DIRECTOR_DIFFUSERS_MODEL_PATHS at its folder (with model_index.json)."
        )

    def gpu_memory_gb(self, request: GenerationRequest) -> float:
        """GPU memory the request's model needs loaded (the farm's share of a GPU for its worker)."""
        return self.spec(self.model_id(request)).vram_gb

    def plan(self, request: GenerationRequest) -> Plan:
        """The request builder: the model's limits applied to this request."""
        model_id = self.model_id(request)
        spec = self.spec(model_id)
        mode = request.mode
        if mode not in spec.pipelines:
            setting = f"DIRECTOR_DIFFUSERS_DEFAULT_{mode.upper()}"
            raise BackendError(
                f"model '{model_id}' does not do {mode} (it does {', '.join(spec.pipelines)}); "
                f"choose another model for this shot or set {setting}"
            )
        if request.frames < 1 or request.fps < 1 or request.width < 1 or request.height < 1:
            raise BackendError(f"request needs positive frames, fps and size; got {request.frames} frames at "
                               f"{request.fps} fps, {request.width}x{request.height}")
        if mode == "i2v" and not request.reference_image:
            raise BackendError("an i2v shot needs a reference image (reference_image)")
        if mode == "v2v" and not request.source_video:
            raise BackendError("a v2v shot needs a source clip (source_video)")

        notes: list[str] = []
        width, height = spec.generation_size(request.width, request.height)
        if (width, height) != (request.width, request.height):
            why = (f"{model_id} works at {spec.native_size[0]}x{spec.native_size[1]} only" if spec.fixed_size
                   else f"{model_id} needs sizes in multiples of {spec.size_multiple}"
                   + (f" and at most {spec.max_area} pixels" if spec.max_area else ""))
            notes.append(f"generated at {width}x{height} ({why}), then resized/cropped to {request.width}x{request.height}")
        fps = spec.fps or request.fps
        needed = max(1, math.ceil(request.duration * fps - 1e-6))
        longest = spec.longest
        one = spec.valid_frames(needed)
        if one >= needed:
            segments, strategy = [one], "single"
        elif mode == "v2v":
            segments, left = [], needed
            while left > 0:
                take = min(left, longest)
                segments.append(spec.valid_frames(take))
                left -= take
            strategy = "segments"
            notes.append(f"made as {len(segments)} consecutive segments of the source clip "
                         f"({spec.frame_rule()} per call)")
        elif "i2v" in spec.pipelines:
            segments, total = [longest], longest
            while total < needed:
                seg = spec.valid_frames(needed - total + 1)
                segments.append(seg)
                total += seg - 1
            strategy = "segments"
            notes.append(f"made as {len(segments)} consecutive segments ({spec.frame_rule()} per call), each "
                         "continued from the last frame of the one before (image-to-video)")
        else:
            segments, strategy = [longest], "retimed"
            notes.append(f"retimed: {model_id} makes at most {longest} frames ({longest / fps:.2f} s at {fps} fps) "
                         f"and cannot continue from a frame; stretched to {request.duration:.2f} s (slow motion)")
        plan = Plan(
            model_id=model_id, spec=spec, mode=mode, width=width, height=height, fps=fps, needed=needed,
            segments=segments, strategy=strategy,
            steps=self.settings.steps or spec.steps,
            guidance=self.settings.guidance if self.settings.guidance is not None else spec.guidance,
            notes=notes,
        )
        made = plan.made_frames
        if fps == request.fps and strategy != "retimed" and made > request.frames:
            plan.notes.append(f"kept the first {request.frames} of {made} frames ({model_id} makes {spec.frame_rule()})")
        elif made != request.frames or fps != request.fps:
            plan.notes.append(f"resampled {made} frames at {fps} fps to {request.frames} at {request.fps} fps "
                              "(optical-flow interpolation)")
        if not spec.uses_prompt:
            plan.notes.append(f"the prompt is not used: {model_id} is conditioned on the reference image alone")
        return plan

    def generate(self, request: GenerationRequest, progress=None) -> GenerationResult:
        timings: dict[str, float] = {}
        plan = self.plan(request)
        with Timer(timings, "load"):
            pipe = self.pipeline(plan.model_id, plan.mode)
        with Timer(timings, "generate"):
            raw, extra_notes = self._run(pipe, plan, request, progress)
        with Timer(timings, "postprocess"):
            frames = self._fit(raw, plan, request)
        place = self._placement.get(plan.model_id, {})
        params = {
            "model": plan.model_id, "family": plan.spec.family, "mode": plan.mode, "seed": request.seed,
            "steps": plan.steps, "guidance": plan.guidance, "generation_size": [plan.width, plan.height],
            "generation_fps": plan.fps, "segments": plan.segments, "strategy": plan.strategy,
            "pipeline": type(pipe).__name__, **place,
        }
        if plan.mode in ("i2v", "v2v"):
            params["strength"] = request.strength if request.strength is not None else self.settings.default_strength
        return GenerationResult(frames=frames, fps=request.fps, backend=self.name, model=plan.model_id,
                                params=params, timings=timings, notes=plan.notes + extra_notes)

    # ---- loading ------------------------------------------------------------------------------------
    def pipeline(self, model_id: str, mode: str) -> Any:
        """The pipeline for this model and task, loaded at most once per model id."""
        spec = self.spec(model_id)
        cls_name = spec.pipelines[mode]
        with self._lock:
            base = self._pipes.get(model_id)
            if base is None:
                base = self._factory(model_id, spec, mode) if self._factory else self._load(model_id, spec, mode)
                self._place(model_id, base, spec)
                self._load_loras(model_id, base)
                self._pipes[model_id] = base
            elif model_id in self._injected and model_id not in self._placement:
                _ready_for_inference(base)
                self._placement[model_id] = self._describe_placement(base, offload=False, tiling=False)
                self._load_loras(model_id, base)
            if type(base).__name__ == cls_name:
                return base
            key = (model_id, cls_name)
            if key not in self._derived:
                import diffusers

                # same weights, other task: from_pipe shares the components, nothing is loaded again
                self._derived[key] = getattr(diffusers, cls_name).from_pipe(base)
                _ready_for_inference(self._derived[key])
            return self._derived[key]

    def _local_folder(self, model_id: str) -> Path | None:
        if model_id in self.settings.model_paths:
            return Path(self.settings.model_paths[model_id]).expanduser()
        p = Path(model_id).expanduser()
        return p if p.is_dir() else None

    def _resolve(self, model_id: str) -> str:
        """A local folder for the weights, or the repo id when it is in the cache (or downloads are allowed)."""
        folder = self._local_folder(model_id)
        if folder is not None:
            if not folder.is_dir():
                raise BackendError(
                    f"DIRECTOR_DIFFUSERS_MODEL_PATHS maps model '{model_id}' to {folder}, which is not a folder; "
                    f"download it there with `huggingface-cli download {model_id} --local-dir {folder}`"
                )
            return str(folder)
        if self.settings.allow_downloads:
            return model_id
        from huggingface_hub import snapshot_download

        try:
            return snapshot_download(model_id, local_files_only=True,
                                     cache_dir=str(self.settings.cache_dir) if self.settings.cache_dir else None)
        except Exception as exc:  # LocalEntryNotFoundError, or a malformed id
            raise BackendError(
                f"model '{model_id}' is not on this machine: not in DIRECTOR_DIFFUSERS_MODEL_PATHS and not in the "
                f"Hugging Face cache. Fetch it on a machine with internet with `huggingface-cli download {model_id}` "
                f"and copy the cache here, or download it to a folder and set "
                f"DIRECTOR_DIFFUSERS_MODEL_PATHS='{{\"{model_id}\": \"/path/to/folder\"}}' "
                f"(or allow downloads with DIRECTOR_DIFFUSERS_ALLOW_DOWNLOADS=1). ({type(exc).__name__})"
            ) from None

    def device_and_dtype(self):
        import torch

        dev = self.settings.device
        if dev is None:
            if torch.cuda.is_available():
                dev = "cuda"
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                dev = "mps"
            else:
                dev = "cpu"
        if self.settings.dtype:
            name = _DTYPES.get(self.settings.dtype.lower())
            if name is None:
                raise BackendError(f"DIRECTOR_DIFFUSERS_DTYPE '{self.settings.dtype}' is not one of float32, "
                                   "float16, bfloat16")
            return dev, getattr(torch, name)
        if dev.startswith("cuda"):
            return dev, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if dev == "mps":
            return dev, torch.float16
        return dev, torch.float32

    def _load(self, model_id: str, spec: ModelSpec, mode: str) -> Any:
        import diffusers

        _, dtype = self.device_and_dtype()
        cls = getattr(diffusers, spec.pipelines[mode])
        # diffusers 0.42 renamed torch_dtype to dtype (the old name still works, with a warning)
        major, minor = (int(x) for x in diffusers.__version__.split(".")[:2])
        dtype_key = "dtype" if (major, minor) >= (0, 42) else "torch_dtype"
        common = {dtype_key: dtype, "local_files_only": not self.settings.allow_downloads}
        if self.settings.cache_dir:
            common["cache_dir"] = str(self.settings.cache_dir)
        try:
            folder = self._local_folder(model_id)
            if folder is not None and (folder / "model_index.json").is_file():
                return cls.from_pretrained(str(folder), **common)   # a whole saved pipeline (any family)
            if spec.family == "animatediff":
                adapter = diffusers.MotionAdapter.from_pretrained(self._resolve(model_id), **common)
                base = spec.base_model or "stable-diffusion-v1-5/stable-diffusion-v1-5"
                return cls.from_pretrained(self._resolve(base), motion_adapter=adapter, **common)
            return cls.from_pretrained(self._resolve(model_id), **common)
        except BackendError:
            raise
        except (OSError, ValueError) as exc:
            raise BackendError(f"could not load model '{model_id}' with {cls.__name__}: {exc}") from exc

    def _describe_placement(self, pipe, offload: bool, tiling: bool) -> dict[str, Any]:
        dev = str(getattr(pipe, "device", "cpu"))
        dtype = str(getattr(pipe, "dtype", "")).replace("torch.", "")
        return {"device": dev, "dtype": dtype, "cpu_offload": offload, "vae_tiling": tiling}

    def _place(self, model_id: str, pipe, spec: ModelSpec) -> None:
        import torch

        dev, dtype = self.device_and_dtype()
        offload = tiling = False
        if dev.startswith("cuda"):
            index = torch.device(dev).index or 0
            total_gb = torch.cuda.get_device_properties(index).total_memory / 2**30
            if total_gb < spec.vram_gb and hasattr(pipe, "enable_model_cpu_offload"):
                # whole model does not fit: keep each component on the GPU only while it runs
                pipe.enable_model_cpu_offload(gpu_id=index)
                offload = True
            else:
                pipe.to(dev)
        else:
            pipe.to(dev)
        vae = getattr(pipe, "vae", None)
        if dev != "cpu" and vae is not None:
            # decoding dozens of frames at once is the memory peak of every video pipeline
            if hasattr(vae, "enable_tiling"):
                vae.enable_tiling()
                tiling = True
            if hasattr(vae, "enable_slicing"):
                vae.enable_slicing()
        _ready_for_inference(pipe)
        self._placement[model_id] = {"device": dev, "dtype": str(dtype).replace("torch.", ""),
                                     "cpu_offload": offload, "vae_tiling": tiling}

    def _load_loras(self, model_id: str, pipe) -> None:
        paths = self.settings.lora_paths.get(model_id) or []
        if not paths:
            return
        if not hasattr(pipe, "load_lora_weights"):
            raise BackendError(f"{type(pipe).__name__} does not take LoRA weights; remove '{model_id}' from "
                               "DIRECTOR_DIFFUSERS_LORA_PATHS")
        names = []
        for i, path in enumerate(paths):
            p = Path(path).expanduser()
            if not p.exists():
                raise BackendError(f"LoRA weights {p} (DIRECTOR_DIFFUSERS_LORA_PATHS for '{model_id}') do not exist")
            name = f"lora{i}_{p.stem}"
            pipe.load_lora_weights(str(p), adapter_name=name)
            names.append(name)
        pipe.set_adapters(names, [self.settings.lora_scale] * len(names))
        self._placement.setdefault(model_id, {})["loras"] = [str(p) for p in paths]

    # ---- running --------------------------------------------------------------------------------------
    def _accepts(self, pipe) -> set[str]:
        cls = type(pipe)
        if cls not in self._signatures:
            self._signatures[cls] = set(inspect.signature(cls.__call__).parameters)
        return self._signatures[cls]

    def _fit_prompt(self, pipe, plan: Plan, text: str) -> tuple[str, int, list[str]]:
        limit = plan.spec.max_prompt_tokens
        tx = getattr(pipe, "transformer", None)
        tx_limit = getattr(getattr(tx, "config", None), "max_text_seq_length", None)
        if tx_limit:
            limit = min(limit, int(tx_limit))   # CogVideoX's text length is fixed by its transformer
        tok = getattr(pipe, "tokenizer", None)
        if tok is None or not text:
            return text, limit, []
        count = lambda s: len(tok(s, add_special_tokens=True).input_ids)  # noqa: E731
        if count(text) <= limit:
            return text, limit, []
        words = text.split()
        lo, hi = 0, len(words)
        while lo < hi:   # the longest word prefix that fits
            mid = (lo + hi + 1) // 2
            if count(" ".join(words[:mid])) <= limit:
                lo = mid
            else:
                hi = mid - 1
        kept = " ".join(words[:lo])
        dropped = " ".join(words[lo:])
        return kept, limit, [f"prompt shortened to {plan.model_id}'s {limit}-token limit; dropped: '{dropped}'"]

    def _run(self, pipe, plan: Plan, request: GenerationRequest, progress) -> tuple[np.ndarray, list[str]]:
        import torch

        spec, mode = plan.spec, plan.mode
        prompt, max_tokens, notes = self._fit_prompt(pipe, plan, request.prompt) if spec.uses_prompt else ("", 0, [])
        negative = request.negative_prompt
        if negative and spec.uses_prompt:
            negative, _, _ = self._fit_prompt(pipe, plan, negative)
        strength = request.strength if request.strength is not None else self.settings.default_strength

        image = _load_image(request.reference_image, plan.width, plan.height) if mode == "i2v" else None
        source = self._source_frames(request, plan) if mode == "v2v" else None

        total_steps = plan.steps * len(plan.segments)
        done = [0]

        def on_step(p, i, t, kwargs):
            done[0] += 1
            if progress is not None:
                progress(min(done[0], total_steps), total_steps)
            return kwargs

        pieces: list[np.ndarray] = []
        start = 0
        for k, count in enumerate(plan.segments):
            call_mode = mode
            seg_image, seg_video = image, None
            if mode == "v2v":
                real = min(count, plan.needed - start)
                chunk = source[start:start + real]
                if real < count:   # the model takes only certain lengths: pad with the last frame
                    chunk = np.concatenate([chunk, np.repeat(chunk[-1:], count - real, axis=0)])
                seg_video = [_pil(f) for f in chunk]
                start += real
            elif k > 0:
                call_mode = "i2v"   # continue from where the last segment ended
                seg_image = _pil(pieces[-1][-1])
            seg_pipe = pipe if call_mode == plan.mode else self.pipeline(plan.model_id, call_mode)
            kwargs = self._call_kwargs(seg_pipe, plan, call_mode, prompt, negative, max_tokens, count,
                                       seg_image, seg_video, strength)
            kwargs["generator"] = torch.Generator(device="cpu").manual_seed(int(request.seed) + k)
            if "callback_on_step_end" in self._accepts(seg_pipe):
                kwargs["callback_on_step_end"] = on_step
            try:
                with torch.inference_mode():
                    out = seg_pipe(**kwargs)
            except (torch.cuda.OutOfMemoryError, MemoryError) as exc:  # type: ignore[attr-defined]
                raise GenerationError(
                    f"{plan.model_id} ran out of GPU memory at {plan.width}x{plan.height}, {count} frames; lower the "
                    "resolution or shot length, or set DIRECTOR_DIFFUSERS_DEVICE=cpu"
                ) from exc
            frames = _to_uint8(out.frames[0])
            if mode == "v2v":
                frames = frames[:real]
            elif k > 0:
                frames = frames[1:]   # it re-draws the frame it started from
            pieces.append(frames)
        if progress is not None:
            progress(total_steps, total_steps)
        return np.concatenate(pieces), notes

    def _call_kwargs(self, pipe, plan: Plan, mode: str, prompt: str, negative: str, max_tokens: int, count: int,
                     image, video, strength: float) -> dict[str, Any]:
        fam = plan.spec.family
        kw: dict[str, Any] = {
            "height": plan.height, "width": plan.width, "num_inference_steps": plan.steps, "output_type": "np",
        }
        if fam == "svd":
            kw.update(image=image, num_frames=count, fps=plan.fps, min_guidance_scale=1.0,
                      max_guidance_scale=plan.guidance, decode_chunk_size=8)
        else:
            kw.update(prompt=prompt, guidance_scale=plan.guidance)
            if negative:
                kw["negative_prompt"] = negative
            if fam in ("ltx", "wan", "cogvideox"):
                kw["max_sequence_length"] = max_tokens
            if mode == "v2v":
                kw.update(video=video, strength=strength)
            else:
                kw["num_frames"] = count
            if mode == "i2v":
                kw["image"] = image
            if fam == "ltx":
                kw["frame_rate"] = plan.fps
        accepted = self._accepts(pipe)
        return {k: v for k, v in kw.items() if k in accepted}

    def _source_frames(self, request: GenerationRequest, plan: Plan) -> np.ndarray:
        try:
            frames, src_fps = read_video(Path(request.source_video))
        except (OSError, ValueError) as exc:
            raise BackendError(f"source clip: {exc}") from exc
        frames = np.stack([cover(f, plan.width, plan.height) for f in frames])
        duration = len(frames) / src_fps
        # the source in real time; a source shorter than the shot is stretched over it
        return retime(frames, src_fps, plan.fps, plan.needed, stretch=duration + 1e-6 < request.duration)

    def _fit(self, frames: np.ndarray, plan: Plan, request: GenerationRequest) -> np.ndarray:
        stretch = plan.strategy == "retimed" or len(frames) < plan.needed
        if len(frames) != request.frames or plan.fps != request.fps:
            frames = retime(frames, plan.fps, request.fps, request.frames, stretch=stretch)
        h, w = frames.shape[1:3]
        if (w, h) != (request.width, request.height):
            frames = fit_size(frames, request.width, request.height)
        return np.ascontiguousarray(frames)


def _limits_from_folder(family: str, folder: Path) -> dict[str, Any]:
    """Limits a checkpoint states in its own config, where the family's defaults would be wrong for it:
    CogVideoX's learned position embeddings fix its size and frame count (sample_* in latents); an SVD
    checkpoint says how many frames it was trained to make (img2vid 14, img2vid-xt 25)."""
    if family == "svd":
        unet_config = folder / "unet" / "config.json"
        frames = json.loads(unet_config.read_text()).get("num_frames") if unet_config.is_file() else None
        return {"frame_counts": (int(frames),)} if frames else {}
    if family != "cogvideox":
        return {}
    config_path = folder / "transformer" / "config.json"
    if not config_path.is_file():
        return {}
    config = json.loads(config_path.read_text())
    limits: dict[str, Any] = {}
    if config.get("sample_width") and config.get("sample_height"):
        limits["native_size"] = (int(config["sample_width"]) * 8, int(config["sample_height"]) * 8)
    if config.get("sample_frames"):
        limits["frame_counts"] = (int(config["sample_frames"]),)
    if config.get("max_text_seq_length"):
        limits["max_prompt_tokens"] = int(config["max_text_seq_length"])
    return limits


def _ready_for_inference(pipe) -> None:
    """A pipeline assembled in code has its modules in training mode (dropout on, so the same seed would
    not give the same take); from_pretrained switches them off, so do the same here."""
    for component in getattr(pipe, "components", {}).values():
        if hasattr(component, "eval") and hasattr(component, "training"):
            component.eval()
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)


# ---- frames and files ---------------------------------------------------------------------------------
def _to_uint8(x) -> np.ndarray:
    if isinstance(x, list):   # output_type="pil"
        return np.stack([np.asarray(im.convert("RGB")) for im in x])
    arr = np.asarray(x.detach().cpu().float().numpy() if hasattr(x, "detach") else x)
    if arr.ndim == 4 and arr.shape[1] == 3 and arr.shape[-1] != 3:   # (F, C, H, W)
        arr = arr.transpose(0, 2, 3, 1)
    if arr.dtype != np.uint8:
        arr = np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return arr


def _pil(frame: np.ndarray):
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(frame))


def _load_image(path, width: int, height: int):
    from PIL import Image, ImageOps

    p = Path(path)
    if not p.is_file():
        raise BackendError(f"reference image {p} does not exist")
    with Image.open(p) as im:
        rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    return _pil(cover(rgb, width, height))


__all__ = ["DiffusersBackend", "DiffusersSettings", "Plan"]
