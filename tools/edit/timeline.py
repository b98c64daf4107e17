"""The cut's timeline: where every shot starts and ends. The one place this arithmetic lives.

The assembler, the subtitles and the OpenTimelineIO export all read `build_timeline`, so a caption
can never drift from the picture it belongs to.

Everything is counted in whole frames and converted to seconds only for display, so a 30 s film at
24 fps is exactly 720 frames however its shots are split. A transition into the next shot overlaps
the two shots by `min(0.5 s, shorter shot / 4)`; a cut overlaps nothing. Title and end cards join
the film with cuts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

TRANSITIONS = ("cut", "crossfade", "fade", "wipe")
MAX_OVERLAP_SECONDS = 0.5


@dataclass
class CutClip:
    """One selected take in the cut. `transition` leads into the next clip."""

    path: Path | str
    shot_id: str
    duration: float
    transition: str = "cut"
    narration: str | None = None
    caption: str | None = None
    content_hash: str | None = None   # the take file's hash: the key of the cut's cached pieces made from it
    watermark: int | None = None      # the payload the take was marked with when it was generated
    voice: str | None = None          # the espeak-ng voice speaking this shot's narration (None: the narrator's)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.transition not in TRANSITIONS:
            raise ValueError(f"shot '{self.shot_id}': transition '{self.transition}' is not one of: {', '.join(TRANSITIONS)}")
        if not self.duration > 0:
            raise ValueError(f"shot '{self.shot_id}': duration {self.duration} must be more than 0 seconds")


@dataclass
class Segment:
    """One piece of the timeline: a shot, the title card, the end card, or a hold on the last frame.

    `start` is the first frame it shows in the cut; `frames` how many frames of its media are used,
    transitions included. It shares `overlap_in` frames with the segment before and `overlap_out`
    with the one after.
    """

    kind: Literal["title", "shot", "end", "hold"]
    start: int
    frames: int
    fps: float
    shot_id: str | None = None
    path: Path | None = None
    transition_out: str = "cut"
    overlap_in: int = 0
    overlap_out: int = 0
    narration: str | None = None
    caption: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def end(self) -> int:
        """One past the last frame this segment shows (inside the outgoing transition)."""
        return self.start + self.frames

    @property
    def start_seconds(self) -> float:
        return self.start / self.fps

    @property
    def end_seconds(self) -> float:
        return self.end / self.fps

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.fps

    @property
    def cue_end(self) -> int:
        """Where this segment's subtitle ends: when the next shot starts (cues never overlap)."""
        return self.end - self.overlap_out

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "shot_id": self.shot_id, "path": str(self.path) if self.path else None,
            "start": round(self.start_seconds, 6), "end": round(self.end_seconds, 6),
            "start_frame": self.start, "frames": self.frames, "transition_out": self.transition_out,
            "overlap_in": self.overlap_in, "overlap_out": self.overlap_out,
        }


def shot_frames(duration: float, fps: float) -> int:
    """Frames in a shot of `duration` seconds; the same rounding as Storyboard.frames_for."""
    return max(1, round(duration * fps))


def overlap_frames(transition: str, frames_a: int, frames_b: int, fps: float) -> int:
    """Frames two adjacent shots share: none for a cut, else min(0.5 s, the shorter shot / 4)."""
    if transition == "cut":
        return 0
    # a shot under 4 frames is too short to share any: the transition degrades to a cut
    return min(round(MAX_OVERLAP_SECONDS * fps), min(frames_a, frames_b) // 4)


def build_timeline(clips: list[CutClip], fps: float, *, title_seconds: float = 0.0, end_seconds: float = 0.0,
                   hold_seconds: float = 0.0) -> list[Segment]:
    """Lay out the cut: [title] shots... [end card | hold]. The last segment's `end` is the film's length.

    `hold_seconds` lengthens the end card, or when there is none holds the last frame, e.g. so a
    narration line that runs past the last shot is not cut off mid-word.
    """
    if not clips:
        raise ValueError("a cut needs at least one clip")
    segments: list[Segment] = []
    t = 0
    title_n = round(title_seconds * fps)
    if title_n > 0:
        segments.append(Segment("title", 0, title_n, fps))
        t = title_n
    counts = [shot_frames(c.duration, fps) for c in clips]
    overlaps = [overlap_frames(c.transition, counts[i], counts[i + 1], fps) if i + 1 < len(clips) else 0
                for i, c in enumerate(clips)]
    for i, clip in enumerate(clips):
        o_in = overlaps[i - 1] if i > 0 else 0
        segments.append(Segment(
            "shot", t, counts[i], fps, shot_id=clip.shot_id, path=Path(clip.path),
            transition_out=clip.transition if i + 1 < len(clips) else "cut",
            overlap_in=o_in, overlap_out=overlaps[i], narration=clip.narration, caption=clip.caption,
            metadata={"voice": clip.voice} if clip.voice else {},
        ))
        t += counts[i] - overlaps[i]
    hold_n = round(hold_seconds * fps)
    end_n = round(end_seconds * fps)
    if end_n > 0:
        segments.append(Segment("end", t, end_n + hold_n, fps))
    elif hold_n > 0:
        segments.append(Segment("hold", t, hold_n, fps, shot_id=clips[-1].shot_id))
    return segments


def total_frames(segments: list[Segment]) -> int:
    return segments[-1].end if segments else 0
