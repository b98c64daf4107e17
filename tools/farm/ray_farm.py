"""The Ray farm (DIRECTOR_FARM=ray): each take's generation runs on a Ray cluster.

- Connects to DIRECTOR_RAY_ADDRESS (`ray start --head` on one machine, `ray start --address=HEAD:6379` on
  the others), or starts a Ray instance on this machine (`ray.init(num_cpus=..., include_dashboard=False)`).
  Ray >= 2.60 turns token authentication on by default: a local instance makes its own token; to join a
  cluster, give the head's token (RAY_AUTH_TOKEN, or copy ~/.ray/auth_token), or run every node with
  RAY_AUTH_MODE=disabled on a private network.
- Shared backends (the animatic, hosted APIs): one Ray task per take, wherever there is a free CPU.
- Exclusive backends (diffusers): one Ray actor per model. It loads the pipeline once and serves every
  shot needing it, one at a time (calls queue on the actor). Its `num_gpus` is the model's memory need
  over DIRECTOR_RAY_GPU_MEMORY_GB (fractional: two 10 GB models share a 24 GB GPU), 0 on a cluster without GPUs.
- Takes come back to the driver: the frames travel through Ray's object store, and the driver critiques,
  marks, encodes and records them in its workspace. Workers need no shared folder: a shot's reference
  image or source clip travels with the request as bytes. Workers do need this package installed (or on
  PYTHONPATH) and the model weights where DIRECTOR_DIFFUSERS_MODEL_PATHS / the Hugging Face cache says.
- Settings travel with each call: the driver's DIRECTOR_* variables (and RUNWAYML_API_SECRET, HF_*) are
  applied on the worker, so a cluster needs no per-node configuration of the director.

Stopping: a cancelled take's actor stops after its current denoising step; queued calls are cancelled.
A worker process that dies (out of memory, a lost node) is a GenerationError: an error take, then a retry
on a fresh actor.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from tools.farm.local import POLL, run_in_threads
from tools.generate.base import (
    EXCLUSIVE,
    BackendCrash,
    BackendError,
    GenerationCancelled,
    GenerationError,
    GenerationRequest,
    GenerationResult,
    concurrency_of,
    get_backend,
    registered_in_process,
)

T = TypeVar("T")
R = TypeVar("R")

FORWARDED_PREFIXES = ("DIRECTOR_", "HF_", "HUGGINGFACE_")
FORWARDED_NAMES = ("RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL")
MAX_DRIVER_THREADS = 32


class FarmError(BackendCrash):
    """The farm itself cannot run (Ray not installed, cluster unreachable, authentication refused, a backend
    that cannot be sent to workers). Every take would fail the same way, so the render stops."""


def forwarded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES) or k in FORWARDED_NAMES}


class RayFarm:
    engine = "ray"

    def __init__(self, settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._actors: dict[tuple[str, str], tuple[Any, tuple]] = {}   # (backend, model) -> (actor, env key)
        self._nodes: set[str] = set()
        self._runs = 0

    # ---- connection -----------------------------------------------------------------------------------
    def _ray(self):
        try:
            import ray
        except ImportError:
            raise FarmError("DIRECTOR_FARM=ray needs Ray: pip install 'reel-director[ray]' (or unset DIRECTOR_FARM "
                            "to render on this machine)") from None
        with self._lock:
            if not ray.is_initialized():
                self._connect(ray)
        return ray

    def _connect(self, ray) -> None:
        address = self.settings.ray_address
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                # workers import this package: put its folder on their path as it is on ours
                ray.init(num_cpus=self.settings.ray_num_cpus, include_dashboard=False, log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": path}})
        except Exception as exc:  # noqa: BLE001 - ConnectionError, an auth refusal, a version mismatch...
            hint = ("check DIRECTOR_RAY_ADDRESS (the head's address, e.g. 10.0.0.5:6379 or ray://10.0.0.5:10001); "
                    "Ray >= 2.60 requires the cluster's token: set RAY_AUTH_TOKEN to the head's ~/.ray/auth_token "
                    "(or start every node with RAY_AUTH_MODE=disabled on a private network)") if address else \
                   "could not start a local Ray instance"
            raise FarmError(f"DIRECTOR_FARM=ray: {type(exc).__name__}: {exc}; {hint}") from None

    # ---- the Farm interface -----------------------------------------------------------------------------
    def run_shots(self, fn: Callable[[T], R], items: Iterable[T], lane_of=None,
                  cancel: threading.Event | None = None, stop: threading.Event | None = None) -> list[R]:
        """All shots at once on driver threads: an exclusive model's calls queue on its actor, so the
        driver need not hold them back (and its critique/encode of one shot overlaps the next's generation)."""
        items = list(items)
        self._ray()
        with self._lock:
            self._runs += 1
            self._nodes.clear()
        return run_in_threads(fn, items, [None] * len(items), min(MAX_DRIVER_THREADS, max(1, len(items))), cancel, stop)

    def generate(self, backend: str, request: GenerationRequest, progress=None, stop=None) -> GenerationResult:
        ray = self._ray()
        local = get_backend(backend)            # only to ask: shared or exclusive, which model (nothing loads)
        shipped = local if registered_in_process(backend) else None   # workers cannot build it themselves
        env = forwarded_env()
        packed, files = pack_request(request)
        run_id = f"{os.getpid()}-{id(request)}-{time.monotonic_ns()}"
        try:
            if concurrency_of(local) == EXCLUSIVE:
                actor = self._actor(ray, backend, local, request, env, shipped)
                ref = actor.generate.remote(packed, files, run_id)
            else:
                actor = None
                ref = _task(ray).remote(backend, packed, files, env, shipped)
        except TypeError as exc:   # cloudpickle: the in-process backend holds a lock, a file, a socket...
            if shipped is None:
                raise
            raise FarmError(f"backend '{backend}' was registered in this process (register_backend) and cannot be "
                            f"sent to Ray workers ({exc}); install it as a 'reel_director.backends' entry point "
                            "on every node, or render with DIRECTOR_FARM=local") from None
        try:
            result, node = self._wait(ray, ref, actor, run_id, stop)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError,
                ray.exceptions.NodeDiedError) as exc:
            if actor is not None:
                self._forget(backend, local.model_id(request))
            raise GenerationError(f"the Ray worker making this take died ({type(exc).__name__}); it is tried again "
                                  "on a fresh worker. If it keeps dying, the model may not fit its GPU: lower "
                                  "the resolution or raise DIRECTOR_RAY_GPU_MEMORY_GB's share") from None
        except ray.exceptions.RayTaskError as exc:
            raise _unwrap(exc) from None
        except ray.exceptions.RaySystemError as exc:   # e.g. the worker could not unpickle the backend
            raise FarmError(f"a Ray worker could not run backend '{backend}': {str(exc).splitlines()[0]}; install "
                            "reel-director and the backend's package on every node (or put them on PYTHONPATH)") from None
        with self._lock:
            self._nodes.add(node)
        if not result.frames.flags.writeable:   # read-only out of the object store; the producer marks in place
            result.frames = result.frames.copy()
        if progress is not None:
            progress(1, 1)
        return result

    def describe(self) -> dict[str, Any]:
        ray = self._ray()
        resources = ray.cluster_resources()
        with self._lock:
            return {"engine": self.engine, "address": self.settings.ray_address or "local",
                    "cluster": {k: resources[k] for k in ("CPU", "GPU") if k in resources},
                    "nodes_in_cluster": len([n for n in ray.nodes() if n.get("Alive")]),
                    "nodes_used": sorted(self._nodes),
                    "model_workers": sorted(f"{b}:{m}" for b, m in self._actors)}

    # ---- internals --------------------------------------------------------------------------------------
    def _wait(self, ray, ref, actor, run_id: str, stop: threading.Event | None):
        while True:
            ready, _ = ray.wait([ref], timeout=POLL)
            if ready:
                return ray.get(ref)
            if stop is not None and stop.is_set():
                if actor is not None:
                    actor.stop.remote(run_id)   # a running call ends after its current step
                try:
                    ray.cancel(ref)             # a queued one never starts
                except Exception:  # noqa: BLE001, S110 - already finished or not cancellable: nothing to stop
                    pass
                raise GenerationCancelled()

    def _actor(self, ray, backend: str, local, request: GenerationRequest, env: dict, shipped):
        model = local.model_id(request)
        env_key = tuple(sorted(env.items()))
        with self._lock:
            held = self._actors.get((backend, model))
            if held is not None and held[1] == env_key:
                return held[0]
            if held is not None:   # the settings changed: this model's worker is made again with them
                ray.kill(held[0])
            options = {"num_cpus": 0, "num_gpus": self._gpu_share(ray, local, request),
                       "name": None, "max_restarts": 0}
            actor = _worker_class(ray).options(**{k: v for k, v in options.items() if v is not None}).remote(
                backend, env, shipped)
            self._actors[(backend, model)] = (actor, env_key)
            return actor

    def _forget(self, backend: str, model: str) -> None:
        with self._lock:
            self._actors.pop((backend, model), None)

    def _gpu_share(self, ray, local, request: GenerationRequest) -> float:
        gpus = ray.cluster_resources().get("GPU", 0)
        if not gpus or not hasattr(local, "gpu_memory_gb"):
            return 0
        need = float(local.gpu_memory_gb(request))
        share = need / max(1e-6, self.settings.ray_gpu_memory_gb)
        # whole GPUs for a model bigger than one; otherwise a fraction, in eighths so placements stay tidy
        return float(max(1, round(share + 0.499))) if share > 1 else max(0.125, round(share * 8 + 0.499) / 8)


