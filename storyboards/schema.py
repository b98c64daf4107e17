"""The storyboard: the data every part of Reel Director shares.

A `Storyboard` is exactly what a YAML file in `storyboards/examples/` holds. Its keys are a
public contract (scripts and users depend on them): add keys, never rename them.

Validation errors name the shot, the field and what is allowed, e.g.
``shot 'opening': camera 'dolly' is not one of: static, pan_left, ...``.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ASPECT_RATIOS = ("16:9", "9:16", "1:1")
# A film's `resolution` (its short side, px, even): every front door and the watermark search use these.
MIN_RESOLUTION, MAX_RESOLUTION = 64, 2160
MODES = ("t2v", "i2v", "v2v")
CAMERA_MOVES = (
    "static", "pan_left", "pan_right", "tilt_up", "tilt_down", "dolly_in", "dolly_out",
    "zoom_in", "zoom_out", "tracking", "orbit", "crane", "handheld", "aerial",
)
FRAMINGS = (
    "extreme_wide", "wide", "medium", "close_up", "extreme_close_up",
    "low_angle", "high_angle", "dutch_angle", "overhead",
)
TRANSITIONS = ("cut", "crossfade", "fade", "wipe")
# The order in which the prompt composer joins a shot's fields (after the style guide).
PROMPT_FIELDS = ("style", "subject", "action", "setting", "atmosphere", "lighting", "camera", "framing", "technical")

MAX_SHOT_SECONDS = 60.0
SHOT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoryboardError(ValueError):
    """A storyboard that cannot be used, with every problem said in words a person can act on."""

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(self.problems))


def _allowed(value: Any, allowed: tuple[str, ...], field: str) -> str:
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if text in allowed:
        return text
    near = difflib.get_close_matches(text, allowed, n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    raise ValueError(f"{field} '{value}' is not one of: {', '.join(allowed)}{hint}")


class Shot(BaseModel):
    """One shot. `id` is stable across storyboard versions; everything else may change."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str
    duration: float = Field(4.0, description="seconds")
    mode: str = "t2v"
    reference: str | None = Field(None, description="i2v: image path, relative to the storyboard file")
    source: str | None = Field(None, description="v2v: clip path, relative to the storyboard file")
    strength: float | None = Field(None, description="i2v/v2v: how far to move from the input, 0..1")
    style: str = ""
    subject: str = ""
    action: str = ""
    setting: str = ""
    atmosphere: str = ""
    technical: str = ""
    camera: str = "static"
    framing: str = "medium"
    lighting: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    backend: str | None = None
    transition: str = "cut"
    narration: str | None = None
    caption: str | None = None
    cast: list[str] = Field(default_factory=list, description="ids of the film's cast members in this shot")
    continue_from: str | None = Field(None, description="an earlier shot's id: start from the last frame of its selected take")
    # Derived by the prompt composer; written to storyboard.yaml for people to read, ignored on load.
    prompt: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        text = str(v).strip()
        if not SHOT_ID_PATTERN.match(text):
            raise ValueError(
                f"id '{v}' must be 1-64 lowercase letters, digits, '-' or '_' starting with a letter or digit (e.g. 'opening', 'shot-2')"
            )
        return text

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: float) -> float:
        if not (0 < v <= MAX_SHOT_SECONDS):
            raise ValueError(f"duration {v} must be more than 0 and at most {MAX_SHOT_SECONDS:g} seconds")
        return float(v)

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, v: Any) -> str:
        return _allowed(v, MODES, "mode")

    @field_validator("camera", mode="before")
    @classmethod
    def _camera(cls, v: Any) -> str:
        return _allowed(v, CAMERA_MOVES, "camera")

    @field_validator("framing", mode="before")
    @classmethod
    def _framing(cls, v: Any) -> str:
        return _allowed(v, FRAMINGS, "framing")

    @field_validator("transition", mode="before")
    @classmethod
    def _transition(cls, v: Any) -> str:
        return _allowed(v, TRANSITIONS, "transition")

    @field_validator("strength")
    @classmethod
    def _strength(cls, v: float | None) -> float | None:
        if v is not None and not (0.0 <= v <= 1.0):
            raise ValueError(f"strength {v} must be between 0 and 1")
        return v

    @field_validator("seed")
    @classmethod
    def _seed(cls, v: int | None) -> int | None:
        if v is not None and not (0 <= v < 2**32):
            raise ValueError(f"seed {v} must be between 0 and 4294967295")
        return v

    @model_validator(mode="after")
    def _inputs_match_mode(self) -> Shot:
        if self.mode == "i2v" and not self.reference and not self.cast:
            # (with a cast, a member's reference image may be the start: the storyboard checks one exists)
            raise ValueError("mode 'i2v' needs 'reference: path/to/image.png'")
        if self.mode == "v2v" and not self.source:
            raise ValueError("mode 'v2v' needs 'source: path/to/clip.mp4'")
        if self.mode == "t2v" and (self.reference or self.source):
            raise ValueError("mode 't2v' takes no reference or source; use mode 'i2v' or 'v2v'")
        return self


