"""What the animatic draws: shot words -> palette, setting, subject, and the painted depth layers.

Private helper of `tools/generate/animatic/backend.py`. Everything here runs once per shot (the per-frame
work lives in `camera.py`), so clarity beats speed; still, drawing is done with cv2
primitives on uint8 canvases, which keeps a 720p shot's preparation to a few tens of ms.

Coordinates: "world" units are frame pixels of the shot at rest (camera at its neutral pose), y down.
A `Canvas` maps world points to its own pixels (offset, supersampling, and the Dutch-angle roll).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

Color = tuple[int, int, int]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

# ----------------------------------------------------------------------------- palettes


@dataclass(frozen=True)
class Palette:
    """Light of a shot: sky, ground, the key light and the shadow side. RGB colours."""

    name: str
    sky_top: Color
    sky_horizon: Color
    ground_far: Color
    ground_near: Color
    key: Color                       # colour of the key light (rims, sun, lit windows)
    shadow: Color                    # silhouettes and the side away from the light
    sun: str | None = "sun"          # "sun" | "moon" | None
    sun_height: float = 0.25         # above the horizon, in frame heights
    clouds: float = 0.3              # 0..1 how cloudy
    cloud: Color = (235, 235, 240)
    stars: int = 0                   # how many stars per megapixel of sky
    haze: float = 0.15               # 0..1 aerial perspective: far things fade to the horizon colour
    accents: tuple[Color, ...] = ()  # neon signs, lamps
    windows: Color = (60, 70, 80)    # window panes (lit at night)
    weather: str | None = None       # "rain" | "snow" | "bubbles"


PALETTES: dict[str, Palette] = {p.name: p for p in [
    Palette("day", (72, 128, 214), (182, 214, 242), (124, 160, 92), (64, 108, 48), (255, 248, 232), (52, 62, 74),
            sun_height=0.42, clouds=0.35),
    Palette("golden_hour", (92, 122, 178), (255, 192, 112), (196, 146, 84), (112, 80, 46), (255, 196, 112), (72, 44, 40),
            sun_height=0.07, clouds=0.25, cloud=(255, 210, 160), haze=0.25, windows=(255, 196, 120)),
    Palette("sunset", (58, 52, 118), (255, 128, 66), (122, 72, 62), (50, 34, 36), (255, 140, 74), (40, 24, 34),
            sun_height=0.015, clouds=0.35, cloud=(250, 150, 120), haze=0.3, windows=(255, 180, 100)),
    Palette("dawn", (118, 138, 192), (255, 204, 178), (150, 142, 146), (80, 80, 94), (255, 214, 184), (62, 60, 82),
            sun_height=0.04, clouds=0.3, cloud=(255, 220, 215), haze=0.35, windows=(255, 210, 150)),
    Palette("dusk", (34, 42, 96), (226, 138, 112), (72, 64, 86), (32, 30, 46), (255, 170, 120), (26, 24, 42),
            sun=None, clouds=0.25, cloud=(170, 110, 130), stars=40, haze=0.25, windows=(255, 200, 120)),
    Palette("night", (6, 10, 28), (30, 42, 74), (24, 30, 42), (10, 12, 20), (160, 178, 226), (6, 8, 16),
            sun="moon", sun_height=0.35, clouds=0.15, cloud=(50, 60, 90), stars=220, haze=0.1, windows=(255, 206, 120)),
    Palette("neon_night", (12, 4, 28), (96, 18, 96), (26, 10, 40), (8, 4, 16), (255, 56, 200), (10, 4, 20),
            sun=None, clouds=0.0, stars=30, haze=0.2, accents=((255, 40, 200), (0, 232, 255), (170, 60, 255), (0, 255, 190)),
            windows=(0, 210, 255)),
    Palette("overcast", (146, 152, 164), (196, 199, 204), (118, 126, 112), (78, 86, 78), (222, 224, 228), (64, 68, 74),
            sun=None, clouds=0.9, cloud=(176, 180, 188), haze=0.35),
    Palette("storm", (40, 44, 56), (98, 104, 116), (58, 64, 60), (32, 36, 36), (176, 186, 206), (18, 20, 26),
            sun=None, clouds=1.0, cloud=(62, 66, 78), haze=0.3, windows=(240, 200, 120), weather="rain"),
    Palette("fog", (170, 176, 182), (214, 216, 218), (150, 156, 156), (100, 106, 106), (236, 236, 236), (96, 100, 106),
            sun=None, clouds=0.2, cloud=(200, 202, 206), haze=0.65),
    Palette("studio_white", (246, 246, 246), (236, 236, 236), (226, 226, 226), (206, 206, 208), (255, 255, 255), (64, 64, 70),
            sun=None, clouds=0.0, haze=0.0),
    Palette("underwater", (44, 168, 196), (10, 78, 124), (18, 62, 88), (8, 34, 52), (130, 232, 255), (4, 26, 44),
            sun=None, clouds=0.0, haze=0.5, weather="bubbles"),
    Palette("forest", (118, 168, 150), (196, 218, 176), (70, 98, 50), (30, 50, 26), (236, 242, 190), (22, 34, 24),
            sun_height=0.5, clouds=0.2, haze=0.3),
    Palette("desert", (88, 150, 218), (244, 218, 172), (228, 184, 124), (192, 142, 86), (255, 238, 196), (92, 58, 38),
            sun_height=0.5, clouds=0.05, haze=0.2),
    Palette("snow", (150, 182, 218), (228, 236, 246), (236, 240, 248), (206, 216, 232), (244, 248, 255), (84, 102, 134),
            sun_height=0.3, clouds=0.3, cloud=(240, 244, 250), haze=0.3),
    Palette("interior_warm", (66, 52, 44), (152, 116, 86), (112, 80, 56), (58, 40, 28), (255, 190, 118), (30, 20, 16),
            sun=None, clouds=0.0, haze=0.05, accents=((255, 184, 96),)),
    Palette("moody", (26, 30, 38), (72, 74, 82), (42, 42, 48), (18, 18, 22), (204, 206, 216), (10, 10, 14),
            sun=None, clouds=0.5, cloud=(54, 56, 64), haze=0.2, windows=(220, 190, 120)),
    Palette("space", (2, 2, 10), (12, 12, 30), (72, 62, 62), (38, 34, 36), (236, 236, 255), (6, 6, 10),
            sun=None, clouds=0.0, stars=500, haze=0.0),
]}

# Order matters: the first entry found in a field wins ("neon night" is neon, not night).
PALETTE_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("neon_night", ("neon", "cyberpunk", "synthwave", "vaporwave", "blade runner")),
    ("underwater", ("underwater", "under water", "undersea", "under the sea", "ocean floor", "seabed", "reef", "submerged")),
    ("studio_white", ("studio white", "white studio", "white background", "white backdrop", "seamless", "cyclorama", "product shot", "packshot")),
    ("golden_hour", ("golden hour", "golden-hour", "magic hour", "golden light", "golden")),
    ("sunset", ("sunset", "sundown", "setting sun")),
    ("dawn", ("dawn", "sunrise", "daybreak", "first light", "morning light", "early morning")),
    ("storm", ("storm", "stormy", "thunder", "lightning", "rain", "rainy", "downpour", "tempest", "hurricane")),
    ("dusk", ("dusk", "twilight", "blue hour", "evening", "nightfall")),
    ("night", ("night", "moonlight", "moonlit", "midnight", "starry", "starlit", "nighttime")),
    ("fog", ("fog", "foggy", "mist", "misty", "haze", "hazy")),
    ("overcast", ("overcast", "cloudy", "grey sky", "gray sky", "drizzle", "gloomy")),
    ("interior_warm", ("candle", "candlelight", "candlelit", "fireplace", "firelight", "tungsten", "lamplight", "lamp light", "warm interior")),
    ("moody", ("moody", "low key", "low-key", "noir", "dark", "ominous", "brooding", "chiaroscuro")),
    ("snow", ("snow", "snowy", "snowing", "winter", "blizzard")),
    ("desert", ("desert", "dunes")),
    ("forest", ("forest", "woods", "jungle", "woodland")),
    ("space", ("outer space", "deep space", "galaxy", "nebula")),
    ("day", ("noon", "midday", "sunny", "bright day", "daylight", "daytime", "harsh sun", "clear sky", "blue sky", "morning", "afternoon")),
]

WEATHER_PALETTES = ("storm", "fog", "snow")

# When no light words are given the setting decides.
ENV_DEFAULT_PALETTE = {
    "underwater": "underwater", "interior": "interior_warm", "studio": "studio_white", "desert": "desert",
    "snow": "snow", "forest": "forest", "space": "space", "city": "day", "sea": "day", "harbour": "day",
    "mountain": "day", "field": "day", "open": "day",
}

ENV_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("underwater", ("underwater", "under water", "undersea", "under the sea", "ocean floor", "seabed", "reef", "submerged", "scuba")),
    ("space", ("outer space", "deep space", "in space", "galaxy", "nebula", "asteroid", "space station", "lunar", "mars")),
    ("studio", ("studio white", "white studio", "white background", "white backdrop", "seamless", "cyclorama", "photo studio", "product shot", "packshot", "studio")),
    ("interior", ("room", "kitchen", "office", "bar", "cafe", "café", "diner", "interior", "indoors", "inside", "apartment", "bedroom",
                  "living room", "hallway", "corridor", "library", "restaurant", "warehouse", "workshop", "lab", "laboratory", "attic",
                  "basement", "cabin interior", "classroom", "hall", "museum", "church interior", "lamp room")),
    ("harbour", ("harbour", "harbor", "port", "dock", "docks", "pier", "marina", "quay", "wharf", "jetty")),
    ("city", ("city", "street", "streets", "urban", "downtown", "rooftop", "alley", "alleyway", "skyline", "town", "market",
              "avenue", "metropolis", "neon", "cyberpunk", "crosswalk", "highway", "road")),
    ("sea", ("sea", "ocean", "beach", "coast", "coastline", "shore", "lake", "lighthouse", "waves", "cliff", "cliffs", "bay", "river", "seaside")),
    ("forest", ("forest", "woods", "jungle", "trees", "woodland", "grove", "rainforest", "orchard")),
    ("desert", ("desert", "dunes", "dune", "sand", "canyon", "mesa", "sahara", "badlands")),
    ("snow", ("snow", "snowy", "winter", "arctic", "antarctic", "glacier", "tundra", "ice", "icy", "frozen", "blizzard")),
    ("mountain", ("mountain", "mountains", "peak", "alpine", "valley", "summit", "ridge", "volcano", "highlands")),
    ("field", ("field", "fields", "meadow", "farm", "countryside", "prairie", "hills", "garden", "park", "grassland", "village", "vineyard", "pasture")),
]

SUBJECT_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("group", ("people", "crowd", "friends", "family", "couple", "team", "band", "dancers", "children", "kids", "soldiers", "group")),
    ("robot", ("robot", "android", "cyborg", "mech", "droid", "automaton")),
    ("person", ("man", "woman", "girl", "boy", "person", "child", "kid", "keeper", "astronaut", "detective", "dancer", "runner",
                "soldier", "chef", "knight", "explorer", "diver", "hero", "heroine", "figure", "character", "surfer", "musician",
                "skater", "worker", "fisherman", "lady", "guy", "cowboy", "pilot", "wizard", "witch", "king", "queen", "monk",
                "student", "teacher", "doctor", "nurse", "scientist", "farmer", "hiker", "traveler", "traveller", "singer",
                "actor", "player", "athlete", "warrior", "ninja", "samurai", "pirate", "sailor", "grandmother", "grandfather",
                "mother", "father", "detective", "stranger", "presenter", "host", "officer", "agent", "climber", "photographer")),
    ("car", ("car", "truck", "taxi", "van", "bus", "jeep", "vehicle", "motorcycle", "motorbike", "tractor", "sedan", "convertible", "racecar")),
    ("boat", ("boat", "ship", "yacht", "sailboat", "ferry", "canoe", "kayak", "submarine", "vessel", "trawler", "dinghy", "raft")),
    ("plane", ("plane", "airplane", "aeroplane", "jet", "spaceship", "spacecraft", "rocket", "drone", "helicopter", "glider")),
    ("bird", ("bird", "gull", "seagull", "eagle", "hawk", "owl", "crow", "raven", "parrot", "dove", "pigeon", "butterfly", "dragon")),
    ("fish", ("fish", "whale", "shark", "dolphin", "turtle", "jellyfish", "octopus", "manta")),
    ("animal", ("dog", "cat", "horse", "deer", "fox", "wolf", "bear", "lion", "tiger", "cow", "sheep", "goat", "rabbit",
                "elephant", "animal", "puppy", "kitten", "creature", "dinosaur", "camel", "bull", "pig")),
    ("tower", ("lighthouse", "tower", "castle", "building", "house", "cabin", "skyscraper", "church", "temple", "windmill",
               "cottage", "barn", "monument", "statue")),
    ("tree", ("tree", "oak", "pine", "willow", "sapling")),
    ("product", ("bottle", "phone", "smartphone", "watch", "cup", "mug", "coffee", "sneaker", "shoe", "perfume", "product",
                 "can", "laptop", "headphones", "camera", "lamp", "book", "cake", "flower", "vase")),
]

CAMERA_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("dolly_in", ("dolly in", "dolly-in", "push in", "push-in", "pushes in", "dolly forward", "move in")),
    ("dolly_out", ("dolly out", "dolly-out", "pull out", "pull back", "pulls back", "dolly back")),
    ("zoom_in", ("zoom in", "zoom-in", "zooms in", "slow zoom", "crash zoom")),
    ("zoom_out", ("zoom out", "zoom-out", "zooms out")),
    ("pan_left", ("pan left", "pans left", "pan_left")),
    ("pan_right", ("pan right", "pans right", "pan_right", "pan across", "panning")),
    ("tilt_up", ("tilt up", "tilts up", "tilt_up")),
    ("tilt_down", ("tilt down", "tilts down", "tilt_down")),
    ("tracking", ("tracking", "tracks", "follow shot", "following shot", "trucking", "side-scrolling")),
    ("orbit", ("orbit", "orbits", "circles around", "arc shot", "360")),
    ("crane", ("crane", "jib", "boom up", "rising shot")),
    ("handheld", ("handheld", "hand-held", "shaky", "documentary style", "found footage")),
    ("aerial", ("aerial", "drone", "bird's-eye", "birds eye", "flyover", "fly-over", "flying over")),
]

FRAMING_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("extreme_close_up", ("extreme close-up", "extreme close up", "extreme_close_up", "ecu", "macro")),
    ("extreme_wide", ("extreme wide", "extreme_wide", "establishing shot", "vista", "panorama", "panoramic")),
    ("close_up", ("close-up", "close up", "closeup", "close_up", "portrait")),
    ("overhead", ("overhead", "top-down", "top down", "bird's-eye view", "birds eye view")),
    ("dutch_angle", ("dutch angle", "dutch_angle", "canted", "tilted frame")),
    ("low_angle", ("low angle", "low-angle", "low_angle", "worm's-eye", "from below")),
    ("high_angle", ("high angle", "high-angle", "high_angle", "from above")),
    ("wide", ("wide shot", "wide angle", "wide-angle", "long shot", "full shot", "wide")),
    ("medium", ("medium shot", "mid shot", "medium", "waist")),
]

# (exposure, saturation, lighten toward white) tweaks from mood and style words
MODIFIERS: list[tuple[tuple[str, ...], dict[str, float]]] = [
    (("moody", "dark", "gloomy", "ominous", "brooding", "low key", "low-key", "sombre", "somber"), {"exposure": 0.78}),
    (("bright", "cheerful", "vibrant", "high key", "high-key", "sunny", "joyful", "colorful", "colourful"), {"exposure": 1.06, "saturation": 1.2}),
    (("pastel", "dreamy", "soft"), {"lighten": 0.15, "saturation": 0.85}),
    (("muted", "desaturated", "faded", "washed out", "bleak"), {"saturation": 0.6}),
    (("black and white", "black-and-white", "monochrome", "b&w", "grayscale", "greyscale", "film noir", "noir"), {"saturation": 0.0}),
    (("sepia", "vintage", "old film", "retro", "1920s", "archival"), {"sepia": 1.0}),
    (("misty", "foggy", "hazy", "smoky"), {"haze": 0.5}),
]

COLOURS = {"red": (196, 40, 40), "blue": (40, 80, 190), "green": (50, 140, 60), "yellow": (230, 200, 40), "orange": (230, 120, 30),
           "purple": (120, 60, 170), "pink": (230, 120, 170), "white": (236, 236, 236), "black": (20, 20, 22),
           "golden": (220, 170, 60), "silver": (180, 184, 190), "brown": (110, 70, 40), "grey": (128, 128, 128)}
COLOUR_WORDS = [(k, (k,) + (("gray",) if k == "grey" else ()) + (("gold",) if k == "golden" else ())) for k in COLOURS]

SHOT_TEXT_FIELDS = ("lighting", "atmosphere", "setting", "style", "technical", "action", "subject")


def _word_re(keyword: str) -> re.Pattern:
    return _compiled(keyword)


@cache
def _compiled(keyword: str) -> re.Pattern:
    # whole words, optional plural "s", so "tree" matches "trees" but "bar" not "barn"
    return re.compile(r"(?<![a-z0-9])" + re.escape(keyword) + r"(?:s|es)?(?![a-z0-9])")


def find_keyword(text: str, table: list[tuple[str, tuple[str, ...]]]) -> str | None:
    """First table entry with a keyword in `text` (table order is priority)."""
    text = text.lower()
    for name, words in table:
        if any(_word_re(w).search(text) for w in words):
            return name
    return None


def find_in_fields(fields: list[str], table) -> str | None:
    for text in fields:
        if text:
            hit = find_keyword(text, table)
            if hit:
                return hit
    return None


_PREPOSITIONS = re.compile(r"\b(with|in|on|at|near|by|from|under|holding|wearing|who|that|while|beside|inside|carrying|against|over)\b")


def subject_kind(subject: str, fallback_text: str = "") -> str:
    """The head noun decides: 'a lighthouse keeper' is a person, 'a small fishing boat' a boat."""
    text = subject.lower()
    head = _PREPOSITIONS.split(text, maxsplit=1)[0] if text else ""
    best, best_end = None, -1
    for name, words in SUBJECT_KEYWORDS:
        for w in words:
            for m in _word_re(w).finditer(head):
                if m.end() > best_end:
                    best, best_end = name, m.end()
    if best:
        return best
    return find_keyword(text, SUBJECT_KEYWORDS) or find_keyword(fallback_text.lower(), SUBJECT_KEYWORDS) or "object"


# ----------------------------------------------------------------------------- the shot as the animatic reads it


@dataclass
class ShotLook:
    shot_id: str
    subject: str
    action: str
    subject_kind: str
    env: str
    palette: Palette
    palette_name: str
    camera: str
    framing: str
    style: str
    exposure: float = 1.0
    saturation: float = 1.0
    lighten: float = 0.0
    sepia: float = 0.0
    haze: float = 0.0
    mentions: str = ""   # all words of the shot, for small extras (a lighthouse on the coast)
    modifiers: list[str] = field(default_factory=list)
    subject_color: Color | None = None          # a cast member's own colour, the same in every shot
    others: list[CastLook] = field(default_factory=list)   # the shot's other cast members, drawn beside


@dataclass(frozen=True)
class CastLook:
    """How the previz draws one cast member: the same silhouette, colour and label in every shot."""

    label: str
    kind: str
    color: Color


# Distinct, readable silhouette colours; a member without a colour in its description gets one of
# these by its place in the film's cast (or, without one, by its id): the same in every shot.
CAST_COLOURS: list[Color] = [(52, 96, 196), (196, 70, 52), (64, 150, 80), (200, 160, 40), (140, 70, 170),
                             (40, 150, 160), (210, 110, 150), (120, 90, 60)]


def cast_look(member: dict[str, Any]) -> CastLook:
    import hashlib

    name = str(member.get("name") or member.get("id") or "").strip()
    description = str(member.get("description") or "")
    tint = find_keyword(description, COLOUR_WORDS)
    index = member.get("index")
    if not isinstance(index, int):
        index = int(hashlib.sha256(str(member.get("id", name)).encode()).hexdigest(), 16)
    color = COLOURS[tint] if tint else CAST_COLOURS[index % len(CAST_COLOURS)]
    return CastLook(label=name or "cast", kind=subject_kind(f"{name} {description}", description), color=color)


def _first_chunk(prompt: str) -> str:
    for chunk in re.split(r"[,.;]", prompt):
        chunk = chunk.strip()
        if chunk and find_keyword(chunk, SUBJECT_KEYWORDS):
            return chunk
    return ""


def read_shot(shot: dict[str, Any], prompt: str, allowed_cameras, allowed_framings) -> ShotLook:
    """Shot fields first; words of the composed prompt fill whatever the shot dict does not say."""
    get = lambda k: str(shot.get(k) or "").strip()  # noqa: E731
    fields = [get(k) for k in SHOT_TEXT_FIELDS]
    everything = " ".join(fields + [prompt]).lower()

    camera = get("camera").lower().replace(" ", "_").replace("-", "_")
    if camera not in allowed_cameras:
        camera = find_keyword(prompt, CAMERA_WORDS) or "static"
    framing = get("framing").lower().replace(" ", "_").replace("-", "_")
    if framing not in allowed_framings:
        framing = find_keyword(prompt, FRAMING_WORDS) or "medium"

    subject = get("subject") or _first_chunk(prompt) or "subject"
    kind = subject_kind(subject, prompt)
    members = [cast_look(m) for m in shot.get("cast_members") or [] if isinstance(m, dict)]
    if members:
        # The first cast member is the subject, drawn and named as in every other shot they are in.
        subject, kind = members[0].label, members[0].kind
    env = find_in_fields([get("setting"), get("atmosphere"), get("action"), get("subject"), prompt], ENV_KEYWORDS) or "open"
    # Weather dominates the time of day: a storm at dusk reads as a storm, so the atmosphere's
    # weather words win over light words the planner derived from "dusk" or "sunset".
    weather = find_in_fields([get("atmosphere")], [kw for kw in PALETTE_KEYWORDS if kw[0] in WEATHER_PALETTES])
    pal_name = weather or find_in_fields([get("lighting"), get("atmosphere"), get("setting"), get("style"), get("technical"), prompt], PALETTE_KEYWORDS)
    if pal_name is None:
        pal_name = ENV_DEFAULT_PALETTE.get(env, "day")
    palette = PALETTES[pal_name]
    if env == "interior" and pal_name in ("day", "golden_hour", "dawn", "overcast"):
        # daylight indoors: a bright room, the named light shows through the window
        palette = replace(PALETTES["interior_warm"], name=pal_name, key=palette.key, sky_horizon=_mix(PALETTES["interior_warm"].sky_horizon, palette.key, 0.35))
    if env == "underwater" and pal_name != "underwater":
        palette = replace(PALETTES["underwater"], name=pal_name)

    look = ShotLook(
        shot_id=get("id") or "shot", subject=subject, action=get("action"), subject_kind=kind, env=env,
        palette=palette, palette_name=pal_name, camera=camera, framing=framing, style=get("style"), mentions=everything,
        subject_color=members[0].color if members else None, others=members[1:],
    )
    mood_text = " ".join([get("atmosphere"), get("style"), get("lighting"), get("technical"), prompt]).lower()
    for words, tweak in MODIFIERS:
        if any(_word_re(w).search(mood_text) for w in words):
            look.modifiers.append(words[0])
            look.exposure *= tweak.get("exposure", 1.0)
            look.saturation *= tweak.get("saturation", 1.0)
            look.lighten = max(look.lighten, tweak.get("lighten", 0.0))
            look.sepia = max(look.sepia, tweak.get("sepia", 0.0))
            look.haze = max(look.haze, tweak.get("haze", 0.0))
    if re.search(r"\b(snowing|snowfall|falling snow|blizzard)\b", everything) and palette.weather is None:
        look.palette = palette = replace(palette, weather="snow")
    if re.search(r"\b(rain|rainy|raining|downpour)\b", everything) and palette.weather is None:
        look.palette = replace(palette, weather="rain")
    return look


# ----------------------------------------------------------------------------- colour helpers


def _mix(a: Color, b: Color, t: float) -> Color:
    t = float(min(max(t, 0.0), 1.0))
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


class Grade:
    """The look's colour tweaks applied to every colour we paint with (free per frame)."""

    def __init__(self, look: ShotLook):
        self.look = look

    def __call__(self, c: Color) -> Color:
        lk = self.look
        r, g, b = (float(v) for v in c)
        if lk.saturation != 1.0:
            y = 0.299 * r + 0.587 * g + 0.114 * b
            r, g, b = (y + (v - y) * lk.saturation for v in (r, g, b))
        if lk.sepia:
            y = 0.299 * r + 0.587 * g + 0.114 * b
            sr, sg, sb = y * 1.07 + 20, y * 0.95 + 8, y * 0.72
            r, g, b = (v + (s - v) * lk.sepia * 0.85 for v, s in ((r, sr), (g, sg), (b, sb)))
        r, g, b = (v * lk.exposure for v in (r, g, b))
        if lk.lighten:
            r, g, b = (v + (255 - v) * lk.lighten for v in (r, g, b))
        return tuple(int(min(255, max(0, round(v)))) for v in (r, g, b))  # type: ignore[return-value]


