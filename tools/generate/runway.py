"""The `runway` backend: Runway's hosted video models through the official `runwayml` SDK.

- Key: RUNWAYML_API_SECRET (the SDK's own variable). Without it every call is a BackendError saying so.
- text-to-video (default gen4.5), image-to-video (default gen4_turbo), video-to-video (default aleph2);
  other models the SDK offers can be named in the request or in settings (DIRECTOR_RUNWAY_MODEL_T2V ...).
- The API takes a few output ratios and durations per model: the request is mapped to the closest
  ratio and the shortest duration that covers the shot, and the downloaded video is then fitted to
  exactly request.width x request.height and request.frames at request.fps (notes say how).
- A task is created, polled with backoff, and its output downloaded to a local file. A finished take
  is never lost: the download is retried (fetching fresh output URLs each time), the task id goes into
  result.params["task_id"], and `generate(request, task_id=...)` / `resume(task_id, request)` picks up
  a finished or still-running task without paying for a new one.
- Refusals (task FAILED, with Runway's failure code) and quota errors (HTTP 429, 402) come back as
  BackendErrors that say what happened and what to do.

Settings (environment, prefix DIRECTOR_RUNWAY_): MODEL_T2V, MODEL_I2V, MODEL_V2V, BASE_URL, POLL_INTERVAL,
POLL_MAX_INTERVAL, POLL_BACKOFF, TIMEOUT, DOWNLOAD_RETRIES, DOWNLOAD_BACKOFF, MAX_RETRIES, DOWNLOAD_DIR.
"""

from __future__ import annotations

import base64
import math
import mimetypes
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.generate.base import SHARED, BackendError, GenerationError, GenerationRequest, GenerationResult, Timer

API_KEY_ENV = "RUNWAYML_API_SECRET"
DATA_URI_LIMIT = 4_500_000   # the API takes data URIs up to 5 MB (after base64); larger files are uploaded


class RunwaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_RUNWAY_", extra="ignore")

    model_t2v: str = "gen4.5"
    model_i2v: str = "gen4_turbo"
    model_v2v: str = "aleph2"
    base_url: str | None = None          # None: the SDK default (or RUNWAYML_BASE_URL)
    poll_interval: float = 5.0           # seconds before the first poll; grows by poll_backoff
    poll_max_interval: float = 30.0
    poll_backoff: float = 1.5
    timeout: float = 1200.0              # give up waiting for a task after this many seconds
    download_retries: int = 5
    download_backoff: float = 2.0        # seconds before the 2nd download attempt, doubling after
    max_retries: int = 2                 # the SDK's own retries of failed HTTP calls
    download_dir: Path | None = None     # None: a 'runway' folder in the system temp dir


@dataclass(frozen=True)
class RunwayModel:
    modes: tuple[str, ...]
    ratios: dict[str, tuple[str, ...]]   # mode -> accepted "W:H" output sizes
    durations: tuple[int, ...] = ()      # accepted seconds ...
    min_seconds: int = 0                 # ... or a whole-second range
    max_seconds: int = 0
    prompt_required: bool = True


_LANDSCAPE_PORTRAIT = ("1280:720", "720:1280")
_GEN4_I2V = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
_VEO = ("1280:720", "720:1280", "1080:1920", "1920:1080")
_ALEPH = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")

# From the SDK's create() overloads (runwayml 5.x): the models this backend maps sizes and durations for.
MODELS: dict[str, RunwayModel] = {
    "gen4.5": RunwayModel(("t2v", "i2v"), {"t2v": _LANDSCAPE_PORTRAIT, "i2v": _GEN4_I2V}, min_seconds=2, max_seconds=10),
    "gen4_turbo": RunwayModel(("i2v",), {"i2v": _GEN4_I2V}, durations=(5, 10), prompt_required=False),
    "veo3.1": RunwayModel(("t2v", "i2v"), {"t2v": _VEO, "i2v": _VEO}, durations=(4, 6, 8)),
    "veo3.1_fast": RunwayModel(("t2v", "i2v"), {"t2v": _VEO, "i2v": _VEO}, durations=(4, 6, 8)),
    "kling2.5_turbo_pro": RunwayModel(
        ("t2v", "i2v"),
        {"t2v": ("1920:1080", "1440:1440", "1080:1920", "1280:720", "720:720", "720:1280"),
         "i2v": ("1920:1080", "1440:1440", "1080:1920", "1280:720", "720:720", "720:1280")},
        durations=(5, 10)),
    "aleph2": RunwayModel(("v2v",), {"v2v": _ALEPH}, prompt_required=False),
}
_ENDPOINT = {"t2v": "text_to_video", "i2v": "image_to_video", "v2v": "video_to_video"}


