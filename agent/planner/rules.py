"""The offline rule-based planner: a brief in plain English -> a Storyboard, with no model at all.

It is the default brain, so it must be predictable: the same brief always gives the same storyboard
(seeds come from a hash of the brief), and every default it picks is said in `notes`.

What it reads (case-insensitive, anywhere in the brief):
- aspect ratio: vertical / portrait / 9:16 / TikTok / Reels / Shorts -> 9:16; square / 1:1 -> 1:1;
  widescreen / landscape format / YouTube / 16:9 -> 16:9 (default).
- length: "30-second", "30 s", "half a minute", "1 minute", "a minute and a half", "90 seconds";
  per shot: "8 shots of 5 seconds", "5-second shots".
- shot count: "three-shot", "5 shots", "in four shots", "a single shot"; fps: "24 fps".
- look: cinematic, 35mm, anime, watercolor, noir, documentary, vintage, neon, pastel, moody, ... ->
  the film's style guide (carried into every shot's prompt).
- camera and framing words per sentence ("drone" -> aerial, "close-up", "slow push in" -> dolly_in,
  "handheld", "orbit", "pan"); in a sentence with no picture content they apply to the whole film.
- narration: "with narration", "voice-over", or quoted lines (a quote after "text"/"caption"/"title"
  /"tagline" is an on-screen caption instead).
- order: "open with", "end on"/"end with", "finally", "then".
- "no camera shake", "no text", "without people" -> every shot's negative prompt.

The picture content is split into beats (sentences, clauses joined by "then", ";" or a comma that
starts a new picture), one shot per beat, shaped to the shot count and total length: durations are
spread evenly (0.1 s steps, total exact), no shot exceeds `max_shot_seconds`, long or few beats are
covered by extra shots (wide, then closer), surplus beats are merged.
In each beat: the noun phrase before the first verb is the subject, the verb phrase the action, an
"in/at/on the ..." phrase the setting; atmosphere and lighting words are collected.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from agent.language.detect import QUESTIONS, language_of
from agent.language.nouns import head_noun, is_place
from agent.language.words import (  # noqa: F401  (re-exported for older imports)
    ASPECT_PATTERNS,
    ATMOSPHERE_WORDS,
    BEAT_START,
    BEINGS,
    CALM,
    CAMERA_PHRASES,
    CAPTION_BEFORE,
    COMMON_VERBS,
    CUE_END,
    CUE_OPEN,
    CUE_THEN,
    DEFAULT_ASPECT,
    DEFAULT_FPS,
    DEFAULT_SECONDS,
    DEFAULT_STYLE,
    DETERMINERS,
    ENERGETIC,
    FORMAT_NOUNS,
    FRAMING_BARE_OK,
    FRAMING_PHRASES,
    HEADER_LINK,
    ING_NOUNS,
    LIGHTING_WORDS,
    LIST_MARKER,
    LOOK_VERBS,
    LOOK_WORDS,
    MARK,
    NARRATION_WORDS,
    NEGATIVE,
    NO_NARRATION,
    NOT_NEGATIVES,
    NUM,
    NUMBER_WORDS,
    NUMWORDS,
    OBJECTS_NOT_PLACES,
    ORDINALS,
    PARTICIPLES,
    PLURAL_NOUNS,
    PRONOUNS,
    QUOTE,
    REQUEST,
    SETTING_BARE,
    SETTING_PREPS,
    SHOW_PREFIX,
    STYLE_OF,
    STYLE_WORDS,
    TECHNICAL_WORDS,
    TRAVERSE,
    parse_number,
)
from agent.planner.cast import with_cast
from agent.planner.length import CARD_SECONDS, card_seconds, film_seconds, fit_storyboard
from agent.prompts import merge_items
from storyboards.schema import Shot, Storyboard

if TYPE_CHECKING:
    from agent.settings import AgentSettings


# ----------------------------------------------------------------------------- small finders


def _find_first(patterns: list[tuple[str, str]], text: str, bare_ok: set[str] | None = None) -> tuple[str, re.Match] | None:
    best: tuple[str, re.Match] | None = None
    for pattern, value in patterns:
        for m in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, re.I):
            if bare_ok is not None and value not in bare_ok and not re.search(r"shot|angle|view|up|eye", m.group(0), re.I):
                continue  # "wide"/"medium" alone describe things, not framing
            if best is None or m.start() < best[1].start():
                best = (value, m)
            break
    return best


def find_camera(text: str) -> str | None:
    found = _find_first(CAMERA_PHRASES, text)
    return found[0] if found else None


def find_framing(text: str) -> str | None:
    found = _find_first(FRAMING_PHRASES, text, bare_ok=FRAMING_BARE_OK)
    return found[0] if found else None


def find_words(patterns: list[tuple[str, str]], text: str) -> list[str]:
    """Every vocabulary value mentioned in `text`, in the order the text mentions them, once each."""
    hits: list[tuple[int, str]] = []
    for pattern, value in patterns:
        m = re.search(pattern, text, re.I)
        if m:
            hits.append((m.start(), value))
    out: list[str] = []
    for _, value in sorted(hits):
        if value not in out:
            out.append(value)
    return out


def find_style(text: str) -> list[str]:
    styles = find_words(STYLE_WORDS, text)
    for m in STYLE_OF.finditer(text):
        styles.append(f"in the style of {m.group(1).strip()}")
    return styles


def find_aspects(text: str) -> list[tuple[str, str, bool, int]]:
    """[(ratio, the words that said it, strong, position)] in order of appearance."""
    hits = []
    for pattern, ratio, strong in ASPECT_PATTERNS:
        for m in re.finditer(pattern, text, re.I):
            hits.append((ratio, m.group(0).strip(), strong, m.start()))
    return sorted(hits, key=lambda h: h[3])


def find_negatives(text: str) -> list[str]:
    out: list[str] = []
    for m in NEGATIVE.finditer(text):
        item = m.group(1).strip(" -'").lower()
        if not item or NOT_NEGATIVES.match(item) or len(item.split()) > 5:
            continue
        if item not in out:
            out.append(item)
    return out


def seed_for(key: str, shot_id: str) -> int:
    digest = hashlib.sha256(f"{key}|{shot_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _squash(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return text.strip(" ,;:-—–")


def _the(np: str) -> str:
    """'a lighthouse keeper' -> 'the lighthouse keeper' (for a subject carried into the next beat)."""
    return re.sub(r"^(?:a|an)\s+", "the ", np, flags=re.I)


# ----------------------------------------------------------------------------- durations and lengths


@dataclass
class _Lengths:
    total: list[tuple[float, str]] = field(default_factory=list)      # (seconds, words)
    per_shot: list[tuple[float, str]] = field(default_factory=list)
    counts: list[tuple[int, str]] = field(default_factory=list)
    fps: int | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)        # the text already read as a length
    loop: bool = False

    def free(self, m: re.Match) -> bool:
        """Not part of a phrase already read: "8 shots of 5 seconds" is not also a 5-second film."""
        return all(m.end() <= a or m.start() >= b for a, b in self.spans)

    def take(self, m: re.Match) -> None:
        self.spans.append((m.start(), m.end()))


_SEC = r"(?:seconds?|secs?|sec|s)\b"


def _read_lengths(text: str) -> _Lengths:
    # the most specific phrases first, so their numbers are taken before a looser pattern reads them
    out = _Lengths()
    _read_shot_seconds(text, out)
    _read_total_seconds(text, out)
    _read_shot_counts(text, out)
    _read_loop_and_fps(text, out)
    return out


def _read_shot_seconds(text: str, out: _Lengths) -> None:
    # "8 shots of 5 seconds (each)"
    for m in re.finditer(rf"\b{NUM}[\s-]+shots?\s*(?:of|at|x|×|each)?\s*(?:about\s+|around\s+|roughly\s+)?{NUM}[\s-]*{_SEC}(?:\s+each)?", text, re.I):
        n, s = parse_number(m.group(1)), parse_number(m.group(2))
        if n and s:
            out.counts.append((int(n), m.group(0)))
            out.per_shot.append((s, m.group(0)))
            out.take(m)
    # "5-second shots", "5 seconds each", "each 5 seconds"
    for m in re.finditer(rf"\b{NUM}[\s-]*{_SEC}\s*(?:long\s+)?(?:shots?|each|per\s+shot|apiece)\b|\beach\s+(?:shot\s+)?(?:about\s+)?{NUM}[\s-]*{_SEC}", text, re.I):
        if not out.free(m):
            continue
        s = parse_number(m.group(1) or m.group(2))
        if s:
            out.per_shot.append((s, m.group(0)))
            out.take(m)


def _read_total_seconds(text: str, out: _Lengths) -> None:
    for pattern, value in [
        (r"\b(?:a|one)\s+(?:minute|min)\s+and\s+a\s+half\b|\bone\s+and\s+a\s+half\s+minutes?\b|\b1\.5[\s-]*(?:minutes?|mins?)\b", 90.0),
        (r"\bhalf\s+a\s+minute\b|\bhalf[\s-]minute\b", 30.0),
        (r"\b(?:a|one)[\s-]+minute\b|\b(?:a|one)[\s-]+min\b", 60.0),
    ]:
        for m in re.finditer(pattern, text, re.I):
            if out.free(m):
                out.total.append((value, m.group(0)))
                out.take(m)
    for m in re.finditer(rf"\b{NUM}[\s-]*(?:minutes?|mins?)\b(?:\s+and\s+{NUM}[\s-]*{_SEC})?", text, re.I):
        if out.free(m):
            v = parse_number(m.group(1))
            extra = parse_number(m.group(2)) if m.group(2) else 0
            if v:
                out.total.append((v * 60 + (extra or 0), m.group(0)))
                out.take(m)
    for m in re.finditer(rf"(?<!['’])\b{NUM}([\s-]*){_SEC}", text, re.I):
        if not out.free(m):
            continue
        v = parse_number(m.group(1))
        unit = m.group(0)[len(m.group(1)) + len(m.group(2)):]
        # "the 80s", "1990s", "'70s look" are decades, not seconds.
        if unit.lower() == "s" and not m.group(2) and v is not None and (v >= 1000 or (v % 10 == 0 and 20 <= v <= 90 and re.match(r"\s*(?:style|look|vibe|aesthetic|music|fashion|era|film|disco|synth|movie|tv|retro|kid)", text[m.end():], re.I))):
            continue
        if v is not None and 0 < v <= 600:
            out.total.append((v, m.group(0)))
            out.take(m)


def _read_shot_counts(text: str, out: _Lengths) -> None:
    for m in re.finditer(rf"\b(?:in|across|over|with|using)\s+{NUM}\s+(?:shots|scenes|parts|beats|cuts|steps|stages|moments)\b|\b(?!a\b|an\b){NUM}[\s-]+(?:shots?|scenes?|cuts)\b", text, re.I):
        if not out.free(m):
            continue
        v = parse_number(m.group(1) or m.group(2))
        word = (m.group(1) or m.group(2)).lower()
        if v and word not in {"a", "an"}:
            if v == 1 and re.match(r"\s+of\b", text[m.end():]):
                continue
            out.counts.append((int(v), m.group(0)))
            out.take(m)
    for m in re.finditer(r"\b(?:a\s+)?single(?:[\s-]+(?:continuous\s+)?(?:shot|take))\b|\bone\s+continuous\s+(?:shot|take)\b|\bone[\s-]take\b|\boner\b", text, re.I):
        if out.free(m):
            out.counts.append((1, m.group(0)))
            out.take(m)


def _read_loop_and_fps(text: str, out: _Lengths) -> None:
    # a loop is one seamless shot (its last frame meets its first), unless the brief counts shots
    if not out.counts:
        for m in re.finditer(r"\b(?:seamless(?:ly)?\s+|perfect\s+|endless\s+)?loop(?:ing|ed)?\b(?!\s+(?:of\s+)?\d)", text, re.I):
            out.counts.append((1, m.group(0)))
            out.loop = True
            break
    m = re.search(r"\b(\d{1,2})\s*(?:fps|frames?\s+(?:per|a)\s+second)\b", text, re.I)
    if m:
        out.fps = int(m.group(1))
        out.take(m)


def distribute(total: float, n: int) -> list[float]:
    """`total` seconds over `n` shots, evenly, in 0.1 s steps, summing exactly to `total` (to 0.1 s)."""
    tenths = int(round(total * 10))
    base, extra = divmod(tenths, n)
    # the extra tenths go to the middle shots, so openings and endings keep the even pace
    order = sorted(range(n), key=lambda i: (abs(i - (n - 1) / 2), i))
    out = [base] * n
    for i in order[:extra]:
        out[i] += 1
    return [t / 10 for t in out]


# ----------------------------------------------------------------------------- beats


@dataclass
class Beat:
    text: str
    subject: str = ""
    action: str = ""
    setting: str = ""
    atmosphere: list[str] = field(default_factory=list)
    lighting: list[str] = field(default_factory=list)
    technical: list[str] = field(default_factory=list)
    camera: str | None = None
    framing: str | None = None
    cue: str | None = None               # "open" | "end"
    narration: list[str] = field(default_factory=list)
    caption: str | None = None
    pronoun_subject: bool = False
    pronoun: str = ""                    # the pronoun that stood for the subject ("he", "she", "it")
    coverage: str | None = None          # a coverage shot of this beat: "establishing", "detail", ...

    @property
    def has_picture(self) -> bool:
        return bool(self.subject or self.action or self.setting)


def _remove_phrase(text: str, m: re.Match) -> str:
    before, after = text[: m.start()], text[m.end():]
    # A camera/framing phrase that opens the beat takes its "shot of"/"on" along:
    # "a drone shot of the coast" -> "the coast".
    if re.fullmatch(r"\s*(?:(?:and\s+)?(?:then\s+)?(?:an?|the)\s+)?(?:(?:slow|quick|fast|smooth|gentle|sweeping|tight|big|dramatic)\s+)?", before, re.I):
        after = re.sub(r"^\s*(?:shot|view|angle|footage|camera)?\s*(?:of|on|over|across|around|to|at|into)?\s+", " ", after, flags=re.I)
        return _squash(after)
    return _squash(before + " " + after)


def _is_verb(words: list[str], i: int) -> bool:
    w = words[i].lower().strip(",.;:!?")
    prev = words[i - 1].lower().strip(",.;:!?") if i > 0 else ""
    if prev in DETERMINERS or prev in {"of", "with", "and", "for", "to"} or prev.endswith(("'s", "’s", "s'")):
        return False  # "the fisherman's hands": a possessive is followed by a noun
    nxt = words[i + 1].lower().strip(",.;:!?") if i + 1 < len(words) else ""
    if w in COMMON_VERBS or w in PARTICIPLES:
        return True
    if len(w) > 4 and w.endswith("ing") and (w not in ING_NOUNS or nxt in DETERMINERS):
        return True  # "lighting a fire", "crossing a forest": an -ing word with an object is a verb
    if (
        len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous"))
        and w not in PLURAL_NOUNS and prev not in SETTING_PREPS and not prev.endswith("'s")
    ):
        return True
    return False


def _is_setting_start(words: list[str], i: int) -> bool:
    w = words[i].lower()
    if w not in SETTING_PREPS or i + 1 >= len(words):
        return False
    nxt = words[i + 1].strip(",.;:!?")
    if w == "at" and (i > 0 and words[i - 1].lower() in LOOK_VERBS or OBJECTS_NOT_PLACES.match(" ".join(words[i + 1:i + 3]))):
        return False  # "looking at the camera": what is looked at, not where
    return nxt.lower() in DETERMINERS or nxt.lower() in SETTING_BARE or (nxt[:1].isupper() and nxt.lower() not in PRONOUNS)


def _clean_setting(words: list[str]) -> str:
    text = " ".join(words)
    # "in a sunny cafe" -> "a sunny cafe"; times of day keep their preposition: "at dawn".
    m = re.match(r"^(?:in|inside|on|at|within)\s+(.*)$", text, re.I)
    if m and m.group(1).split()[0].lower() in DETERMINERS:
        return _squash(m.group(1))
    return _squash(text)


def parse_beat(text: str, quotes: list[str] | None = None) -> Beat:
    """One beat of picture: camera/framing/cues taken out, then subject / action / setting."""
    beat = Beat(text=text)
    # each step records what it finds on `beat` and returns the text with those words taken out
    work = _take_quotes(beat, text, quotes or [])
    work = _take_leading_cues(beat, work)
    work = _take_camera_and_framing(beat, work)
    work = _take_look(beat, work)
    work = _take_late_cues(beat, work)
    _read_grammar(beat, work.split())
    return beat


def _take_quotes(beat: Beat, work: str, quotes: list[str]) -> str:
    """Quoted lines: captions after "text:"/"title", else narration."""
    for m in list(MARK.finditer(work))[::-1]:
        line = quotes[int(m.group(1))]
        before = work[: m.start()]
        if CAPTION_BEFORE.search(before):
            beat.caption = line
            before = re.sub(r"(?:with|and)?\s*(?:the|a)?\s*(?:on[\s-]screen\s+)?(?:text|caption|title|tagline|slogan|words|reading|reads|headline|card|sign|saying|super)\s*:?\s*$", "", before, flags=re.I)
        else:
            beat.narration.insert(0, line)
            before = re.sub(r"(?:\b(?:says?|said|saying|whispers?|narrat\w*|voice[\s-]?over)\s*:?)\s*$", "", before, flags=re.I)
        work = before + " " + work[m.end():]
    return _squash(work)


def _take_leading_cues(beat: Beat, work: str) -> str:
    for regex, kind in ((CUE_OPEN, "open"), (CUE_END, "end"), (CUE_THEN, None)):
        m = regex.match(work)
        if m:
            beat.cue = beat.cue or kind
            work = work[m.end():]
    return _squash(work)


def _take_camera_and_framing(beat: Beat, work: str) -> str:
    cam = _find_first(CAMERA_PHRASES, work)
    if cam:
        beat.camera = cam[0]
        work = _remove_phrase(work, cam[1])
    frm = _find_first(FRAMING_PHRASES, work, bare_ok=FRAMING_BARE_OK)
    if frm:
        beat.framing = frm[0]
        work = _remove_phrase(work, frm[1])
    # a second camera phrase after the framing was removed ("close-up, slow push in")
    cam = _find_first(CAMERA_PHRASES, work)
    if cam and not beat.camera:
        beat.camera = cam[0]
        work = _remove_phrase(work, cam[1])
    return work


def _take_look(beat: Beat, work: str) -> str:
    """Technical, lighting, atmosphere and style words: recorded (all but style) and taken out."""
    beat.technical = find_words(TECHNICAL_WORDS, work)
    for pattern, _ in TECHNICAL_WORDS:
        work = re.sub(rf"\b(?:in\s+)?(?:{pattern})", " ", work, flags=re.I)
    work = STYLE_OF.sub(" ", work)
    work = re.sub(r"\bin\s+(?:black\s+and\s+white|colou?r|slow\s+motion)\b", " ", work, flags=re.I)
    work = re.sub(r"\bcinematic(?:ally)?\b", " ", work, flags=re.I)
    beat.lighting = find_words(LIGHTING_WORDS, work)
    # "natural light", "soft light": how it is lit, never the subject or the action
    work = re.sub(r"(?:,\s*|\b(?:in|with|under)\s+)?\b(?:natural|soft|hard|warm|cool|cold|harsh|available|ambient|diffused?)\s+(?:day)?light(?:ing)?\b", " ", work, flags=re.I)
    beat.atmosphere = find_words(ATMOSPHERE_WORDS, work)
    # the look belongs to the film's style guide, not to the subject or setting
    for pattern, _ in STYLE_WORDS:
        work = re.sub(
            rf"(?:,\s*|\b(?:in\s+)?(?:an?\s+)?)?(?:{pattern})(?![\s-]+(?:lit|lights?|signs?)\b)(?:[\s-]+(?:colou?rs|palette|style|look|tones|aesthetic|vibes?|feel))?",
            " ", work, flags=re.I,
        )
    return work


def _take_late_cues(beat: Beat, work: str) -> str:
    """Cues and "show ..." that followed a removed camera phrase, now at the front."""
    for regex in (CUE_END, CUE_OPEN, CUE_THEN, SHOW_PREFIX):
        m = regex.match(work)
        if m:
            if regex is CUE_END:
                beat.cue = "end"
            elif regex is CUE_OPEN:
                beat.cue = beat.cue or "open"
            work = work[m.end():]
    work = _squash(work)
    m = SHOW_PREFIX.match(work)
    if m:
        work = _squash(work[m.end():])
    return work


# words after a verb that mark it as a verb with no subject before it ("then lights the lamp")
_VERB_FOLLOWERS = DETERMINERS | {
    "up", "down", "out", "in", "off", "away", "back", "around", "over", "into", "through", "across", "to", "toward", "towards",
    "past", "at", "for", "with", "from", "onto", "along", "upward", "upwards", "forward", "ahead", "home", "them", "it", "him",
    "her", "us",
}


def _read_grammar(beat: Beat, words: list[str]) -> None:
    """Subject, action and setting of what is left of the beat's words."""
    if not words:
        return
    if len(words) == 1 and words[0].lower() in COMMON_VERBS:
        beat.action, beat.pronoun_subject = words[0], True   # "serve": a step, done by whoever does the rest
        return
    if words[0].lower() in PRONOUNS:
        beat.pronoun_subject = True
        beat.pronoun = words[0].lower()
        words = words[1:]
        verb_at: int | None = 0
    else:
        verb_at = next((i for i in range(1, len(words)) if _is_verb(words, i)), None)
        # "then lights the lamp": no subject, the previous beat's carries on
        if len(words) > 1 and words[0].lower() in COMMON_VERBS and words[1].lower() in _VERB_FOLLOWERS:
            verb_at = 0
    if verb_at is None:
        # no verb: "the cup on the table" -> subject + setting
        set_at = next((i for i in range(1, len(words)) if _is_setting_start(words, i)), None)
        beat.subject = _squash(" ".join(words[:set_at]))
        beat.setting = _clean_setting(words[set_at:]) if set_at else ""
        return
    if verb_at == 0:
        beat.pronoun_subject = True
    _read_clause(beat, words[:verb_at], words[verb_at:])