# ---- requests that travel ---------------------------------------------------------------------------------
def pack_request(request: GenerationRequest) -> tuple[GenerationRequest, dict[str, tuple[str, bytes]]]:
    """The request, with its reference image / source clip as bytes: workers may not see the driver's disk."""
    files = {}
    for attr in ("reference_image", "source_video"):
        path = getattr(request, attr)
        if path is not None and Path(path).is_file():
            files[attr] = (Path(path).name, Path(path).read_bytes())
    return request, files


def unpack_request(request: GenerationRequest, files: dict[str, tuple[str, bytes]], folder: str) -> GenerationRequest:
    changes: dict[str, Any] = {}
    for attr, (name, data) in files.items():
        path = Path(folder) / f"{attr}-{name}"
        path.write_bytes(data)
        changes[attr] = path
    return replace(request, **changes) if changes else request


def apply_env(env: dict[str, str]) -> None:
    """Make this worker's environment the driver's, for the variables the director reads."""
    for key in [k for k in os.environ if k.startswith(FORWARDED_PREFIXES) or k in FORWARDED_NAMES]:
        if key not in env:
            del os.environ[key]
    os.environ.update(env)


_built: dict[tuple, Any] = {}


def build_backend(name: str, env: dict[str, str], shipped=None):
    """The backend on a worker: the driver's own instance when it was registered in-process there, else
    one made from its entry point with the driver's settings (one per settings, per worker process)."""
    if shipped is not None:
        return shipped
    key = (name, tuple(sorted(env.items())))
    if key not in _built:
        from tools.generate.base import _registered

        eps = _registered()
        if name not in eps:
            raise BackendError(f"backend '{name}' is not installed on Ray node {socket.gethostname()}; install "
                               "reel-director (and the backend's package) on every node")
        _built[key] = eps[name].load()()
    return _built[key]


