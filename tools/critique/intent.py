"""What the shot asked for, so that a look the person wanted is not called a defect.

The critic reads a shot's intent from its storyboard fields (camera, action, lighting, atmosphere,
setting, style) or, for `director critique --prompt`, from the prompt's words. Each flag relaxes one
check in one direction only and is named in the reason, so a person can see why a dark frame passed:

- ``low_key``: a night, storm or low-key scene may be mostly dark (a frame with no picture at all
  still fails: darkness is asked for, blackness is not).
- ``high_key``: a bright, overexposed or snow-white look may clip more white.
- ``soft``: haze, fog, soft focus or a dreamlike look may be soft overall (a blur *burst* still fails).
A locked-off camera on a still subject is read by ``Analysis.expects_motion`` from the camera and
action; for a free prompt, ``shot_from_prompt`` turns its words into those two fields.
- ``tone``: -1 darker than a neutral shot, +1 brighter, 0 neutral; film-level style consistency
  compares each shot with the neutral ones and forgives a difference in the asked direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Words are matched as whole words (or stems where noted) in lower case.
LOW_KEY = ("night", "nighttime", "midnight", "moonlight", "moonlit", "dark", "darker", "darkness", "low-key", "low key",
           "noir", "shadow", "shadows", "shadowy", "storm", "stormy", "stormier", "thunderstorm", "dim", "dimly", "candlelight",
           "candlelit", "gloomy", "murky", "unlit", "silhouette", "underexposed", "blackout", "dusk", "twilight")
HIGH_KEY = ("high-key", "high key", "overexposed", "blown out", "bleached", "white-out", "whiteout", "snow", "snowy",
            "blinding", "brighter", "bright", "dazzling", "sun-drenched", "glaring")
SOFT = ("haze", "hazy", "fog", "foggy", "mist", "misty", "soft focus", "soft-focus", "dreamy", "dreamlike", "blurry",
        "blurred", "out of focus", "defocused", "bokeh", "gauzy", "smoky", "steam", "steamy", "diffused", "soft")
STATIC_CAMERA = ("static", "locked-off", "locked off", "lockoff", "tripod", "still camera", "fixed camera", "still shot",
                 "no camera movement", "stationary camera")
MOVING_CAMERA = {"pan": "pan_right", "panning": "pan_right", "tilt": "tilt_up", "dolly": "dolly_in", "zoom": "zoom_in",
                 "tracking": "tracking", "orbit": "orbit", "crane": "crane", "handheld": "handheld", "hand-held": "handheld",
                 "aerial": "aerial", "drone": "aerial", "push in": "dolly_in", "pull back": "dolly_out"}
# Verbs that mean something in the picture moves (prompt text only; storyboard shots name their action).
MOTION_WORDS = ("walk", "run", "fly", "flies", "flying", "swim", "drive", "driving", "fall", "falling", "dance", "dancing",
                "jump", "spin", "turn", "turning", "move", "moving", "flow", "flowing", "wave", "waving", "rolling", "roll",
                "crash", "pour", "pouring", "burn", "burning", "flicker", "rain", "raining", "blowing", "sway", "swaying",
                "climb", "climbing", "ride", "riding", "chase", "chasing", "leaving", "arriving", "crossing", "howling")


def _has(text: str, words: tuple[str, ...] | list[str], inflected: bool = False) -> list[str]:
    """The words found whole in `text`; `inflected` also finds walks, walking, walked, running."""
    ending = r"(?:s|es|ing|ning|ed)?" if inflected else ""
    found = []
    for w in words:
        if re.search(rf"(?<![a-z]){re.escape(w)}{ending}(?![a-z])", text):
            found.append(w)
    return found


@dataclass(frozen=True)
class Intent:
    low_key: bool = False
    high_key: bool = False
    soft: bool = False
    words: tuple[str, ...] = ()   # the words that set the flags, for reasons

    @property
    def tone(self) -> int:
        return -1 if self.low_key and not self.high_key else 1 if self.high_key and not self.low_key else 0

    def because(self) -> str:
        return f"as asked ('{', '.join(self.words[:3])}')" if self.words else "as asked"

    @classmethod
    def from_text(cls, look: str) -> Intent:
        look = look.lower()
        low, high, soft = _has(look, LOW_KEY), _has(look, HIGH_KEY), _has(look, SOFT)
        # "bright" beside "night" (a bright moon at night) is still a night scene.
        if low and high and not _has(look, ("high-key", "high key", "overexposed", "snow", "snowy")):
            high = []
        return cls(low_key=bool(low), high_key=bool(high), soft=bool(soft),
                   words=tuple(dict.fromkeys(low + high + soft)))

    @classmethod
    def from_shot(cls, shot: dict[str, Any] | None) -> Intent:
        if not shot:
            return cls()
        look = " ".join(str(shot.get(k) or "") for k in ("lighting", "atmosphere", "setting", "style", "look", "prompt"))
        return cls.from_text(look)


def shot_from_prompt(prompt: str) -> dict[str, Any]:
    """The shot fields a free prompt implies, for critiquing a video that has no storyboard.

    Only what the words say: a camera named static (and nothing said to move) becomes a static shot
    with no action; a named move becomes that camera; the prompt itself is the look."""
    text = prompt.lower()
    shot: dict[str, Any] = {"prompt": prompt}
    moving = [MOVING_CAMERA[w] for w in _has(text, tuple(MOVING_CAMERA))]
    motion = _has(text, MOTION_WORDS, inflected=True)
    if moving:
        shot["camera"] = moving[0]
    elif _has(text, STATIC_CAMERA):
        shot["camera"] = "static"
    if motion:
        shot["action"] = motion[0]
    elif shot.get("camera") == "static":
        shot["action"] = ""
    return shot