def _split_subject(subject_words: list[str]) -> tuple[list[str], list[str]]:
    """(subject, the setting said inside it): "a cat in the garden" -> "a cat", "in the garden"."""
    pre_setting: list[str] = []
    for i in range(1, len(subject_words)):
        lw = subject_words[i].lower()
        nxt = subject_words[i + 1].lower() if i + 1 < len(subject_words) else ""
        # "a cat in the garden sleeps": "in the ..." is where; "a man in a red coat" is what he wears
        if _is_setting_start(subject_words, i) and (lw != "in" or nxt not in {"a", "an"}) and lw not in {"with", "by"}:
            subject_words, pre_setting = subject_words[:i], subject_words[i:]
            break
    while subject_words and subject_words[-1].lower().strip(",") in {"who", "that", "which", "and", "slowly", "quickly", "then", "also", "is", "are"}:
        subject_words = subject_words[:-1]
    return subject_words, pre_setting


def _split_action(rest: list[str]) -> tuple[list[str], list[str]]:
    """(action, the setting after it): "pours coffee in the cafe" -> "pours coffee", "in the cafe"."""
    set_at = next((i for i in range(1, len(rest)) if _is_setting_start(rest, i)), None)
    action_words = rest[:set_at] if set_at else rest
    post_setting = rest[set_at:] if set_at else []
    # the setting ends where a new clause starts ("in the cafe while steam rises" keeps "while ..." in the action)
    if post_setting:
        cut = next((i for i, w in enumerate(post_setting) if w.lower() in {"while", "as", "and", "where", "before", "until"} and i > 1), None)
        if cut:
            action_words = action_words + post_setting[cut:]
            post_setting = post_setting[:cut]
    return action_words, post_setting


