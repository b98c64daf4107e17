"""The director's caps and input checks, the same for every front door (CLI, websocket, bots, MCP).

- `check_caps`: the longest film and the most shots (AgentSettings.max_film_seconds / max_shots).
  A brief asking for 5,000 shots, feedback asking for 20 minutes, or a YAML file with 10,000 shots
  all get the same sentence naming the cap.
- `check_label_fits`: a frame big enough for the disclosure label (at render time: measuring the
  label needs OpenCV, which planning does without).
- `check_inputs`: every `reference` is an image, every `source` a video, `music` audio, and (when
  the caller knows where the storyboard came from) every path lies inside the storyboard's folder or
  the workspace's uploads, so `../../etc/passwd` or another user's files cannot be fed to a backend.
Both run before anything is stored or generated, so a refusal leaves nothing half made.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from agent.errors import BadInput
from storyboards.schema import Storyboard
from tools.media_kind import MediaError, require_audio, require_image, require_video


class InputRefused(BadInput):
    """A storyboard or request the director will not take as it is; the message says why and what to do."""


class OverCap(InputRefused):
    """The film is longer, or has more shots, than this director makes."""


def check_caps(storyboard: Storyboard, settings) -> None:
    shots, seconds = len(storyboard.shots), storyboard.duration
    if shots > settings.max_shots:
        raise OverCap(f"that film has {shots} shots; the most this director makes is {settings.max_shots} "
                      f"(setting DIRECTOR_MAX_SHOTS). Ask for fewer shots, or split it into several films.")
    if seconds > settings.max_film_seconds:
        raise OverCap(f"that film lasts {seconds:g} s; the longest this director makes is "
                      f"{settings.max_film_seconds:g} s (setting DIRECTOR_MAX_FILM_SECONDS). "
                      "Ask for a shorter film, or split it into several.")


def check_label_fits(storyboard: Storyboard) -> None:
    """Every frame carries the disclosure label at a size that can be read; a frame too narrow for
    it (a tiny vertical film) is refused before anything is made, naming the size that works."""
    from storyboards.schema import MAX_RESOLUTION
    from tools.safety.label import label_fits, render_patch
    from tools.safety.settings import SafetySettings

    safety = SafetySettings()
    width, height = storyboard.size
    if label_fits(safety.label_text, width, height, safety.label_scale):
        return
    ph, pw = render_patch(safety.label_text, height, float(safety.label_scale))[1].shape[:2]
    works = next((r for r in range(storyboard.resolution, MAX_RESOLUTION + 1, 2)
                  if label_fits(safety.label_text, *storyboard.model_copy(update={"resolution": r}).size,
                                scale=safety.label_scale)), None)
    raise InputRefused(
        f"a {width}x{height} frame is too small for the '{safety.label_text}' label every film carries "
        f"({pw}x{ph} px at the smallest size that can be read)"
        + (f": ask for {works}p or more." if works else ".") + " The label cannot be left out.")


def check_seconds(seconds: float, settings) -> None:
    """A requested length (`--seconds`, a brief's override) against the same cap."""
    if not (1 <= seconds <= settings.max_film_seconds):
        raise OverCap(f"a film of {seconds:g} s is not possible: ask for 1 to {settings.max_film_seconds:g} s "
                      "(setting DIRECTOR_MAX_FILM_SECONDS)")


_NUMBER = r"(\d{1,3}(?:[,.\u202f ]\d{3})+|\d+(?:\.\d+)?)"
_ASKED_SHOTS = re.compile(_NUMBER + r"\s*(?:shots?|scenes?|clips?|cuts?)\b", re.IGNORECASE)
_ASKED_TIME = re.compile(_NUMBER + r"\s*-?\s*(hours?|hrs?|minutes?|mins?|seconds?|secs?|s\b)", re.IGNORECASE)
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def _number(text: str) -> float:
    if re.fullmatch(r"\d{1,3}(?:[,.\u202f ]\d{3})+", text):   # 5,000 / 5.000 / 5 000: thousands
        return float(re.sub(r"\D", "", text))
    return float(text)


def check_brief(brief: str, settings) -> None:
    """A brief that asks outright for more shots or a longer film than the caps is answered with the
    cap before anything is planned (the planner may read "5,000 shots" its own way)."""
    for m in _ASKED_SHOTS.finditer(brief):
        n = _number(m.group(1))
        if n > settings.max_shots:
            raise OverCap(f"you asked for {m.group(1)} shots; the most this director makes is {settings.max_shots} "
                          f"(setting DIRECTOR_MAX_SHOTS). Ask for fewer shots, or split it into several films.")
    for m in _ASKED_TIME.finditer(brief):
        seconds = _number(m.group(1)) * _UNIT_SECONDS[m.group(2)[0].lower()]
        if seconds > settings.max_film_seconds:
            raise OverCap(f"you asked for {m.group(0).strip()} ({seconds:g} s); the longest film this director makes is "
                          f"{settings.max_film_seconds:g} s (setting DIRECTOR_MAX_FILM_SECONDS). "
                          "Ask for a shorter film, or split it into several.")


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    real = path.resolve()
    return any(real == root or root in real.parents for root in roots)


def check_inputs(storyboard: Storyboard, *, roots: Iterable[str | os.PathLike] | None = None,
                 max_pixels: int | None = None) -> None:
    """Raise InputRefused naming every bad `reference`, `source` or `music` of the storyboard.

    `roots`: folders the files must lie in (the storyboard file's folder, the uploads); None = anywhere
    (a storyboard the director itself wrote)."""
    allowed = [Path(r).resolve() for r in roots] if roots is not None else None
    limit = {"max_pixels": max_pixels} if max_pixels else {}
    problems: list[str] = []

    def check(label: str, value: str, kind) -> None:
        path = Path(value)
        if allowed is not None and not _inside(path, allowed):
            problems.append(f"{label}: {path.name} lies outside the storyboard's folder and the uploads; "
                            "copy it next to the storyboard file")
            return
        try:
            kind(path)
        except MediaError as err:
            problems.append(f"{label}: {err}")

    if storyboard.music:
        check("music", storyboard.music, require_audio)
    for shot in storyboard.shots:
        if shot.reference:
            check(f"shot '{shot.id}' reference", shot.reference, lambda p: require_image(p, **limit))
        if shot.source:
            check(f"shot '{shot.id}' source", shot.source, lambda p: require_video(p, **limit))
    for member in getattr(storyboard, "cast", None) or []:
        for ref in getattr(member, "references", None) or []:
            check(f"cast '{getattr(member, 'id', '?')}' reference", ref, lambda p: require_image(p, **limit))
    if problems:
        raise InputRefused("; ".join(problems))
