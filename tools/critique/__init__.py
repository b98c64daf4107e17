"""The critic: is this take good enough, and if not, why? (tools/critique/)

    from tools.critique import critique_frames, critique_video, write_critique_plot
    c = critique_frames(frames, fps=24, prompt=shot_prompt, shot=shot.model_dump())
    c.verdict, c.reasons, c.score

One file per metric, each documenting its value's range and direction:
flicker, smoothness (+ shake), frozen, exposure, scene_cut, noise, sharpness, consistency
(+ style_consistency across shots), clip_score, aesthetic. Thresholds: settings.CriticSettings.
"""

from __future__ import annotations

from .consistency import style_consistency
from .settings import CriticSettings
from .verdict import critique_frames, critique_video, read_video, summarise


def write_critique_plot(critique, path, **kwargs):
    """See plot.write_critique_plot (matplotlib is imported only when a plot is drawn)."""
    from .plot import write_critique_plot as _write

    return _write(critique, path, **kwargs)


__all__ = ["CriticSettings", "critique_frames", "critique_video", "read_video", "style_consistency",
           "summarise", "write_critique_plot"]
