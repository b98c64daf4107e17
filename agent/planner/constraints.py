"""Hard constraints: what a brief or a note fixes, read by the rules parser and held against whatever
any brain writes.

A model may plan 152 s for a 15 s brief, 16:9 for "vertical", or edit shot 3 when the note says shot 2;
the schema alone lets all of that through. Here the brief's length, aspect ratio, cards and negatives,
and a note's named shots, are read by the same parser the rules brain uses, and the result is repaired
to fit them, with a note saying what was repaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.planner.length import film_seconds, fit_storyboard
from agent.prompts import merge_items
from storyboards.schema import Storyboard


@dataclass
class Constraints:
    seconds: float | None = None
    aspect_ratio: str | None = None
    shots: int | None = None
    negatives: list[str] = field(default_factory=list)
    title_card: bool = False
    end_card: bool = False


def from_brief(brief: str, overrides: dict | None = None) -> Constraints:
    """What a brief fixes, as the rules parser reads it (the CLI's --seconds/--aspect win)."""
    from agent.planner.rules import (
        QUOTE,
        _read_lengths,
        find_aspects,
        find_negatives,
        wants_cards,
    )

    overrides = overrides or {}
    text = QUOTE.sub(" ", brief or "")
    lengths = _read_lengths(text)
    aspects = find_aspects(text)
    strong = [a for a in aspects if a[2]] or aspects
    title_card, end_card = wants_cards(text)
    total = lengths.total[0][0] if lengths.total else None
    if total is None and lengths.per_shot and lengths.counts:
        total = lengths.per_shot[0][0] * lengths.counts[0][0]
    return Constraints(
        seconds=float(overrides["seconds"]) if overrides.get("seconds") else total,
        aspect_ratio=overrides.get("aspect_ratio") or (strong[0][0] if strong else None),
        shots=int(overrides["shots"]) if overrides.get("shots") else (lengths.counts[0][0] if lengths.counts else None),
        negatives=find_negatives(text),
        title_card=title_card,
        end_card=end_card,
    )


def enforce(sb: Storyboard, c: Constraints, max_shot_seconds: float) -> tuple[Storyboard, list[str]]:
    """`sb` repaired to fit `c`; the notes say each repair."""
    notes: list[str] = []
    data = sb.model_dump()
    if c.aspect_ratio and sb.aspect_ratio != c.aspect_ratio:
        notes.append(f"Aspect ratio {c.aspect_ratio}, as asked (the plan said {sb.aspect_ratio}).")
        data["aspect_ratio"] = c.aspect_ratio
    if (sb.title_card, sb.end_card) != (c.title_card, c.end_card):
        data["title_card"], data["end_card"] = c.title_card, c.end_card
    if c.negatives:
        for shot in data["shots"]:
            shot["negative_prompt"] = merge_items(shot["negative_prompt"], ", ".join(c.negatives))
    fixed = Storyboard.model_validate(data)
    if c.shots and len(fixed.shots) != c.shots:
        notes.append(f"The brief asks for {c.shots} shots; the plan has {len(fixed.shots)}.")
    if c.seconds:
        if abs(film_seconds(fixed) - c.seconds) > 1 / fixed.fps:
            fitted = fit_storyboard(fixed, c.seconds, max_shot_seconds)
            if fitted is None:
                notes.append(f"The plan runs {film_seconds(fixed):.1f} s and can't be fitted to the {c.seconds:g} s asked "
                             f"with shots of at most {max_shot_seconds:g} s.")
            else:
                notes.append(f"Retimed to exactly {c.seconds:g} s, as asked (the plan ran {film_seconds(fixed):.1f} s).")
                fixed = fitted
    return fixed, notes


def named_shots(text: str, order: list[str]) -> list[str]:
    """The shots a note names ("shot 2", "the last shot", "s3"); [] when it names none."""
    from agent.feedback import _find_refs

    if re.search(r"\b(?:swap|switch|move|reorder|add|insert|remove|cut|delete|drop)\b", text, re.I):
        return []   # structural notes touch order and membership, not one shot's fields
    return _find_refs(text, order).ids


def hold_scope(original: Storyboard, new: Storyboard, named: list[str]) -> tuple[Storyboard, list[str]]:
    """A note that names shots changes those shots: fields the brain changed elsewhere are put back."""
    if not named:
        return new, []
    before = {s.id: s for s in original.shots}
    strays = [s.id for s in new.shots if s.id not in named and s.id in before and s != before[s.id]]
    if not strays:
        return new, []
    repaired = new.model_copy(update={"shots": [before[s.id] if s.id in strays else s for s in new.shots]})
    return Storyboard.model_validate(repaired.model_dump()), [
        f"The note names {', '.join(named)}, so {', '.join(strays)} stay as they were."]
