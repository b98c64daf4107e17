"""What changed between two storyboard versions, and which shots therefore need new pixels.

Shots are matched by id (ids are stable across versions). A shot is *moved* when its order relative
to the other surviving shots changed: inserting a shot before it shifts its index but is not a move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .pixels import EDIT_ONLY_SHOT_FIELDS, PIXEL_SETTINGS, PIXEL_SHOT_FIELDS, cast_looks
from .schema import Shot, Storyboard

NON_PIXEL_SHOT_FIELDS = EDIT_ONLY_SHOT_FIELDS   # the older name
SETTINGS = ("title", "aspect_ratio", "fps", "resolution", "style_guide", "credits", "music")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    @property
    def pixel_relevant(self) -> bool:
        return self.field in PIXEL_SHOT_FIELDS or self.field in PIXEL_SETTINGS

    def describe(self) -> str:
        return f"{self.field} {_show(self.old)} -> {_show(self.new)}"


def _show(value: Any, limit: int = 60) -> str:
    if value is None or value == "":
        return "(none)"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _moved(old_ids: list[str], new_ids: list[str]) -> list[str]:
    """Common shots outside a longest common subsequence of the two orders: the fewest that moved."""
    common = set(old_ids) & set(new_ids)
    a = [i for i in old_ids if i in common]
    b = [i for i in new_ids if i in common]
    n, m = len(a), len(b)
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            lcs[i][j] = lcs[i + 1][j + 1] + 1 if a[i] == b[j] else max(lcs[i + 1][j], lcs[i][j + 1])
    keep: set[str] = set()
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            keep.add(a[i])
            i += 1
            j += 1
        elif lcs[i + 1][j] >= lcs[i][j + 1]:
            i += 1
        else:
            j += 1
    return [s for s in b if s not in keep]


@dataclass
class StoryboardDiff:
    added: list[str] = field(default_factory=list)                       # ids, in the new order
    removed: list[str] = field(default_factory=list)                     # ids, in the old order
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)  # id -> its changed fields
    moved: list[str] = field(default_factory=list)                       # ids whose relative order changed
    settings: list[FieldChange] = field(default_factory=list)            # global settings that changed
    new_order: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.moved or self.settings)

    @property
    def is_empty(self) -> bool:
        return not self

    @property
    def pixel_settings_changed(self) -> list[str]:
        return [c.field for c in self.settings if c.field in PIXEL_SETTINGS]

    def needs_new_pixels(self, shot_id: str) -> bool:
        """True when `shot_id` (a shot of the new storyboard) cannot reuse its old takes."""
        if shot_id not in self.new_order:
            return False
        if shot_id in self.added or self.pixel_settings_changed:
            return True
        return any(c.pixel_relevant for c in self.changed.get(shot_id, []))

    @property
    def shots_to_regenerate(self) -> list[str]:
        """Shots of the new storyboard needing new takes, in film order."""
        return [s for s in self.new_order if self.needs_new_pixels(s)]

    @property
    def touched_shots(self) -> list[str]:
        """Every shot of the new storyboard that differs in any way (added, changed or moved)."""
        touched = set(self.added) | set(self.changed) | set(self.moved)
        return [s for s in self.new_order if s in touched]

    def lines(self) -> list[str]:
        out = [f"{c.field}: {_show(c.old)} -> {_show(c.new)}" for c in self.settings]
        out += [f"shot '{s}': removed" for s in self.removed]
        out += [f"shot '{s}': added at position {self.new_order.index(s) + 1}" for s in self.added]
        for sid, changes in self.changed.items():
            out += [f"shot '{sid}': {c.describe()}" for c in changes]
        out += [f"shot '{s}': moved to position {self.new_order.index(s) + 1}" for s in self.moved]
        return out

    def summary(self) -> str:
        """One readable line per change ("no changes" when there are none)."""
        return "\n".join(self.lines()) or "no changes"

    def to_dict(self) -> dict[str, Any]:
        def fc(c: FieldChange) -> dict[str, Any]:
            return {"field": c.field, "old": c.old, "new": c.new}

        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {k: [fc(c) for c in v] for k, v in self.changed.items()},
            "moved": self.moved,
            "settings": [fc(c) for c in self.settings],
            "regenerate": self.shots_to_regenerate,
        }


def diff_storyboards(old: Storyboard, new: Storyboard) -> StoryboardDiff:
    old_ids = [s.id for s in old.shots]
    new_ids = [s.id for s in new.shots]
    old_by_id = {s.id: s for s in old.shots}
    d = StoryboardDiff(new_order=new_ids)
    d.added = [i for i in new_ids if i not in old_by_id]
    d.removed = [i for i in old_ids if i not in set(new_ids)]
    for shot in new.shots:
        before = old_by_id.get(shot.id)
        if before is None:
            continue
        changes = [
            FieldChange(f, getattr(before, f), getattr(shot, f))
            for f in Shot.model_fields
            if getattr(before, f) != getattr(shot, f)
        ]
        looks = cast_looks(old, before), cast_looks(new, shot)
        if looks[0] != looks[1] and not any(c.field == "cast" for c in changes):
            # a cast member's description is part of the prompt of every shot they are in
            changes.append(FieldChange("cast", looks[0], looks[1]))
        if changes:
            d.changed[shot.id] = changes
    d.moved = _moved(old_ids, new_ids)
    d.settings = [FieldChange(f, getattr(old, f), getattr(new, f)) for f in SETTINGS if getattr(old, f) != getattr(new, f)]
    return d