def _read_clause(beat: Beat, subject_words: list[str], rest: list[str]) -> None:
    """A beat with a verb: the words before it (subject, maybe a setting) and from it (action, maybe a setting)."""
    subject_words, pre_setting = _split_subject(subject_words)
    action_words, post_setting = _split_action(rest)
    beat.subject = _squash(" ".join(subject_words))
    beat.action = _squash(" ".join(action_words))
    settings = [s for s in (_clean_setting(pre_setting) if pre_setting else "", _clean_setting(post_setting) if post_setting else "") if s]
    beat.setting = ", ".join(settings)
    m = TRAVERSE.match(beat.action)
    if m and not pre_setting and (not beat.setting or re.match(r"^(?:at|by|before|after)\s", beat.setting)):
        # "crossing a snowy forest at dawn": the forest is where every shot of it happens
        beat.setting = _squash(f"{m.group(1)} {beat.setting}")


def sentences(text: str) -> list[str]:
    """Sentences and ;-separated parts, without their closing punctuation (planner and feedback share it)."""
    parts = (p.strip().rstrip(".!?;").strip() for p in re.split(r"(?<=[.!?;])\s+|;\s*|\n+", text))
    return [p for p in parts if p]


def _split_beats(body: str) -> list[str]:
    pieces: list[str] = []
    for sentence in sentences(body):
        parts = re.split(r"(?:\s*,\s*|\s+)(?=(?:and\s+)?(?:then|finally|lastly|afterwards|after\s+that)\b)", sentence, flags=re.I)
        for part in parts:
            # a comma starts a new beat when what follows reads like a new picture
            chunks = [c.strip() for c in part.split(",")]
            current = chunks[0]
            for chunk in chunks[1:]:
                words = chunk.split()
                clause = len(words) >= 3 and (_is_verb(words, 1) or _is_verb(words, 2)) and words[0].lower() not in {"and", "or", "with", "while", "as"}
                if len(words) >= 3 and (words[0].lower() in BEAT_START or clause) and len(current.split()) >= 2:
                    pieces.append(current)
                    current = chunk
                else:
                    current = f"{current}, {chunk}"
            pieces.append(current)
    return [p.strip(" ,") for p in pieces if p.strip(" ,")]


def _look_items(sentence: str) -> list[str]:
    """The parts of a look sentence that say the look ("Cold, bleak, shot on 16mm" -> cold, bleak, shot on 16mm);
    camera, pace and narration words are read elsewhere."""
    items = []
    for item in re.split(r"\s*[,;]\s*|\s+and\s+", sentence.strip(" .!?")):
        item = _squash(item).lower()
        if item and (LOOK_WORDS.search(item) or find_words(STYLE_WORDS, item)) and not find_camera(item) \
                and not NARRATION_WORDS.search(item):
            items.append(item)
    return items


