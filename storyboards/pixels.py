"""Which parts of a storyboard decide a take's pixels: defined once, here.

The diff (storyboards/diff.py), the feedback parser (agent/feedback.py) and the producer's take key
(agent/production.py) all read these. A new Shot field decides pixels unless it is listed in
EDIT_ONLY_SHOT_FIELDS: a forgotten field costs a render, never a stale take. A cast member's
description (on the film) decides the pixels of every shot the member is in.
"""

from __future__ import annotations

from .schema import Shot, Storyboard

# Shot fields that never change a take's pixels: they shape the edit or what people read.
EDIT_ONLY_SHOT_FIELDS = frozenset({"transition", "narration", "caption", "prompt"})
# Every other shot field but the id (the id names the shot; an unchanged shot keeps its takes).
PIXEL_SHOT_FIELDS = tuple(f for f in Shot.model_fields if f not in EDIT_ONLY_SHOT_FIELDS and f != "id")
# Film settings that change every take's pixels (size, frame count, the prompt's style guide).
PIXEL_SETTINGS = ("aspect_ratio", "resolution", "fps", "style_guide")


def cast_looks(storyboard: Storyboard, shot: Shot) -> list[tuple[str, str]]:
    """(id, description) of each cast member in the shot: a description is part of the shot's prompt."""
    members = {m.id: m for m in storyboard.cast}
    return [(c, members[c].description if c in members else "") for c in shot.cast]


def pixel_key(storyboard: Storyboard, shot: Shot) -> tuple:
    """Equal for two versions of a shot exactly when they need the same pixels."""
    return (tuple(getattr(storyboard, f) for f in PIXEL_SETTINGS) + tuple(getattr(shot, f) for f in PIXEL_SHOT_FIELDS)
            + (tuple(cast_looks(storyboard, shot)),))


def shots_needing_new_pixels(old: Storyboard, new: Storyboard) -> list[str]:
    """Ids of `new`'s shots (in film order) whose pixels differ from the same shot in `old`, or that are new."""
    before = {s.id: pixel_key(old, s) for s in old.shots}
    return [s.id for s in new.shots if before.get(s.id) != pixel_key(new, s)]
