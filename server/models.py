"""The websocket protocol as pydantic models, plus the few HTTP response bodies we own.

Every message is one JSON object with a `type` and a `project_id`. Client messages are parsed with
`parse_client_message`, which raises `ProtocolError` (code + human message) for anything malformed;
the connection answers with an `error` event and stays up.

Server events are the pydantic models of agent/events.py, which the Director emits; the server sends
`event.to_wire()`. Extra keys are allowed on events: the protocol may grow.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from agent.errors import public_message
from agent.events import (
    AnyEvent,
    CutReady,
    DirectorMessage,
    ErrorEvent,
    SafetyNotice,
    ShotProgress,
    TakeReady,
    event_adapter,
)

ProjectId = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
ShotId = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

# Error codes a client can switch on. The message beside each is for people.
ERROR_CODES = {
    "bad_json": "the message is not valid JSON",
    "not_object": "the message is JSON but not an object",
    "too_large": "the message is larger than the server accepts",
    "unknown_type": "the message's `type` is missing or not one the server knows",
    "invalid_message": "a field is missing or has the wrong type",
    "not_found": "no such project, shot or take for this user",
    "busy": "the project is already rendering; cancel it or wait (no longer sent: busy projects queue)",
    "queue_full": "too many messages are already waiting for this project; wait for the director to catch up",
    "not_running": "cancel: nothing is running for that project",
    "rate_limited": "too many messages; slow down",
    "bad_request": "the director could not do what was asked",
    "refused": "the request was refused by the safety checks",
    "needs_answer": "the director needs an answer first (a question, a budget to confirm)",
    "conflict": "someone else changed the project first; reload and try again",
    "cancelled": "the job was cancelled; finished takes are kept",
    "failed": "a step of the work failed; the message says which",
    "resume_failed": "an interrupted render could not be resumed",
    "internal": "the server failed; the message says what it was doing",
}


# ----------------------------------------------------------------------------- client -> server


class _ClientMessage(BaseModel):
    # forbid: a misspelt field ("txt") is reported rather than silently ignored.
    model_config = ConfigDict(extra="forbid", str_max_length=100_000)

    request_id: str | None = Field(None, max_length=128, description="echoed back in an `error` about this message")


class UserMessage(_ClientMessage):
    """A chat line. Without a project_id it is a brief: the director plans a new project."""

    type: Literal["user_message"]
    project_id: ProjectId | None = None
    text: Text
    upload: str | None = Field(None, max_length=300, description="an id from POST /api/uploads: used for the shots "
                               "the text names (\"use this for shot 2\")")


class FeedbackMessage(_ClientMessage):
    """Feedback on a project, optionally about some shots only; re-renders what changed."""

    type: Literal["feedback"]
    project_id: ProjectId
    text: Text
    shots: list[ShotId] | None = Field(None, max_length=200)


class ApproveStoryboard(_ClientMessage):
    type: Literal["approve_storyboard"]
    project_id: ProjectId


class RenderMessage(_ClientMessage):
    type: Literal["render"]
    project_id: ProjectId


class CancelMessage(_ClientMessage):
    """Stop the project's running job after its current step; finished takes are kept."""

    type: Literal["cancel"]
    project_id: ProjectId


class SelectTake(_ClientMessage):
    type: Literal["select_take"]
    project_id: ProjectId
    shot_id: ShotId
    take_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class EditShot(_ClientMessage):
    """A card edit: a new storyboard version (no render). `action` edit (the `fields` given), add (a new
    shot at `position`, 1-based; the end when absent), remove, or move (to `position`). `upload` (an id from
    POST /api/uploads) makes the shot image-to-video from an image, video-to-video from a clip."""

    type: Literal["edit_shot"]
    project_id: ProjectId
    action: Literal["edit", "add", "remove", "move"] = "edit"
    shot_id: ShotId | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    position: int | None = Field(None, ge=1, le=1000)
    upload: str | None = Field(None, max_length=300)


class RestoreVersion(_ClientMessage):
    """Go back to an earlier version: its storyboard becomes a new version."""

    type: Literal["restore_version"]
    project_id: ProjectId
    version: int = Field(ge=1)


class AcceptTake(_ClientMessage):
    """Keep a shot's selected take although the critic failed it."""

    type: Literal["accept_take"]
    project_id: ProjectId
    shot_id: ShotId


class KeyframesRequest(_ClientMessage):
    """Keyframes first: one still per shot of the latest version (answered with a `keyframes` event).
    `reroll` makes new stills for `shots` (all shots when absent); without it existing stills are kept."""

    type: Literal["keyframes"]
    project_id: ProjectId
    shots: list[ShotId] | None = Field(None, max_length=200)
    reroll: bool = False


class ApproveKeyframes(_ClientMessage):
    """A new storyboard version in which each approved shot (`shots`, all when absent) is image-to-video
    from its still."""

    type: Literal["approve_keyframes"]
    project_id: ProjectId
    shots: list[ShotId] | None = Field(None, max_length=200)