def _is_modifier_only(text: str) -> bool:
    """A sentence that only sets the look ("Moody, cinematic."), with no picture in it."""
    rest = text
    for patterns in (STYLE_WORDS, ATMOSPHERE_WORDS, LIGHTING_WORDS, TECHNICAL_WORDS):
        for pattern, _ in patterns:
            rest = re.sub(pattern, " ", rest, flags=re.I)
    for pattern, _ in CAMERA_PHRASES + FRAMING_PHRASES:
        rest = re.sub(rf"(?<![\w-])(?:{pattern})(?![\w-])", " ", rest, flags=re.I)
    rest = STYLE_OF.sub(" ", rest)
    rest = LOOK_WORDS.sub(" ", rest)
    rest = re.sub(
        r"\b(and|or|very|with|a|an|the|look(?:ing)?|feel(?:ing)?|vibes?|tone|style|styled|colou?rs?|palette|please|lots|of|shot|shots|on|"
        r"film|grain|aesthetic|mood|throughout|all|every|each|use|using|keep|it|make|lighting|light|camera|moves?|movement|angles?|"
        r"narration|narrated|voice[\s-]?over|overall|really|super|quite|bit|little|some|in|is|should|be|feel|like|kind|sort|music|"
        r"pace|paced|edit|editing|cuts?|transitions?|crossfades?|dissolves?|fades?|format|version|ratio|aspect|for)\b",
        " ", rest, flags=re.I,
    )
    rest = re.sub(r"[^\w]+", " ", rest)
    return not rest.strip()


# ----------------------------------------------------------------------------- the plan


@dataclass
class PlanResult:
    storyboard: Storyboard
    notes: list[str] = field(default_factory=list)
    question: str | None = None


def _header_split(sentence: str) -> tuple[bool, str, str]:
    """Is this sentence a header ("A 30-second ad for a coffee brand")? -> (is_header, kind, topic)."""
    text = REQUEST.sub("", sentence).strip()
    words = text.split()
    for i, w in enumerate(words[:8]):
        lw = w.lower().strip(",.:;!?")
        if i > 0 and _is_verb(words, i) and lw not in FORMAT_NOUNS:
            return False, "", ""  # "a dog runs in a short loop" is a picture, not a header
        if lw not in FORMAT_NOUNS:
            continue
        rest = " ".join(words[i + 1:])
        if not rest or w.endswith((",", ":")) or HEADER_LINK.match(rest):
            topic = HEADER_LINK.sub("", rest, count=1).strip(" ,:")
            kind = " ".join(words[: i + 1])
            return True, kind, topic
    return False, "", ""


def _title(brief: str, header: str | None, first_beat: Beat | None, spans_removed: str) -> str:
    if header and re.search(r"\b(?:for|about|of|showing|featuring|where|starring)\b", header, re.I):
        source = header
    elif first_beat is not None:
        source = " ".join(p for p in (first_beat.subject, first_beat.action) if p)
    else:
        source = header or spans_removed
    source = MARK.sub("", source)
    source = REQUEST.sub("", source)
    source = re.sub(r"^\s*(?:a|an|the)\s+", "", source, flags=re.I)
    source = re.sub(r"\b(?:with\s+(?:a\s+)?)?(?:narration|voice[\s-]?over)\b", "", source, flags=re.I)
    source = re.sub(r",\s*(?=(?:of|for|about|with)\b)", " ", source)
    source = _squash(source)
    words = source.split()[:9]
    while len(words) > 1 and words[-1].lower().strip(",") in DETERMINERS | SETTING_PREPS | {"of", "over", "and", "with", "to", "for", "through", "into"}:
        words.pop()
    title = " ".join(words).strip(" ,:;-")
    if not title:
        return "Untitled"
    return title[0].upper() + title[1:]


# The planner reads a brief in passes; each pass is one function below, and the small dataclasses carry
# what one pass hands the next. Notes and questions are appended in the order the passes run, which is
# the order the person reads them in, so `_Log` is shared rather than merged at the end.


@dataclass
class _Log:
    notes: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


@dataclass
class _Brief:
    """The brief as typed, and as read: quoted lines swapped for ⟦i⟧ marks, list markers for newlines."""
    original: str
    text: str
    quotes: list[str]


@dataclass
class _FilmWide:
    """What the brief says about the whole film rather than any one picture."""
    lengths: _Lengths
    aspects: list[tuple[str, str, bool, int]]
    negatives: list[str]
    no_narration: bool
    wants_narration: bool


@dataclass
class _PictureText:
    """The brief with film-wide settings taken out, split into its header and its picture sentences."""
    body: str                      # everything but the settings (the title falls back on it)
    rest: str                      # the picture sentences after the header
    header: str | None
    topic: str
    reverse: bool                  # shot-reverse-shot coverage was asked for
    look_items: list[str] = field(default_factory=list)


@dataclass
class _BeatsRead:
    picture_beats: list[Beat]
    film_modifiers: str            # the header and every sentence with no picture in it
    pooled_quotes: list[str]       # quoted lines not tied to a picture


@dataclass
class _FilmLook:
    """Camera, framing and look words said for the whole film, applied to every shot."""
    atmosphere: list[str]
    lighting: list[str]
    technical: list[str]
    camera: str | None
    framing: str | None
    steady: bool


@dataclass
class _Length:
    total: float
    shots: int
    title_card: bool
    end_card: bool


@dataclass
class _Pace:
    energetic: bool
    calm: bool
    transition: str
    last_transition: str


