"""Manual storyboard edits (the web page's cards): change a shot's fields, add, remove, move, restore.

Each function returns a new Storyboard and a one-line reason; the Director writes it as a new version
through the same path as chat feedback. Shot numbers in reasons are positions ("shot 2"), the way
people read the board.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import BadInput, NotFound
from storyboards.schema import Shot, Storyboard

# What a person may set on a card. Ids, composed prompts and seeds are the director's.
EDITABLE_FIELDS = (
    "subject", "action", "setting", "atmosphere", "lighting", "style", "technical", "camera", "framing",
    "duration", "negative_prompt", "narration", "caption", "transition", "mode", "reference", "source", "strength",
)


@dataclass
class ShotEdit:
    """One edit of the board. `op`: edit | add | remove | move."""

    op: str
    shot_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    position: int | None = None     # add/move: 1-based position in the new order (None: the end)


def _position(storyboard: Storyboard, shot_id: str) -> int:
    return next(i for i, s in enumerate(storyboard.shots, 1) if s.id == shot_id)


def _new_id(existing: list[str]) -> str:
    nums = [int(m.group(1)) for i in existing if (m := re.fullmatch(r"s(\d+)", i))]
    n = max(nums, default=len(existing)) + 1
    while f"s{n}" in existing:
        n += 1
    return f"s{n}"


def _checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise BadInput(f"cannot edit {', '.join(unknown)}: a card can change {', '.join(EDITABLE_FIELDS)}")
    # An empty box on a form means "none" for optional text, "" for the prompt fields.
    return {k: (None if v == "" and k in ("narration", "caption", "reference", "source", "strength") else v)
            for k, v in fields.items()}


def _with_shot(shot: Shot, fields: dict[str, Any]) -> Shot:
    data = shot.model_dump(exclude={"prompt"})
    data.update(fields)
    if data.get("mode") == "t2v":
        data["reference"] = data["source"] = None
    try:
        return Shot.model_validate(data)
    except ValueError as err:   # pydantic names the field and the values allowed
        problems = [e.get("msg", "").removeprefix("Value error, ") for e in getattr(err, "errors", list)()]
        raise BadInput(f"shot '{shot.id}': {'; '.join(problems) or err}") from None


def apply_edits(storyboard: Storyboard, edits: list[ShotEdit]) -> tuple[Storyboard, str]:
    """The storyboard after `edits` (in order), and a reason naming shots by position."""
    shots = list(storyboard.shots)
    said: list[str] = []
    for e in edits:
        ids = [s.id for s in shots]
        if e.op != "add" and (e.shot_id is None or e.shot_id not in ids):
            raise NotFound(f"no shot '{e.shot_id}' in this storyboard; shots are: {', '.join(ids)}")
        index = ids.index(e.shot_id) if e.op != "add" and e.shot_id is not None else -1
        if e.op == "edit":
            fields = _checked_fields(e.fields)
            shots[index] = _with_shot(shots[index], fields)
            said.append(f"shot {index + 1}: edited {', '.join(sorted(fields)) or 'nothing'}")
        elif e.op == "add":
            fields = _checked_fields(e.fields)
            base = Shot.model_validate({"id": _new_id(ids), "duration": 3.0, "subject": "a new shot",
                                        "style": shots[-1].style if shots else ""})
            at = len(shots) if e.position is None else max(0, min(len(shots), e.position - 1))
            shots.insert(at, _with_shot(base, fields))
            said.append(f"added shot {at + 1}")
        elif e.op == "remove":
            if len(shots) == 1:
                raise BadInput("a film needs at least one shot: add another before removing this one")
            shots.pop(index)
            said.append(f"removed shot {index + 1}")
        elif e.op == "move":
            if e.position is None:
                raise BadInput("move: say which position (1 to the number of shots)")
            to = max(0, min(len(shots) - 1, e.position - 1))
            shots.insert(to, shots.pop(index))
            said.append(f"moved shot {index + 1} to position {to + 1}")
        else:
            raise BadInput(f"unknown edit '{e.op}': use edit, add, remove or move")
    try:
        new = Storyboard.model_validate(storyboard.model_copy(update={"shots": shots}).model_dump())
    except ValueError as err:
        raise BadInput(str(err)) from None
    return new, "; ".join(said) or "no change"


def upload_path(uploads_dir: Path, owner_folder: str, upload_id: str) -> Path:
    """The file an upload id (as POST /api/uploads returned it) names, checked to be the caller's own upload."""
    own = (uploads_dir / owner_folder).resolve()
    name = Path(upload_id).name
    path = (own / name).resolve()
    if path.parent != own or not path.is_file() or not upload_id.replace("\\", "/").endswith(f"{owner_folder}/{name}"):
        raise NotFound(f"no upload '{upload_id}' for you: send the file to POST /api/uploads first")
    return path


def fields_for_upload(path: Path) -> dict[str, Any]:
    """An image makes the shot image-to-video from it; a clip makes it video-to-video."""
    if path.suffix.lower() in (".mp4", ".mov", ".webm"):
        return {"mode": "v2v", "source": str(path), "reference": None}
    return {"mode": "i2v", "reference": str(path), "source": None}


def upload_folder(owner: str) -> str:
    """The folder (under the workspace's uploads/) holding one user's uploads: named by a hash, as user
    names are not path-safe."""
    import hashlib

    return "u-" + hashlib.sha256(owner.encode()).hexdigest()[:16]