class CastMember(BaseModel):
    """A person or creature that must look the same in every shot it appears in."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str
    name: str = ""
    description: str = Field("", description="how they look, said once; carried verbatim into every shot they are in")
    references: list[str] = Field(default_factory=list, description="reference images, relative to the storyboard file")

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        text = str(v).strip()
        if not SHOT_ID_PATTERN.match(text):
            raise ValueError(f"cast id '{v}' must be 1-64 lowercase letters, digits, '-' or '_' (e.g. 'mara')")
        return text


class Storyboard(BaseModel):
    """A whole film's plan: what a storyboard YAML file holds."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    title: str = "Untitled"
    aspect_ratio: str = "16:9"
    fps: int = 24
    resolution: int = Field(720, description="the short side in pixels: 720 -> 1280x720 at 16:9, 720x1280 at 9:16")
    style_guide: str = ""
    credits: str | None = None
    music: str | None = Field(None, description="optional music bed, a path relative to the storyboard file")
    title_card: bool = Field(True, description="open on a title card (it counts toward the film's length)")
    end_card: bool = Field(True, description="close on an end card with the credits (it counts toward the film's length)")
    cast: list[CastMember] = Field(default_factory=list, description="people and creatures that recur across shots")
    music_bed: bool | None = Field(None, description="false: no music under the film; unset or true: the `music` "
                                   "file, else a bed generated to the film's mood and tempo")
    shots: list[Shot]

    @field_validator("aspect_ratio", mode="before")
    @classmethod
    def _aspect(cls, v: Any) -> str:
        text = str(v).strip()
        if text not in ASPECT_RATIOS:
            raise ValueError(f"aspect_ratio '{v}' is not one of: {', '.join(ASPECT_RATIOS)} (quote it in YAML: \"16:9\")")
        return text

    @field_validator("fps")
    @classmethod
    def _fps(cls, v: int) -> int:
        if not (1 <= v <= 60):
            raise ValueError(f"fps {v} must be between 1 and 60")
        return v

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, v: int) -> int:
        if not (MIN_RESOLUTION <= v <= MAX_RESOLUTION) or v % 2:
            raise ValueError(f"resolution {v} must be an even number of pixels between {MIN_RESOLUTION} and "
                             f"{MAX_RESOLUTION} (the short side)")
        return v

    @field_validator("shots")
    @classmethod
    def _shots(cls, v: list[Shot]) -> list[Shot]:
        if not v:
            raise ValueError("a storyboard needs at least one shot")
        seen: set[str] = set()
        for shot in v:
            if shot.id in seen:
                raise ValueError(f"shot id '{shot.id}' is used twice; ids must be unique")
            seen.add(shot.id)
        return v

    @model_validator(mode="after")
    def _references(self) -> Storyboard:
        members = [m.id for m in self.cast]
        twice = sorted({m for m in members if members.count(m) > 1})
        if twice:
            raise ValueError(f"cast id '{twice[0]}' is used twice; cast ids must be unique")
        earlier: list[str] = []
        for shot in self.shots:
            unknown = [c for c in shot.cast if c not in members]
            if unknown:
                known = f"the cast is: {', '.join(members)}" if members else "the film has no cast: add it under 'cast:'"
                raise ValueError(f"shot '{shot.id}': cast '{unknown[0]}' is not in the film's cast; {known}")
            if shot.mode == "i2v" and not shot.reference and not any(
                    m.references for m in self.cast if m.id in shot.cast):
                raise ValueError(f"shot '{shot.id}': mode 'i2v' needs 'reference: path/to/image.png', or a cast "
                                 "member in the shot with references")
            if shot.continue_from is not None and shot.continue_from not in earlier:
                where = f"earlier shots are: {', '.join(earlier)}" if earlier else "it is the first shot"
                raise ValueError(f"shot '{shot.id}': continue_from '{shot.continue_from}' must name an earlier shot; {where}")
            earlier.append(shot.id)
        return self

    def member(self, member_id: str) -> CastMember:
        for m in self.cast:
            if m.id == member_id:
                return m
        raise KeyError(f"no cast member '{member_id}'; the cast is: {', '.join(m.id for m in self.cast) or 'empty'}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every take, from aspect ratio and resolution; both even."""
        return frame_size(self.aspect_ratio, self.resolution)

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.shots)

    @property
    def shows_title_card(self) -> bool:
        """The title card is on screen when it is asked for and there is a title to put on it."""
        return self.title_card and bool(self.title)

    def shot(self, shot_id: str) -> Shot:
        for s in self.shots:
            if s.id == shot_id:
                return s
        raise KeyError(f"no shot '{shot_id}' in this storyboard; shots are: {', '.join(s.id for s in self.shots)}")

    def frames_for(self, shot: Shot) -> int:
        return max(1, round(shot.duration * self.fps))

    @classmethod
    def parse(cls, data: Any, source: str | None = None) -> Storyboard:
        """Validate raw data (from YAML, JSON or an LLM) into a Storyboard, or raise StoryboardError."""
        if not isinstance(data, dict):
            raise StoryboardError(f"a storyboard is a mapping with 'title' and 'shots', not {type(data).__name__}", source)
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise StoryboardError(describe_validation_error(err, data), source) from None