# ----------------------------------------------------------------------------- text


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False, mono: bool = False):
    from PIL import ImageFont

    name = "DejaVuSansMono" if mono else "DejaVuSans"
    name += "-Bold.ttf" if bold else ".ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return None


@lru_cache(maxsize=512)
def text_image(text: str, size: int, color: Color = (255, 255, 255), bold: bool = False, mono: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Text as (rgb, alpha) uint8 arrays, DejaVu through PIL, cv2's Hershey font if DejaVu is missing.

    Cached (glyphs and labels recur shot after shot): treat the arrays as read-only."""
    size = max(6, int(size))
    font = _font(size, bold, mono)
    if font is not None:
        from PIL import Image, ImageDraw

        x0, y0, x1, y1 = font.getbbox(text or " ")
        w, h = max(1, x1 - min(0, x0) + 2), max(1, size + size // 3)
        img = Image.new("L", (w, h), 0)
        ImageDraw.Draw(img).text((1 - min(0, x0), 0), text, font=font, fill=255)
        alpha = np.asarray(img, dtype=np.uint8)
    else:
        scale = size / 22.0
        thick = 2 if bold else 1
        (w, h), base = cv2.getTextSize(text or " ", cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        alpha = np.zeros((h + base + 2, w + 2), np.uint8)
        cv2.putText(alpha, text, (1, h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_AA)
    rgb = np.empty(alpha.shape + (3,), np.uint8)
    rgb[:] = color
    rgb.flags.writeable = False
    alpha.flags.writeable = False
    return rgb, alpha


def fit_text(text: str, size: int, max_width: int, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Shrink, then ellipsize, until the text fits `max_width` pixels."""
    rgb, a = text_image(text, size, **kw)
    while a.shape[1] > max_width and size > 9:
        size = int(size * 0.9)
        rgb, a = text_image(text, size, **kw)
    while a.shape[1] > max_width and len(text) > 4:
        text = text[: max(1, int(len(text) * max_width / a.shape[1]) - 2)].rstrip() + "…"
        rgb, a = text_image(text, size, **kw)
    return rgb, a


def blend_patch(dst: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int, mask: np.ndarray | None = None) -> None:
    """Alpha-blend a small patch into `dst` at (x, y), clipped; once per shot, so float is fine."""
    h, w = alpha.shape
    H, W = dst.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y:y1 - y, x0 - x:x1 - x, None].astype(np.float32) / 255.0
    region = dst[y0:y1, x0:x1]
    region[:] = (region * (1 - a) + rgb[y0 - y:y1 - y, x0 - x:x1 - x] * a + 0.5).astype(np.uint8)
    if mask is not None:
        m = mask[y0:y1, x0:x1]
        np.maximum(m, np.where(alpha[y0 - y:y1 - y, x0 - x:x1 - x] > 40, 255, 0).astype(np.uint8), out=m)


