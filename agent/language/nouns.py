"""Small readers of noun phrases, shared by the planner and the feedback parser."""

from __future__ import annotations

import re

from agent.language.words import PLACE_NOUNS


def head_noun(phrase: str) -> str:
    """'an old fisherman' -> 'fisherman'; "a vendor's hands" -> 'hands'; 'the rainy city' -> 'city'."""
    words = re.findall(r"[a-z][a-z'-]*", re.split(r"\s+(?:with|in|on|at|of|who|that|and)\s+", phrase.lower())[0])
    return words[-1] if words else ""


def is_place(phrase: str) -> bool:
    return head_noun(phrase) in PLACE_NOUNS
