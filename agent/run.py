"""One render as an object: `RenderRun` is what the producer's worker threads share while a film is
made; `RenderResult` is what a render (or feedback, or a take choice) returns to every front door.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from agent.errors import Cancelled
from agent.events import Emit, noop
from tools.safety.disclosure import mark_take_frames

# (frames, watermark payload) -> marked frames: the disclosure every take carries.
Marker = Callable[[np.ndarray, int], np.ndarray]


@dataclass
class RenderRun:
    """One render of one project version, shared by the threads that make its shots."""

    project_id: str
    emit: Emit = noop
    cancel: threading.Event = field(default_factory=threading.Event)
    # set by the render farm when `cancel` is set, a shot fails, or on Ctrl-C: the shots stop after their step
    stop: threading.Event = field(default_factory=threading.Event)
    retries_left: int = 0            # retries for the whole film, beyond each shot's first take
    budget_usd: float | None = None  # money this render may spend on hosted backends (None: no cap)
    spent_usd: float = 0.0
    mark: Marker = mark_take_frames  # the disclosure label and watermark, burned into every take
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    @property
    def stopping(self) -> bool:
        return self.cancel.is_set() or self.stop.is_set()

    def stop_if_cancelled(self) -> None:
        if self.stopping:
            raise Cancelled()

    def spend(self, cost_usd: float | None) -> bool:
        """Book a take's price; False (and nothing booked) when it would pass the budget."""
        if not cost_usd:
            return True
        with self._lock:
            if self.budget_usd is not None and self.spent_usd + cost_usd > self.budget_usd + 1e-9:
                return False
            self.spent_usd += cost_usd
            return True

    def take_retry(self) -> bool:
        """Spend one retry of the film's budget; False when none is left."""
        with self._lock:
            if self.retries_left <= 0:
                return False
            self.retries_left -= 1
            return True


class RenderResult(BaseModel):
    """What `make`/`render`/`feedback --json` print, and what the websocket, the API and the bots get.

    Without a render (a question, feedback with render=False) the cut fields are None. Keys are a
    public contract: add, never rename.
    """

    project_id: str
    version: int | None = None
    cut: str | None = Field(None, description="path of final.mp4")
    cut_id: str | None = None
    changed_shots: list[str] = Field(default_factory=list)
    new_takes: int = 0
    reused_takes: int = 0
    verdict: str | None = Field(None, description="the critic's verdict on the film: pass | fail")
    duration: float | None = None
    out_dir: str | None = None
    warnings: list[str] = Field(default_factory=list)
    question: str | None = Field(None, description="what the director needs answered before going on")
    regenerate: list[str] = Field(default_factory=list, description="feedback without a render: shots the change asks "
                                                                       "new takes of (\"re-roll shot 2\"); pass to render()")

    def to_json(self) -> dict[str, Any]:
        """The --json object: `question` only when there is one, as it always was."""
        data = self.model_dump(mode="json")
        if data["question"] is None:
            del data["question"]
        return data

    # Read access by key, as for the JSON object (result["cut"]), for code written against the dicts.
    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in type(self).model_fields else default