def node_name() -> str:
    import ray

    return f"{socket.gethostname()}/{ray.get_runtime_context().get_node_id()[:12]}"


def run_generation(backend, request: GenerationRequest, files: dict, progress=None) -> GenerationResult:
    with tempfile.TemporaryDirectory(prefix="director-take-") as folder:
        return backend.generate(unpack_request(request, files, folder), progress=progress)


def _generate_shared(name: str, request: GenerationRequest, files: dict, env: dict, shipped):
    apply_env(env)
    return run_generation(build_backend(name, env, shipped), request, files), node_name()


_TASK = None
_WORKER = None


def _task(ray):
    global _TASK
    if _TASK is None:
        _TASK = ray.remote(num_cpus=1, max_retries=0)(_generate_shared)
    return _TASK


def _worker_class(ray):
    """The actor that owns one model: made lazily, so importing this module does not import Ray."""
    global _WORKER
    if _WORKER is not None:
        return _WORKER

    @ray.remote(concurrency_groups={"control": 1})
    class ModelWorker:
        def __init__(self, name: str, env: dict, shipped):
            apply_env(env)
            self.backend = build_backend(name, env, shipped)
            self.stopped: set[str] = set()

        def generate(self, request: GenerationRequest, files: dict, run_id: str):
            def progress(done: int, total: int) -> None:
                if run_id in self.stopped:
                    raise GenerationCancelled()

            if run_id in self.stopped:
                raise GenerationCancelled()
            try:
                return run_generation(self.backend, request, files, progress), node_name()
            finally:
                self.stopped.discard(run_id)

        @ray.method(concurrency_group="control")
        def stop(self, run_id: str) -> None:
            self.stopped.add(run_id)

    _WORKER = ModelWorker
    return _WORKER


def _unwrap(exc) -> BaseException:
    """The exception the backend raised on the worker, so the producer tells failures from crashes."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return cause
    return GenerationError(f"the take failed on a Ray worker: {exc}")


__all__ = ["FarmError", "RayFarm", "forwarded_env", "pack_request", "unpack_request"]
