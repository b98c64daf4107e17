"""The render farm: runs a film's shots side by side, and runs each take's generation.

Two engines behind one interface (`Farm`), chosen by `DIRECTOR_FARM`:
- `local` (default): threads in this process. The CPU work (OpenCV, numpy, ffmpeg, torch) releases the GIL.
- `ray`: generation runs on a Ray cluster (`DIRECTOR_RAY_ADDRESS`), or on a Ray instance started here.

One owner per loaded pipeline. A backend declares `concurrency` (tools/generate/base.py): `shared`
backends (the animatic, hosted APIs) run any number of takes at once; an `exclusive` backend's takes for
one model queue on the single worker that holds it (a lane locally, a Ray actor on a cluster).

Stopping. `run_shots` gets a `stop` event that the shot function watches between steps (the producer's
progress callback raises GenerationCancelled once it is set). It is set when the caller's `cancel` is set,
when a shot raises (the render is failing: no point finishing the rest), and on Ctrl-C. Queued shots are
then dropped, never started; running ones end after their current step.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, Literal, Protocol, TypeVar

from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.generate.base import GenerationRequest, GenerationResult

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]


class FarmSettings(BaseSettings):
    """DIRECTOR_FARM=local|ray, DIRECTOR_FARM_WORKERS, DIRECTOR_RAY_ADDRESS, DIRECTOR_RAY_NUM_CPUS,
    DIRECTOR_RAY_GPU_MEMORY_GB."""

    model_config = SettingsConfigDict(env_prefix="DIRECTOR_", extra="ignore")
    farm: Literal["local", "ray"] = "local"
    farm_workers: int = 0            # shots side by side in this process; 0: one per core, at most 4
    ray_address: str | None = None   # e.g. ray://head:10001 or head:6379; None: start a local Ray
    ray_num_cpus: int | None = None  # the local Ray's CPUs; None: all cores
    ray_gpu_memory_gb: float = 24.0  # memory of one GPU on the cluster: a model needing less gets a fraction


def default_workers() -> int:
    configured = FarmSettings().farm_workers
    return configured if configured > 0 else max(1, min(4, os.cpu_count() or 1))


class Farm(Protocol):
    engine: str

    def run_shots(self, fn: Callable[[T], R], items: Iterable[T], lane_of: Callable[[T], str | None] | None = None,
                  cancel: threading.Event | None = None, stop: threading.Event | None = None) -> list[R]:
        """`[fn(x) for x in items]`, side by side, in order. Items whose lane_of is the same string run one
        after another (they need the same exclusive model); None runs alongside anything."""
        ...

    def generate(self, backend: str, request: GenerationRequest, progress: Progress | None = None,
                 stop: threading.Event | None = None) -> GenerationResult:
        """One take's frames from the named backend, wherever this farm runs generation."""
        ...

    def describe(self) -> dict[str, Any]:
        """What ran the film, for manifest.json: at least `engine`."""
        ...


_farms: dict[tuple, Farm] = {}
_farms_lock = threading.Lock()


def current_farm(settings: FarmSettings | None = None) -> Farm:
    """The process's farm for these settings: made once, so a Ray actor's loaded model serves every render."""
    settings = settings or FarmSettings()
    key = tuple(sorted(settings.model_dump().items()))
    with _farms_lock:
        farm = _farms.get(key)
        if farm is None:
            if settings.farm == "ray":
                from tools.farm.ray_farm import RayFarm

                farm = RayFarm(settings)
            else:
                from tools.farm.local import LocalFarm

                farm = LocalFarm(settings.farm_workers or default_workers())
            _farms[key] = farm
        return farm


def farm_map(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> list[R]:
    """`[fn(x) for x in items]` on local threads, in order (no lanes); kept for callers of the old API."""
    from tools.farm.local import LocalFarm

    return LocalFarm(workers or default_workers()).run_shots(fn, items)


__all__ = ["Farm", "FarmSettings", "current_farm", "default_workers", "farm_map"]
