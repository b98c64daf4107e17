"""One editing path: a revision expressed as the director's tool calls (agent/brains/tools.py).

The LLM brain edits a storyboard by calling validated tools. The rules brain reads the note with its
parser (agent/feedback.py), then says what it read as the same tool calls, which go through the same
`apply_tool` checks: both brains change storyboards one way, and the tools' tests are the edit tests
of both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.brains.tools import CAST_FIELDS, FILM_FIELDS, SHOT_FIELDS
from storyboards.schema import Storyboard

Call = tuple[str, dict[str, Any]]


def _shot_args(shot, fields=SHOT_FIELDS) -> dict[str, Any]:
    data = shot.model_dump(mode="json")
    return {f: data[f] for f in fields if f in data}


def calls_for(old: Storyboard, new: Storyboard, *, regenerate: Sequence[str] = (), select_take: tuple[str, int] | None = None,
              render: bool = False) -> list[Call]:
    """The tool calls that turn `old` into `new` (plus a new take, a take choice, a render when asked)."""
    calls: list[Call] = []
    film = {f: getattr(new, f) for f in FILM_FIELDS if getattr(old, f) != getattr(new, f)}
    old_ids, new_ids = [s.id for s in old.shots], [s.id for s in new.shots]
    old_cast = {m.id: m for m in old.cast}
    cast_changed = [m for m in new.cast if m.id in old_cast and m != old_cast[m.id]]
    membership = set(old_ids) != set(new_ids) or set(old_cast) != {m.id for m in new.cast}
    if membership:
        # shots or cast members come or go: the whole storyboard, existing ids keeping their seeds
        calls.append(("plan_storyboard", {
            **{f: getattr(new, f) for f in FILM_FIELDS},
            "cast": [{f: getattr(m, f) for f in CAST_FIELDS} for m in new.cast],
            "shots": [_shot_args(s) for s in new.shots],
        }))
    else:
        if film:
            calls.append(("set_project_settings", film))
        if cast_changed:
            calls.append(("revise_cast", {"changes": [{f: getattr(m, f) for f in CAST_FIELDS} for m in cast_changed]}))
        if old_ids != new_ids:
            calls.append(("reorder_shots", {"order": new_ids}))
        before = {s.id: _shot_args(s) for s in old.shots}
        changes = []
        for shot in new.shots:
            now = _shot_args(shot)
            diff = {k: v for k, v in now.items() if k != "id" and before[shot.id].get(k) != v}
            if diff:
                changes.append({"shot_id": shot.id, **diff})
        if changes:
            calls.append(("revise_shots", {"changes": changes}))
    for sid in regenerate:
        calls.append(("regenerate_shot", {"shot_id": sid}))
    if select_take is not None:
        calls.append(("select_take", {"shot_id": select_take[0], "take": select_take[1] + 1}))
    if render:
        calls.append(("render", {}))
    return calls
