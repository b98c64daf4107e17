"""The disclosure every delivered frame carries: the visible label and the invisible watermark.

The settings come from tools/safety/settings.py (the environment), never from a brief, feedback or
a planner: nothing a person or an LLM writes can switch them off.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# How the marks are drawn: part of every cached marked piece's key, so a change here (2: the sync
# layer for crops and shifts, the label inside the action-safe area) re-makes them.
MARKS_VERSION = 2


def disclosure_marker(payload: int, inplace: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """A function that labels and watermarks frames with `payload`. `inplace` marks the given frames
    themselves (for fresh takes nobody else holds)."""
    from tools.safety.label import burn_label
    from tools.safety.settings import SafetySettings
    from tools.safety.watermark import embed_frames

    settings = SafetySettings()

    def mark(frames: np.ndarray) -> np.ndarray:
        labelled = burn_label(frames, text=settings.label_text, position=settings.label_position,
                              scale=settings.label_scale, inplace=inplace)
        return embed_frames(labelled, payload, inplace=True)  # labelled is our own copy, or allowed in place

    return mark


def mark_take_frames(frames: np.ndarray, payload: int) -> np.ndarray:
    """Mark a freshly generated take in place: its frames are ours alone, and at 720p a copy costs
    more than the marks."""
    return disclosure_marker(payload, inplace=True)(frames)
