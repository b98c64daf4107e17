"""Subtitles: final.srt and final.vtt sidecars, and optional burn-in, timed from the shared timeline.

Each shot with a narration line (or, failing that, a caption) gets one cue from the frame the shot
starts to the frame the next shot starts, so cues never overlap. A spoken line that runs past its
shot keeps its cue up until the voice stops, unless the next cue starts first.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .cards import font
from .timeline import Segment
from .video_io import atomic_output

MAX_LINE_CHARS = 42    # the usual broadcast limit; two lines at most


@dataclass
class Cue:
    start: float   # seconds
    end: float
    text: str
    shot_id: str

    def contains(self, t: float) -> bool:
        return self.start <= t < self.end


def cue_text(segment: Segment) -> str | None:
    text = (segment.narration or "").strip() or (segment.caption or "").strip()
    return text or None


def cues_from_timeline(segments: list[Segment], voices: dict[str, tuple[float, float]] | None = None) -> list[Cue]:
    """One cue per shot that has words, in seconds of the cut. `voices` maps a shot id to when its
    spoken line really starts and ends (a line can wait for the previous one, or run past its shot)."""
    voices = voices or {}
    shots = [s for s in segments if s.kind == "shot"]
    worded = [s for s in shots if cue_text(s)]
    cues: list[Cue] = []
    for i, seg in enumerate(worded):
        start, end = seg.start / seg.fps, seg.cue_end / seg.fps
        if seg.shot_id in voices:
            v_start, v_end = voices[seg.shot_id]
            start, end = max(start, v_start), max(end, v_end)
        if i + 1 < len(worded):
            nxt = worded[i + 1]
            next_start = max(nxt.start / nxt.fps, voices.get(nxt.shot_id, (0.0, 0.0))[0])
            end = min(end, next_start)
        cues.append(Cue(start, max(end, start + 1 / seg.fps), cue_text(seg), seg.shot_id))
    return cues


def wrap(text: str) -> str:
    lines = textwrap.wrap(" ".join(text.split()), width=MAX_LINE_CHARS)
    if len(lines) > 2:
        # better a longer line than a third one covering the picture
        lines = textwrap.wrap(" ".join(text.split()), width=max(MAX_LINE_CHARS, len(text) // 2 + 8))
    return "\n".join(lines)


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(cues: list[Cue]) -> str:
    blocks = [f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{wrap(c.text)}\n" for i, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def vtt_text(cues: list[Cue]) -> str:
    blocks = [f"{c.shot_id}\n{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{wrap(c.text)}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


def write_subtitles(cues: list[Cue], srt_path: Path, vtt_path: Path) -> tuple[Path, Path]:
    """Write both sidecars atomically (an empty cue list gives valid, empty files)."""
    for path, text in ((srt_path, srt_text(cues)), (vtt_path, vtt_text(cues))):
        with atomic_output(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return srt_path, vtt_path


class SubtitleBurner:
    """Draws cues onto frames: white text with a dark box, bottom centre, sized to the frame."""

    def __init__(self, cues: list[Cue], width: int, height: int):
        self.cues = cues
        self.width, self.height = width, height
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, int, int]] = {}

    def _overlay(self, index: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        if index not in self._cache:
            text = wrap(self.cues[index].text)
            short = min(self.width, self.height)
            f = font(max(10, int(short * 0.055)))
            probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
            box = [int(round(v)) for v in probe.multiline_textbbox((0, 0), text, font=f, align="center", spacing=4)]
            pad = max(4, short // 60)
            w = min(self.width, box[2] - box[0] + 2 * pad)
            h = min(self.height, box[3] - box[1] + 2 * pad)
            img = Image.new("RGBA", (w, h), (0, 0, 0, 150))
            ImageDraw.Draw(img).multiline_text((pad - box[0], pad - box[1]), text, font=f, fill=(255, 255, 255, 255),
                                               align="center", spacing=4)
            rgba = np.asarray(img, dtype=np.float32)
            x = (self.width - w) // 2
            y = self.height - h - int(self.height * 0.07)
            self._cache[index] = (rgba[..., :3], rgba[..., 3:] / 255.0, x, max(0, y))
        return self._cache[index]

    def cue_at(self, t: float) -> int | None:
        for i, c in enumerate(self.cues):
            if c.contains(t):
                return i
        return None

    def burn(self, frame: np.ndarray, index: int) -> np.ndarray:
        rgb, alpha, x, y = self._overlay(index)
        h, w = alpha.shape[:2]
        region = frame[y:y + h, x:x + w].astype(np.float32)
        frame[y:y + h, x:x + w] = (region * (1 - alpha) + rgb * alpha).round().astype(np.uint8)
        return frame