def plan_storyboard(
    brief: str,
    *,
    settings: AgentSettings,
    defaults: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> PlanResult:
    """Plan a storyboard from a brief, offline and deterministically.

    `defaults` fill in what the brief leaves unsaid; `overrides` (the CLI's --aspect/--seconds) win over
    the brief. Keys for both: aspect_ratio, seconds, fps, shots, style_guide, resolution, backend.
    `settings`: the Director's; its `max_shot_seconds` caps every shot's duration.
    """
    defaults = dict(defaults or {})
    overrides = dict(overrides or {})
    max_shot_seconds = settings.max_shot_seconds
    original = (brief or "").strip()
    language = language_of(original)
    if language != "en":
        # never mangle a brief through English word lists: ask, in the person's language
        return PlanResult(storyboard=Storyboard(title="Untitled", shots=[Shot(id="s1")]),
                          notes=[f"The brief reads as {LANGUAGE_NAMES[language]}."], question=QUESTIONS[language])
    log = _Log()
    read = _stash_quotes(original)
    said = _read_film_wide(read.text)
    aspect = _choose_aspect(said.aspects, defaults, overrides, log)
    fps = _choose_fps(said.lengths, defaults, overrides, log)
    picture = _picture_text(read.text, said.lengths)
    found = _read_beats(picture, read.quotes, said.lengths)
    film = _film_look(found.film_modifiers, said.negatives, original)
    placeholder = _ensure_picture(found, log)
    _resolve_references(found.picture_beats, picture.topic)
    found.picture_beats = _order_by_cues(found.picture_beats, log)
    length = _choose_length(said.lengths, len(found.picture_beats), original, defaults, overrides, max_shot_seconds, log)
    beats = _fit_beats(found.picture_beats, length.shots, reverse=picture.reverse)
    if picture.reverse:
        log.notes.append("Shot-reverse-shot: after the wide two-shot, the camera alternates between the two faces.")
    durations = distribute(length.total, length.shots)
    style_guide = _choose_look(original, picture.look_items, defaults, overrides, log)
    pace = _choose_pace(original, said.lengths.loop, log)
    lines = _narration(beats, found.pooled_quotes, read.quotes, said, log)
    # the ending beat's subject (a logo, a product) is what the last shot lands on
    end_subject = any(b.cue == "end" for b in found.picture_beats)
    shots = _make_shots(beats, durations, lines, original, said, film, pace, end_subject, defaults, overrides)
    if said.negatives:
        log.notes.append(f"Every shot avoids: {', '.join(said.negatives)}.")
    # a placeholder landscape is not what the film is about: the title comes from the header or the words
    title_beat = None if placeholder else next((b for b in found.picture_beats if b.subject and b.action), found.picture_beats[0])
    storyboard = Storyboard(
        title=_title(original, picture.header, title_beat, picture.body),
        aspect_ratio=aspect,
        fps=fps,
        resolution=int(overrides.get("resolution") or defaults.get("resolution") or 720),
        style_guide=style_guide,
        title_card=length.title_card,
        end_card=length.end_card,
        shots=shots,
    )
    storyboard = _cast_and_fit(storyboard, length.total, max_shot_seconds, durations, log)
    question = " ".join(log.questions) if log.questions else None
    return PlanResult(storyboard=storyboard, notes=log.notes, question=question)


def _cast_and_fit(storyboard: Storyboard, total: float, max_shot_seconds: float, durations: list[float], log: _Log) -> Storyboard:
    """Name the recurring people, then make the film exactly `total` seconds, cards and overlaps counted in."""
    storyboard = with_cast(storyboard)
    if storyboard.cast:
        log.notes.append("Cast: " + "; ".join(f"{m.name} ({m.description})" for m in storyboard.cast)
                         + ", described the same way in every shot they are in.")
    storyboard, length_note = _exact_length(storyboard, total, max_shot_seconds, durations)
    log.notes.append(length_note)
    return storyboard


def _stash_quotes(original: str) -> _Brief:
    """Quoted lines out first, so their words are not read as instructions."""
    quotes: list[str] = []

    def _stash(m: re.Match) -> str:
        quotes.append(next(g for g in m.groups() if g is not None).strip())
        return f" ⟦{len(quotes) - 1}⟧ "

    text = QUOTE.sub(_stash, original)
    # list markers ("Shot 1:", "Scene 2 -", "3.", "- ", "•") start a new beat and are not picture words
    text = LIST_MARKER.sub("\n", text)
    return _Brief(original=original, text=text, quotes=quotes)


def _read_film_wide(text: str) -> _FilmWide:
    no_narration = bool(NO_NARRATION.search(text))
    return _FilmWide(
        lengths=_read_lengths(text),
        aspects=find_aspects(text),
        negatives=find_negatives(text),
        no_narration=no_narration,
        wants_narration=bool(NARRATION_WORDS.search(NO_NARRATION.sub(" ", text))) and not no_narration,
    )


def _choose_aspect(aspects: list[tuple[str, str, bool, int]], defaults: dict[str, Any], overrides: dict[str, Any], log: _Log) -> Any:
    strong = [a for a in aspects if a[2]]
    chosen = strong or [a for a in aspects if not a[2]]
    aspect = overrides.get("aspect_ratio")
    if aspect:
        if chosen and chosen[0][0] != aspect:
            log.notes.append(f"Aspect ratio {aspect}, as asked outside the brief (the brief said '{chosen[0][1]}').")
        else:
            log.notes.append(f"Aspect ratio {aspect}.")
    elif chosen:
        aspect = chosen[0][0]
        ratios: list[tuple[str, str, bool, int]] = []
        for a in strong:
            if a[0] not in [r[0] for r in ratios]:
                ratios.append(a)
        if len(ratios) > 1:
            said = " and ".join(f"'{r[1]}' ({r[0]})" for r in ratios)
            log.questions.append(f"The brief asks for both {said}. Which aspect ratio do you want: {', '.join(r[0] for r in ratios)}?")
            log.notes.append(f"Aspect ratio {aspect} for now (from '{chosen[0][1]}'), until you say which.")
        else:
            log.notes.append(f"Aspect ratio {aspect} (from '{chosen[0][1]}').")
    else:
        aspect = defaults.get("aspect_ratio", DEFAULT_ASPECT)
        log.notes.append(f"Aspect ratio {aspect}: the brief didn't say, so widescreen." if aspect == "16:9" else f"Aspect ratio {aspect} (default).")
    return aspect


def _choose_fps(lengths: _Lengths, defaults: dict[str, Any], overrides: dict[str, Any], log: _Log) -> int:
    fps = overrides.get("fps") or lengths.fps or defaults.get("fps") or DEFAULT_FPS
    if not (1 <= int(fps) <= 60):
        log.notes.append(f"{fps} fps is outside 1–60; using {DEFAULT_FPS}.")
        fps = DEFAULT_FPS
    fps = int(fps)
    log.notes.append(f"{fps} fps." if lengths.fps or overrides.get("fps") else f"{fps} fps (default).")
    return fps


def _picture_text(text: str, lengths: _Lengths) -> _PictureText:
    """Settings, negatives and narration requests out of the picture text; then the header split off."""
    body = text
    for a, b in sorted(lengths.spans, reverse=True):
        body = body[:a] + " " + body[b:]
    for pattern, _, _ in ASPECT_PATTERNS:
        body = re.sub(rf"(?:\b(?:in|for|as)\s+)?(?:{pattern})(?:\s+(?:format|aspect(?:\s+ratio)?|orientation|mode))?", " ", body, flags=re.I)
    body = NEGATIVE.sub(" ", body)
    body = re.sub(r"\b(?:with\s+(?:a\s+)?)?(?:narration|voice[\s-]?over|narrator)\b|\bnarrated\b", " ", body, flags=re.I)
    body = re.sub(r"\b(?:long|in\s+total|total|overall|each|aspect\s+ratio|frames)\b(?=\s*[,.;:]|\s*$)", " ", body, flags=re.I)
    body = re.sub(r"[ \t]+", " ", body)
    body = re.sub(r"\s+([,.;:!?])", r"\1", body)
    body = re.sub(r"[,;:](?:\s*[,;:])+", lambda m: next(c for c in ":;," if c in m.group(0)), body)
    body = re.sub(r"\.\s*[,;:]+", ".", body)
    body = re.sub(r"^[\s,;:]+", "", body)

    # a look said inside a picture sentence (", like a 1970s postcard") is the film's look, not the picture
    look_items: list[str] = []

    def _look_clause(m: re.Match) -> str:
        look_items.append(_squash(m.group(1)).lower())
        return m.group(2)

    # shot-reverse-shot: coverage alternates two angles on the two people talking
    reverse = bool(re.search(r"shot[\s/-]+reverse[\s/-]+shot|over[\s-]the[\s-]shoulder", body, re.I))
    body = re.sub(r"(?:,\s*|\b(?:in|as|with)\s+)?(?:a\s+)?shot[\s/-]+reverse[\s/-]+shot", " ", body, flags=re.I)
    body = re.sub(r",\s*((?:shot\s+|looking\s+)?like\s+an?\s+[^,.;:!?]+|(?:shot|filmed)\s+on\s+[^,.;:!?]+)([,.;:!?]|$)", _look_clause, body, flags=re.I)

    body = REQUEST.sub("", body, count=1)   # "make me ...", "can you create ..." are not picture words
    header, topic, rest = _split_header(body)
    return _PictureText(body=body, rest=rest, header=header, topic=topic, reverse=reverse, look_items=look_items)


def _split_header(body: str) -> tuple[str | None, str, str]:
    """(header, topic, picture sentences): "A 30-second ad for a coffee brand: ..." has a header."""
    header: str | None = None
    topic = ""
    rest = body.strip()
    first_sentence_m = re.match(r"^(.*?)(?::|[.!?](?=\s|$)|$)(.*)$", rest, re.S)
    if first_sentence_m:
        first, after = first_sentence_m.group(1), first_sentence_m.group(2)
        is_header, kind, tp = _header_split(first)
        if is_header:
            header, topic, rest = first.strip(), tp, after.strip()
        elif rest[len(first): len(first) + 1] == ":" and len(first.split()) <= 10:
            header, topic, rest = first.strip(), "", after.strip()
    return header, topic, rest


def _raw_beats(rest: str, lengths: _Lengths) -> list[str]:
    raw_beats = _split_beats(rest)
    # "in four steps: chop the onions, fry them, add the rice, serve": a counted list is one beat per item
    asked = lengths.counts[0][0] if lengths.counts else 0
    if asked > 1 and len(raw_beats) < asked:
        items = [i for i in re.split(r"\s*,\s*(?:and\s+|then\s+)?|\s+(?:and\s+)?then\s+", " , ".join(raw_beats)) if i.strip(" ,")]
        if len(items) == asked:
            raw_beats = items
    return raw_beats


def _read_beats(picture: _PictureText, quotes: list[str], lengths: _Lengths) -> _BeatsRead:
    """Each picture sentence becomes a beat; look-only sentences and stray quotes go to the whole film.
    Look items found in look-only sentences are added to `picture.look_items`."""
    found = _BeatsRead(picture_beats=[], film_modifiers=picture.header or "", pooled_quotes=[])
    picture_beats = found.picture_beats
    for raw in _raw_beats(picture.rest, lengths):
        marks = MARK.findall(raw)
        if len(marks) == 1 and not MARK.sub(" ", raw).strip(" ,.:;!?-") and picture_beats and not picture_beats[-1].narration:
            picture_beats[-1].narration.append(quotes[int(marks[0])])  # a quoted line after a picture is spoken over it
            continue
        if marks and picture_beats and not picture_beats[-1].caption:
            probe = parse_beat(raw, quotes)
            if probe.caption and not probe.has_picture:
                picture_beats[-1].caption = probe.caption  # "Text: 'Hear more'." goes on the shot before it
                continue
        if _is_modifier_only(MARK.sub(" ", raw)):
            found.film_modifiers += " " + raw
            picture.look_items += _look_items(MARK.sub(" ", raw))
            found.pooled_quotes += [quotes[int(i)] for i in MARK.findall(raw)]
            continue
        beat = parse_beat(raw, quotes)
        if beat.has_picture:
            picture_beats.append(beat)
        elif len(beat.narration) == 1 and picture_beats and not picture_beats[-1].narration:
            picture_beats[-1].narration += beat.narration  # a quoted line after a picture is spoken over it
        else:
            found.film_modifiers += " " + raw
            found.pooled_quotes += beat.narration
    if not picture_beats and picture.topic:
        # the header is the only picture: "a video of a cat sleeping on a windowsill"
        found.picture_beats = [b for b in (parse_beat(t, quotes) for t in _split_beats(picture.topic)) if b.has_picture]
    elif picture.header:
        header_lines = parse_beat(picture.header, quotes)
        found.pooled_quotes = header_lines.narration + found.pooled_quotes
    return found


def _film_look(film_modifiers: str, negatives: list[str], original: str) -> _FilmLook:
    film_camera = find_camera(MARK.sub(" ", film_modifiers))
    steady = any(re.search(r"shak|jitter|wobbl|handheld", n) for n in negatives) or bool(re.search(r"\b(?:steady|stable|smooth)\s+camera\b|\btripod\b", original, re.I))
    if film_camera == "handheld" and steady:
        film_camera = None
    return _FilmLook(
        atmosphere=find_words(ATMOSPHERE_WORDS, film_modifiers),
        lighting=find_words(LIGHTING_WORDS, film_modifiers),
        technical=find_words(TECHNICAL_WORDS, film_modifiers),
        camera=film_camera,
        framing=find_framing(MARK.sub(" ", film_modifiers)),
        steady=steady,
    )


def _ensure_picture(found: _BeatsRead, log: _Log) -> bool:
    """A brief with no picture (or only "our brand") gets a placeholder and a question. -> is it a placeholder?"""
    vague = [b for b in found.picture_beats if VAGUE.match(b.subject) and not b.action]
    if found.picture_beats and len(vague) == len(found.picture_beats):
        if any(re.search(r"\b(?:brand|company|business|product|startup|shop|store)\b", b.subject, re.I) for b in vague):
            log.questions.append("What does the brand make or sell, and what should we see of it? For example: "
                                 "'a 15-second vertical ad: hands pour our cold brew over ice, end on the logo'. "
                                 "Until you say, I'd make 15 s at 16:9 in a clean commercial look.")
        found.picture_beats = []
    if found.picture_beats:
        return False
    found.picture_beats = [Beat(text="", subject="a quiet landscape", action="slowly changing light", setting="under an open sky")]
    if not log.questions:
        log.questions.append(
            "What should the film show? Tell me the subject and what happens, e.g. "
            "'a 20-second vertical video: a barista pours latte art, then a close-up of the cup, end on the logo'."
        )
    log.notes.append("The brief names no picture, so this is a placeholder landscape.")
    return True


def _resolve_references(picture_beats: list[Beat], topic: str) -> None:
    """Pronouns and missing subjects continue the previous beat's subject; a missing setting continues the
    scene; "the logo" is the logo of what the film is about."""
    _carry_forward(picture_beats, topic)
    if topic:
        for beat in picture_beats:
            if re.fullmatch(r"(?:the|our|a|its)\s+(?:logo|product|brand)", beat.subject, re.I) and not re.search(r"\b(?:logo|product)\b", topic, re.I):
                beat.subject = f"{beat.subject} of {topic}"


def _order_by_cues(picture_beats: list[Beat], log: _Log) -> list[Beat]:
    opens = [b for b in picture_beats if b.cue == "open"]
    ends = [b for b in picture_beats if b.cue == "end"]
    middle = [b for b in picture_beats if b.cue not in {"open", "end"}]
    if (opens and picture_beats[0] is not opens[0]) or (ends and picture_beats[-1] is not ends[-1]):
        log.notes.append("Reordered to follow 'open with'/'end on'.")
    return opens + middle + ends


def _choose_length(
    lengths: _Lengths, beats: int, original: str, defaults: dict[str, Any], overrides: dict[str, Any],
    max_shot_seconds: float, log: _Log,
) -> _Length:
    """The film's total length, its cards, and how many shots it has (`beats`: how many the brief has)."""
    per_shot = overrides.get("shot_seconds") or (lengths.per_shot[0][0] if lengths.per_shot else None)
    count = overrides.get("shots") or (lengths.counts[0][0] if lengths.counts else None) or defaults.get("shots")
    total = _choose_total(lengths, beats, per_shot, count, defaults, overrides, max_shot_seconds, log)
    title_card, end_card = wants_cards(original)
    cards = CARD_SECONDS * (int(title_card) + int(end_card))
    if cards and total - cards < 1.0:
        log.notes.append(f"{total:g} s leaves no room for a title or end card, so the film has none.")
        title_card = end_card = False
        cards = 0.0
    n = _choose_shot_count(total, cards, count, per_shot, beats, lengths, max_shot_seconds, log)
    return _Length(total=total, shots=n, title_card=title_card, end_card=end_card)


def _choose_total(
    lengths: _Lengths, beats: int, per_shot: Any, count: Any, defaults: dict[str, Any], overrides: dict[str, Any],
    max_shot_seconds: float, log: _Log,
) -> float:
    count_values = sorted({c for c, _ in lengths.counts})
    total_values = sorted({round(t, 2) for t, _ in lengths.total})
    total = overrides.get("seconds")
    if total is None and lengths.total:
        total = lengths.total[0][0]
    if not overrides.get("shots") and len(count_values) > 1:
        said = " and ".join(f"'{w}'" for _, w in lengths.counts)
        log.questions.append(f"The brief says {said}. How many shots do you want: {' or '.join(str(c) for c in count_values)}?")
    if not overrides.get("seconds") and len(total_values) > 1:
        said = " and ".join(f"'{w}'" for _, w in lengths.total)
        log.questions.append(f"The brief gives two lengths, {said}. How long should the film be: {' or '.join(f'{t:g} s' for t in total_values)}?")
    if per_shot and count and total is not None and abs(per_shot * count - total) > 0.5 and not overrides.get("seconds"):
        log.questions.append(
            f"{count} shots of {per_shot:g} s make {per_shot * count:g} s, but the brief also says {total:g} s. "
            f"Which do you want: {total:g} s in total, or {count} shots of {per_shot:g} s?"
        )
    if total is None and per_shot:
        n_guess = count or beats
        total = per_shot * n_guess
        log.notes.append(f"Length {total:g} s: {n_guess} shots of {per_shot:g} s.")
    elif total is None and lengths.loop:
        total = min(DEFAULT_SECONDS, max_shot_seconds)
        log.notes.append(f"Length {total:g} s: a loop is one seamless shot, and a shot lasts at most {max_shot_seconds:g} s.")
    elif total is None:
        total = float(defaults.get("seconds", 0) or 0) or (DEFAULT_SECONDS if (count or beats) <= 5 else 3.0 * (count or beats))
        log.notes.append(f"Length {total:g} s: the brief didn't say.")
    elif overrides.get("seconds") and lengths.total and abs(lengths.total[0][0] - float(total)) > 0.05:
        log.notes.append(f"Length {float(total):g} s, as asked outside the brief (the brief said '{lengths.total[0][1]}').")
    else:
        log.notes.append(f"Length {total:g} s.")
    total = float(total)
    if total < 0.5:
        log.notes.append(f"{total:g} s is too short for a shot; using 1 s.")
        total = 1.0
    return total


def _choose_shot_count(
    total: float, cards: float, count: Any, per_shot: Any, beats: int, lengths: _Lengths, max_shot_seconds: float, log: _Log,
) -> int:
    # transitions overlap neighbouring shots by up to 0.5 s: count that in, so no shot runs over the cap
    min_shots = math.ceil((total - cards) / max_shot_seconds - 1e-9)
    min_shots = math.ceil((total - cards + 0.5 * max(0, min_shots - 1)) / max_shot_seconds - 1e-9)
    if count:
        n = int(count)
        if n < min_shots:
            log.notes.append(
                f"{n} shot{'s' if n != 1 else ''} of {total / n:.1f} s would be longer than the {max_shot_seconds:g} s a shot may last, "
                f"so I made {min_shots} shots (long beats split into closer coverage)."
            )
            n = min_shots
    else:
        n = max(beats, min_shots)
        if beats < 3 and not lengths.per_shot:
            n = max(n, min(5, max(3, round(total / 4))))
        if per_shot:
            n = max(n, round(total / per_shot))
        beats_said = f"the brief has {beats} beat{'s' if beats != 1 else ''}"
        if n > beats and n == min_shots:
            log.notes.append(f"{n} shots: {beats_said}, and {total:g} s needs {n} shots of at most {max_shot_seconds:g} s.")
        elif n > beats:
            log.notes.append(f"{n} shots: {beats_said}, so I added closer coverage (3–5 shots by default).")
        else:
            log.notes.append(f"{n} shot{'s' if n != 1 else ''}, one per beat of the brief.")
    return max(1, min(n, int(total * 2)))  # never shorter than half a second a shot


def _choose_look(original: str, look_items: list[str], defaults: dict[str, Any], overrides: dict[str, Any], log: _Log) -> Any:
    style_guide = overrides.get("style_guide")
    if style_guide:
        return style_guide
    film_style = find_style(original)
    if film_style or look_items:
        # the look sentence in the person's own words ("cold, bleak, shot on 16mm"), then what our words add
        style_guide = merge_items(", ".join(look_items), ", ".join(dict.fromkeys(film_style)))
        log.notes.append(f"Look: {style_guide}.")
    else:
        style_guide = defaults.get("style_guide") or DEFAULT_STYLE
        log.notes.append(f"Look: {style_guide} (no look was named).")
    return style_guide


def _choose_pace(original: str, loop: bool, log: _Log) -> _Pace:
    """Calm briefs crossfade, energetic ones cut; words naming a transition win over the mood."""
    mood_text = MARK.sub(" ", original)
    energetic = bool(ENERGETIC.search(mood_text))
    calm = bool(CALM.search(mood_text))
    if energetic and calm:
        energetic = len(ENERGETIC.findall(mood_text)) > len(CALM.findall(mood_text))
        calm = not energetic
    transition = "crossfade" if calm and not energetic else "cut"
    if re.search(r"\b(?:crossfades?|cross-fades?|dissolves?)\b", original, re.I):
        transition = "crossfade"
    elif re.search(r"\b(?:hard|quick|fast|jump)\s+cuts\b", original, re.I):
        transition = "cut"
    elif re.search(r"\bwipes?\b", original, re.I):
        transition = "wipe"
    last_transition = "cut" if loop else "fade" if (transition == "crossfade" or re.search(r"\bfade\s+(?:out|to\s+black)\b", original, re.I)) else transition
    log.notes.append(
        "Crossfades between shots: the brief reads calm." if transition == "crossfade"
        else ("Hard cuts: the brief reads energetic." if energetic else f"{transition.capitalize()}s between shots.")
    )
    return _Pace(energetic=energetic, calm=calm, transition=transition, last_transition=last_transition)


def _narration(
    beats: list[tuple[Beat, bool]], pooled_quotes: list[str], quotes: list[str], said: _FilmWide, log: _Log,
) -> list[str | None]:
    """One line (or none) per shot: a beat's own quotes on its first shot, pooled quotes on the free shots,
    and, when narration was asked for without quotes, a plain line written from each beat."""
    n = len(beats)
    lines: list[str | None] = [None] * n
    if said.no_narration:
        if quotes:
            log.notes.append("No narration, as asked.")
        return lines
    beat_lines = [b.narration for b, _ in beats]
    for i, (_, first_of_beat) in enumerate(beats):
        if first_of_beat and beat_lines[i]:
            lines[i] = " ".join(beat_lines[i])
    free_slots = [i for i in range(n) if lines[i] is None]
    if pooled_quotes:
        if len(pooled_quotes) > len(free_slots) and free_slots:
            # more lines than shots: the last shot speaks the rest
            head = pooled_quotes[: len(free_slots) - 1]
            tail = " ".join(pooled_quotes[len(free_slots) - 1:])
            pooled = head + [tail]
        else:
            pooled = pooled_quotes
        for slot, line in zip(free_slots, pooled):
            lines[slot] = line
    if said.wants_narration and not quotes:
        for i, (b, first_of_beat) in enumerate(beats):
            if lines[i] is None and first_of_beat:
                lines[i] = _narration_line(b)
        log.notes.append("Narration: one plain line per beat, written from the brief (give me quoted lines to use your words).")
    elif quotes and any(lines):
        log.notes.append(f"Narration: {sum(1 for line in lines if line)} of {n} shots speak the quoted lines.")
    return lines


def _make_shots(
    beats: list[tuple[Beat, bool]], durations: list[float], lines: list[str | None], original: str,
    said: _FilmWide, film: _FilmLook, pace: _Pace, end_subject: bool, defaults: dict[str, Any], overrides: dict[str, Any],
) -> list[Shot]:
    seed_key = re.sub(r"\s+", " ", original.lower())
    # the ending beat's subject (a logo, a product) is what the last shot lands on
    n = len(beats)
    shots: list[Shot] = []
    negative = ", ".join(said.negatives)
    for i, ((beat, first_of_beat), duration) in enumerate(zip(beats, durations)):
        sid = f"s{i + 1}"
        camera, framing = _camera_framing(i, n, beat, first_of_beat, film.camera, film.framing, pace.energetic, pace.calm, film.steady, end_subject)
        if said.lengths.loop and n == 1 and not (beat.camera or film.camera):
            camera = "static"   # a seamless loop: a moving camera could not meet its own first frame
        atmosphere = list(dict.fromkeys(film.atmosphere + beat.atmosphere))
        lighting = list(dict.fromkeys(beat.lighting + [light for light in film.lighting if light not in beat.lighting]))
        technical = list(dict.fromkeys(film.technical + beat.technical))
        shots.append(Shot(
            id=sid,
            duration=duration,
            subject=beat.subject,
            action=beat.action,
            setting=beat.setting,
            atmosphere=", ".join(atmosphere),
            lighting=", ".join(lighting),
            technical=", ".join(technical),
            camera=camera,
            framing=framing,
            negative_prompt=negative,
            seed=seed_for(seed_key, sid),
            backend=overrides.get("backend") or defaults.get("backend"),
            transition=pace.last_transition if i == n - 1 else pace.transition,
            narration=lines[i],
            caption=beat.caption if first_of_beat else None,
        ))
    return shots




LANGUAGE_NAMES = {"fr": "French", "de": "German", "es": "Spanish"}
VAGUE = re.compile(r"^(?:(?:my|our|your|the|a|an|some|this|that)\s+)?(?:new\s+)?(?:brand|company|business|product|products|startup|shop|store|"
                   r"something|anything|stuff|things?|video|film|content|idea)(?:\s+(?:cool|nice|great|fun|awesome|amazing|good|interesting))?$", re.I)


def wants_cards(brief: str) -> tuple[bool, bool]:
    """(title card, end card): off unless the brief asks for them."""
    title = bool(re.search(r"\btitle\s+(?:card|screen|sequence)\b|\bopening\s+(?:title|credits)\b|\bwith\s+(?:a|the)\s+title\b", brief, re.I))
    end = bool(re.search(r"\bend(?:ing)?\s+(?:card|credits|screen|slate)\b|\bclosing\s+(?:card|credits)\b|\bwith\s+(?:the\s+)?credits\b|\broll\s+credits\b", brief, re.I))
    return title, end


def _exact_length(sb: Storyboard, total: float, max_shot_seconds: float, weights: list[float]) -> tuple[Storyboard, str]:
    """The film as long as asked, to the frame: cards and transition overlaps counted in."""
    fitted = fit_storyboard(sb, total, max_shot_seconds, weights=weights)
    if fitted is None and (sb.title_card or sb.end_card):
        fitted = fit_storyboard(sb.model_copy(update={"title_card": False, "end_card": False}), total, max_shot_seconds, weights=weights)
    if fitted is None:
        return sb, f"The film runs {film_seconds(sb):g} s: {total:g} s does not fit {len(sb.shots)} shots of at most {max_shot_seconds:g} s."
    cards = [name for name, on in (("title card", fitted.shows_title_card), ("end card", fitted.end_card)) if on]
    if cards:
        inside = f"the {' and '.join(cards)} ({card_seconds(fitted):g} s) {'fit' if len(cards) > 1 else 'fits'} inside it"
    else:
        inside = "no title or end card (ask for one and it fits inside this length)"
    return fitted, f"The film is exactly {total:g} s long, as final.mp4 will be: {inside}."


WEATHER = re.compile(r"\b(?:snowy|rainy|misty|foggy|stormy|windy|hazy|dusty)\b", re.I)
CARD_SUBJECT = re.compile(r"\b(?:logo|title|card|text|tagline|slogan|end\s+card)\b", re.I)






def _carry_forward(beats: list[Beat], topic: str) -> None:
    """Pronouns and elided subjects resolve to what they refer to; the scene (setting, weather) carries
    forward until a beat names another; a beat whose subject is a place is a new scene."""
    prev: Beat | None = None
    scene, weather = "", []
    for beat in beats:
        if prev is not None:
            if (beat.pronoun_subject or not beat.subject) and prev.subject:
                # "he"/"she" is a person or creature: the latest one, else what the film is about
                person = beat.pronoun in ("he", "she") and head_noun(prev.subject) not in BEINGS
                latest = next((b.subject for b in reversed(beats[:beats.index(beat)]) if head_noun(b.subject) in BEINGS), "")
                beat.subject = _the(latest or topic or prev.subject) if person else _the(prev.subject)
            elif prev.subject and head_noun(prev.subject) != head_noun(beat.subject):
                # "a boy climbing up to reach it": 'it' is the kite of the beat before
                thing = _the(prev.subject)
                beat.action = re.sub(r"\b(?:it)\b(?=\s*(?:$|[,.;]|\s+(?:and|then|while|as|before|from|with|down|up|out|back)\b))",
                                     thing, beat.action) if not is_place(prev.subject) else beat.action
        elif beat.pronoun_subject and not beat.subject and topic:
            beat.subject = topic
        if is_place(beat.subject):
            scene, weather = (_squash(f"{beat.subject} {beat.setting}") if beat.setting.startswith(("at ", "by ")) else beat.subject), []
        elif beat.setting:
            scene = beat.setting
        elif scene and not CARD_SUBJECT.search(beat.subject):
            beat.setting = scene
        found = [w for w in beat.atmosphere if WEATHER.search(w)] or ([] if is_place(beat.subject) else weather)
        if not any(WEATHER.search(w) for w in beat.atmosphere) and weather and beat.setting == scene:
            beat.atmosphere = list(dict.fromkeys(beat.atmosphere + weather))
        weather = found or weather
        prev = beat


def _narration_line(beat: Beat) -> str:
    parts = [beat.subject, beat.action]
    if beat.setting and not beat.setting.lower().startswith(("at ", "in ", "on ", "under ")):
        parts.append("in " + beat.setting)
    elif beat.setting:
        parts.append(beat.setting)
    line = _squash(" ".join(p for p in parts if p))
    return (line[0].upper() + line[1:] + ".") if line else ""


def _fit_beats(beats: list[Beat], n: int, reverse: bool = False) -> list[tuple[Beat, bool]]:
    """Exactly n (beat, first_shot_of_beat) pairs: merge surplus beats, cover long ones with extra shots."""
    beats = list(beats)
    while len(beats) > n:
        # merge the adjacent pair with the fewest words, never moving the opening or the ending
        candidates = [i for i in range(len(beats) - 1)]
        protected_last = beats[-1].cue == "end"
        if protected_last and len(candidates) > 1:
            candidates = candidates[:-1]
        i = min(candidates, key=lambda k: (len(beats[k].text.split()) + len(beats[k + 1].text.split()), k))
        beats[i:i + 2] = [_merge(beats[i], beats[i + 1])]
    counts = [1] * len(beats)
    extra = n - len(beats)
    # extra shots go to the beats with the most to show (most words), the ending last
    order = sorted(range(len(beats)), key=lambda k: (beats[k].cue == "end", -len(beats[k].text.split()), k))
    k = 0
    while extra > 0 and order:
        counts[order[k % len(order)]] += 1
        extra -= 1
        k += 1
    out: list[tuple[Beat, bool]] = []
    offset = 0
    for beat, c in zip(beats, counts):
        # the opening beat's own shot already establishes (wide, moving in): no establishing shot before it
        extras = [(b, False) for b in _coverage(beat, c - 1, offset, establish=bool(out), reverse=reverse)]
        offset += c - 1
        before = [e for e in extras if e[0].coverage == "establishing"]
        after = [e for e in extras if e[0].coverage != "establishing"]
        # an ending's own shot (its caption, its framing) stays last; its extra coverage comes before it
        out += before + after + [(beat, True)] if beat.cue == "end" else before + [(beat, True)] + after
    return out


# Coverage a director shoots around a beat: (name, framing, subject, action). {s} is the subject with
# "the", {a} the beat's action, {scene} where it happens.
_COVERAGE = [
    ("establishing", "extreme_wide", "{scene}", "{s} small in the frame"),
    ("detail", "close_up", "a detail of {s}", "{a}"),
    ("reaction", "medium", "{s}", "{still}"),
    ("low", "low_angle", "{s}", "{a}, seen from below"),
    ("high", "high_angle", "{s}", "{a}, seen from above"),
    ("follow", "medium", "{s}", "{a}, the camera following"),
    ("texture", "extreme_close_up", "textures of {s}", "{a}"),
    ("wider", "wide", "{s}", "{a}, in the wider scene"),
]
_CLOSE_COVERAGE = [("detail", "extreme_close_up", "a detail of {s}", "{a}"), ("context", "medium", "{s}", "{a}, seen a little wider")]
_REVERSE = [("reverse-a", "close_up", "{s}: one face, over the other's shoulder", "{a}, speaking"),
            ("reverse-b", "close_up", "{s}: the other face, over the first one's shoulder", "{a}, listening, then answering")]
_PLACE_COVERAGE = [("movement", "medium", "{s}", "people moving through the frame"), ("detail", "close_up", "details of {s}", "{a}")]


def _coverage(beat: Beat, count: int, offset: int = 0, establish: bool = True, reverse: bool = False) -> list[Beat]:
    """`count` coverage shots of `beat`, each with its own framing and action (never the beat repeated)."""
    if count <= 0:
        return []
    close = beat.framing in ("close_up", "extreme_close_up")
    place = is_place(beat.subject)
    plan = _REVERSE if reverse else _CLOSE_COVERAGE + _COVERAGE[3:] if close else (_PLACE_COVERAGE + _COVERAGE[3:] if place else list(_COVERAGE))
    timed = bool(re.match(r"^(?:at|by|before|after|during)\s", beat.setting))
    if (not beat.setting and not place) or timed or not establish:
        plan = [p for p in plan if p[0] != "establishing"] or plan
    subject = _the(beat.subject) if beat.subject else "the scene"
    being = head_noun(beat.subject) in BEINGS
    # later beats start further down the list, so neighbouring beats are not covered the same way
    if offset and len(plan) > 1 and not (plan[0][0] == "establishing"):
        plan = plan[offset % len(plan):] + plan[:offset % len(plan)]
    values = {"s": subject, "a": beat.action, "scene": _the(beat.setting) if beat.setting else subject,
              "still": "holding still for a moment" if being else "in the changing light"}
    out = []
    for k in range(count):
        name, framing, subject_fmt, action_fmt = plan[k % len(plan)]
        action = _squash(action_fmt.format(**values))
        if k >= len(plan):
            action += f", moment {k // len(plan) + 1}"
        out.append(replace(beat, subject=_squash(subject_fmt.format(**values)), action=action, camera=None, framing=framing,
                           narration=[], caption=None, cue=None, coverage=name))
    return out


def _merge(a: Beat, b: Beat) -> Beat:
    same_subject = b.subject.lower() in {"", a.subject.lower(), _the(a.subject).lower()}
    subject = a.subject if same_subject else f"{a.subject} and {b.subject}"
    action = ", then ".join(x for x in (a.action, b.action) if x)
    return Beat(
        text=f"{a.text}, then {b.text}",
        subject=subject,
        action=action,
        setting=a.setting or b.setting,
        atmosphere=list(dict.fromkeys(a.atmosphere + b.atmosphere)),
        lighting=list(dict.fromkeys(a.lighting + b.lighting)),
        technical=list(dict.fromkeys(a.technical + b.technical)),
        camera=a.camera or b.camera,
        framing=a.framing or b.framing,
        cue=a.cue if a.cue == "open" else b.cue if b.cue == "end" else a.cue,
        narration=a.narration + b.narration,
        caption=a.caption or b.caption,
    )


def _camera_framing(
    i: int, n: int, beat: Beat, first_of_beat: bool, film_camera: str | None, film_framing: str | None,
    energetic: bool, calm: bool, steady: bool, end_subject: bool,
) -> tuple[str, str]:
    """The brief's words first; otherwise establishing wide + slow dolly in, closer in the middle, end wide or on the end subject."""
    camera = beat.camera if first_of_beat else None
    framing = beat.framing if (first_of_beat or beat.coverage) else None
    last = i == n - 1 and n > 1
    if not framing and film_framing:
        framing = film_framing
    if not camera and film_camera:
        camera = film_camera
    if not framing:
        if i == 0:
            framing = "extreme_wide" if camera == "aerial" else "wide"
        elif last:
            framing = "close_up" if (end_subject and beat.cue == "end") else "wide"
        elif camera == "aerial":
            framing = "wide"
        else:
            cycle = ["medium", "close_up", "low_angle", "close_up"] if energetic else ["medium", "close_up", "medium", "high_angle"]
            framing = cycle[(i - 1) % len(cycle)]
    if not camera:
        if i == 0:
            camera = "dolly_in"
        elif last:
            if end_subject and beat.cue == "end":
                camera = "zoom_in" if energetic else "static"
            else:
                camera = "crane" if energetic else "dolly_out"
        else:
            if energetic:
                cycle = ["tracking", "orbit" if steady else "handheld", "zoom_in", "orbit"]
            elif calm:
                cycle = ["static", "pan_right", "dolly_in", "tilt_up"]
            else:
                cycle = ["tracking", "static", "pan_right", "orbit"]
            camera = cycle[(i - 1) % len(cycle)]
    if steady and camera == "handheld":
        camera = "tracking"
    return camera, framing