# ----------------------------------------------------------------------------- the canvas


class Canvas:
    """A painted layer: world drawing calls land on its pixels through one affine map.

    rect: the (rolled) world rectangle this canvas covers; r: canvas pixels per world unit;
    roll: the Dutch angle in degrees, applied about the frame centre `fc`.
    """

    SHIFT = 4  # cv2 sub-pixel bits: smooth anti-aliased edges at any scale

    def __init__(self, rect, r: float, roll: float, fc, masked: bool, fill: Color):
        x0, y0, x1, y1 = rect
        self.area, self.r = rect, r
        self.w = max(1, int(math.ceil((x1 - x0) * r)))
        self.h = max(1, int(math.ceil((y1 - y0) * r)))
        th = math.radians(roll)
        c, s = math.cos(th), math.sin(th)
        fx, fy = fc
        # rolled = R (w - fc) + fc ; canvas = r * (rolled - (x0, y0))
        A = np.array([[c, -s], [s, c]]) * r
        t = r * (np.array([fx, fy]) - np.array([[c, -s], [s, c]]) @ np.array([fx, fy]) - np.array([x0, y0]))
        self.M = np.hstack([A, t[:, None]])
        self.Minv = cv2.invertAffineTransform(self.M)
        self.roll = roll
        self.rgb = np.empty((self.h, self.w, 3), np.uint8)
        if fill is not None:   # opaque layers are about to be covered by their gradient
            self.rgb[:] = fill
        self.mask = np.zeros((self.h, self.w), np.uint8) if masked else None
        corners = np.array([[0, 0], [self.w, 0], [0, self.h], [self.w, self.h]], np.float64)
        wc = corners @ self.Minv[:, :2].T + self.Minv[:, 2]
        self.world_bbox = (wc[:, 0].min(), wc[:, 1].min(), wc[:, 0].max(), wc[:, 1].max())

    # -- geometry
    def px(self, pts) -> np.ndarray:
        p = np.asarray(pts, np.float64).reshape(-1, 2)
        return p @ self.M[:, :2].T + self.M[:, 2]

    def _ipts(self, pts) -> np.ndarray:
        return np.round(self.px(pts) * (1 << self.SHIFT)).astype(np.int32)

    # -- drawing (solid=True also marks the layer's mask)
    def poly(self, pts, color: Color, solid: bool = True) -> None:
        p = [self._ipts(pts)]
        cv2.fillPoly(self.rgb, p, color, cv2.LINE_AA, self.SHIFT)
        if solid and self.mask is not None:
            cv2.fillPoly(self.mask, p, 255, cv2.LINE_8, self.SHIFT)

    def rect(self, x0, y0, x1, y1, color: Color, solid: bool = True) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], color, solid)

    def ellipse(self, cx, cy, rx, ry, color: Color, angle: float = 0.0, solid: bool = True) -> None:
        c = tuple(int(v) for v in self._ipts([(cx, cy)])[0])
        ax = (max(1, int(rx * self.r * (1 << self.SHIFT))), max(1, int(ry * self.r * (1 << self.SHIFT))))
        cv2.ellipse(self.rgb, c, ax, angle + self.roll, 0, 360, color, -1, cv2.LINE_AA, self.SHIFT)
        if solid and self.mask is not None:
            cv2.ellipse(self.mask, c, ax, angle + self.roll, 0, 360, 255, -1, cv2.LINE_8, self.SHIFT)

    def circle(self, cx, cy, rad, color: Color, solid: bool = True) -> None:
        self.ellipse(cx, cy, rad, rad, color, 0.0, solid)

    def line(self, p0, p1, color: Color, width: float, solid: bool = True) -> None:
        a, b = self._ipts([p0, p1])
        t = max(1, int(round(width * self.r)))
        cv2.line(self.rgb, tuple(map(int, a)), tuple(map(int, b)), color, t, cv2.LINE_AA, self.SHIFT)
        if solid and self.mask is not None:
            cv2.line(self.mask, tuple(map(int, a)), tuple(map(int, b)), 255, t, cv2.LINE_8, self.SHIFT)

    def polyline(self, pts, color: Color, width: float, solid: bool = True) -> None:
        p = [self._ipts(pts)]
        t = max(1, int(round(width * self.r)))
        cv2.polylines(self.rgb, p, False, color, t, cv2.LINE_AA, self.SHIFT)
        if solid and self.mask is not None:
            cv2.polylines(self.mask, p, False, 255, t, cv2.LINE_8, self.SHIFT)

    def vertical_gradient(self, stops: list[tuple[float, Color]]) -> None:
        """Fill with a gradient along world y (tilted with the roll), e.g. sky to horizon to ground."""
        ys = np.array([s[0] for s in stops], np.float64)
        cols = np.array([s[1] for s in stops], np.float64)
        if abs(self.roll) < 1e-6:
            qy = np.arange(self.h) + 0.5
            wy = (qy - self.M[1, 2]) / self.M[1, 1]
            col = np.stack([np.interp(wy, ys, cols[:, k]) for k in range(3)], 1)
            self.rgb[:] = np.round(col).astype(np.uint8)[:, None, :]
            return
        # world y of each canvas pixel is linear in (qx, qy): look it up in a fine table
        a, b, c = self.Minv[1]
        wy_min = min(a * x + b * y + c for x in (0, self.w) for y in (0, self.h))
        wy_max = max(a * x + b * y + c for x in (0, self.w) for y in (0, self.h))
        n = 2048
        table_y = np.linspace(wy_min, wy_max, n)
        table = np.round(np.stack([np.interp(table_y, ys, cols[:, k]) for k in range(3)], 1)).astype(np.uint8)
        qx = np.arange(self.w, dtype=np.float32)[None, :]
        qy = np.arange(self.h, dtype=np.float32)[:, None]
        idx = ((a * qx + b * qy + c - wy_min) * ((n - 1) / max(1e-6, wy_max - wy_min))).astype(np.int32)
        np.clip(idx, 0, n - 1, out=idx)
        self.rgb[:] = table[idx]

    def glow(self, cx, cy, radius, color: Color, strength: float = 0.6) -> None:
        """Soft radial light added on top (sun halo, lamp, neon bloom); not part of the mask."""
        (qx, qy), = self.px([(cx, cy)])
        R = radius * self.r
        x0, y0 = int(max(0, qx - R)), int(max(0, qy - R))
        x1, y1 = int(min(self.w, qx + R + 1)), int(min(self.h, qy + R + 1))
        if x1 <= x0 or y1 <= y0:
            return
        # the falloff is smooth: compute it at a quarter of the size, blend at full size in C
        w, h = x1 - x0, y1 - y0
        sw, sh = max(2, w // 4), max(2, h // 4)
        xs = ((np.arange(sw, dtype=np.float32) + 0.5) * (w / sw) + x0 - qx) / max(R, 1.0)
        ys = ((np.arange(sh, dtype=np.float32) + 0.5) * (h / sh) + y0 - qy) / max(R, 1.0)
        d = np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2)
        a = np.clip(1.0 - d, 0, 1) ** 2 * strength
        a = cv2.resize(a.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        region = self.rgb[y0:y1, x0:x1]
        solid = np.empty_like(region)
        solid[:] = color
        region[:] = cv2.blendLinear(solid, np.ascontiguousarray(region), a, (1.0 - a).astype(np.float32))

    def text(self, text: str, cx, cy, size_world: float, color: Color, box: Color | None = None, bold: bool = False) -> tuple[float, float]:
        """A label centred at a world point (kept upright relative to the frame, rolled with it). Returns its world size."""
        size = max(8, int(size_world * self.r))
        rgb, alpha = fit_text(text, size, max(40, int(self.w * 0.8)), color=color, bold=bold)
        if box is not None:
            pad = max(3, size // 3)
            h, w = alpha.shape
            brgb = np.empty((h + 2 * pad, w + 2 * pad, 3), np.uint8)
            brgb[:] = box
            ba = np.full((h + 2 * pad, w + 2 * pad), 255, np.uint8)
            a = alpha.astype(np.float32)[..., None] / 255.0
            inner = brgb[pad:pad + h, pad:pad + w]
            inner[:] = (inner * (1 - a) + rgb * a).astype(np.uint8)
            rgb, alpha = brgb, ba
        if abs(self.roll) > 1e-6:
            h, w = alpha.shape
            M = cv2.getRotationMatrix2D((w / 2, h / 2), -self.roll, 1.0)
            cos, sin = abs(M[0, 0]), abs(M[0, 1])
            nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
            M[0, 2] += nw / 2 - w / 2
            M[1, 2] += nh / 2 - h / 2
            rgb = cv2.warpAffine(rgb, M, (nw, nh), flags=cv2.INTER_LINEAR)
            alpha = cv2.warpAffine(alpha, M, (nw, nh), flags=cv2.INTER_LINEAR)
        (qx, qy), = self.px([(cx, cy)])
        h, w = alpha.shape
        blend_patch(self.rgb, rgb, alpha, int(qx - w / 2), int(qy - h / 2), self.mask)
        return w / self.r, h / self.r


# ----------------------------------------------------------------------------- blocking: where things stand

# framing -> (subject height in frame heights, where its focus point sits (x from centre, y), horizon y)
# Heights are for a person; other subjects use their own height ratio (a car is lower than it is long).
FRAMING_BLOCKING = {
    "extreme_wide":     dict(height=0.14, focus_y=0.70, horizon=0.60),
    "wide":             dict(height=0.46, focus_y=0.50, horizon=0.58),
    "medium":           dict(height=1.35, focus_y=0.30, horizon=0.56),
    "close_up":         dict(height=2.70, focus_y=0.42, horizon=0.60),
    "extreme_close_up": dict(height=5.40, focus_y=0.45, horizon=0.62),
    "low_angle":        dict(height=0.95, focus_y=0.30, horizon=0.82),
    "high_angle":       dict(height=0.36, focus_y=0.56, horizon=0.24),
    "dutch_angle":      dict(height=0.85, focus_y=0.36, horizon=0.57),
    "overhead":         dict(height=0.30, focus_y=0.50, horizon=-2.0),
}

# subject kind -> (height of its silhouette relative to a person, width/height, focus point (x, y) in unit box)
SUBJECT_SHAPES = {
    "person": (1.0, 0.42, (0.0, 0.08)), "robot": (1.0, 0.5, (0.0, 0.09)), "group": (1.0, 1.3, (0.0, 0.1)),
    "car": (0.42, 2.5, (0.0, 0.45)), "boat": (0.55, 2.2, (0.0, 0.5)), "plane": (0.35, 2.6, (0.0, 0.5)),
    "bird": (0.3, 2.0, (0.0, 0.5)), "fish": (0.35, 2.2, (0.0, 0.5)), "animal": (0.6, 1.5, (0.3, 0.3)),
    "tower": (1.8, 0.32, (0.0, 0.15)), "tree": (1.6, 0.8, (0.0, 0.35)), "product": (0.5, 0.6, (0.0, 0.45)),
    "object": (0.55, 0.9, (0.0, 0.45)),
}


@dataclass
class Blocking:
    W: int
    H: int
    horizon: float          # world y of the horizon
    roll: float             # Dutch angle, degrees
    subj_x: float           # world x of the subject's focus point
    subj_focus_y: float
    subj_h: float           # world height of the subject silhouette
    subj_w: float
    focus_unit: tuple[float, float]
    light_side: int         # +1 key light from the right, -1 from the left
    overhead: bool


def block_shot(look: ShotLook, W: int, H: int, rng: np.random.Generator) -> Blocking:
    fr = FRAMING_BLOCKING.get(look.framing, FRAMING_BLOCKING["medium"])
    horizon = fr["horizon"] * H
    if look.camera == "aerial" and look.framing not in ("overhead", "low_angle"):
        horizon = 0.22 * H
    rel_h, aspect, focus = SUBJECT_SHAPES.get(look.subject_kind, SUBJECT_SHAPES["object"])
    # non-people fill the frame differently: close-ups of a car are not 2.7 frames tall
    scale = fr["height"] if look.subject_kind in ("person", "robot", "group") else fr["height"] * 0.6
    subj_h = scale * H * rel_h
    if look.subject_kind == "tower":
        subj_h = min(subj_h, max(0.5 * H, subj_h * 0.6))
    subj_h = max(subj_h, 0.05 * H)
    kind = look.subject_kind
    if kind in ("bird", "plane", "fish") and look.framing not in ("extreme_wide", "overhead"):
        subj_h = max(subj_h, 0.12 * H)
    jitter = rng.uniform(-0.11, 0.11) if look.framing not in ("close_up", "extreme_close_up") else rng.uniform(-0.05, 0.05)
    subj_x = W * (0.5 + jitter)
    focus_y = fr["focus_y"] * H + rng.uniform(-0.02, 0.02) * H
    person = kind in ("person", "robot", "group")
    if kind in ("bird", "plane", "fish") and look.framing != "overhead":
        focus_y = max(0.2 * H, min(horizon - 0.25 * H, 0.45 * H)) if kind != "fish" else 0.45 * H
    elif look.framing != "overhead" and (look.framing in ("extreme_wide", "wide", "high_angle") or
                                         (not person and look.framing not in ("close_up", "extreme_close_up"))):
        # standing on the ground (or the water): the base sits below the horizon, deeper for bigger subjects
        depth = {"extreme_wide": 0.3, "wide": 0.7, "high_angle": 0.6, "low_angle": 0.95}.get(look.framing, 0.82)
        base = horizon + depth * (H - horizon) + rng.uniform(-0.02, 0.02) * H
        focus_y = base - (1.0 - focus[1]) * subj_h
    roll = 0.0
    if look.framing == "dutch_angle":
        roll = float(rng.choice([-1.0, 1.0]) * rng.uniform(10.0, 15.0))
    return Blocking(W=W, H=H, horizon=horizon, roll=roll, subj_x=subj_x, subj_focus_y=focus_y,
                    subj_h=subj_h, subj_w=subj_h * aspect, focus_unit=focus, light_side=int(rng.choice([-1, 1])),
                    overhead=look.framing == "overhead")


# ----------------------------------------------------------------------------- painting the layers


class Painter:
    """Paints the three depth layers of a shot: far (sky, horizon), mid (the set), near (the subject)."""

    def __init__(self, look: ShotLook, block: Blocking, seed: int):
        self.look, self.b = look, block
        self.seed = seed
        g = Grade(look)
        p = look.palette
        self.haze = float(min(0.85, p.haze + look.haze))
        self.c = {k: g(getattr(p, k)) for k in ("sky_top", "sky_horizon", "ground_far", "ground_near", "key", "shadow", "cloud", "windows")}
        self.accents = [g(a) for a in p.accents]
        self.g = g

    def rng(self, salt: int) -> np.random.Generator:
        # one stream per element family, so changing one part of the look does not reshuffle the rest
        return np.random.default_rng([self.seed, salt])

    def hazed(self, c: Color, depth: float) -> Color:
        """depth 0 = at the horizon (most haze), 1 = near."""
        return _mix(c, self.c["sky_horizon"], self.haze * (1.0 - depth))

    # ---- far: sky, sun, clouds, horizon silhouettes, ground
    def paint_far(self, cv: Canvas) -> None:
        b, c, env = self.b, self.c, self.look.env
        H, W, hy = b.H, b.W, b.horizon
        x0, y0, x1, y1 = cv.world_bbox
        if env == "interior":
            self._paint_room(cv)
            return
        if env == "studio":
            cv.vertical_gradient([(y0 - 1, c["sky_top"]), (hy + 0.05 * H, c["sky_horizon"]), (hy + 0.35 * H, c["ground_far"]), (y1 + 1, c["ground_near"])])
            for sx in (-1, 1):  # soft key and fill spill on the cyclorama
                cv.glow(W / 2 + sx * 0.35 * W, hy - 0.15 * H, 0.5 * H, _mix(c["sky_top"], (255, 255, 255), 0.8), 0.35)
            return
        if b.overhead:
            cv.vertical_gradient([(y0 - 1, c["ground_far"]), (y1 + 1, c["ground_near"])])
            rng = self.rng(11)
            for _ in range(int((x1 - x0) * (y1 - y0) / (W * H) * 40)):
                cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
                cv.ellipse(cx, cy, rng.uniform(0.02, 0.08) * H, rng.uniform(0.01, 0.04) * H,
                           _mix(c["ground_far"], c["ground_near"], rng.uniform(0, 1)), rng.uniform(0, 180))
            return
        sky_mid = _mix(c["sky_top"], c["sky_horizon"], 0.55)
        ground_far, ground_near = c["ground_far"], c["ground_near"]
        if env in ("sea", "harbour"):
            water = _mix(_mix(c["sky_top"], (20, 60, 110), 0.5), c["shadow"], 0.2)
            ground_far = _mix(c["sky_horizon"], water, 0.5)
            ground_near = _mix(water, c["shadow"], 0.35)
        if env == "underwater":
            cv.vertical_gradient([(y0 - 1, c["sky_top"]), (hy - 0.3 * H, sky_mid), (hy, c["sky_horizon"]),
                                  (hy + 0.02 * H, ground_far), (y1 + 1, ground_near)])
        else:
            cv.vertical_gradient([(min(y0, hy - 1.2 * H) - 1, c["sky_top"]), (hy - 0.35 * H, sky_mid), (hy, c["sky_horizon"]),
                                  (hy + 0.004 * H, ground_far), (hy + 0.6 * H, ground_near), (max(y1, hy + 0.7 * H) + 1, ground_near)])
        p = self.look.palette
        rng = self.rng(1)
        # stars
        if p.stars and hy > y0:
            n = int(p.stars * (x1 - x0) * max(0, hy - y0) / 1e6)
            for _ in range(n):
                sx, sy = rng.uniform(x0, x1), rng.uniform(y0, hy - 0.05 * H)
                cv.circle(sx, sy, rng.uniform(0.6, 1.6) * H / 720, _mix(c["sky_top"], (255, 255, 255), rng.uniform(0.4, 1.0)), solid=False)
        # sun or moon, on the key-light side
        if p.sun and env != "underwater":
            sx = W / 2 + b.light_side * W * 0.28
            sy = hy - p.sun_height * H
            rad = 0.05 * H if p.sun == "sun" else 0.035 * H
            disc = _mix(c["key"], (255, 255, 255), 0.55 if p.sun == "sun" else 0.7)
            cv.glow(sx, sy, rad * 7, c["key"], 0.55 if p.sun == "sun" else 0.3)
            cv.circle(sx, sy, rad, disc, solid=False)
        # clouds
        if p.clouds > 0 and env != "underwater":
            crng = self.rng(2)
            n = int(3 + p.clouds * 14 * (x1 - x0) / W)
            for _ in range(n):
                cx, cy = crng.uniform(x0, x1), hy - crng.uniform(0.12, 0.75) * H
                w = crng.uniform(0.08, 0.22) * W * (0.6 + p.clouds)
                col = _mix(c["cloud"], c["sky_top"], crng.uniform(0, 0.35))
                under = _mix(col, c["shadow"], 0.2)
                for _ in range(5):
                    ox = crng.uniform(-0.5, 0.5) * w
                    ry = crng.uniform(0.15, 0.32) * w * 0.5
                    cv.ellipse(cx + ox, cy + ry * 0.3, w * 0.35, ry, under, solid=False)
                    cv.ellipse(cx + ox, cy, w * 0.33, ry * 0.9, col, solid=False)
        if env == "underwater":
            self._light_rays(cv)
        self._horizon_silhouettes(cv)
        self._ground_lines(cv)

    def _light_rays(self, cv: Canvas) -> None:
        b = self.b
        rng = self.rng(3)
        x0, y0, x1, y1 = cv.world_bbox
        over = cv.rgb.copy()
        for _ in range(int(6 * (x1 - x0) / b.W)):
            x = rng.uniform(x0, x1)
            w = rng.uniform(0.02, 0.07) * b.W
            lean = rng.uniform(0.1, 0.35) * b.H
            cv.poly([(x - w, y0), (x + w, y0), (x + w * 2.5 + lean, y1), (x + lean, y1)], _mix(self.c["key"], (255, 255, 255), 0.3), solid=False)
        cv2.addWeighted(over, 0.8, cv.rgb, 0.2, 0, dst=cv.rgb)

    def _horizon_silhouettes(self, cv: Canvas) -> None:
        b, c, env = self.b, self.c, self.look.env
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, _ = cv.world_bbox
        rng = self.rng(4)
        far = self.hazed(_mix(c["shadow"], c["ground_far"], 0.5), 0.25)
        if env in ("mountain", "snow", "forest", "field", "open", "desert", "space"):
            heights = {"mountain": 0.32, "snow": 0.28, "forest": 0.12, "field": 0.08, "open": 0.14, "desert": 0.1, "space": 0.05}[env]
            xs = np.linspace(x0 - 10, x1 + 10, max(8, int((x1 - x0) / W * 9)))
            ys = hy - rng.uniform(0.2, 1.0, len(xs)) * heights * H
            if env in ("desert", "field", "open"):
                ys = hy - heights * H * (0.5 + 0.5 * np.sin(np.linspace(0, (x1 - x0) / W * 5, len(xs)) + rng.uniform(0, 6)))
                xs2 = np.linspace(x0 - 10, x1 + 10, len(xs) * 4)
                ys = np.interp(xs2, xs, ys)
                xs = xs2
            pts = list(zip(xs, ys)) + [(x1 + 10, hy + 2), (x0 - 10, hy + 2)]
            cv.poly(pts, far, solid=False)
            if env in ("mountain", "snow"):
                cap = self.hazed(_mix(c["key"], (255, 255, 255), 0.6), 0.3)
                for xa, ya in zip(xs, ys):
                    if hy - ya > heights * H * 0.7:
                        s = (hy - ya) * 0.22
                        cv.poly([(xa, ya), (xa + s * 0.8, ya + s), (xa - s * 0.8, ya + s)], cap, solid=False)
        elif env == "city":
            x = x0 - 20
            while x < x1:
                w = rng.uniform(0.03, 0.07) * W
                h = rng.uniform(0.08, 0.3) * H
                cv.rect(x, hy - h, x + w, hy + 2, self.hazed(c["shadow"], 0.3), solid=False)
                if self.look.palette.name in ("night", "neon_night", "dusk") or self.look.palette.stars:
                    lit = self.accents[int(rng.integers(len(self.accents)))] if self.accents and rng.random() < 0.3 else c["windows"]
                    for _ in range(int(h / H * 18) if w > 6 and h > 7 else 0):   # tiny frames: no windows
                        wx, wy = rng.uniform(x + 2, x + w - 4), rng.uniform(hy - h + 3, hy - 4)
                        cv.rect(wx, wy, wx + 0.004 * W, wy + 0.006 * H, self.hazed(lit, 0.4), solid=False)
                x += w + rng.uniform(0, 0.02) * W
        elif env in ("sea", "harbour"):
            # distant headland and glints where the key light hits the water
            side = -b.light_side
            cv.poly([(W / 2 + side * 0.25 * W, hy + 1), (W / 2 + side * 0.45 * W, hy - 0.05 * H), (W / 2 + side * 0.9 * W, hy - 0.09 * H),
                     (W / 2 + side * 2.0 * W, hy - 0.1 * H), (W / 2 + side * 2.0 * W, hy + 1)], far, solid=False)
            glint = _mix(c["key"], c["sky_horizon"], 0.3)
            gx = W / 2 + b.light_side * W * 0.28
            for _ in range(40):
                yy = hy + rng.uniform(0.005, 0.4) ** 1.6 * H
                spread = (yy - hy + 0.02 * H) * 1.2
                xx = gx + rng.normal(0, 1) * spread * 0.5
                cv.rect(xx - spread * 0.15, yy, xx + spread * 0.15, yy + 0.003 * H + (yy - hy) * 0.01, glint, solid=False)

    def _ground_lines(self, cv: Canvas) -> None:
        """Perspective lines to a vanishing point: they make ground motion (and the camera's) readable."""
        b, env = self.b, self.look.env
        if env in ("sea", "harbour", "underwater", "space"):
            return
        H, W, hy = b.H, b.W, b.horizon
        x0, y0, x1, y1 = cv.world_bbox
        col = _mix(self.c["ground_far"], self.c["ground_near"], 0.6)
        if env == "city":
            col = _mix(self.c["ground_near"], (235, 235, 235), 0.35)
            cv.poly([(W / 2 - 0.01 * W, hy), (W / 2 + 0.01 * W, hy), (W / 2 + 1.0 * W, y1 + H), (W / 2 - 1.0 * W, y1 + H)],
                    _mix(self.c["ground_near"], self.c["shadow"], 0.4), solid=False)
            for k in range(1, 12):  # lane dashes
                t0, t1 = (k / 12) ** 2, ((k + 0.4) / 12) ** 2
                cv.poly([(W / 2 - 0.002 * W - t0 * 0.02 * W, hy + t0 * (H - hy) * 1.2), (W / 2 + 0.002 * W + t0 * 0.02 * W, hy + t0 * (H - hy) * 1.2),
                         (W / 2 + 0.002 * W + t1 * 0.02 * W, hy + t1 * (H - hy) * 1.2), (W / 2 - 0.002 * W - t1 * 0.02 * W, hy + t1 * (H - hy) * 1.2)], col, solid=False)
            return
        n = 22
        for k in range(-n, n + 1):
            xb = W / 2 + k * W * 0.18
            cv.line((W / 2 + k * W * 0.004, hy + 1), (xb, y1 + H), col, max(1.0, H / 600), solid=False)
        rng = self.rng(5)
        for _ in range(int(60 * (x1 - x0) / W)):
            d = rng.uniform(0.02, 1.0)
            yy = hy + d ** 1.7 * (y1 - hy)
            xx = rng.uniform(x0, x1)
            s = (0.002 + d * 0.012) * H
            cv.ellipse(xx, yy, s * 2.2, s * 0.45, _mix(self.c["ground_near"], self.c["shadow"], 0.3 * rng.random()), solid=False)

    def _paint_room(self, cv: Canvas) -> None:
        """Interior: back wall, window with the outside light, floor with boards running to the vanishing point."""
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, y0, x1, y1 = cv.world_bbox
        floor_y = hy + 0.08 * H
        wall_top, wall_low = _mix(c["sky_top"], c["shadow"], 0.2), c["sky_horizon"]
        cv.vertical_gradient([(y0 - 1, wall_top), (floor_y, wall_low), (floor_y + 1, c["ground_far"]), (y1 + 1, c["ground_near"])])
        # window on the key-light side shows the light named in the shot
        wx = W / 2 + b.light_side * 0.27 * W
        outside = _mix(c["key"], (255, 255, 255), 0.35)
        cv.glow(wx, floor_y - 0.35 * H, 0.45 * H, c["key"], 0.35)
        cv.rect(wx - 0.11 * W, floor_y - 0.62 * H, wx + 0.11 * W, floor_y - 0.18 * H, _mix(c["shadow"], wall_low, 0.3), solid=False)
        cv.rect(wx - 0.1 * W, floor_y - 0.6 * H, wx + 0.1 * W, floor_y - 0.2 * H, outside, solid=False)
        cv.rect(wx - 0.004 * W, floor_y - 0.6 * H, wx + 0.004 * W, floor_y - 0.2 * H, _mix(c["shadow"], wall_low, 0.3), solid=False)
        cv.rect(wx - 0.1 * W, floor_y - 0.41 * H, wx + 0.1 * W, floor_y - 0.395 * H, _mix(c["shadow"], wall_low, 0.3), solid=False)
        # light pool on the floor from the window
        cv.poly([(wx - 0.1 * W, floor_y + 0.01 * H), (wx + 0.1 * W, floor_y + 0.01 * H), (wx - 0.3 * b.light_side * W + 0.25 * W, floor_y + 0.35 * H),
                 (wx - 0.3 * b.light_side * W - 0.05 * W, floor_y + 0.35 * H)], _mix(c["ground_far"], c["key"], 0.25), solid=False)
        cv.rect(x0 - 5, floor_y - 0.012 * H, x1 + 5, floor_y + 0.004 * H, _mix(c["shadow"], wall_low, 0.5), solid=False)  # skirting
        col = _mix(c["ground_far"], c["shadow"], 0.35)
        for k in range(-25, 26):
            cv.line((W / 2 + k * W * 0.03, floor_y), (W / 2 + k * W * 0.25, y1 + H), col, max(1.0, H / 500), solid=False)
        # framed pictures on the wall
        rng = self.rng(6)
        px = W / 2 - b.light_side * 0.25 * W
        for k in range(2):
            fx = px + (k - 0.5) * 0.12 * W + rng.uniform(-0.02, 0.02) * W
            fy = floor_y - rng.uniform(0.42, 0.55) * H
            cv.rect(fx - 0.04 * W, fy - 0.06 * H, fx + 0.04 * W, fy + 0.06 * H, _mix(c["shadow"], wall_low, 0.2), solid=False)
            cv.rect(fx - 0.033 * W, fy - 0.05 * H, fx + 0.033 * W, fy + 0.05 * H, self.g((170, 140, 110)) if not self.accents else _mix(self.accents[0], wall_low, 0.5), solid=False)

    # ---- mid: the set
    def paint_mid(self, cv: Canvas) -> None:
        env = self.look.env
        if self.b.overhead:
            self._mid_overhead(cv)
        elif env == "city":
            self._mid_city(cv)
        elif env in ("forest", "snow", "mountain"):
            self._mid_trees(cv, snowy=env == "snow" or self.look.palette_name == "snow", pines=env != "forest" or self.seed % 2 == 0)
        elif env == "desert":
            self._mid_desert(cv)
        elif env in ("sea", "harbour"):
            self._mid_coast(cv, harbour=env == "harbour")
        elif env == "interior":
            self._mid_room(cv)
        elif env == "studio":
            self._mid_studio(cv)
        elif env == "underwater":
            self._mid_underwater(cv)
        elif env == "space":
            self._mid_space(cv)
        else:
            self._mid_hills(cv)

    def _mid_hills(self, cv: Canvas) -> None:
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, y1 = cv.world_bbox
        rng = self.rng(7)
        xs = np.linspace(x0 - 10, x1 + 10, 60)
        ys = hy + 0.03 * H - 0.07 * H * (0.5 + 0.5 * np.sin(xs / W * 4.0 + rng.uniform(0, 6)))
        hill = self.hazed(_mix(c["ground_far"], c["shadow"], 0.15), 0.5)
        cv.poly(list(zip(xs, ys)) + [(x1 + 10, hy + 0.06 * H), (x0 - 10, hy + 0.06 * H)], hill)
        for _ in range(int(5 * (x1 - x0) / W)):
            tx = rng.uniform(x0, x1)
            ty = float(np.interp(tx, xs, ys)) + 0.01 * H
            self._tree(cv, tx, ty, rng.uniform(0.06, 0.12) * H, self.hazed(c["shadow"], 0.55), pine=rng.random() < 0.3)
        self._ground_details(cv)

    def _tree(self, cv: Canvas, x, base, h, col: Color, pine: bool, snowy: bool = False) -> None:
        cv.rect(x - h * 0.03, base - h * 0.35, x + h * 0.03, base, _mix(col, (40, 25, 15), 0.3))
        if pine:
            for k in range(3):
                w = h * (0.32 - k * 0.07)
                top = base - h * (0.55 + k * 0.18)
                cv.poly([(x, top - h * 0.3), (x + w, top + h * 0.12), (x - w, top + h * 0.12)], col)
                if snowy:
                    cv.poly([(x, top - h * 0.3), (x + w * 0.4, top - h * 0.14), (x - w * 0.4, top - h * 0.14)], _mix(self.c["key"], (255, 255, 255), 0.7))
        else:
            for dx, dy, r in ((0, -0.62, 0.28), (-0.17, -0.5, 0.2), (0.17, -0.52, 0.21)):
                cv.circle(x + dx * h, base + dy * h, r * h, col)

    def _mid_trees(self, cv: Canvas, snowy: bool, pines: bool) -> None:
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, _ = cv.world_bbox
        rng = self.rng(8)
        for row, (depth, size) in enumerate(((0.35, 0.13), (0.6, 0.22))):
            col = self.hazed(_mix(c["shadow"], c["ground_far"], 0.25 if not snowy else 0.1), depth)
            x = x0 - rng.uniform(0, 0.05) * W
            while x < x1 + 0.05 * W:
                h = rng.uniform(0.7, 1.3) * size * H
                self._tree(cv, x, hy + (0.01 + row * 0.05) * H, h, col, pine=pines or rng.random() < 0.3, snowy=snowy)
                x += rng.uniform(0.05, 0.16) * W * (1 + row)
        self._ground_details(cv)

    def _mid_desert(self, cv: Canvas) -> None:
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, _ = cv.world_bbox
        rng = self.rng(9)
        xs = np.linspace(x0 - 10, x1 + 10, 80)
        for k, depth in enumerate((0.4, 0.7)):
            ph = rng.uniform(0, 6)
            ys = hy + (0.02 + 0.06 * k) * H - (0.05 + 0.04 * k) * H * (0.5 + 0.5 * np.sin(xs / W * (3 + 2 * k) + ph))
            lit = self.hazed(_mix(c["ground_far"], c["key"], 0.25), depth)
            shade = self.hazed(_mix(c["ground_far"], c["shadow"], 0.35), depth)
            cv.poly(list(zip(xs, ys)) + [(x1 + 10, hy + 0.2 * H), (x0 - 10, hy + 0.2 * H)], lit)
            cv.poly(list(zip(xs, ys + 0.012 * H)) + [(x1 + 10, hy + 0.2 * H), (x0 - 10, hy + 0.2 * H)], shade)
        for _ in range(int(2 * (x1 - x0) / W)):  # cacti
            x = rng.uniform(x0, x1)
            h = rng.uniform(0.06, 0.12) * H
            base = hy + 0.09 * H
            col = self.hazed(_mix(c["shadow"], (60, 90, 50), 0.4), 0.7)
            cv.rect(x - h * 0.07, base - h, x + h * 0.07, base, col)
            cv.rect(x - h * 0.3, base - h * 0.65, x - h * 0.07, base - h * 0.55, col)
            cv.rect(x - h * 0.3, base - h * 0.85, x - h * 0.2, base - h * 0.55, col)

    def _mid_city(self, cv: Canvas) -> None:
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, _ = cv.world_bbox
        rng = self.rng(10)
        night = bool(self.look.palette.stars) or self.look.palette.name in ("night", "neon_night", "dusk", "storm")
        body = self.hazed(_mix(c["shadow"], c["sky_horizon"], 0.25), 0.6)
        base = hy + 0.03 * H
        x = x0 - rng.uniform(0, 0.1) * W
        while x < x1:
            w = rng.uniform(0.08, 0.16) * W
            if abs(x + w / 2 - W / 2) < 0.06 * W:  # keep the street open in the middle
                x += 0.14 * W
                continue
            h = rng.uniform(0.18, 0.5) * H
            tone = _mix(body, c["shadow"], rng.uniform(0, 0.4))
            cv.rect(x, base - h, x + w, base, tone)
            rim = _mix(tone, c["key"], 0.35)
            edge = x + w if b.light_side > 0 else x
            cv.rect(edge - 0.004 * W, base - h, edge + 0.004 * W, base, rim)
            cols, rows = max(2, int(w / (0.022 * W))), max(3, int(h / (0.045 * H)))
            for i in range(cols):
                for j in range(rows):
                    wx = x + (i + 0.3) * w / cols
                    wy = base - h + (j + 0.3) * h / rows
                    lit = night and rng.random() < 0.55
                    col = c["windows"] if lit else _mix(tone, c["sky_horizon"], 0.25)
                    if lit and self.accents and rng.random() < 0.25:
                        col = self.accents[int(rng.integers(len(self.accents)))]
                    cv.rect(wx, wy, wx + 0.4 * w / cols, wy + 0.45 * h / rows, col)
            if self.accents and self.look.palette.name == "neon_night" and rng.random() < 0.8:
                acc = self.accents[int(rng.integers(len(self.accents)))]
                sy = base - h * rng.uniform(0.3, 0.8)
                sw = w * rng.uniform(0.4, 0.8)
                cv.glow(x + w / 2, sy, sw * 0.9, acc, 0.45)
                cv.rect(x + w / 2 - sw / 2, sy - 0.012 * H, x + w / 2 + sw / 2, sy + 0.012 * H, acc)
                cv.rect(x + w / 2 - sw / 2 + 0.004 * W, sy - 0.005 * H, x + w / 2 + sw / 2 - 0.004 * W, sy + 0.005 * H, _mix(acc, (255, 255, 255), 0.6))
            x += w + rng.uniform(0.0, 0.03) * W
        # street lamps along the kerb
        lamp = self.accents[0] if self.accents else c["windows"]
        for k in range(-6, 7):
            lx = W / 2 + k * 0.22 * W + 0.1 * W
            if not (x0 < lx < x1):
                continue
            cv.rect(lx - 0.002 * W, base - 0.2 * H, lx + 0.002 * W, base + 0.02 * H, _mix(c["shadow"], (0, 0, 0), 0.3))
            if night:
                cv.glow(lx, base - 0.2 * H, 0.06 * H, lamp, 0.7)
            cv.circle(lx, base - 0.2 * H, 0.007 * H, _mix(lamp, (255, 255, 255), 0.5) if night else c["shadow"])

    def _mid_coast(self, cv: Canvas, harbour: bool) -> None:
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, _ = cv.world_bbox
        rng = self.rng(12)
        side = -b.light_side
        rock = self.hazed(_mix(c["shadow"], c["ground_far"], 0.3), 0.55)
        # a headland with a lighthouse: the coast reads at a glance
        cx = W / 2 + side * 0.36 * W
        cliff = [(cx - side * 0.12 * W, hy + 0.03 * H), (cx - side * 0.02 * W, hy - 0.06 * H), (cx + side * 0.1 * W, hy - 0.09 * H),
                 (cx + side * 1.2 * W, hy - 0.1 * H), (cx + side * 1.2 * W, hy + 0.05 * H)]
        cv.poly(cliff, rock)
        if "lighthouse" in self.look.mentions and self.look.subject_kind != "tower":
            lx = cx + side * 0.04 * W
            self._lighthouse(cv, lx, hy - 0.08 * H, 0.2 * H, self.hazed(_mix((230, 230, 230), c["shadow"], 0.3), 0.6), rock)
        # swell bands
        foam = _mix(c["sky_horizon"], c["key"], 0.3)
        for _ in range(int(10 * (x1 - x0) / W)):
            yy = hy + rng.uniform(0.02, 0.35) ** 1.3 * H
            xx = rng.uniform(x0, x1)
            L = (0.03 + (yy - hy) / H * 0.2) * W
            cv.ellipse(xx, yy, L, 0.002 * H + (yy - hy) * 0.01, self.hazed(foam, 0.6), solid=False)
        if harbour:
            pier_y = hy + 0.12 * H
            wood = self.hazed(_mix(c["shadow"], (90, 70, 50), 0.3), 0.8)
            px0, px1 = (x0 - 10, W / 2 - 0.05 * W) if side < 0 else (W / 2 + 0.05 * W, x1 + 10)
            cv.rect(px0, pier_y - 0.02 * H, px1, pier_y + 0.01 * H, wood)
            xx = px0 + 0.02 * W
            while xx < px1:
                cv.rect(xx - 0.004 * W, pier_y, xx + 0.004 * W, pier_y + 0.06 * H, wood)
                xx += 0.06 * W
            for k in range(3):  # moored boats
                bx = W / 2 - side * (0.15 + 0.15 * k) * W
                self._boat(cv, bx, hy + 0.06 * H + k * 0.01 * H, 0.09 * W, self.hazed(c["shadow"], 0.55), self.hazed(_mix(c["key"], c["shadow"], 0.4), 0.55))

    def _lighthouse(self, cv: Canvas, x, base, h, body: Color, dark: Color) -> None:
        cv.poly([(x - h * 0.09, base), (x + h * 0.09, base), (x + h * 0.055, base - h * 0.8), (x - h * 0.055, base - h * 0.8)], body)
        for k in range(3):
            y = base - h * (0.2 + 0.22 * k)
            cv.poly([(x - h * (0.085 - k * 0.012), y), (x + h * (0.085 - k * 0.012), y), (x + h * (0.08 - k * 0.012), y - h * 0.07),
                     (x - h * (0.08 - k * 0.012), y - h * 0.07)], _mix(body, (180, 40, 40), 0.6))
        cv.rect(x - h * 0.07, base - h * 0.82, x + h * 0.07, base - h * 0.8, dark)
        lamp = _mix(self.c["key"], (255, 240, 180), 0.6)
        cv.rect(x - h * 0.045, base - h * 0.92, x + h * 0.045, base - h * 0.82, lamp)
        cv.poly([(x - h * 0.06, base - h * 0.92), (x + h * 0.06, base - h * 0.92), (x, base - h * 1.0)], dark)
        if self.look.palette.name in ("dusk", "night", "storm", "moody", "neon_night", "fog", "overcast"):
            cv.glow(x, base - h * 0.87, h * 0.5, lamp, 0.6)

    def _boat(self, cv: Canvas, x, water_y, L, hull: Color, cabin: Color) -> None:
        cv.poly([(x - L / 2, water_y - L * 0.14), (x + L / 2 + L * 0.08, water_y - L * 0.18), (x + L * 0.4, water_y), (x - L * 0.45, water_y)], hull)
        cv.rect(x - L * 0.15, water_y - L * 0.32, x + L * 0.12, water_y - L * 0.14, cabin)
        cv.line((x - L * 0.02, water_y - L * 0.32), (x - L * 0.02, water_y - L * 0.75), hull, max(1.0, L * 0.02))

    def _mid_room(self, cv: Canvas) -> None:
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        floor_y = hy + 0.08 * H
        wood = _mix(c["shadow"], (120, 80, 50), 0.4)
        top = _mix(wood, c["key"], 0.25)
        # a table and a chair away from the subject, a standing lamp, a shelf
        tx = W / 2 - b.light_side * 0.3 * W
        cv.rect(tx - 0.12 * W, floor_y + 0.02 * H - 0.17 * H, tx + 0.12 * W, floor_y + 0.02 * H - 0.15 * H, top)
        for dx in (-0.11, 0.1):
            cv.rect(tx + dx * W, floor_y - 0.15 * H, tx + (dx + 0.012) * W, floor_y + 0.04 * H, wood)
        cv.rect(tx - 0.03 * W, floor_y - 0.2 * H, tx - 0.01 * W, floor_y - 0.17 * H, _mix(c["key"], (255, 255, 255), 0.3))  # a cup
        lx = W / 2 + b.light_side * 0.44 * W
        lamp = self.accents[0] if self.accents else c["key"]
        cv.rect(lx - 0.003 * W, floor_y - 0.45 * H, lx + 0.003 * W, floor_y + 0.01 * H, wood)
        cv.glow(lx, floor_y - 0.48 * H, 0.25 * H, lamp, 0.55)
        cv.poly([(lx - 0.03 * W, floor_y - 0.44 * H), (lx + 0.03 * W, floor_y - 0.44 * H), (lx + 0.018 * W, floor_y - 0.52 * H), (lx - 0.018 * W, floor_y - 0.52 * H)],
                _mix(lamp, (255, 255, 255), 0.4))
        sx = W / 2 - b.light_side * 0.5 * W
        cv.rect(sx - 0.08 * W, floor_y - 0.55 * H, sx + 0.08 * W, floor_y, _mix(wood, c["shadow"], 0.3))
        rng = self.rng(13)
        for j in range(4):
            y = floor_y - 0.55 * H + (j + 0.15) * 0.135 * H
            x = sx - 0.075 * W
            while x < sx + 0.07 * W:
                bw = rng.uniform(0.006, 0.014) * W
                cv.rect(x, y + rng.uniform(0, 0.03) * H, x + bw, y + 0.1 * H, self.g(tuple(int(v) for v in rng.integers(60, 200, 3))))
                x += bw + 0.002 * W

    def _mid_studio(self, cv: Canvas) -> None:
        b = self.b
        H, W, hy = b.H, b.W, b.horizon
        stand = (70, 70, 76)
        for s in (-1, 1):  # softboxes either side: it reads as a studio at once
            x = W / 2 + s * 0.42 * W
            cv.line((x, hy + 0.25 * H), (x, hy - 0.25 * H), stand, 0.006 * H)
            cv.line((x, hy + 0.25 * H), (x - 0.04 * W, hy + 0.3 * H), stand, 0.005 * H)
            cv.line((x, hy + 0.25 * H), (x + 0.04 * W, hy + 0.3 * H), stand, 0.005 * H)
            cv.poly([(x - 0.07 * W, hy - 0.45 * H), (x + 0.07 * W, hy - 0.45 * H), (x + 0.05 * W, hy - 0.22 * H), (x - 0.05 * W, hy - 0.22 * H)], (40, 40, 44))
            cv.poly([(x - 0.06 * W, hy - 0.44 * H), (x + 0.06 * W, hy - 0.44 * H), (x + 0.045 * W, hy - 0.23 * H), (x - 0.045 * W, hy - 0.23 * H)], (252, 252, 250))

    def _mid_underwater(self, cv: Canvas) -> None:
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, _ = cv.world_bbox
        rng = self.rng(14)
        rock = self.hazed(_mix(c["shadow"], c["ground_far"], 0.5), 0.5)
        for _ in range(int(6 * (x1 - x0) / W)):
            x = rng.uniform(x0, x1)
            cv.ellipse(x, hy + 0.06 * H, rng.uniform(0.04, 0.12) * W, rng.uniform(0.03, 0.08) * H, rock)
        kelp = self.hazed(self.g((40, 110, 70)), 0.6)
        for _ in range(int(8 * (x1 - x0) / W)):
            x = rng.uniform(x0, x1)
            h = rng.uniform(0.2, 0.55) * H
            ys = np.linspace(hy + 0.07 * H, hy + 0.07 * H - h, 12)
            xs = x + np.sin(np.linspace(0, 3, 12) + rng.uniform(0, 6)) * 0.015 * W
            cv.polyline(list(zip(xs, ys)), kelp, 0.008 * H)
        coral = [self.g(col) for col in ((230, 110, 120), (250, 170, 90), (200, 120, 220))]
        for _ in range(int(5 * (x1 - x0) / W)):
            x = rng.uniform(x0, x1)
            col = self.hazed(coral[int(rng.integers(3))], 0.6)
            for _ in range(4):
                cv.circle(x + rng.uniform(-0.02, 0.02) * W, hy + 0.05 * H - rng.uniform(0, 0.05) * H, rng.uniform(0.01, 0.025) * H, col)

    def _mid_space(self, cv: Canvas) -> None:
        b = self.b
        H, W, hy = b.H, b.W, b.horizon
        px = W / 2 - b.light_side * 0.3 * W
        planet = self.g((120, 90, 160))
        cv.circle(px, hy - 0.35 * H, 0.16 * H, _mix(planet, (0, 0, 0), 0.4))
        cv.circle(px + b.light_side * 0.03 * H, hy - 0.36 * H, 0.14 * H, planet)
        cv.ellipse(px, hy - 0.35 * H, 0.26 * H, 0.04 * H, _mix(planet, (255, 255, 255), 0.4), angle=-12)

    def _mid_overhead(self, cv: Canvas) -> None:
        b, c, env = self.b, self.c, self.look.env
        H, W = b.H, b.W
        x0, y0, x1, y1 = cv.world_bbox
        rng = self.rng(15)
        for _ in range(int(14 * (x1 - x0) * (y1 - y0) / (W * H))):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if abs(x - b.subj_x) < 0.12 * W and abs(y - b.subj_focus_y) < 0.15 * H:
                continue
            if env == "city":
                w, h = rng.uniform(0.06, 0.14) * W, rng.uniform(0.08, 0.2) * H
                cv.rect(x + 0.01 * H, y + 0.012 * H, x + w + 0.01 * H, y + h + 0.012 * H, _mix(c["ground_near"], (0, 0, 0), 0.4), solid=True)
                cv.rect(x, y, x + w, y + h, _mix(c["shadow"], c["sky_horizon"], 0.4))
            else:
                r = rng.uniform(0.025, 0.06) * H
                cv.circle(x + r * 0.3, y + r * 0.3, r, _mix(c["ground_near"], (0, 0, 0), 0.35))
                cv.circle(x, y, r, _mix(c["shadow"], self.g((60, 110, 50)), 0.6))

    def _ground_details(self, cv: Canvas) -> None:
        """Tufts and stones in the lower frame: they slide with the mid layer and sell the parallax."""
        b, c = self.b, self.c
        H, W, hy = b.H, b.W, b.horizon
        x0, _, x1, y1 = cv.world_bbox
        rng = self.rng(16)
        col = _mix(c["ground_near"], c["shadow"], 0.35)
        for _ in range(int(14 * (x1 - x0) / W)):
            d = rng.uniform(0.15, 1.0)
            y = hy + 0.05 * H + d * (max(y1, H) - hy)
            x = rng.uniform(x0, x1)
            s = (0.004 + 0.02 * d) * H
            cv.poly([(x - s, y), (x - s * 0.4, y - s * 1.8), (x, y - s * 0.6), (x + s * 0.5, y - s * 2.0), (x + s, y)], col)

    # ---- near: the subject, its shadow and its label
    def paint_subject(self, cv: Canvas, label: bool = True) -> None:
        b, c, kind = self.b, self.c, self.look.subject_kind
        h, w = b.subj_h, b.subj_w
        fux, fuy = b.focus_unit
        # unit box: x in [-w/2, w/2] (in units of h), y in [0, 1] top to bottom
        ox = b.subj_x - fux * h
        oy = b.subj_focus_y - fuy * h
        sil = _mix(c["shadow"], c["key"], 0.12)
        tint = find_keyword(self.look.subject, COLOUR_WORDS)
        if self.look.subject_color is not None:
            sil = _mix(sil, self.g(self.look.subject_color), 0.6)
        elif tint:
            sil = _mix(sil, self.g(COLOURS[tint]), 0.55)
        rim = _mix(c["key"], (255, 255, 255), 0.25)
        lum = sum(self.c["sky_horizon"]) / 3
        if lum < 90:
            sil = _mix(sil, c["key"], 0.3)   # keep the subject readable against a dark scene
        if lum < 110 and not b.overhead:
            cv.glow(ox + (fux) * h, oy + 0.45 * h, 0.9 * max(h, w * 0.6), _mix(c["key"], c["sky_horizon"], 0.5), 0.35)
        # ground shadow away from the light
        if not b.overhead and kind not in ("bird", "plane", "fish"):
            cv.ellipse(ox - b.light_side * 0.1 * h, oy + h * 0.995, w * 0.55 + 0.1 * h, 0.03 * h, _mix(c["ground_near"], (0, 0, 0), 0.45), solid=False)
        P = lambda pts: [(ox + u * h, oy + v * h) for u, v in pts]  # noqa: E731
        off = b.light_side * max(1.5, 0.012 * h)

        def shape(col: Color, dx: float = 0.0) -> None:
            _draw_subject(cv, kind, lambda pts: [(x + dx, y) for x, y in P(pts)], ox + dx, oy, h, w, col, b.overhead)

        shape(rim, off)   # the rim light: the same silhouette, a little toward the light, under the dark one
        shape(sil)
        self._paint_others(cv, ox, oy, h, w, rim, off)
        if kind == "tower" and "lighthouse" in self.look.subject.lower():
            cv.glow(ox, oy + 0.08 * h, 0.4 * h, _mix(c["key"], (255, 240, 180), 0.6), 0.5)
        if label:
            self._label(cv, ox, oy, h)

    def _paint_others(self, cv: Canvas, ox, oy, h, w, rim: Color, off: float) -> None:
        """The shot's other cast members, beside the subject on alternate sides, each in its own colour."""
        c = self.c
        for k, member in enumerate(self.look.others):
            side = 1 if k % 2 == 0 else -1
            mh = h * (0.8 if member.kind in ("person", "robot", "group") else 0.5)
            mx = ox + side * (w * 0.5 + 0.35 * h) * (1 + k // 2)
            my = oy + (h - mh)
            col = _mix(_mix(c["shadow"], c["key"], 0.12), self.g(member.color), 0.6)
            rel_h, aspect, _ = SUBJECT_SHAPES.get(member.kind, SUBJECT_SHAPES["object"])
            Q = lambda pts, mx=mx, my=my, mh=mh: [(mx + u * mh, my + v * mh) for u, v in pts]  # noqa: E731
            _draw_subject(cv, member.kind, lambda pts, Q=Q: [(x + off, y) for x, y in Q(pts)], mx + off, my, mh,
                          aspect * mh, rim, self.b.overhead)
            _draw_subject(cv, member.kind, Q, mx, my, mh, aspect * mh, col, self.b.overhead)
            self._label(cv, mx, my, mh, text=member.label)

    def _label(self, cv: Canvas, ox, oy, h, text: str | None = None) -> None:
        b = self.b
        H = b.H
        text = text or self.look.subject.strip() or self.look.subject_kind
        if len(text) > 48:
            text = text[:46].rstrip() + "…"
        size = 0.032 * H
        top = oy
        # above the head when there is room in frame, else on the silhouette's chest
        if top - 0.09 * H > 0.06 * H:
            ly = top - 0.05 * H
            cv.line((ox, top - 0.005 * H), (ox, ly + 0.02 * H), (250, 250, 250), max(1.0, H / 400))
        else:
            ly = min(max(b.subj_focus_y + 0.12 * H, 0.15 * H), 0.7 * H)
        cv.text(text.upper(), ox, ly, size, (20, 20, 24), box=(250, 250, 246), bold=True)


def _draw_subject(cv: Canvas, kind: str, P, ox, oy, h, w, col: Color, overhead: bool) -> None:
    """Silhouettes in a unit box (y 0 at the top, 1 at the ground; x in units of height)."""
    if overhead:
        if kind in ("person", "robot", "group"):
            n = 3 if kind == "group" else 1
            for k in range(n):
                dx = (k - (n - 1) / 2) * 0.35
                cv.ellipse(ox + dx * h, oy + 0.5 * h, 0.2 * h, 0.12 * h, col)
                cv.circle(ox + dx * h, oy + 0.5 * h, 0.09 * h, _mix(col, (0, 0, 0), 0.3))
        else:
            cv.ellipse(ox, oy + 0.5 * h, w * 0.5, 0.3 * h, col)
        return
    if kind in ("person", "robot"):
        if kind == "robot":
            cv.poly(P([(-0.07, 0.0), (0.07, 0.0), (0.07, 0.13), (-0.07, 0.13)]), col)
            cv.poly(P([(-0.15, 0.16), (0.15, 0.16), (0.13, 0.52), (-0.13, 0.52)]), col)
        else:
            cv.ellipse(ox, oy + 0.07 * h, 0.058 * h, 0.07 * h, col)
            cv.poly(P([(-0.03, 0.12), (0.03, 0.12), (0.035, 0.16), (-0.035, 0.16)]), col)
            cv.poly(P([(-0.14, 0.17), (0.14, 0.17), (0.16, 0.2), (0.11, 0.52), (-0.11, 0.52), (-0.16, 0.2)]), col)
        cv.poly(P([(-0.16, 0.18), (-0.11, 0.19), (-0.17, 0.5), (-0.21, 0.49)]), col)
        cv.poly(P([(0.16, 0.18), (0.11, 0.19), (0.17, 0.5), (0.21, 0.49)]), col)
        cv.poly(P([(-0.11, 0.5), (0.0, 0.52), (-0.03, 1.0), (-0.1, 1.0)]), col)
        cv.poly(P([(0.11, 0.5), (0.0, 0.52), (0.03, 1.0), (0.1, 1.0)]), col)
    elif kind == "group":
        for dx, s in ((-0.42, 0.9), (0.0, 1.0), (0.4, 0.94)):
            hh = h * s
            x = ox + dx * h
            y = oy + (1 - s) * h
            Q = lambda pts, x=x, y=y, hh=hh: [(x + u * hh, y + v * hh) for u, v in pts]  # noqa: E731
            cv.ellipse(x, y + 0.07 * hh, 0.058 * hh, 0.07 * hh, col)
            cv.poly(Q([(-0.15, 0.17), (0.15, 0.17), (0.12, 0.55), (-0.12, 0.55)]), col)
            cv.poly(Q([(-0.11, 0.52), (0.0, 0.54), (-0.03, 1.0), (-0.1, 1.0)]), col)
            cv.poly(Q([(0.11, 0.52), (0.0, 0.54), (0.03, 1.0), (0.1, 1.0)]), col)
    elif kind == "car":
        cv.poly(P([(-1.25, 0.45), (1.2, 0.45), (1.25, 0.8), (-1.25, 0.8)]), col)
        cv.poly(P([(-0.7, 0.45), (-0.45, 0.08), (0.4, 0.08), (0.75, 0.45)]), col)
        for u in (-0.75, 0.75):
            cv.circle(ox + u * h, oy + 0.8 * h, 0.2 * h, _mix(col, (0, 0, 0), 0.5))
    elif kind == "boat":
        cv.poly(P([(-1.1, 0.55), (1.2, 0.5), (0.85, 1.0), (-0.95, 1.0)]), col)
        cv.poly(P([(-0.45, 0.55), (-0.45, 0.25), (0.15, 0.25), (0.25, 0.55)]), col)
        cv.poly(P([(-0.12, 0.25), (-0.08, 0.25), (-0.08, -0.25), (-0.12, -0.25)]), col)
    elif kind == "plane":
        cv.poly(P([(-1.3, 0.45), (1.2, 0.4), (1.35, 0.5), (-1.3, 0.6)]), col)
        cv.poly(P([(-0.2, 0.5), (0.25, 0.5), (-0.35, 1.0), (-0.55, 1.0)]), col)
        cv.poly(P([(-1.2, 0.45), (-1.0, 0.45), (-1.25, 0.05), (-1.35, 0.05)]), col)
    elif kind == "bird":
        cv.poly(P([(-1.0, 0.1), (-0.5, 0.35), (0.0, 0.55), (0.5, 0.35), (1.0, 0.1), (0.45, 0.5), (0.0, 0.75), (-0.45, 0.5)]), col)
    elif kind == "fish":
        cv.ellipse(ox, oy + 0.5 * h, 0.8 * h, 0.35 * h, col)
        cv.poly(P([(0.7, 0.5), (1.1, 0.15), (1.1, 0.85)]), col)
    elif kind == "animal":
        cv.ellipse(ox, oy + 0.45 * h, 0.55 * h, 0.2 * h, col)
        for u in (-0.42, -0.25, 0.25, 0.42):
            cv.poly(P([(u - 0.04, 0.5), (u + 0.04, 0.5), (u + 0.035, 1.0), (u - 0.035, 1.0)]), col)
        cv.poly(P([(0.4, 0.4), (0.55, 0.15), (0.68, 0.2), (0.55, 0.48)]), col)
        cv.ellipse(ox + 0.66 * h, oy + 0.17 * h, 0.13 * h, 0.08 * h, col)
        cv.poly(P([(0.58, 0.1), (0.62, 0.0), (0.66, 0.1)]), col)
        cv.poly(P([(-0.52, 0.4), (-0.75, 0.55), (-0.72, 0.6), (-0.5, 0.48)]), col)
    elif kind == "tower":
        cv.poly(P([(-0.16, 1.0), (0.16, 1.0), (0.1, 0.12), (-0.1, 0.12)]), col)
        cv.poly(P([(-0.13, 0.12), (0.13, 0.12), (0.0, -0.02)]), col)
    elif kind == "tree":
        cv.poly(P([(-0.04, 1.0), (0.04, 1.0), (0.03, 0.45), (-0.03, 0.45)]), col)
        for dx, dy, r in ((0, 0.3, 0.28), (-0.2, 0.42, 0.2), (0.2, 0.42, 0.21)):
            cv.circle(ox + dx * h, oy + dy * h, r * h, col)
    elif kind == "product":
        cv.poly(P([(-0.2, 1.0), (0.2, 1.0), (0.22, 0.35), (0.08, 0.22), (0.08, 0.05), (-0.08, 0.05), (-0.08, 0.22), (-0.22, 0.35)]), col)
    else:
        cv.ellipse(ox, oy + 0.55 * h, 0.42 * h, 0.45 * h, col)
