"""A picture of a critique: one row per metric, its per-frame curve, its limit dashed, failures shaded.

Read it top to bottom: the title says pass or fail and why; each row is green when the metric passed,
red when it failed, grey when it was only informational; the red bands are the frames it names.
Optionally a strip of thumbnails on top shows what those frames look like.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from storyboards.schema import Critique

from .context import runs
from .settings import CriticSettings
from .verdict import PLOT_INFO

_COLOURS = {True: "#2e7d32", False: "#c62828", None: "#616161"}


def write_critique_plot(critique: Critique, path: str | Path, *, frames: np.ndarray | None = None,
                        fps: float | None = None, settings: CriticSettings | None = None) -> Path:
    """Write a PNG of `critique` to `path` (atomically) and return the path.

    `frames` (the take) adds a thumbnail strip; `fps` labels the axis in seconds as well;
    `settings` should be the ones the critique was made with, for the limits drawn.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    s = settings or CriticSettings()
    rows = [(n, m) for n, m in critique.metrics.items()
            if m.per_frame and len(m.per_frame) > 1 and n in PLOT_INFO and m.value is not None]
    missing = [n for n, m in critique.metrics.items() if m.value is None]
    n_frames = max((len(m.per_frame) for _, m in rows if n_frames_like(m)), default=0)
    strip = frames is not None and len(frames) > 0
    heights = ([1.3] if strip else []) + [1.0] * max(len(rows), 1)
    fig, axes = plt.subplots(len(heights), 1, figsize=(11, 1.0 + 1.25 * len(heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    axes = list(axes[:, 0])

    verdict = critique.verdict.upper()
    title = f"{verdict}   score {critique.score:.2f}"
    failing = [r for r in critique.reasons if "not measured" not in r]
    lines = [title] + [textwrap.shorten(r, 150) for r in failing[:4]]
    if missing:
        lines.append("not measured: " + ", ".join(missing))
    fig.suptitle("\n".join(lines), x=0.01, ha="left", fontsize=9,
                 color=_COLOURS[critique.verdict == "pass"], fontweight="bold")

    if strip:
        ax = axes.pop(0)
        k = min(8, len(frames))
        picks = np.unique(np.linspace(0, len(frames) - 1, k).round().astype(int))
        h = 72
        thumbs = []
        for i in picks:
            f = frames[i]
            w = max(1, round(h * f.shape[1] / f.shape[0]))
            import cv2
            thumbs.append(cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA))
            thumbs.append(np.full((h, 4, 3), 255, np.uint8))
        ax.imshow(np.concatenate(thumbs[:-1], axis=1))
        ax.set_xticks([(j * (thumbs[0].shape[1] + 4)) + thumbs[0].shape[1] / 2 for j in range(len(picks))])
        ax.set_xticklabels([f"frame {i}" for i in picks], fontsize=7)
        ax.set_yticks([])

    for ax, (name, m) in zip(axes, rows):
        label, limits = PLOT_INFO[name]
        y = np.asarray(m.per_frame, float)
        # CLIP and aesthetic score a sample of frames; their `frames` are the sampled frame numbers.
        x = np.asarray(m.frames, float) if len(m.frames) == len(y) and name in ("clip_score", "aesthetic") \
            else np.arange(len(y))
        colour = _COLOURS[m.passed]
        ax.plot(x, y, color=colour, lw=1.4, marker="o" if len(y) <= 20 else None, ms=3)
        for lim in limits(s):
            ax.axhline(lim, color="black", ls="--", lw=1.0)
            ax.text(1.0, lim, f" limit {lim:g}", transform=ax.get_yaxis_transform(), fontsize=7, va="center")
        if m.passed is False and name not in ("clip_score", "aesthetic"):
            for a, b in runs(m.frames):
                ax.axvspan(a - 0.5, b + 0.5, color="#c62828", alpha=0.22, lw=0)
        state = {True: "pass", False: "FAIL", None: "info"}[m.passed]
        ax.set_title(f"{name} [{state}]: {textwrap.shorten(m.reason, 120)}", fontsize=8, loc="left", color=colour)
        ax.set_ylabel(textwrap.fill(label, 18), fontsize=7)
        ax.tick_params(labelsize=7)
        if n_frames:
            ax.set_xlim(-0.5, n_frames - 0.5)
        ax.grid(alpha=0.25)
    if rows:
        axes[len(rows) - 1].set_xlabel("frame" + (f"  ({fps:g} fps)" if fps else ""), fontsize=8)
    for ax in axes[len(rows):]:
        ax.axis("off")

    fig.tight_layout(rect=(0, 0, 0.97, 1.0))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plot-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=90)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def n_frames_like(m) -> bool:
    return m.name not in ("clip_score", "aesthetic", "style_consistency")
