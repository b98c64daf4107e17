"""The one request every generation backend takes, the one result it returns, and the registry.

Frames are always a numpy array of shape (frames, height, width, 3), dtype uint8, RGB.
Backends register under the `reel_director.backends` entry point (as `llm` plugins do), so a
third-party package can add one with no change here.
A program or test can register an instance in-process instead: `register_backend("name", MyBackend())`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

ENTRY_POINT_GROUP = "reel_director.backends"


class BackendError(RuntimeError):
    """Generation failed in a way a person can act on (missing model, bad input, refused by an API)."""


class GenerationError(BackendError):
    """The backend tried and reports that this take failed: out of memory, a refused prompt, an API error,
    a worker that died. The take is recorded as an error take and the shot may be tried again.

    resume_token: a backend's handle on work already paid for (a Runway task id). The retry of the shot
    asks again with the same request and this token, so it picks that work up instead of paying twice."""

    def __init__(self, message: str, resume_token: str | None = None):
        super().__init__(message)
        self.resume_token = resume_token

    def __reduce__(self):   # keep the token when the error crosses a process (a Ray worker)
        return (type(self), (str(self), self.resume_token))


class BackendCrash(BackendError):
    """A programming error inside a backend (IndexError, TypeError, AttributeError, ...). It is not a weak
    take: trying again would fail the same way, so the render stops and names the shot."""


class GenerationCancelled(Exception):
    """The person asked to stop: raised from a progress callback so a backend stops after its current step."""


# How one backend instance may be used by several threads (or farm workers) at once:
#   shared:    any number of calls at a time (the animatic; hosted APIs, whose work runs elsewhere)
#   exclusive: one call at a time per model (a loaded diffusion pipeline: its scheduler keeps state)
SHARED, EXCLUSIVE = "shared", "exclusive"


@dataclass
class GenerationRequest:
    prompt: str
    negative_prompt: str = ""
    frames: int = 48
    fps: int = 24
    width: int = 1280
    height: int = 720
    seed: int = 0
    mode: str = "t2v"                     # t2v | i2v | v2v
    reference_image: Path | None = None   # i2v
    source_video: Path | None = None      # v2v
    strength: float | None = None         # i2v / v2v: how far to move from the input, 0..1
    # The structured shot, for backends that can use it (the animatic performs the camera move and
    # framing; diffusion backends read only the composed prompt). Keys: the Shot fields.
    shot: dict[str, Any] = field(default_factory=dict)
    model: str | None = None              # override the backend's default model for this mode
    resume_token: str | None = None       # pick up paid-for work (GenerationError.resume_token) instead of starting again

    @property
    def duration(self) -> float:
        return self.frames / self.fps


@dataclass
class GenerationResult:
    frames: np.ndarray                    # (N, H, W, 3) uint8 RGB
    fps: int
    backend: str
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)   # e.g. "retimed 49 frames at 8 fps to 96 at 24 fps"

    def __post_init__(self) -> None:
        f = self.frames
        if not (isinstance(f, np.ndarray) and f.ndim == 4 and f.shape[-1] == 3 and f.dtype == np.uint8):
            shape = getattr(f, "shape", None)
            raise BackendError(f"backend {self.backend} returned frames of shape {shape}; expected (N, H, W, 3) uint8")


@runtime_checkable
class Backend(Protocol):
    name: ClassVar[str]
    modes: ClassVar[tuple[str, ...]]
    # SHARED or EXCLUSIVE (see above); a backend that does not say is treated as exclusive
    concurrency: ClassVar[str]

    def generate(self, request: GenerationRequest, progress=None) -> GenerationResult:
        """Make the frames. `progress(done, total)` may be called as work advances."""
        ...

    def model_id(self, request: GenerationRequest) -> str:
        """The model that would serve this request (part of the take's content hash)."""
        ...


@lru_cache(maxsize=1)
def _registered() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


_instances: dict[str, Backend] = {}
_in_process: set[str] = set()   # names registered with register_backend (not built from an entry point)


def concurrency_of(backend: Any) -> str:
    """SHARED or EXCLUSIVE; a backend that does not declare it is assumed unsafe to share."""
    value = getattr(backend, "concurrency", EXCLUSIVE)
    return value if value in (SHARED, EXCLUSIVE) else EXCLUSIVE


def registered_in_process(name: str) -> bool:
    """True when `name` was registered as an instance in this process (other processes cannot build it)."""
    return name in _in_process


def list_backends() -> list[str]:
    """Entry-point backends and those registered in this process."""
    return sorted(set(_registered()) | set(_instances))


def register_backend(name: str, backend: Backend) -> None:
    """Serve `backend` (an instance) as `name` in this process, as an entry point would; replaces
    any instance already loaded under that name. Pass an instance, e.g. `register_backend("mine", MyBackend())`."""
    if not isinstance(name, str) or not name.strip():
        raise BackendError(f"register_backend: name must be a non-empty string; got {name!r}")
    if isinstance(backend, type) or not callable(getattr(backend, "generate", None)) or not callable(getattr(backend, "model_id", None)):
        raise BackendError(f"register_backend: '{name}' must be a backend instance with generate(request) and "
                           f"model_id(request) methods; got {backend!r}" + (f" (call it: {backend.__name__}())" if isinstance(backend, type) else ""))
    _instances[name] = backend
    _in_process.add(name)


def get_backend(name: str) -> Backend:
    """One instance per backend per process, so a loaded pipeline is reused across shots."""
    if name in _instances:
        return _instances[name]
    eps = _registered()
    if name not in eps:
        raise BackendError(
            f"unknown backend '{name}'; installed backends: {', '.join(list_backends()) or 'none'}. "
            "Backends register under the 'reel_director.backends' entry point (reinstall with `pip install -e .`)."
        )
    instance = eps[name].load()()
    _instances[name] = instance
    return instance


class Timer:
    """`with Timer(timings, "generate"):` records seconds into a dict."""

    def __init__(self, into: dict[str, float], key: str):
        self.into, self.key = into, key

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.into[self.key] = self.into.get(self.key, 0.0) + time.perf_counter() - self.t0