class HistoryRequest(_ClientMessage):
    """Every version of the project (answered with a `history` event)."""

    type: Literal["history"]
    project_id: ProjectId


class Subscribe(_ClientMessage):
    """Receive a project's events without changing it (a second tab, a reloaded page)."""

    type: Literal["subscribe"]
    project_id: ProjectId


ClientMessage = Annotated[
    UserMessage | FeedbackMessage | ApproveStoryboard | RenderMessage | CancelMessage | SelectTake | Subscribe | EditShot | RestoreVersion | AcceptTake | HistoryRequest
    | KeyframesRequest | ApproveKeyframes,
    Field(discriminator="type"),
]
CLIENT_TYPES = ("user_message", "feedback", "approve_storyboard", "render", "cancel", "select_take", "subscribe",
                "edit_shot", "restore_version", "accept_take", "history", "keyframes", "approve_keyframes")
_client_adapter: TypeAdapter[Any] = TypeAdapter(ClientMessage)


class ProtocolError(Exception):
    """A client message the server cannot act on; becomes an `error` event."""

    def __init__(self, code: str, message: str, project_id: str | None = None, request_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.project_id = project_id
        self.request_id = request_id

    def event(self) -> ErrorEvent:
        return error_event(self.code, self.message, self.project_id, self.request_id)


def error_event(code: str, message: str, project_id: str | None = None, request_id: str | None = None) -> ErrorEvent:
    # No server path ever reaches a client, whatever the exception said.
    return ErrorEvent(project_id=project_id, code=code, message=public_message(message), request_id=request_id)


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        # The first loc item is the union tag ("feedback"); the rest is the field path.
        loc = [str(p) for p in e["loc"][1:]] or [str(p) for p in e["loc"]]
        field = ".".join(loc)
        if e["type"] == "missing":
            parts.append(f"'{field}' is required")
        elif e["type"] == "extra_forbidden":
            parts.append(f"unknown field '{field}'")
        else:
            parts.append(f"'{field}': {e['msg']}")
    return "; ".join(parts)


MAX_DEPTH = 32   # the deepest real message is 3 levels (an object holding a list of shot ids)


def _nesting(raw: str | bytes) -> int:
    """How deep [ and { nest in `raw`, outside strings; counted without parsing (no recursion)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_client_message(raw: str | bytes, max_bytes: int | None = None) -> ClientMessage:
    """Parse one websocket frame into a client message or raise ProtocolError saying what was wrong."""
    if max_bytes is not None and len(raw) > max_bytes:
        raise ProtocolError("too_large", f"message is {len(raw)} bytes; the limit is {max_bytes}")
    brackets = raw.count("[" if isinstance(raw, str) else b"[") + raw.count("{" if isinstance(raw, str) else b"{")
    depth = _nesting(raw) if brackets > MAX_DEPTH else 0   # the scan only when it could matter
    if depth > MAX_DEPTH:
        # json.loads recurses once per level: a deep enough message would escape as RecursionError.
        raise ProtocolError("invalid_message", f"message is nested {depth} levels deep; the limit is {MAX_DEPTH}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ProtocolError("bad_json", f"message is not valid JSON ({err}); send one JSON object per message") from None
    if not isinstance(data, dict):
        raise ProtocolError("not_object", f"message must be a JSON object with 'type' and 'project_id', not {type(data).__name__}")
    pid = data.get("project_id") if isinstance(data.get("project_id"), str) else None
    rid = data.get("request_id") if isinstance(data.get("request_id"), str) else None
    mtype = data.get("type")
    if mtype not in CLIENT_TYPES:
        shown = json.dumps(mtype)[:60] if mtype is not None else "missing"
        raise ProtocolError("unknown_type", f"message type {shown} is not one of: {', '.join(CLIENT_TYPES)}", pid, rid)
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as err:
        raise ProtocolError("invalid_message", f"{mtype}: {_describe(err)}", pid, rid) from None


# ----------------------------------------------------------------------------- server -> client

# The events are the Director's own types (agent/events.py); these names keep older imports working.
DirectorMessageEvent = DirectorMessage
ShotProgressEvent = ShotProgress
TakeReadyEvent = TakeReady
CutReadyEvent = CutReady
SafetyNoticeEvent = SafetyNotice
ServerEvent = AnyEvent
server_event_adapter = event_adapter


def protocol_schema() -> dict:
    """JSON Schema of both directions, served at /api/protocol for client authors."""
    return {
        "client_to_server": _client_adapter.json_schema(),
        "server_to_client": server_event_adapter.json_schema(),
        "error_codes": ERROR_CODES,
    }


# ----------------------------------------------------------------------------- HTTP bodies


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Me(BaseModel):
    name: str


class Upload(BaseModel):
    id: str = Field(description="pass this as a shot's reference (image) or source (clip)")
    kind: Literal["image", "video"]
    format: str
    size: int
    sha256: str
    metadata_stripped: bool


class HTTPError(BaseModel):
    detail: str
