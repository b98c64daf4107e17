"""What the director tells whoever asked: one pydantic model per event.

The Director and the producer call `emit(event)` with these models; each front door turns them into
its own medium (the websocket and the bots send `event.to_wire()`, the CLI draws progress bars from
them). `to_wire()` is the JSON a websocket client receives: every event has `type` and `project_id`.

Events allow extra keys (`extra="allow"`): the protocol may grow, and a client ignores what it does
not know. Add fields, never rename them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    project_id: str | None = None

    # Optional keys that today's wire leaves out rather than sending as null.
    _omit_when_none: ClassVar[tuple[str, ...]] = ()

    def to_wire(self) -> dict[str, Any]:
        """The event as the JSON object a client receives."""
        data = self.model_dump(mode="json")
        for key in self._omit_when_none:
            if data.get(key) is None:
                data.pop(key, None)
        return data

    # Read access by wire key, so code that reads events (tests, adapters) can treat an event like the
    # JSON a client receives: event["type"], event.get("shot_id").
    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


class DirectorMessage(Event):
    """Something the director says to the person, in words."""

    type: Literal["director_message"] = "director_message"
    text: str
    cancelled: bool | None = Field(None, description="true on the message that confirms a cancelled job")

    _omit_when_none = ("cancelled",)


class StoryboardEvent(Event):
    """A storyboard version in full (with the composed prompt of every shot)."""

    type: Literal["storyboard"] = "storyboard"
    version: int
    parent: int | None = None
    reason: str = ""
    storyboard: dict[str, Any]
    changed_shots: list[str] = Field(default_factory=list)
    duration: float | None = Field(None, description="seconds of film")
    size: list[int] | None = Field(None, description="[width, height] of the film")
    reusable_takes: dict[str, dict] | None = Field(
        None, description="changed shots that already have a take for their new look (going back to a version)")

    _omit_when_none = ("reusable_takes",)


class Queued(Event):
    """The message waits behind the project's running job; it runs when that one ends."""

    type: Literal["queued"] = "queued"
    position: int = Field(1, description="1 = next to run")
    kind: str = Field("", description="what waits: render, feedback, chat, …")
    text: str = ""


class Estimate(Event):
    """What a render will cost before it starts."""

    type: Literal["estimate"] = "estimate"
    video_seconds: float | None = None
    takes: int | None = Field(None, description="takes budgeted, retries included")
    wall_seconds: float | None = Field(None, description="expected time on this machine")
    cost_usd: float | None = Field(None, description="money for hosted backends")
    text: str = ""
    version: int | None = Field(None, description="the storyboard version being rendered")
    shots: dict[str, dict[str, Any]] | None = Field(
        None, description="per shot id: {reused: bool, seconds: expected seconds to make it (0 when reused)}")

    _omit_when_none = ("version", "shots")


class ShotProgress(Event):
    """Where a shot is (shot_id "*" is the cut itself: assemble, sign)."""

    type: Literal["shot_progress"] = "shot_progress"
    shot_id: str | None = None
    stage: str = Field(description="reused | generate | critique | encode | assemble | sign")
    done: int | float | None = None
    total: int | float | None = None
    attempt: int | None = None
    elapsed: float | None = Field(None, description="seconds since this shot started")
    left: float | None = Field(None, description="estimated seconds until this shot is done")

    _omit_when_none = ("elapsed", "left")


class TakeReady(Event):
    """A shot's chosen take, with its critique."""

    type: Literal["take_ready"] = "take_ready"
    shot_id: str
    take: dict[str, Any]
    critique: dict[str, Any] | None = None
    selected: bool = False
    thumbnail: str | None = None


class CutReady(Event):
    """The film is delivered; `files` maps each output file name to its URL."""

    type: Literal["cut_ready"] = "cut_ready"
    version: int
    cut_id: str
    url: str
    files: dict[str, str | None] = Field(default_factory=dict)
    duration: float | None = None
    verdict: str | None = None


class HistoryEvent(Event):
    """Every storyboard version of a project, oldest first (the answer to a `history` message)."""

    type: Literal["history"] = "history"
    versions: list[dict[str, Any]] = Field(default_factory=list)


class KeyframeView(BaseModel):
    """One shot's proposed still as a client sees it."""

    shot_id: str
    url: str = Field(description="the still, under /media/{project_id}/stills/")
    approved: bool = False
    roll: int = Field(1, description="1 for the first still of this shot, 2 after one re-roll, ...")


class KeyframesEvent(Event):
    """The proposed stills of a storyboard version (keyframes first): approve them, or re-roll some."""

    type: Literal["keyframes"] = "keyframes"
    version: int
    keyframes: list[KeyframeView] = Field(default_factory=list)
    sheet: str | None = Field(None, description="URL of keyframes.png, every still side by side")


class SafetyNotice(Event):
    type: Literal["safety_notice"] = "safety_notice"
    verdict: str
    reasons: list[str] = Field(default_factory=list)


class ErrorEvent(Event):
    """Something failed; `code` is stable (see agent/errors.py), `message` is for people."""

    type: Literal["error"] = "error"
    code: str
    message: str
    request_id: str | None = None

    _omit_when_none = ("request_id",)


AnyEvent = Annotated[
    DirectorMessage | StoryboardEvent | Queued | Estimate | ShotProgress | TakeReady | CutReady | SafetyNotice | ErrorEvent | HistoryEvent
    | KeyframesEvent,
    Field(discriminator="type"),
]
event_adapter: TypeAdapter[Any] = TypeAdapter(AnyEvent)
EVENT_TYPES = ("director_message", "storyboard", "queued", "estimate", "shot_progress", "take_ready", "cut_ready",
               "safety_notice", "error", "history", "keyframes")

Emit = Callable[[Event], None]


def noop(_event: Event) -> None:
    pass


def parse_event(data: dict[str, Any]) -> Event:
    """A wire event back into its model (clients written in Python, tests)."""
    return event_adapter.validate_python(data)