def closest_ratio(width: int, height: int, ratios: tuple[str, ...]) -> str:
    """The accepted ratio nearest in aspect (log scale) to width:height; ties go to the larger one."""
    want = math.log(width / height)

    def key(r: str):
        w, h = (int(x) for x in r.split(":"))
        return (abs(math.log(w / h) - want), -(w * h))

    return min(ratios, key=key)


def pick_duration(seconds: float, model: RunwayModel) -> int:
    """The shortest accepted duration that covers the shot (or the longest there is)."""
    if model.durations:
        covering = [d for d in sorted(model.durations) if d >= seconds - 1e-6]
        return covering[0] if covering else max(model.durations)
    if model.max_seconds:
        return int(min(max(math.ceil(seconds - 1e-6), model.min_seconds), model.max_seconds))
    return 0   # the model takes no duration (v2v: the source clip's length)


class RunwayBackend:
    name: ClassVar[str] = "runway"
    modes: ClassVar[tuple[str, ...]] = ("t2v", "i2v", "v2v")
    # the work runs on Runway's machines: any number of takes at once (the API's own limit is a 429)
    concurrency: ClassVar[str] = SHARED

    def __init__(self, settings: RunwaySettings | None = None, *, api_key: str | None = None):
        self.settings = settings or RunwaySettings()
        self._api_key = api_key
        self._client = None
        # tasks created, by take request, so asking again after a failed download or a time-out does
        # not pay twice (across processes, the task id travels as GenerationError.resume_token)
        self._finished: dict[tuple, str] = {}

    # ---- the Backend protocol -------------------------------------------------------------------------
    def model_id(self, request: GenerationRequest) -> str:
        if request.model:
            return request.model
        s = self.settings
        return {"t2v": s.model_t2v, "i2v": s.model_i2v, "v2v": s.model_v2v}.get(request.mode, s.model_t2v)

    def generate(self, request: GenerationRequest, progress=None, *, task_id: str | None = None) -> GenerationResult:
        timings: dict[str, float] = {}
        model_name = self.model_id(request)
        body, notes = self.build(request)
        client = self.client()
        key = _request_key(request, model_name)
        task_id = task_id or request.resume_token or self._finished.get(key)
        if task_id:
            notes.append(f"resumed Runway task {task_id} (no new generation)")
        else:
            with Timer(timings, "submit"):
                task_id = self._create(client, request, body)
        self._finished[key] = task_id
        try:
            with Timer(timings, "wait"):
                task = self._wait(client, task_id, progress)
        except GenerationError as err:
            if err.resume_token is None:   # the task failed for good: the next try must make a new one
                self._finished.pop(key, None)
            raise
        with Timer(timings, "download"):
            path = self._download(client, task_id, task)
        with Timer(timings, "postprocess"):
            frames, fit_notes = self._fit(path, request, body)
        params = {"task_id": task_id, "model": model_name, "mode": request.mode, "seed": request.seed,
                  "output_file": str(path), **{k: v for k, v in body.items() if k in ("ratio", "duration")}}
        cost = getattr(getattr(task, "cost", None), "credits", None)
        if cost is not None:
            params["credits"] = cost
        return GenerationResult(frames=frames, fps=request.fps, backend=self.name, model=model_name,
                                params=params, timings=timings, notes=notes + fit_notes)

    def resume(self, task_id: str, request: GenerationRequest, progress=None) -> GenerationResult:
        """Finish a take from a Runway task id (result.params['task_id'] of an earlier call)."""
        return self.generate(request, progress, task_id=task_id)

    # ---- the request --------------------------------------------------------------------------------
    def build(self, request: GenerationRequest) -> tuple[dict[str, Any], list[str]]:
        """The create() arguments for this request (without uploads), and notes on what was mapped."""
        name = self.model_id(request)
        model = MODELS.get(name)
        notes: list[str] = []
        body: dict[str, Any] = {"model": name}
        if model is not None and request.mode not in model.modes:
            raise BackendError(f"Runway model '{name}' does not do {request.mode} (it does {', '.join(model.modes)}); "
                               f"set DIRECTOR_RUNWAY_MODEL_{request.mode.upper()} or name another model in the shot")
        if request.prompt:
            body["prompt_text"] = request.prompt[:1000]
            if len(request.prompt) > 1000:
                notes.append("prompt cut to Runway's 1000-character limit")
        elif model is None or model.prompt_required:
            raise BackendError(f"Runway model '{name}' needs a prompt")
        body["seed"] = int(request.seed) % 4_294_967_295
        if model is not None:
            ratio = closest_ratio(request.width, request.height, model.ratios[request.mode])
            body["ratio"] = ratio
            if ratio.replace(":", "x") != f"{request.width}x{request.height}":
                notes.append(f"Runway rendered at {ratio.replace(':', 'x')} (the closest size {name} offers); "
                             f"resized/cropped to {request.width}x{request.height}")
            seconds = pick_duration(request.duration, model)
            if seconds:
                body["duration"] = seconds
                if abs(seconds - request.duration) > 1e-6:
                    how = "trimmed" if seconds > request.duration else "stretched (slow motion)"
                    notes.append(f"Runway made {seconds} s ({name} takes "
                                 f"{'/'.join(map(str, model.durations)) or f'{model.min_seconds}-{model.max_seconds}'} s); "
                                 f"{how} to {request.duration:.2f} s")
        return body, notes

    # ---- the API ------------------------------------------------------------------------------------
    def client(self):
        if self._client is None:
            key = self._api_key or os.environ.get(API_KEY_ENV)
            if not key:
                raise BackendError(
                    f"the runway backend needs an API key: set {API_KEY_ENV} (create one at "
                    "https://dev.runwayml.com), or choose another backend"
                )
            try:
                from runwayml import RunwayML
            except ImportError as exc:
                raise BackendError("the runway backend needs the runwayml package: pip install runwayml") from exc
            self._client = RunwayML(api_key=key, base_url=self.settings.base_url,
                                    max_retries=self.settings.max_retries)
        return self._client

    def _create(self, client, request: GenerationRequest, body: dict[str, Any]) -> str:
        resource = getattr(client, _ENDPOINT[request.mode])
        inputs = self._inputs(client, request)
        with _api_errors("creating the task"):
            created = resource.create(**body, **inputs)
        return created.id

    def _inputs(self, client, req: GenerationRequest) -> dict[str, Any]:
        mode = req.mode
        if mode == "i2v" and req.reference_image is not None:
            return {"prompt_image": self._media_uri(client, Path(req.reference_image), "reference image")}
        if mode == "v2v" and req.source_video is not None:
            return {"video_uri": self._media_uri(client, Path(req.source_video), "source clip")}
        return {}

    def _media_uri(self, client, path: Path, what: str) -> str:
        if not path.is_file():
            raise BackendError(f"{what} {path} does not exist")
        data = path.read_bytes()
        if len(data) * 4 / 3 > DATA_URI_LIMIT:
            with _api_errors(f"uploading the {what}"):
                return client.uploads.create_ephemeral(file=path).uri
        mime = mimetypes.guess_type(path.name)[0] or ("video/mp4" if what == "source clip" else "image/png")
        return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")

    def _wait(self, client, task_id: str, progress):
        s = self.settings
        deadline = time.monotonic() + s.timeout
        interval = s.poll_interval
        while True:
            with _api_errors(f"checking task {task_id}"):
                task = client.tasks.retrieve(task_id)
            status = task.status
            if status == "SUCCEEDED":
                if progress is not None:
                    progress(100, 100)
                return task
            if status == "FAILED":
                code = getattr(task, "failure_code", None) or "unknown"
                reason = getattr(task, "failure", "") or "no reason given"
                kind = "refused by Runway's content moderation" if code.upper().startswith("SAFETY") else "failed"
                advice = ("rephrase the shot (or change the reference) and try again" if "refused" in kind
                          else "try again; if it keeps failing, try another model or seed")
                raise GenerationError(f"Runway {kind} (task {task_id}, code {code}): {reason}; {advice}")
            if status == "CANCELLED":
                raise GenerationError(f"Runway task {task_id} was cancelled or deleted; generate the take again")
            if status == "RUNNING" and progress is not None:
                progress(int(round(100 * float(getattr(task, "progress", 0.0) or 0.0))), 100)
            if time.monotonic() + interval > deadline:
                raise GenerationError(
                    f"Runway task {task_id} is still {status.lower()} after {s.timeout:.0f} s; it may finish later: "
                    f"resume it with its task id ({task_id}) instead of paying for a new take",
                    resume_token=task_id,
                )
            time.sleep(interval)
            interval = min(interval * s.poll_backoff, s.poll_max_interval)

    def _download(self, client, task_id: str, task) -> Path:
        import httpx

        s = self.settings
        folder = Path(s.download_dir) if s.download_dir else Path(tempfile.gettempdir()) / "runway"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{_safe(task_id)}.mp4"
        if final.is_file() and final.stat().st_size > 0:
            return final   # downloaded by an earlier call
        delay, last_error = s.download_backoff, None
        for attempt in range(max(1, s.download_retries)):
            if attempt:
                time.sleep(delay)
                delay *= 2
                # output URLs expire: ask for the task again to get fresh ones
                with _api_errors(f"refreshing task {task_id}"):
                    task = client.tasks.retrieve(task_id)
            urls = list(getattr(task, "output", None) or [])
            if not urls:
                raise BackendError(f"Runway task {task_id} succeeded but lists no output")
            tmp = final.with_name(final.name + f".part{os.getpid()}")
            try:
                with httpx.stream("GET", urls[0], timeout=120.0, follow_redirects=True) as resp:
                    resp.raise_for_status()
                    expected = int(resp.headers.get("content-length") or 0)
                    with open(tmp, "wb") as fh:
                        for chunk in resp.iter_bytes():
                            fh.write(chunk)
                got = tmp.stat().st_size
                if expected and got != expected:
                    raise httpx.ReadError(f"got {got} of {expected} bytes")
                os.replace(tmp, final)
                return final
            except (httpx.HTTPError, OSError) as exc:
                last_error = exc
                tmp.unlink(missing_ok=True)
        raise GenerationError(
            f"Runway finished the take (task {task_id}) but downloading it failed {s.download_retries} times "
            f"({type(last_error).__name__}: {last_error}); nothing is lost: resume with task id {task_id}",
            resume_token=task_id,
        )

    def _fit(self, path: Path, request: GenerationRequest, body: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
        from tools.enhance.frames import fit_size, read_video
        from tools.enhance.interpolate import retime

        try:
            frames, src_fps = read_video(path)
        except (OSError, ValueError) as exc:
            raise BackendError(f"the video Runway returned ({path}) could not be read: {exc}") from exc
        notes = []
        made = len(frames) / src_fps
        if len(frames) != request.frames or abs(src_fps - request.fps) > 1e-3:
            stretch = made + 1e-3 < request.duration
            frames = retime(frames, src_fps, request.fps, request.frames, stretch=stretch)
            notes.append(f"resampled {made:.2f} s at {src_fps:g} fps to {request.frames} frames at {request.fps} fps")
        frames = fit_size(frames, request.width, request.height)
        return np.ascontiguousarray(frames), notes


class _api_errors:
    """SDK exceptions -> BackendErrors a person can act on."""

    def __init__(self, doing: str):
        self.doing = doing

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, BackendError):
            return False
        import runwayml

        if isinstance(exc, runwayml.APIStatusError):
            status, message = exc.status_code, _message(exc)
            if status == 429:
                raise GenerationError(
                    f"Runway says too many requests or out of quota (429) while {self.doing}: {message}; wait and "
                    "retry, lower the number of takes rendered in parallel, or raise your Runway tier"
                ) from None
            if status == 402:
                raise GenerationError(
                    f"the Runway account is out of credits (402) while {self.doing}: {message}; add credits at "
                    "https://dev.runwayml.com"
                ) from None
            if status == 401:
                raise BackendError(f"Runway rejected the API key (401); check {API_KEY_ENV}") from None
            if status in (400, 422):
                raise GenerationError(f"Runway refused the request ({status}) while {self.doing}: {message}") from None
            raise GenerationError(f"Runway answered {status} while {self.doing}: {message}") from None
        if isinstance(exc, runwayml.APIConnectionError):
            raise GenerationError(f"could not reach Runway while {self.doing}: {exc}; check the network") from None
        return False


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body)
    return str(getattr(exc, "message", exc))


def _request_key(r: GenerationRequest, model: str) -> tuple:
    return (model, r.mode, r.prompt, r.negative_prompt, r.seed, r.width, r.height, r.frames, r.fps,
            str(r.reference_image), str(r.source_video))


def _safe(task_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in task_id)


__all__ = ["MODELS", "RunwayBackend", "RunwayModel", "RunwaySettings", "closest_ratio", "pick_duration"]