def frame_size(aspect_ratio: str, short_side: int) -> tuple[int, int]:
    w, h = (int(x) for x in aspect_ratio.split(":"))
    if w >= h:
        height = short_side
        width = int(round(short_side * w / h / 2)) * 2
    else:
        width = short_side
        height = int(round(short_side * h / w / 2)) * 2
    return width, height


def describe_validation_error(err: ValidationError, data: dict) -> list[str]:
    """Turn pydantic's errors into sentences naming the shot and field."""
    problems = []
    shots = data.get("shots") if isinstance(data, dict) else None
    for e in err.errors():
        loc = list(e["loc"])
        where = ""
        if loc[:1] == ["shots"] and len(loc) >= 2 and isinstance(loc[1], int):
            idx = loc[1]
            sid = None
            if isinstance(shots, list) and idx < len(shots) and isinstance(shots[idx], dict):
                sid = shots[idx].get("id")
            where = f"shot '{sid}'" if sid else f"shot #{idx + 1}"
            loc = loc[2:]
        field = ".".join(str(p) for p in loc)
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if e["type"] == "extra_forbidden":
            allowed = Shot.model_fields if where else Storyboard.model_fields
            near = difflib.get_close_matches(str(loc[-1]), list(allowed), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            msg = f"unknown key '{loc[-1]}'{hint}; allowed keys: {', '.join(allowed)}"
            field = ""
        elif e["type"] == "missing":
            msg = f"'{field}' is required"
            field = ""
        elif field and field not in msg:
            msg = f"{field}: {msg}"
        problems.append(f"{where}: {msg}" if where else msg)
    return problems


# ----------------------------------------------------------------------------- takes and critiques


class MetricResult(BaseModel):
    """One critic metric on one take. `value` is None when it could not be measured (and says why)."""

    name: str
    value: float | None
    range: tuple[float, float] = (0.0, 1.0)
    higher_is_better: bool = True
    threshold: float | None = None
    passed: bool | None = None          # None: not measured, or informational only
    frames: list[int] = Field(default_factory=list, description="the frames this result concerns (the bad ones when it fails)")
    reason: str = ""
    per_frame: list[float] | None = None


class Critique(BaseModel):
    metrics: dict[str, MetricResult] = Field(default_factory=dict)
    verdict: Literal["pass", "fail"] = "pass"
    reasons: list[str] = Field(default_factory=list)
    score: float = Field(1.0, description="0..1 combined score used to pick the best take")
    not_measured: list[str] = Field(default_factory=list)


class TakeStatus(str, Enum):
    ok = "ok"            # generated and passed the critic
    failed = "failed"    # generated, but the critic failed it (kept and marked)
    error = "error"      # generation itself failed; no file


class Take(BaseModel):
    """One generation of one shot."""

    id: str
    shot_id: str
    key: str = Field(description="hash of everything that determines the pixels (seed included)")
    spec_key: str = Field("", description="the same hash without the seed: takes of one unchanged shot share it")
    backend: str
    model: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    seed: int
    width: int
    height: int
    frames: int
    fps: int
    params: dict[str, Any] = Field(default_factory=dict)
    file: str | None = Field(None, description="path relative to the workspace")
    content_hash: str | None = Field(None, description="sha256 of the file when it was written")
    file_size: int | None = Field(None, description="bytes, when the file was written")
    file_mtime_ns: int | None = Field(None, description="the file's mtime when it was written (a cheap change check)")
    timings: dict[str, float] = Field(default_factory=dict)
    critique: Critique | None = None
    status: TakeStatus = TakeStatus.ok
    error: str | None = None
    attempt: int = 1
    selected: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Cut(BaseModel):
    """An assembled film."""

    id: str
    project_id: str
    version: int
    file: str
    preset: str = ""
    take_ids: list[str] = Field(default_factory=list)
    manifest: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
