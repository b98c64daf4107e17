"""The in-process farm: shots on a thread pool, one lane per exclusive model, generation in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from tools.generate.base import GenerationRequest, GenerationResult, get_backend

T = TypeVar("T")
R = TypeVar("R")

POLL = 0.1   # seconds between looks at cancel / Ctrl-C while shots run


class LocalFarm:
    engine = "local"

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._lanes_used: set[str] = set()

    def run_shots(self, fn: Callable[[T], R], items: Iterable[T], lane_of: Callable[[T], str | None] | None = None,
                  cancel: threading.Event | None = None, stop: threading.Event | None = None) -> list[R]:
        items = list(items)
        lanes = [lane_of(x) if lane_of else None for x in items]
        self._lanes_used = {lane for lane in lanes if lane}   # for the manifest of this render
        return run_in_threads(fn, items, lanes, self.workers, cancel, stop)

    def generate(self, backend: str, request: GenerationRequest, progress=None, stop=None) -> GenerationResult:
        return get_backend(backend).generate(request, progress=progress)

    def describe(self) -> dict[str, Any]:
        return {"engine": self.engine, "workers": self.workers, "exclusive_lanes": sorted(self._lanes_used)}


def run_in_threads(fn: Callable[[T], R], items: list[T], lanes: list[str | None], workers: int,
                   cancel: threading.Event | None = None, stop: threading.Event | None = None) -> list[R]:
    """Run `fn` over items on `workers` threads, in order. Items sharing a lane run one after another on
    one thread. The first exception (in time) is raised once the running items have stopped; it sets
    `stop` so they stop after their current step, and items not yet started are dropped."""
    stop = stop if stop is not None else threading.Event()
    if not items:
        return []
    # Units of work: each unlaned item alone; each lane's items in order, on one thread.
    units: list[list[int]] = []
    by_lane: dict[str, list[int]] = {}
    for i, lane in enumerate(lanes):
        if lane is None:
            units.append([i])
        else:
            if lane not in by_lane:
                by_lane[lane] = []
                units.append(by_lane[lane])
            by_lane[lane].append(i)
    results: list[Any] = [None] * len(items)
    errors: list[BaseException] = []      # in the order they happened
    errors_lock = threading.Lock()

    def run_unit(indices: list[int]) -> None:
        for i in indices:
            if stop.is_set():
                return                     # dropped: never started
            try:
                results[i] = fn(items[i])
            except BaseException as err:   # noqa: BLE001 - handed to the caller below
                with errors_lock:
                    errors.append(err)
                stop.set()
                return

    # Even one unit runs on a worker thread: this thread stays free to watch `cancel` and take Ctrl-C.
    _run_units(run_unit, units, workers, cancel, stop)
    if errors:
        raise errors[0]
    return results


def _run_units(run_unit, units, workers: int, cancel: threading.Event | None, stop: threading.Event) -> None:
    pool = ThreadPoolExecutor(max_workers=min(workers, len(units)), thread_name_prefix="farm")
    futures: list[Future] = [pool.submit(run_unit, unit) for unit in units]
    try:
        while not all(f.done() for f in futures):
            if cancel is not None and cancel.is_set():
                stop.set()
            if stop.is_set():
                for f in futures:
                    f.cancel()             # queued: dropped
            # returns as soon as the last shot is done (a plain sleep cost up to POLL per render)
            wait(futures, timeout=POLL)
    except BaseException:                  # Ctrl-C (KeyboardInterrupt) in the waiting thread
        stop.set()
        for f in futures:
            f.cancel()
        # running shots end after their current step; wait for that so nothing is left half-written
        deadline = time.monotonic() + 30
        while any(f.running() for f in futures) and time.monotonic() < deadline:
            try:
                time.sleep(POLL)
            except KeyboardInterrupt:      # a second Ctrl-C: stop waiting
                break
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
