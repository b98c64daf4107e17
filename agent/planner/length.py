"""The film-length model: how long the delivered film is, and shot durations that make it as long as asked.

The editor lays the cut out as [title card] shots [end card] (``tools.edit.timeline.build_timeline``).
A transition other than a cut overlaps two shots by min(0.5 s, the shorter shot / 4), so a film with
crossfades is shorter than the sum of its shots, and cards make it longer. This module calls that same
``build_timeline``, so the planner, the feedback and the editor agree to the frame: a film asked to
last 8 s is 8 s of final.mp4, cards and transitions included.

(A narration line that runs past the last shot still makes the editor hold the last frame; the
planner's narration lines are written to fit their shots.)
"""

from __future__ import annotations

from storyboards.schema import Storyboard

# How long a title or end card lasts when the storyboard has one (agent/film.py passes it to the editor).
CARD_SECONDS = 2.0


def _clips(durations: list[float], transitions: list[str]):
    from tools.edit.timeline import CutClip

    return [CutClip(path="", shot_id=f"s{i}", duration=d, transition=t)
            for i, (d, t) in enumerate(zip(durations, transitions))]


def film_frames_for(durations: list[float], transitions: list[str], fps: int, title_card: bool, end_card: bool) -> int:
    from tools.edit.timeline import build_timeline, total_frames

    segments = build_timeline(_clips(durations, transitions), fps,
                              title_seconds=CARD_SECONDS if title_card else 0.0,
                              end_seconds=CARD_SECONDS if end_card else 0.0)
    return total_frames(segments)


def film_frames(sb: Storyboard) -> int:
    """Frames in the delivered film (before any hold the narration may need)."""
    return film_frames_for([s.duration for s in sb.shots], [s.transition for s in sb.shots], sb.fps,
                           sb.shows_title_card, sb.end_card)


def film_seconds(sb: Storyboard) -> float:
    """The delivered film's length in seconds: shots, minus transition overlaps, plus cards."""
    return film_frames(sb) / sb.fps


def cards_on_screen(sb: Storyboard) -> tuple[float, float]:
    """(title card, end card) seconds on screen; 0 for a card the film does without."""
    return (CARD_SECONDS if sb.shows_title_card else 0.0, CARD_SECONDS if sb.end_card else 0.0)


def card_seconds(sb: Storyboard) -> float:
    return sum(cards_on_screen(sb))


def _spread(total: int, weights: list[float]) -> list[int]:
    """`total` frames over shots in proportion to `weights`, whole frames, summing exactly."""
    wsum = sum(weights) or 1.0
    raw = [total * w / wsum for w in weights]
    out = [max(1, int(r)) for r in raw]
    # the remainder goes to the shots that lost most to rounding down, middle shots first on ties
    n = len(out)
    order = sorted(range(n), key=lambda i: (-(raw[i] - int(raw[i])), abs(i - (n - 1) / 2), i))
    k = 0
    while sum(out) < total:
        out[order[k % n]] += 1
        k += 1
    while sum(out) > total and max(out) > 1:
        out[out.index(max(out))] -= 1
    return out


def fit_durations(weights: list[float], transitions: list[str], seconds: float, fps: int, *,
                  title_card: bool = False, end_card: bool = False, max_shot_seconds: float = 60.0) -> list[float] | None:
    """Shot durations (in proportion to `weights`) that make the film exactly `seconds` long, to the frame.

    None when it cannot be done: the shots would have to be longer than `max_shot_seconds`, or the cards
    leave no room for them.
    """
    target = round(seconds * fps)
    cards = round(CARD_SECONDS * fps) * (int(title_card) + int(end_card))
    if film_frames_for(weights, transitions, fps, title_card, end_card) == target and max(weights) <= max_shot_seconds:
        return list(weights)  # the durations as given already make it (round tenths stay round)
    if target - cards < len(weights):
        return None
    frames = _spread(target - cards, weights)
    for _ in range(40):
        durations = [f / fps for f in frames]
        off = film_frames_for(durations, transitions, fps, title_card, end_card) - target
        if off == 0:
            break
        if abs(off) > len(frames):
            frames = _spread(sum(frames) - off, weights)  # transitions ate (or gave) a lot: spread it again
        else:
            # one frame at a time on the longest (or shortest) shot: overlaps barely move
            pick = max(range(len(frames)), key=lambda i: frames[i]) if off < 0 else \
                max(range(len(frames)), key=lambda i: (frames[i] > 1, frames[i]))
            frames[pick] += 1 if off < 0 else -1
    else:
        return None
    durations = [round(f / fps, 4) for f in frames]
    if any(d > max_shot_seconds + 1e-9 for d in durations) or any(d <= 0 for d in durations):
        return None
    return durations


def fit_storyboard(sb: Storyboard, seconds: float, max_shot_seconds: float = 60.0,
                   weights: list[float] | None = None) -> Storyboard | None:
    """A copy of `sb` retimed (in proportion to its durations, or `weights`) to a film of exactly `seconds`."""
    durations = fit_durations(weights or [s.duration for s in sb.shots], [s.transition for s in sb.shots], seconds,
                              sb.fps, title_card=sb.shows_title_card, end_card=sb.end_card, max_shot_seconds=max_shot_seconds)
    if durations is None:
        return None
    copy = sb.model_copy(deep=True)
    for shot, d in zip(copy.shots, durations):
        shot.duration = d
    return copy
