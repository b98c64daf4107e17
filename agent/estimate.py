"""The price and the time of a render, said before it starts.

For each shot that will be generated (an unchanged shot reuses its take and costs nothing) the
estimate counts the seconds of video, the takes budgeted (the first take, and the retries the film's
budget allows), the wall time from this machine's measured speed for that backend and model, and the
money for hosted backends from the price table in settings (`DIRECTOR_HOSTED_PRICES`).

This machine's speed is learnt as it works: after every take the producer records the seconds it
took per megapixel-frame in `speeds.json` in the workspace (an average that follows the latest
takes). Until a backend has been measured, a default per backend stands in and the estimate says so.

`DIRECTOR_BUDGET_USD` (or `--budget`) caps the money: a render whose expected cost is over it is not
started without the person's word (`NeedsAnswer`, exit 4 on the CLI), and retries stop at the cap.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from storyboards.artifacts import atomic_write_text

# Seconds of wall time per megapixel-frame before anything was measured here: the animatic on a CPU
# core, a diffusion model on a mid-range GPU (about a minute for 5 s of 720p), a hosted API's queue.
DEFAULT_SECONDS_PER_MPIX_FRAME = {"animatic": 0.01, "diffusers": 0.6, "runway": 0.12}
FALLBACK_SECONDS_PER_MPIX_FRAME = 0.6
FINISHING_SECONDS_PER_MPIX_FRAME = 0.004   # cut, marks and signature, per frame of the film


class ShotEstimate(BaseModel):
    shot_id: str
    backend: str
    model: str = ""
    seconds: float
    reused: bool = False
    wall_seconds: float = 0.0
    cost_usd: float | None = None   # None: not a priced backend


class RenderEstimate(BaseModel):
    """What a render will take, in the units a person decides by."""

    video_seconds: float
    shots: list[ShotEstimate] = Field(default_factory=list)
    takes: int = Field(0, description="first takes to make")
    takes_budgeted: int = Field(0, description="first takes plus every retry the budget allows")
    wall_seconds: float = Field(0.0, description="expected, first takes only")
    wall_seconds_max: float = Field(0.0, description="if every retry is used")
    cost_usd: float | None = Field(None, description="expected money for hosted backends; None when none is used")
    cost_usd_max: float | None = None
    measured: bool = Field(True, description="False when a backend's speed is still the default, not measured here")
    budget_usd: float | None = None

    @property
    def over_budget(self) -> bool:
        return self.budget_usd is not None and (self.cost_usd or 0.0) > self.budget_usd

    def text(self) -> str:
        reused = sum(1 for s in self.shots if s.reused)
        parts = [f"{self.video_seconds:g} s of video", f"{self.takes} new take{'s' if self.takes != 1 else ''}"
                 + (f" (up to {self.takes_budgeted} with retries)" if self.takes_budgeted > self.takes else "")]
        if reused:
            parts.append(f"{reused} shot{'s' if reused != 1 else ''} reused")
        wall = f"about {_duration(self.wall_seconds)}"
        if self.wall_seconds_max > self.wall_seconds * 1.2:
            wall += f" (at most {_duration(self.wall_seconds_max)})"
        parts.append(wall + ("" if self.measured else " by default speeds, not yet measured on this machine"))
        if self.cost_usd is not None:
            money = f"${self.cost_usd:.2f}" + (f" (up to ${self.cost_usd_max:.2f})" if (self.cost_usd_max or 0) > self.cost_usd else "")
            parts.append(money + (f" of your ${self.budget_usd:.2f} budget" if self.budget_usd is not None else ""))
        return "Estimate: " + ", ".join(parts) + "."


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


class SpeedBook:
    """This machine's measured seconds per megapixel-frame, per `backend:model`, in the workspace."""

    _lock = threading.Lock()

    def __init__(self, path: Path):
        self.path = Path(path)

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and v > 0} if isinstance(data, dict) else {}

    def seconds_per_unit(self, backend: str, model: str) -> tuple[float, bool]:
        """(seconds per megapixel-frame, measured here?)"""
        book = self._read()
        for key in (f"{backend}:{model}", backend):
            if key in book:
                return book[key], True
        return DEFAULT_SECONDS_PER_MPIX_FRAME.get(backend, FALLBACK_SECONDS_PER_MPIX_FRAME), False

    def record(self, backend: str, model: str, seconds: float, width: int, height: int, frames: int) -> None:
        units = width * height * frames / 1e6
        if units <= 0 or seconds <= 0:
            return
        rate = seconds / units
        with self._lock:
            book = self._read()
            for key in (f"{backend}:{model}", backend):
                # Follow the latest takes (a warm pipeline is faster than the first, cold one).
                book[key] = rate if key not in book else 0.7 * book[key] + 0.3 * rate
            atomic_write_text(self.path, json.dumps(book, indent=1, sort_keys=True))


def price_per_second(prices: dict[str, float], backend: str, model: str) -> float | None:
    """USD per second of video for a hosted backend's model (`runway:gen4_turbo`), or its backend default."""
    for key in (f"{backend}:{model}", backend):
        if key in prices:
            return float(prices[key])
    return None


@dataclass(frozen=True)
class PlannedShot:
    """One shot as the producer will make it: what its generation costs depends on these."""

    shot_id: str
    backend: str
    model: str
    seconds: float
    width: int      # the generated size and frame count (the final tier may generate smaller)
    height: int
    frames: int
    reused: bool    # an unchanged shot reuses its take: nothing to make


def estimate_render(shots: Iterable[PlannedShot], *, speeds: SpeedBook, prices: dict[str, float], retries: int,
                    film_seconds: float, film_pixels: tuple[int, int], fps: int,
                    budget_usd: float | None = None) -> RenderEstimate:
    """The estimate for a film's shots; `retries` is the film's retry budget beyond each shot's first take."""
    estimate = RenderEstimate(video_seconds=round(film_seconds, 2), budget_usd=budget_usd)
    priced = False
    worst_take_wall, worst_take_cost = 0.0, 0.0
    for shot in shots:
        rate, measured = speeds.seconds_per_unit(shot.backend, shot.model)
        wall = rate * shot.width * shot.height * shot.frames / 1e6
        price = price_per_second(prices, shot.backend, shot.model)
        cost = None if price is None else round(price * shot.seconds, 4)
        estimate.shots.append(ShotEstimate(shot_id=shot.shot_id, backend=shot.backend, model=shot.model,
                                           seconds=shot.seconds, reused=shot.reused,
                                           wall_seconds=0.0 if shot.reused else wall,
                                           cost_usd=None if shot.reused else cost))
        if shot.reused:
            continue
        estimate.measured &= measured
        estimate.takes += 1
        estimate.wall_seconds += wall
        worst_take_wall = max(worst_take_wall, wall)
        if cost is not None:
            priced = True
            estimate.cost_usd = (estimate.cost_usd or 0.0) + cost
            worst_take_cost = max(worst_take_cost, cost)
    finishing = FINISHING_SECONDS_PER_MPIX_FRAME * film_pixels[0] * film_pixels[1] * film_seconds * fps / 1e6
    extra = max(0, retries) if estimate.takes else 0
    estimate.takes_budgeted = estimate.takes + extra
    estimate.wall_seconds = round(estimate.wall_seconds + finishing, 1)
    estimate.wall_seconds_max = round(estimate.wall_seconds + extra * worst_take_wall, 1)
    if priced:
        estimate.cost_usd = round(estimate.cost_usd or 0.0, 2)
        estimate.cost_usd_max = round(estimate.cost_usd + extra * worst_take_cost, 2)
    return estimate
