"""The render farm: runs independent shots side by side.

In-process by default: a thread pool, because the CPU work (OpenCV, numpy, ffmpeg, torch) releases
the GIL. A diffusion backend on one GPU wants one worker (`DIRECTOR_FARM_WORKERS=1`); several GPUs or
machines want a distributed scheduler such as Ray behind this same `map`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from pydantic_settings import BaseSettings, SettingsConfigDict

T = TypeVar("T")
R = TypeVar("R")


class FarmSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_FARM_")
    workers: int = 0  # 0: one per core, at most 4


def default_workers() -> int:
    configured = FarmSettings().workers
    return configured if configured > 0 else max(1, min(4, os.cpu_count() or 1))


def farm_map(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> list[R]:
    """`[fn(x) for x in items]`, in parallel, in order. The first exception is raised after the
    running items finish (finished work is never thrown away: `fn` records its own results)."""
    items = list(items)
    n = workers or default_workers()
    if n <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="farm") as pool:
        futures: list[Future] = [pool.submit(fn, x) for x in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in futures:
            error = f.exception() if f.done() else None
            if error is not None:
                for other in futures:
                    other.cancel()
                raise error
        return [f.result() for f in futures]
