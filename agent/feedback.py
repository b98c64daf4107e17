"""Feedback in plain words -> a new storyboard version, and exactly which shots need new pixels.

`apply_feedback` never touches its input: it returns a new Storyboard. `changed_shots` is computed,
not guessed: a shot is listed when anything that decides its pixels differs from the old version
(its prompt fields, seed, duration -> frame count, and the film's aspect ratio, resolution, fps and
style guide). So reordering, removing, narration, captions, transitions and take selection change no
pixels and list nothing; "shorter" lists every shot, because a shot's length is its frame count.

Shot references: "shot 2", "shots 2 and 3", "shots 2-4", "the second shot", "the first/last shot",
"the opening"/"the ending", or a shot id ("shot s3", "shot opening"). Numbers are positions in the
storyboard as the person saw it, before this message. Several instructions in one message work:
"shot 2 darker and swap 1 and 3".

What it understands (examples):
  look of shots ... "make shot 2 darker and stormier", "shot 3 brighter / warmer / colder / foggier"
  pace ............ "shot 3 slower / faster", "slower", "more energetic", "shorter", "make it 20 seconds"
  order ........... "swap shots 1 and 3", "move shot 4 to the start", "put shot 1 after shot 3"
  removal ......... "cut the last shot", "remove shot 2", "drop the opening"
  addition ........ "add a shot of the logo at the end", "add a close-up of the cup after shot 2"
  camera .......... "change the camera on shot 2 to an orbit", "close-up on shot 3", "shot 1 wider"
  format .......... "make it vertical for TikTok", "make it square", "widescreen", "30 fps"
  style ........... "make it look like film noir", "more cinematic", "in watercolor style"
  words ........... "no narration", "add narration: '...'", "caption on shot 2: '...'"
  takes ........... "use the second take of shot 4" (select_take, 0-based take index), "redo shot 2"
  history ......... "undo" (undo=True: the caller restores the parent version)

How a message is read: `apply_feedback` is the outline. Each clause of the message is one instruction,
handled by the function for its kind (_select_take, _add_shot, _move, _remove, _narration, _looks,
_length, _pace, _camera, _aspect ...), tried in the order `_WHOLE_CLAUSE` and `_CLAUSE_EDITS` give;
edits of the order wait in `_Edits` and are applied last (`_apply_structure`).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.language.words import (
    ADD_WEATHER,
    ADDITIONS,
    KEEP_LENGTH,
    RENDER_ONLY,
    RENDER_TAIL,
)
from agent.planner.cast import find_member, recast
from agent.planner.length import card_seconds, film_frames_for, film_seconds, fit_durations
from agent.planner.rules import (
    NUM,
    ORDINALS,
    QUOTE,
    Beat,
    find_aspects,
    find_camera,
    find_framing,
    find_style,
    parse_beat,
    parse_number,
    seed_for,
    sentences,
)
from agent.prompts import merge_items, split_items
from storyboards.pixels import shots_needing_new_pixels
from storyboards.schema import MAX_SHOT_SECONDS, Shot, Storyboard

if TYPE_CHECKING:
    from agent.settings import AgentSettings

_MARK_RE = re.compile(r"⟦(\d+)⟧")
EXAMPLES = (
    "'make shot 2 darker', 'swap shots 1 and 3', 'cut the last shot', 'make it vertical', "
    "'shorter', 'add a shot of the logo at the end', 'use the second take of shot 4', 'undo'"
)


@dataclass
class FeedbackResult:
    storyboard: Storyboard
    reason: str
    changed_shots: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    select_take: tuple[str, int] | None = None     # (shot_id, 0-based index into that shot's takes)
    undo: bool = False
    question: str | None = None
    regenerate_shots: list[str] = field(default_factory=list)   # generate again with a new seed, though unchanged
    wants_render: bool | None = None                               # the person asked to render (None: not said)


def changed_shot_ids(old: Storyboard, new: Storyboard) -> list[str]:
    """The shots of `new` that need new pixels (storyboards/pixels.py says which fields decide them)."""
    return shots_needing_new_pixels(old, new)


# ----------------------------------------------------------------------------- looks

# word -> [(field, items to add, pattern of items to remove)]
_LOOKS: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (r"darker|darken|dimmer|less\s+bright|gloomier", "darker", [
        ("lighting", "dim low-key lighting, deep shadows", r"bright|sunlight|sunshine|high-key|sunny"),
        ("atmosphere", "dark", r"bright|sunny|cheerful")]),
    (r"brighter|lighter|brighten|less\s+dark|sunnier", "brighter", [
        ("lighting", "bright high-key lighting, sunshine", r"\bdim\b|dark|low-key|shadow|night"),
        ("atmosphere", "", r"dark|gloomy|stormy|ominous")]),
    (r"warmer|warm\s+it\s+up|more\s+golden", "warmer", [
        ("lighting", "warm golden tones", r"cool|cold|blue|moonlight")]),
    (r"colder|cooler|bluer|more\s+blue", "colder", [
        ("lighting", "cool blue tones", r"warm|golden|candle|fire")]),
    (r"stormier|more\s+stormy|more\s+storm", "stormier", [
        ("atmosphere", "stormy, dark storm clouds, wind-driven rain", r"calm|serene|peaceful|sunny|still"),
        ("setting", "under a stormy sky", r"^$"),
        ("lighting", "", r"bright|sunshine|sunlight")]),
    (r"foggier|mistier|more\s+fog|more\s+mist|hazier", "foggier", [("atmosphere", "thick fog, mist", r"clear")]),
    (r"rainier|more\s+rain|wetter", "rainier", [("atmosphere", "heavy rain, wet reflections", r"dry|dusty")]),
    (r"snowier|more\s+snow", "snowier", [("atmosphere", "falling snow", r"")]),
    (r"calmer|more\s+calm|more\s+peaceful|gentler|quieter", "calmer", [
        ("atmosphere", "calm, still", r"stormy|chaotic|energetic|tense|windy|storm")]),
    (r"moodier|more\s+moody|more\s+atmospheric", "moodier", [
        ("atmosphere", "moody", r"cheerful|joyful"), ("lighting", "low-key lighting", r"high-key")]),
    (r"happier|more\s+cheerful|more\s+joyful|more\s+fun", "happier", [
        ("atmosphere", "joyful, cheerful", r"melanchol|sad|gloomy|ominous|tense")]),
    (r"scarier|creepier|more\s+ominous|spookier", "scarier", [("atmosphere", "eerie, ominous", r"cheerful|joyful|playful")]),
    (r"more\s+dramatic|dramatic", "more dramatic", [("lighting", "dramatic high-contrast lighting", r"flat|soft")]),
    (r"more\s+colou?rful|more\s+vivid|more\s+saturated", "more colorful", [("technical", "vivid saturated colors", r"muted|desaturated")]),
    (r"sharper|crisper|more\s+detail(?:ed)?", "sharper", [("technical", "sharp focus, highly detailed", r"blur|soft focus")]),
]
_SLOWER = re.compile(r"\b(?:slower|slow(?:\s+it)?\s+down|more\s+slowly|less\s+rushed|calmer\s+pace)\b", re.I)
_FASTER = re.compile(r"\b(?:faster|speed\s+(?:it\s+)?up|quicker|snappier|punchier)\b", re.I)
_ENERGETIC = re.compile(r"\bmore\s+(?:energetic|energy|dynamic|exciting|action|upbeat)\b|\bhype\s+it\s+up\b|\bpunchier\b", re.I)
_SHORTER = re.compile(r"\b(?:shorter|trim\s+it|tighten(?:\s+it)?(?:\s+up)?|cut\s+it\s+down|less\s+long)\b", re.I)
_LONGER = re.compile(r"\b(?:longer|extend\s+it|stretch\s+it|lengthen)\b", re.I)
_SECONDS = re.compile(rf"\b{NUM}[\s-]*(?:seconds?|secs?|s)\b(?:\s+(?:long|total|in\s+total|overall))?|\b(?:a|one)\s+minute\b|\bhalf\s+a\s+minute\b|\b{NUM}\s*minutes?\b", re.I)
_FRAMING_STEPS = ["extreme_wide", "wide", "medium", "close_up", "extreme_close_up"]
_FAST_TECH = "fast dynamic camera movement"
_SLOW_TECH = "slow, gentle camera movement"

_ORDINAL_WORDS = "|".join(sorted(list(ORDINALS) + ["last", "final", "penultimate", "opening", "closing", "ending", "next-to-last", "second-to-last", "second\\s+to\\s+last"], key=len, reverse=True))
_REF_NUMBERS = re.compile(r"\b(?:shots?|clips?|scenes?)\s+(?:number\s+|no\.?\s*|#)?(\d+)((?:\s*(?:,|and|&|-|–|to|through)\s*#?\d+)*)\b", re.I)
_REF_ORDINAL = re.compile(
    rf"\b(?:the\s+)?({_ORDINAL_WORDS})((?:\s*(?:,|and|&)\s*(?:the\s+)?(?:{_ORDINAL_WORDS}))*)\s+(?:shots?|ones?|clips?|scenes?)\b"
    rf"|\bthe\s+(opening|ending|opener|closer|finale|end\s+shot|final\s+shot|last\s+one|first\s+one)\b",
    re.I,
)
_UNDO = re.compile(r"^\s*(?:please\s+)?(?:undo|revert|go\s+back|roll\s*back|take\s+that\s+back|back\s+to\s+the\s+(?:previous|last|old)\s+version|previous\s+version|put\s+it\s+back)\b", re.I)
_CLAUSE_START = (
    r"(?:shots?\s+(?:\d|#|[a-z]\w*\b)|the\s+(?:" + _ORDINAL_WORDS + r")\s+(?:shot|one|clip)|swap|switch|move|put|bring|cut\s+(?!to\b)|remove|drop|delete|lose|"
    r"make|use|pick|select|choose|go\s+with|add|change|set|give|undo|no\s+narration|make|it|in\s+shot|on\s+shot|for\s+shot|"
    r"close[\s-]?up|redo|regenerate|try|replace|open\s+with|end\s+(?:on|with)|shorter|longer|slower|faster)"
)


def _number_list(first: str, rest: str) -> list[int]:
    out = [int(first)]
    tokens = re.findall(r"(-|–|to|through|\d+)", rest or "")
    i = 0
    while i < len(tokens):
        if tokens[i] in {"-", "–", "to", "through"} and i + 1 < len(tokens) and tokens[i + 1].isdigit():
            out += list(range(out[-1] + 1, int(tokens[i + 1]) + 1))
            i += 2
        elif tokens[i].isdigit():
            out.append(int(tokens[i]))
            i += 1
        else:
            i += 1
    return out


def _ordinal_position(word: str, n: int) -> int:
    w = re.sub(r"\s+", " ", word.lower())
    if w in {"last", "final", "closing", "ending", "closer", "finale", "end shot", "final shot", "last one"}:
        return n
    if w in {"penultimate", "next-to-last", "second-to-last", "second to last"}:
        return n - 1
    if w in {"opening", "opener", "first one"}:
        return 1
    return ORDINALS.get(w, 0)


@dataclass
class _Refs:
    positions: list[int] = field(default_factory=list)   # 1-based, as the person saw them
    ids: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    text: str = ""                                        # the clause with the references taken out


def _find_refs(clause: str, order: list[str], bare_numbers: bool = False, subjects: Mapping[str, str] | None = None) -> _Refs:
    refs = _Refs()
    n = len(order)
    text = clause
    for m in list(_REF_NUMBERS.finditer(text)):
        refs.positions += _number_list(m.group(1), m.group(2))
    text = _REF_NUMBERS.sub(" ", text)
    for m in list(_REF_ORDINAL.finditer(text)):
        if m.group(3):
            refs.positions.append(_ordinal_position(m.group(3), n))
            continue
        words = [m.group(1)] + re.findall(rf"(?:{_ORDINAL_WORDS})", m.group(2) or "", re.I)
        refs.positions += [_ordinal_position(w, n) for w in words]
    text = _REF_ORDINAL.sub(" ", text)
    # shot ids: "shot s3", "shot 'opening'", "the gulls shot", or a bare id like s3
    for m in list(re.finditer(r"\bthe\s+([a-z0-9][a-z0-9_-]*)\s+shot\b", text, re.I)):
        word = m.group(1).lower()
        # "the cup shot": the one shot whose subject is the cup
        showing = [sid for sid, subject in (subjects or {}).items() if re.search(rf"\b{re.escape(word)}s?\b", subject, re.I)]
        if word in order or len(showing) == 1:
            refs.ids.append(word if word in order else showing[0])
            text = text.replace(m.group(0), " ", 1)
    for m in list(re.finditer(r"\b(?:shot\s+)?['\"]?([a-z0-9][a-z0-9_-]*)['\"]?", text, re.I)):
        token = m.group(1).lower()
        if token in order and (m.group(0).lower().startswith("shot") or re.fullmatch(r"s\d+|shot[-_]?\d+", token)):
            refs.ids.append(token)
            text = text.replace(m.group(0), " ", 1)
    if bare_numbers:
        for m in re.finditer(r"\b(\d+)\b(?!\s*(?:seconds?|secs?|s\b|fps|%|x))", text):
            refs.positions.append(int(m.group(1)))
        text = re.sub(r"\b\d+\b(?!\s*(?:seconds?|secs?|s\b|fps|%|x))", " ", text)
    for p in refs.positions:
        if 1 <= p <= n:
            sid = order[p - 1]
            if sid not in refs.ids:
                refs.ids.append(sid)
        else:
            refs.bad.append(str(p))
    refs.text = re.sub(r"\s+", " ", text).strip()
    return refs


def _split_clauses(text: str) -> list[str]:
    clauses: list[str] = []
    for sentence in sentences(text):
        parts = re.split(rf"\s*(?:,\s*(?:and\s+|then\s+|also\s+|plus\s+)?|\s+(?:and|then|also|plus)\s+(?:also\s+|then\s+)?)(?={_CLAUSE_START})", sentence, flags=re.I)
        clauses += [p.strip(" ,") for p in parts if p and p.strip(" ,")]
    return clauses


def _edit_items(current: str, add: str, remove: str) -> str:
    kept = [i for i in split_items(current) if not (remove and re.search(remove, i, re.I))]
    return merge_items(", ".join(kept), add)


def _scale(shot: Shot, factor: float, cap: float) -> float:
    new = round(max(0.5, shot.duration * factor), 1)
    if factor > 1:
        new = min(new, max(cap, shot.duration))
    return new


def _seconds_in(text: str) -> float | None:
    m = _SECONDS.search(text)
    if not m:
        return None
    word = m.group(0).lower()
    if "half a minute" in word:
        return 30.0
    if re.match(r"(?:a|one)\s+minute", word):
        return 60.0
    if "minute" in word:
        v = parse_number(m.group(2) or "")
        return v * 60 if v else None
    return parse_number(m.group(1) or "")


def _new_id(existing: list[str]) -> str:
    nums = [int(m.group(1)) for i in existing if (m := re.fullmatch(r"s(\d+)", i))]
    k = max(nums + [len(existing)]) + 1
    while f"s{k}" in existing:
        k += 1
    return f"s{k}"


def length_notes(old: Storyboard, new: Storyboard) -> list[str]:
    """What an edit did to the film's length, said when it changed (the film-length model counts cards and overlaps)."""
    before, after = film_seconds(old), film_seconds(new)
    if abs(before - after) < 1 / new.fps:
        return []
    return [f"The film is now {after:.1f} s (it was {before:.1f} s).".replace(".0 s", " s")]


def hold_length(old: Storyboard, new: Storyboard, seconds: float, max_shot_seconds: float) -> tuple[Storyboard, str]:
    """Keep the film `seconds` long after an edit: shots the edit retimed keep their new length, the
    others share what is left (to the frame). The search runs on plain numbers, each clamped to what a
    shot may last, and the storyboard is changed once, when a fit is found."""
    before = {s.id: s.duration for s in old.shots}
    fixed = {s.id for s in new.shots if s.id not in before or abs(before[s.id] - s.duration) > 1e-9}
    durations = [s.duration for s in new.shots]
    free = [i for i, s in enumerate(new.shots) if s.id not in fixed]
    if not free:
        fitted = fit_durations(durations, [s.transition for s in new.shots], seconds, new.fps, title_card=new.shows_title_card,
                               end_card=new.end_card, max_shot_seconds=max(max_shot_seconds, MAX_SHOT_SECONDS))
    else:
        fitted = _share_free_time(new, durations, free, seconds)
    if fitted is None:
        return new, f"I couldn't keep the film at {seconds:g} s with that change."
    kept = new.model_copy(deep=True)
    for shot, d in zip(kept.shots, fitted):
        shot.duration = d
    return kept, f"The film stays {seconds:g} s: the other shots give up the time."


MIN_SHOT_SECONDS = 0.5   # the shortest a shot gets when the film is retimed to a length


def set_length(old: Storyboard, new: Storyboard, seconds: float) -> tuple[Storyboard | None, str]:
    """"make it 12 seconds": the delivered film (cards and transition overlaps counted, as final.mp4 will
    be) `seconds` long; shots the edit retimed keep their length, the others share the rest. (None, a
    question) when the shots cannot make that length: each lasts 0.5-60 s."""
    before = {s.id: s.duration for s in old.shots}
    # every shot shares the length when the edit retimed them all ("slower, and make it 30 seconds")
    free = [i for i, s in enumerate(new.shots) if s.id in before and abs(before[s.id] - s.duration) <= 1e-9] \
        or list(range(len(new.shots)))

    def length_with_free_at(d: float) -> float:
        durations = [d if i in free else s.duration for i, s in enumerate(new.shots)]
        return film_frames_for(durations, [s.transition for s in new.shots], new.fps, new.shows_title_card, new.end_card) / new.fps

    cards = [name for name, on in (("title card", new.shows_title_card), ("end card", new.end_card)) if on]
    holding = f" and the {' and '.join(cards)} ({card_seconds(new):g} s)" if cards else ""
    shortest, longest = length_with_free_at(MIN_SHOT_SECONDS), length_with_free_at(MAX_SHOT_SECONDS)
    if seconds < shortest - 1e-9:
        return None, (f"A {seconds:g} s film can't hold {len(new.shots)} shots of at least {MIN_SHOT_SECONDS:g} s{holding}. "
                      f"Ask for {math.ceil(shortest * 10) / 10:g} s or more, or cut a shot?")
    fitted, _ = hold_length(old, new, seconds, MAX_SHOT_SECONDS)
    if abs(film_seconds(fitted) - seconds) <= 1 / new.fps + 1e-9:
        return fitted, ""
    if seconds > longest:
        return None, (f"{seconds:g} s is longer than {len(new.shots)} shots of at most {MAX_SHOT_SECONDS:g} s{holding} can last "
                      f"({math.floor(longest * 10) / 10:g} s). Ask for less, or add a shot?")
    return None, f"I couldn't make the film exactly {seconds:g} s with these shots. Could you ask for a slightly different length?"


def _share_free_time(sb: Storyboard, durations: list[float], free: list[int], seconds: float) -> list[float] | None:
    """Durations that make the film `seconds` long, to the frame, scaling only the shots at `free` (in
    proportion to their lengths); None when no scale within 0.05-60 s a shot does it."""
    transitions = [s.transition for s in sb.shots]
    target = round(seconds * sb.fps)

    def scaled(scale: float) -> list[float]:
        out = list(durations)
        for i in free:
            out[i] = min(MAX_SHOT_SECONDS, max(0.05, round(durations[i] * scale, 4)))
        return out

    def frames(ds: list[float]) -> int:
        return film_frames_for(ds, transitions, sb.fps, sb.shows_title_card, sb.end_card)

    lo, hi = 0.0, MAX_SHOT_SECONDS / min(durations[i] for i in free)   # at `hi` every free shot is at the cap
    for _ in range(60):   # the film's length grows with the free shots' scale: bisect for it
        mid = (lo + hi) / 2
        if frames(scaled(mid)) < target:
            lo = mid
        else:
            hi = mid
    out = scaled(hi)
    longest = max(free, key=lambda i: out[i])
    out[longest] = round(out[longest] + (target - frames(out)) / sb.fps, 4)   # the last frame or two
    if not 0 < out[longest] <= MAX_SHOT_SECONDS or frames(out) != target:
        return None
    return out


def _narration_for(shot: Shot) -> str:
    line = " ".join(p for p in (shot.subject, shot.action) if p).strip()
    if shot.setting:
        line += (" " if line else "") + (shot.setting if re.match(r"^(?:at|in|on|under|by)\b", shot.setting) else f"in {shot.setting}")
    line = re.sub(r"\s+", " ", line).strip()
    return (line[0].upper() + line[1:] + ".") if line else ""


# ----------------------------------------------------------------------------- reading a message

class _Ask(Exception):
    """A clause cannot be applied without an answer. Raised where a clause is read, answered in
    apply_feedback: the storyboard stays as it was and the question goes back to the person."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


@dataclass
class _Message:
    """The message as read before its clauses: what every clause consults and none changes."""

    original: Storyboard
    raw: str                        # the words, less "and render it" and "keep it 20 s"
    quotes: list[str]               # quoted lines: the clauses carry ⟦i⟧, so commas in a line split nothing
    clauses: list[str]
    order: list[str]                # shot ids as the person saw them: numbers in the message mean these
    takes_by_shot: Mapping[str, Sequence[Any] | int] | None
    picked: Sequence[str] | None    # shots picked in the interface
    max_shot_seconds: float
    keep_seconds: float | None      # "keep it 20 s": the film's length once the edits are made
    wants_render: bool | None       # "... and render it" (None: not said)

    @property
    def valid(self) -> str:
        """The shots there are, to name in a question about one that isn't."""
        return ", ".join(f"{i + 1} ({sid})" for i, sid in enumerate(self.order))

    def lines_in(self, clause: str) -> list[str]:
        """The quoted lines a clause carries ("add narration: '...'")."""
        return [self.quotes[int(i)] for i in _MARK_RE.findall(clause)]


@dataclass
class _Move:
    shot_id: str
    where: str              # "start" | "end" | "after" | "before"
    anchor: str | None      # the shot it goes after or before


@dataclass
class _Addition:
    shot: Shot
    where: str              # "start" | "end" | "after" | "before"
    anchor: str | None


@dataclass
class _Edits:
    """What the clauses have done so far. Edits of shots change `sb` at once; edits of the order wait
    in the lists below until every clause is read, so every shot number meant the order the person saw."""

    sb: Storyboard                                   # the working copy
    by_id: dict[str, Shot]
    notes: list[str] = field(default_factory=list)      # about the edits: dropped when the answer is a question
    findings: list[str] = field(default_factory=list)   # about the film as it is ("no shot shows 'dog'"): always said
    reasons: list[str] = field(default_factory=list)   # in the order the clauses asked
    not_understood: list[str] = field(default_factory=list)
    select: tuple[str, int] | None = None
    previous_targets: list[str] = field(default_factory=list)   # "shot 2 darker, and make it slower"
    swaps: list[tuple[str, str]] = field(default_factory=list)
    moves: list[_Move] = field(default_factory=list)
    adds: list[_Addition] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    film_seconds: float | None = None   # "make it 12 seconds": the delivered film's length once every clause is read


@dataclass
class _Clause:
    """One instruction of the message and the shots it is about."""

    text: str
    refs: _Refs
    targets: list[str]
    carried: bool        # the targets were not named here: picked in the interface, or the previous clause's
    by_position: bool    # "open with a drone shot": the opening shot is edited, not moved
    is_swap: bool

    @property
    def low(self) -> str:
        return self.text.lower()

    @property
    def rest(self) -> str:
        """The clause without its shot references, lower case."""
        return self.refs.text.lower()

    @property
    def named(self) -> str:
        """The shots it names, for a reason: 's2, s3' or 'every shot'."""
        return ", ".join(self.targets) if self.targets else "every shot"


def _unchanged(original: Storyboard, notes: list[str], question: str | None, reason: str = "no change",
               undo: bool = False) -> FeedbackResult:
    return FeedbackResult(storyboard=original.model_copy(deep=True), reason=reason, changed_shots=[], notes=notes,
                          select_take=None, undo=undo, question=question)


def _read_message(original: Storyboard, raw: str, takes_by_shot: Mapping[str, Sequence[Any] | int] | None,
                  picked: Sequence[str] | None, max_shot_seconds: float) -> _Message:
    """Take "and render it" and "keep it 20 s" off the words, stash the quoted lines, split the clauses."""
    wants_render: bool | None = None
    if RENDER_TAIL.search(raw) and not RENDER_ONLY.match(RENDER_TAIL.sub("", raw) or "x"):
        raw, wants_render = RENDER_TAIL.sub("", raw).strip(" ,;"), True   # "make it vertical and render it"
    keep = KEEP_LENGTH.search(raw)
    keep_seconds: float | None = None
    if keep:
        keep_seconds = float(keep.group(1)) if keep.group(1) else film_seconds(original)
        raw = (raw[:keep.start()] + raw[keep.end():]).strip(" ,;")
    quotes: list[str] = []

    def stash(m: re.Match[str]) -> str:
        quotes.append(next(g for g in m.groups() if g is not None).strip())
        return f" ⟦{len(quotes) - 1}⟧ "

    clauses = _split_clauses(QUOTE.sub(stash, raw))
    return _Message(original=original, raw=raw, quotes=quotes, clauses=clauses, order=[s.id for s in original.shots],
                    takes_by_shot=takes_by_shot, picked=picked, max_shot_seconds=max_shot_seconds,
                    keep_seconds=keep_seconds, wants_render=wants_render)


def _read_clause(text: str, msg: _Message, edits: _Edits) -> _Clause:
    """The shots a clause is about: named in it, else picked in the interface, else ("and make it slower")
    the previous clause's; a shot number past the end is a question."""
    low = text.lower()
    is_swap = bool(re.search(r"\b(?:swap|switch|exchange|flip)\b", low))
    refs = _find_refs(text, msg.order, bare_numbers=is_swap, subjects={s.id: s.subject for s in edits.sb.shots})
    if refs.bad:
        shots_word = "shot" if len(refs.bad) == 1 else "shots"
        raise _Ask(f"There is no {shots_word} {' or '.join(refs.bad)}: this storyboard has shots {msg.valid}. Which did you mean?")
    targets = refs.ids
    rest = refs.text.lower()
    carried = False
    if not targets and msg.picked:
        # shots picked in the interface: they scope shot edits, but "make it vertical" is still the whole film
        targets, carried = [s for s in msg.picked if s in edits.by_id], True
    if not targets and edits.previous_targets and re.match(r"^(?:and\s+)?(?:make\s+)?(?:it|them|that\s+one|too|also)\b|^(?:and\s+)?(?:a\s+bit\s+|much\s+|more\s+|less\s+)?\w+er\b", rest):
        targets, carried = edits.previous_targets, True
    by_position = False
    opening = re.match(r"^(?:and\s+)?(?:open|start|begin)\s+(?:with|on)\s+(?:an?\s+)", low)
    ending = re.match(r"^(?:and\s+)?(?:end|finish|close)\s+(?:with|on)\s+(?:an?\s+)", low)
    if not targets and (opening or ending) and (find_camera(text) or find_framing(text)):
        targets = [msg.order[0] if opening else msg.order[-1]]   # "open with a drone shot": the opening only
        by_position = True   # scoped by position, not a shot to move
    return _Clause(text=text, refs=refs, targets=targets, carried=carried, by_position=by_position, is_swap=is_swap)


def _scope(c: _Clause, edits: _Edits) -> list[Shot]:
    """The shots a shot edit changes: the clause's targets, or every shot."""
    return [edits.by_id[t] for t in c.targets] if c.targets else edits.sb.shots


# ----------------------------------------------------------------------------- clauses that are about one thing
# Each returns True when the clause was its kind; the clause then goes no further.

def _add_weather(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"add rain", "add fog to shot 2": weather and texture on shots, not a new shot."""
    added = ADD_WEATHER.search(c.low)
    if not added or re.search(r"\b(?:shot|scene|clip)\s+of\b", c.low):
        return False
    word = re.sub(r"\s+", " ", added.group(1).lower())
    fld, words = ADDITIONS[word]
    if fld == "style":
        edits.sb.style_guide = merge_items(edits.sb.style_guide, words)
    else:
        for s in _scope(c, edits):
            setattr(s, fld, merge_items(getattr(s, fld), words))
    edits.reasons.append(f"{word} on {', '.join(c.targets) if c.targets and fld != 'style' else 'every shot'}")
    edits.previous_targets = c.targets
    return True


def _select_take(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"use the second take of shot 4", "take 2 for shot 1": which take the cut uses (no pixels)."""
    m = re.search(rf"\b(?:(?:the\s+)?({'|'.join(ORDINALS)}|last|latest|previous|earlier|original|newest)\s+take|take\s+(?:number\s+|#)?(\d+))\b", c.low)
    if m and not c.targets and not re.search(r"\b(?:add|another|new|one\s+more)\b", c.low):
        raise _Ask("Which shot's take? For example: 'use the second take of shot 2'.")
    if not (m and c.targets):
        return False
    sid = c.targets[0]
    index = _take_index(m, sid, msg)
    edits.select = (sid, index)
    edits.reasons.append(f"use take {index + 1} of {sid}")
    edits.previous_targets = c.targets
    return True


def _take_index(m: re.Match[str], sid: str, msg: _Message) -> int:
    """The 0-based take the words mean, checked against the shot's takes when the caller gave them."""
    number = msg.order.index(sid) + 1
    word = m.group(1)
    count = None
    if msg.takes_by_shot is not None and sid in msg.takes_by_shot:
        v = msg.takes_by_shot[sid]
        count = v if isinstance(v, int) else len(v)
    if count == 0:
        raise _Ask(f"Shot {number} ({sid}) has no takes yet: render the film first, then choose a take.")
    if m.group(2):
        index = int(m.group(2)) - 1
    elif word in {"last", "latest", "newest"}:
        if count is None:
            raise _Ask(f"How many takes does shot {number} have? Say which take, e.g. 'use take 2 of shot {number}'.")
        index = count - 1
    elif word in {"previous", "earlier"}:
        index = (count - 2) if count else 0
    elif word == "original":
        index = 0
    else:
        index = ORDINALS[word] - 1
    if count is not None and not (0 <= index < count):
        raise _Ask(f"Shot {number} ({sid}) has {count} take{'s' if count != 1 else ''}; which one do you want (1–{count})?")
    if index < 0:
        raise _Ask(f"Which take of shot {number} do you want?")
    return index


def _anchor_ids(target: str, msg: _Message) -> list[str]:
    """The shots "after shot 3" / "before the opening" names; a number past the end is a question."""
    anchor_refs = _find_refs(f"shot {target}" if target.isdigit() else target, msg.order)
    if anchor_refs.bad:
        raise _Ask(f"There is no shot {anchor_refs.bad[0]}: this storyboard has shots {msg.valid}.")
    return anchor_refs.ids


def _add_shot(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"add a shot of the logo at the end", "add a close-up of the cup after shot 2": a new shot, put in
    its place once every clause is read."""
    pos = re.search(r"\b(?:at\s+the\s+(end|start|beginning|front)|to\s+the\s+(end|start|beginning)|(first|last)|(after|before)\s+((?:shot\s+)?\d+|the\s+\w+\s+shot|shot\s+[a-z0-9_-]+))\b", c.text, re.I)
    add_text = c.text.replace(pos.group(0), " ") if pos else c.text
    m = re.match(r"^(?:please\s+)?(?:and\s+)?(?:add|insert|include|append|put\s+in)\s+(?:(?:a|an|one|another)\s+)?(?:more\s+|new\s+|extra\s+|final\s+|closing\s+|opening\s+)?(.*)$", add_text.strip(), re.I)
    if not m or re.match(r"^(?:some\s+|the\s+)?(?:narration|voice[\s-]?over|captions?|subtitles?|text|music|a\s+caption|film\s+grain|grain|fog|mist|rain|snow|more)\b", m.group(1), re.I):
        return False
    where, anchor = _where_to_add(pos, msg)
    body = re.sub(r"\b(?:at\s+the\s+(?:end|start|beginning|front)|to\s+the\s+(?:end|start|beginning))\b", " ", m.group(1), flags=re.I)
    body = re.sub(r"^(?:shot|scene|clip)\s*(?:of|with|showing)?\s*", "", body.strip(), flags=re.I)
    body = re.sub(r"\s+", " ", body).strip(" ,:")
    beat = parse_beat(body, msg.quotes)
    if not (beat.subject or beat.action or beat.setting):
        edits.not_understood.append(c.text)
        return True
    new = _new_shot(beat, where, anchor, msg, edits)
    edits.adds.append(_Addition(new, where, anchor))
    edits.reasons.append(f"added {new.id} ({beat.subject or beat.action}) {'at the ' + where if where in {'start', 'end'} else where + ' ' + str(anchor)}")
    return True


def _where_to_add(pos: re.Match[str] | None, msg: _Message) -> tuple[str, str | None]:
    """Where a new shot goes: the end unless the words say the start, or after/before a shot."""
    where, anchor = "end", None
    if pos:
        word = (pos.group(1) or pos.group(2) or pos.group(3) or pos.group(4) or "").lower()
        if word in {"start", "beginning", "front", "first"}:
            where = "start"
        elif word in {"after", "before"}:
            ids = _anchor_ids(pos.group(5), msg)
            if ids:
                where, anchor = word, ids[0]
    return where, anchor


def _new_shot(beat: Beat, where: str, anchor: str | None, msg: _Message, edits: _Edits) -> Shot:
    """A new shot from the words: the film's typical length, its shared negative prompt, and a camera and
    framing that suit where it goes (a logo or title card is a static close-up). Unless the words say
    where, it is where its neighbour is: the shot it follows or precedes, else the first or last shot."""
    sb = edits.sb
    sid = _new_id(msg.order + [a.shot.id for a in edits.adds])
    durations = [s.duration for s in sb.shots]
    neg = sb.shots[0].negative_prompt if all(s.negative_prompt == sb.shots[0].negative_prompt for s in sb.shots) else ""
    is_card = bool(re.search(r"\b(?:logo|title|card|tagline|product)\b", beat.subject, re.I))
    framing = beat.framing or ("close_up" if is_card else ("wide" if where in {"start", "end"} else "medium"))
    camera = beat.camera or ("static" if is_card else ("dolly_in" if where == "start" else ("dolly_out" if where == "end" else "static")))
    return Shot(
        id=sid, duration=round(statistics.median(durations), 1), subject=beat.subject, action=beat.action,
        setting=beat.setting or ("" if is_card else _neighbour(sb, where, anchor).setting),
        atmosphere=", ".join(beat.atmosphere), lighting=", ".join(beat.lighting), technical=", ".join(beat.technical),
        camera=camera, framing=framing, negative_prompt=neg, seed=seed_for(f"{sb.title}|{msg.raw}", sid),
        transition=sb.shots[0].transition, narration=" ".join(beat.narration) or None, caption=beat.caption,
    )


def _neighbour(sb: Storyboard, where: str, anchor: str | None) -> Shot:
    """The shot a new one sits beside: the one it goes after or before, else the last (at the end) or the first."""
    if anchor is not None:
        return sb.shot(anchor)
    return sb.shots[-1 if where == "end" else 0]


def _swap(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"swap shots 1 and 3" (no pixels)."""
    if not (c.is_swap and len(c.targets) >= 2):
        return False
    edits.swaps.append((c.targets[0], c.targets[1]))
    edits.reasons.append(f"swapped shots {msg.order.index(c.targets[0]) + 1} and {msg.order.index(c.targets[1]) + 1}")
    edits.previous_targets = c.targets
    return True


def _move(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"move shot 4 to the start", "put shot 1 after shot 3", "open with shot 2" (no pixels)."""
    m = re.search(r"\b(?:move|put|bring|place|shift)\b|\b(?:open|start|begin)\s+(?:with|on)\b|\b(?:end|finish|close)\s+(?:with|on)\b", c.low)
    if not (m and c.targets and not c.by_position and not re.search(r"\b(?:narration|caption|text)\b", c.low)):
        return False
    # "after shot 3" names a shot; "to the start" is read with the shot references taken out ("the last shot")
    dest = re.search(r"\b(after|before)\s+((?:shot\s+)?\d+|the\s+\w+(?:\s+shot)?|shot\s+[a-z0-9_-]+)", c.text, re.I) \
        or re.search(r"\b(?:to\s+the\s+)?(start|beginning|front|top|first|end|last|back)\b", c.refs.text, re.I)
    verb = m.group(0).lower()
    where: str | None = None
    anchor: str | None = None
    moving = c.targets
    if verb.startswith(("open", "start", "begin")):
        where = "start"
    elif verb.startswith(("end", "finish", "close")):
        where = "end"
    elif dest and dest.group(1).lower() in {"after", "before"}:
        ids = _anchor_ids(dest.group(2), msg)
        if ids:
            where, anchor = dest.group(1).lower(), ids[-1]
            moving = [t for t in c.targets if t != anchor] or c.targets
    elif dest:
        where = "start" if dest.group(1).lower() in {"start", "beginning", "front", "top", "first"} else "end"
    if not where:
        return False
    for sid in moving:
        edits.moves.append(_Move(sid, where, anchor))
    edits.reasons.append(f"moved {', '.join(moving)} to the {where}" if not anchor else f"moved {', '.join(moving)} {where} {anchor}")
    edits.previous_targets = moving
    return True


def _remove(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"cut the last shot", "remove shot 2", "drop the opening" (no pixels)."""
    if not (re.search(r"\b(?:cut(?!\s+to)|remove|drop|delete|lose|scrap|skip|get\s+rid\s+of|take\s+out|kill|ditch)\b", c.low) and c.targets
            and not re.search(r"\b(?:narration|voice[\s-]?over|captions?|text|music|transitions?|seconds?|shorter|down)\b", c.low)):
        return False
    edits.removals += [t for t in c.targets if t not in edits.removals]
    edits.reasons.append(f"removed {', '.join(c.targets)}")
    edits.previous_targets = c.targets
    return True


def _narration_and_captions(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """Spoken and written words (no pixels): a clause that sets them is about nothing else."""
    narrated = _narration(c, msg, edits)
    captioned = _captions(c, msg, edits)
    if not (narrated or captioned):
        return False
    edits.previous_targets = c.targets
    return True


def _narration(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"no narration", "add narration: '...'", "narration on shot 2: '...'"."""
    sb, by_id, targets, low = edits.sb, edits.by_id, c.targets, c.low
    if re.search(r"\b(?:no|without|remove|drop|cut|lose|kill|delete)\s+(?:the\s+|all\s+(?:the\s+)?)?(?:narration|voice[\s-]?over|narrator|voice)\b", low):
        for s in sb.shots:
            if not targets or s.id in targets:
                s.narration = None
        edits.reasons.append("no narration" if not targets else f"no narration on {', '.join(targets)}")
        return True
    if not (re.search(r"\b(?:narration|voice[\s-]?over|narrator|say|says|line|lines)\b", low) and (msg.lines_in(c.text) or re.search(r"\badd\b|\bwith\b", low))):
        return False
    lines = msg.lines_in(c.text)
    if lines:
        # the quoted lines go to the named shots, else to the shots with no narration yet, in order
        slots = targets or [s.id for s in sb.shots if not s.narration] or msg.order
        for sid, line in zip(slots, lines):
            by_id[sid].narration = line
        if len(lines) > len(slots):
            by_id[slots[-1]].narration = " ".join([by_id[slots[-1]].narration or ""] + lines[len(slots):]).strip()
        edits.reasons.append(f"narration on {', '.join(slots[:len(lines)])}")
    else:
        for s in sb.shots:
            if (not targets or s.id in targets) and not s.narration:
                s.narration = _narration_for(s)
        edits.reasons.append("added narration")
        edits.notes.append("Narration lines are written from each shot's description; give me quoted lines to use your words.")
    return True


def _captions(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"no captions", "caption on shot 2: '...'" (the last shot when none is named)."""
    targets, low = c.targets, c.low
    if re.search(r"\b(?:no|without|remove|drop)\s+(?:the\s+)?(?:captions?|subtitles?|on[\s-]screen\s+text|titles?)\b", low):
        for s in edits.sb.shots:
            if not targets or s.id in targets:
                s.caption = None
        edits.reasons.append("no captions")
        return True
    if re.search(r"\b(?:caption|text|title|tagline|super)\b", low) and msg.lines_in(c.text) and not re.search(r"narration|voice", low):
        sid = targets[0] if targets else msg.order[-1]
        edits.by_id[sid].caption = " ".join(msg.lines_in(c.text))
        edits.reasons.append(f"caption on {sid}")
        return True
    return False


# ----------------------------------------------------------------------------- edits that add up
# One clause may ask several of these ("shot 2 darker and slower"): each returns True when it applied.

def _transitions(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"crossfades", "hard cuts only", "wipes" between shots (no pixels)."""
    tr = re.search(r"\b(crossfades?|cross-fades?|dissolves?|hard\s+cuts|straight\s+cuts|cuts\s+only|wipes?)\b", c.low)
    if not tr or re.search(r"\bshorter|seconds\b", c.low):
        return False
    word = tr.group(1)
    kind = "crossfade" if word.startswith(("cross", "dissolve")) else "wipe" if word.startswith("wipe") else "cut"
    for s in edits.sb.shots[:-1]:
        if not c.targets or s.id in c.targets:
            s.transition = kind
    edits.reasons.append(f"{kind} transitions")
    return True


def _fade_out(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"fade out", "fade to black" at the end."""
    if not re.search(r"\bfade\s+(?:out|to\s+black)\b", c.low):
        return False
    edits.sb.shots[-1].transition = "fade"
    edits.reasons.append("fade out at the end")
    return True


def _regenerate(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"redo shot 2", "try again": a new seed, so a new take of the same words."""
    if not re.search(r"\b(?:regenerate|re-?render|redo|re-?roll|try\s+(?:it\s+|that\s+)?again|another\s+(?:take|version|go)|new\s+take|one\s+more\s+take|different\s+seed)\b", c.low):
        return False
    for sid in c.targets or msg.order:
        s = edits.by_id[sid]
        s.seed = seed_for(f"{s.seed}|{msg.raw}", sid)
    edits.reasons.append(f"new take of {c.named}")
    return True


def _aspect(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"make it vertical for TikTok", "make it square", "widescreen": always the whole film."""
    sb = edits.sb
    aspects = find_aspects(c.text)
    if re.search(r"\bsquare\b", c.low) and not any(a[0] == "1:1" for a in aspects):
        aspects.append(("1:1", "square", True, 0))
    if not aspects or (c.targets and not c.carried):
        return False
    ratio = next((a for a in aspects if a[2]), aspects[0])[0]
    if ratio != sb.aspect_ratio:
        sb.aspect_ratio = ratio
        edits.reasons.append(f"aspect ratio {ratio}")
        edits.notes.append(f"Every shot is reframed for {ratio}, so every shot renders again.")
    else:
        edits.reasons.append(f"already {ratio}")
        edits.findings.append(f"The film is already {ratio}.")
    return True


def _number_setting(c: _Clause, edits: _Edits, pattern: str, field: str, said: str) -> bool:
    """A film-wide number said as itself ("30 fps", "1080p"): set `field`, give `said` as the reason."""
    m = re.search(pattern, c.low)
    if not m:
        return False
    setattr(edits.sb, field, int(m.group(1)))
    edits.reasons.append(said.format(int(m.group(1))))
    return True


def _frame_rate(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"30 fps"."""
    return _number_setting(c, edits, r"\b(\d{1,2})\s*fps\b", "fps", "{} fps")


def _resolution(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"1080p"."""
    return _number_setting(c, edits, r"\b(2160|1440|1080|720|576|480|360)p\b", "resolution", "{}p")


def _style(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"make it look like film noir" replaces the film's style; "more cinematic" adds to it."""
    sb, low = edits.sb, c.low
    styles = find_style(c.text)
    look_like = re.search(r"\b(?:look(?:s)?\s+like|feel\s+like|in\s+the\s+style\s+of|style\s+of)\s+(?:an?\s+|the\s+)?([^,.;]+)", c.refs.text, re.I)
    if not (styles or look_like) or (c.targets and not c.carried):
        return False
    replace_it = bool(look_like) or bool(re.search(r"\b(?:make\s+it|turn\s+it\s+into|instead|style|look)\b", low)) and not re.search(r"\b(?:more|add|also|a\s+bit|slightly|extra)\b", low)
    new_style = ", ".join(styles) if styles else look_like.group(1).strip()  # type: ignore[union-attr]
    sb.style_guide = new_style if replace_it else merge_items(sb.style_guide, new_style)
    edits.reasons.append(f"look: {sb.style_guide}")
    return True


def _length(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"make it 20 seconds" (the delivered film, cards and transition overlaps counted: set_length, once
    every clause is read), "shot 2 6 seconds", "shorter", "longer". A shot's length is its frame count, so
    every retimed shot renders again."""
    sb, targets, low, notes, reasons = edits.sb, c.targets, c.low, edits.notes, edits.reasons
    max_shot_seconds = msg.max_shot_seconds
    secs = _seconds_in(c.text)
    scope = _scope(c, edits)
    at_most = bool(re.search(r"\b(?:no\s+more\s+than|at\s+most|under|max(?:imum)?|less\s+than|no\s+longer\s+than)\b", low))
    if secs and at_most and not targets and film_seconds(sb) <= secs:
        reasons.append(f"already {round(film_seconds(sb), 1):g} s")
        return True
    if secs and (at_most or re.search(r"\b(?:make|cut|trim|set|bring|keep|it|to|shorten|long|total|down|film|video|be)\b", low)) and not re.search(r"\bfps\b", low):
        if targets:
            for s in scope:
                s.duration = round(min(secs, 60.0), 1)
            reasons.append(f"{', '.join(targets)} {secs:g} s")
            notes.append("A shot's length is its frame count, so the retimed shots render again.")
            _note_long_shots(scope, max_shot_seconds, notes)
        else:
            # the whole film: set once every clause is read (_new_version), so shots added or cut count
            edits.film_seconds = secs
            reasons.append(f"length {secs:g} s")
        return True
    if _SHORTER.search(low) or (re.search(r"\bcut\s+it\b", low) and not targets):
        for s in scope:
            s.duration = _scale(s, 0.75, max_shot_seconds)
        reasons.append(f"{'shorter ' + ', '.join(targets) if targets else 'shorter: every shot 25% shorter'}")
        notes.append("Durations set frame counts, so the shortened shots render again.")
        return True
    if _LONGER.search(low):
        for s in scope:
            s.duration = _scale(s, 1.25, max(max_shot_seconds, 60.0 if targets else max_shot_seconds))
        reasons.append(f"{'longer ' + ', '.join(targets) if targets else 'longer: every shot 25% longer'}")
        notes.append("Durations set frame counts, so the lengthened shots render again.")
        return True
    return False


def _note_long_shots(shots: Sequence[Shot], max_shot_seconds: float, notes: list[str]) -> None:
    long = [s.id for s in shots if s.duration > max_shot_seconds]
    if long:
        notes.append(f"{', '.join(long)} now run longer than {max_shot_seconds:g} s, more than most video models make in one go.")


def _pace(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"more energetic" (the whole film), "slower", "faster": durations, camera moves and transitions."""
    sb, targets, low = edits.sb, c.targets, c.low
    max_shot_seconds = msg.max_shot_seconds
    scope = _scope(c, edits)
    if _ENERGETIC.search(low) and (not targets or c.carried):
        steady = any(re.search(r"shak|jitter", s.negative_prompt, re.I) for s in sb.shots)
        dynamic = ["tracking", "orbit" if steady else "handheld", "zoom_in", "orbit"]
        for i, s in enumerate(sb.shots):
            s.duration = _scale(s, 0.75, max_shot_seconds)
            if s.camera in {"static", "dolly_in", "dolly_out", "pan_left", "pan_right", "tilt_up", "tilt_down"}:
                s.camera = dynamic[i % len(dynamic)]
            s.technical = _edit_items(s.technical, _FAST_TECH, r"slow|gentle")
            s.atmosphere = _edit_items(s.atmosphere, "energetic", r"calm|serene|still|meditative")
            if s is not sb.shots[-1]:
                s.transition = "cut"
        edits.reasons.append("more energetic: shorter shots, hard cuts, moving camera")
        return True
    if _SLOWER.search(low):
        for s in scope:
            s.duration = _scale(s, 1.25, max_shot_seconds)
            s.technical = _edit_items(s.technical, _SLOW_TECH, r"fast|quick|rapid|dynamic")
            if s.camera in {"handheld"}:
                s.camera = "dolly_in"
            if not targets and s is not sb.shots[-1]:
                s.transition = "crossfade"
        capped = [s.id for s in scope if s.duration >= max_shot_seconds]
        if capped:
            edits.notes.append(f"{', '.join(capped)} stay at most {max_shot_seconds:g} s; slower camera moves instead.")
        edits.reasons.append(f"slower {', '.join(targets) if targets else 'pace'}")
        return True
    if _FASTER.search(low):
        for s in scope:
            s.duration = _scale(s, 0.8, max_shot_seconds)
            s.technical = _edit_items(s.technical, _FAST_TECH, r"slow|gentle")
        edits.reasons.append(f"faster {', '.join(targets) if targets else 'pace'}")
        return True
    return False


def _camera(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"change the camera on shot 2 to an orbit", "close-up on shot 3", "shot 1 wider"."""
    low = c.low
    if re.search(r"\b(?:add|insert)\b", low):
        return False   # "add a close-up of the cup" is a new shot, not a camera edit
    cam_text = re.sub(r"\bcamera\b", " ", c.refs.text)
    camera = find_camera(cam_text)
    framing = find_framing(cam_text)
    if not framing:
        m = re.search(r"\b(?:make\s+(?:it|them)\s+)?(?:an?\s+)?(wide|medium)\b(?:\s+shot)?", c.rest)
        if m and (c.targets or re.search(r"\bshots?\b", c.rest)):
            framing = m.group(1)
    step = 0
    if re.search(r"\b(?:wider|pull\s+back|further\s+away|zoom\s+out\s+the\s+framing)\b", low):
        step = -1
    elif re.search(r"\b(?:tighter|closer|nearer)\b", low):
        step = 1
    if not (camera or framing or step):
        return False
    for s in _scope(c, edits):
        if camera:
            s.camera = camera
        if framing:
            s.framing = framing
        elif step and s.framing in _FRAMING_STEPS:
            k = min(max(_FRAMING_STEPS.index(s.framing) + step, 0), len(_FRAMING_STEPS) - 1)
            s.framing = _FRAMING_STEPS[k]
        elif step:
            s.framing = "close_up" if step > 0 else "wide"
    what = ", ".join(x.replace("_", " ") for x in (camera, framing) if x) or ("tighter" if step > 0 else "wider")
    edits.reasons.append(f"{c.named}: {what}")
    return True


def _looks(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"darker", "stormier", "warmer" ... (see _LOOKS): words added to and taken from the shots' fields."""
    looked = []
    for pattern, label, field_edits in _LOOKS:
        if re.search(rf"\b(?:{pattern})\b", c.low):
            for s in _scope(c, edits):
                for fld, add, remove in field_edits:
                    current = getattr(s, fld)
                    if fld == "setting":
                        if add and "storm" not in current.lower():
                            setattr(s, fld, f"{current}, {add}" if current else add)
                    else:
                        setattr(s, fld, _edit_items(current, add, remove))
            looked.append(label)
    if not looked:
        return False
    edits.reasons.append(f"{c.named} {' and '.join(looked)}")
    return True


_TIME_LIGHT = {"night": "night, artificial light", "midnight": "night, artificial light", "night time": "night, artificial light",
               "nighttime": "night, artificial light", "dawn": "soft dawn light", "sunrise": "soft dawn light",
               "daybreak": "soft dawn light", "dusk": "warm low sunset light", "sunset": "warm low sunset light",
               "twilight": "warm low sunset light", "golden hour": "warm golden hour light",
               "midday": "bright midday sun", "noon": "bright midday sun", "daytime": "bright daylight"}
_TIMES = r"\b(?:at\s+)?(?:night|dawn|dusk|sunset|sunrise|midday|noon|midnight|daybreak|twilight|golden\s+hour|morning|evening)\b"


def _time_of_day(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"at night", "make it sunset": the setting says when, the lighting follows."""
    tod = re.search(r"\b(?:at|by|to|into)\s+(night|dawn|dusk|sunset|sunrise|midday|noon|midnight|daybreak|twilight)\b|\b(night[\s-]?time|golden\s+hour|daytime|sunset|sunrise)\b", c.low)
    if not tod:
        return False
    when = (tod.group(1) or tod.group(2)).replace("-", " ")
    light = _TIME_LIGHT.get(when, "")
    for s in _scope(c, edits):
        setting = re.sub(r"\s*,?\s*" + _TIMES, "", s.setting, flags=re.I).strip(" ,")
        phrase = when if when in {"golden hour", "daytime"} else f"at {when}"
        s.setting = f"{setting} {phrase}".strip() if setting else phrase
        s.lighting = _edit_items(s.lighting, light, r"dawn|sunset|dusk|night|midday|daylight|golden|moon|sun")
    edits.reasons.append(f"{c.named} {when}")
    return True


# ----------------------------------------------------------------------------- words in the picture
# Read only when nothing else in the clause applied: "replace" and "change" say too little on their own.

def _replace_words(c: _Clause, msg: _Message, edits: _Edits) -> bool:
    """"replace the dog with a cat", "change the boat to a yacht", "the hunter should be a woman",
    "make the boat red"."""
    m = re.search(r"\b(?:replace|swap\s+out|switch)\s+(?:the\s+)?(.+?)\s+(?:with|for)\s+(.+)$|\bchange\s+(?:the\s+)?(.+?)\s+(?:to|into)\s+(.+)$"
                  r"|\bmake\s+the\s+(.+?)\s+(?:an?\s+)(.+)$|(?:^|,\s*|\b(?:in|on)\s+)(?:the\s+)?([a-z][\w' -]*?)\s+should\s+be\s+(?:an?\s+)?(.+)$",
                  c.refs.text.strip(" ,"), re.I)
    if m is None:
        colour = re.fullmatch(r"(?:make|paint|turn)\s+the\s+([a-z][\w'-]*)\s+([a-z]+)", c.refs.text.strip(" ,."), re.I)
        return colour is not None and _recolour(colour, c, edits)
    old_words = m.group(1) or m.group(3) or m.group(5) or m.group(7)
    new_words = m.group(2) or m.group(4) or m.group(6) or m.group(8)
    member = find_member(edits.sb, (old_words or ""))
    if member is not None:
        # a cast member: change them once, and every shot they are in changes with them
        recast_sb, what = recast(edits.sb, member.id, new_words)
        edits.sb.cast = recast_sb.cast
        for shot in recast_sb.shots:
            for fld in ("subject", "action", "narration"):
                setattr(edits.by_id[shot.id], fld, getattr(shot, fld))
        edits.reasons.append(what)
        return True
    return _replace_word(old_words, new_words, c, edits)


def _recolour(colour: re.Match[str], c: _Clause, edits: _Edits) -> bool:
    """"make the boat red": the thing gets the adjective, in every shot that shows it."""
    thing, adjective = colour.group(1), colour.group(2)
    if not any(re.search(rf"\b{re.escape(thing)}\b", x.subject, re.I) for x in edits.sb.shots):
        return False
    scope = _scope(c, edits)
    hit = [x.id for x in scope if re.search(rf"\b{re.escape(thing)}\b", x.subject, re.I)]
    for x in scope:
        x.subject = re.sub(rf"\b{re.escape(thing)}\b", f"{adjective} {thing}", x.subject, count=1, flags=re.I)
    edits.reasons.append(f"{adjective} {thing} in {', '.join(hit)}")
    return True


def _replace_word(old_words: str, new_words: str, c: _Clause, edits: _Edits) -> bool:
    """One word for another in the subject, action and setting of the shots in scope."""
    old_word = old_words.strip(" ,")
    new_word = new_words.strip(" .")
    old_word = re.sub(r"^(?:in|on)\s+,?\s*", "", old_word, flags=re.I).strip(" ,")
    new_word = re.sub(r"^(?:an?|the)\s+", "", new_word, flags=re.I)
    old_word = re.sub(r"^(?:an?|the)\s+", "", old_word, flags=re.I)
    hit: list[str] = []
    for s in _scope(c, edits):
        for fld in ("subject", "action", "setting"):
            value = getattr(s, fld)
            new_value = re.sub(rf"\b{re.escape(old_word)}\b", new_word, value, flags=re.I)
            if new_value != value:
                setattr(s, fld, new_value)
                if s.id not in hit:
                    hit.append(s.id)
    if not hit:
        edits.findings.append(f"No shot shows '{old_word}'.")
        return False
    edits.reasons.append(f"{old_word} -> {new_word} in {', '.join(hit)}")
    return True


# ----------------------------------------------------------------------------- the message as a whole

# Clauses of one kind, tried in this order: the first that applies takes the whole clause.
_WHOLE_CLAUSE = (_add_weather, _select_take, _add_shot, _swap, _move, _remove, _narration_and_captions)
# Edits that add up, all tried, in this order (it is the order of the reasons).
_CLAUSE_EDITS = (_transitions, _fade_out, _regenerate, _aspect, _frame_rate, _resolution, _style, _length, _pace,
                 _camera, _looks, _time_of_day)


def _apply_clause(c: _Clause, msg: _Message, edits: _Edits) -> None:
    """One clause: the first whole-clause kind that applies, else every edit that applies, else words in
    the picture; a clause nothing applied to is noted as not understood."""
    for whole in _WHOLE_CLAUSE:
        if whole(c, msg, edits):
            return
    handled = False
    for edit in _CLAUSE_EDITS:
        handled = edit(c, msg, edits) or handled   # every edit runs: "shot 2 darker and slower"
    if not handled:
        handled = _replace_words(c, msg, edits)
    if not handled:
        edits.not_understood.append(c.text)
    elif not c.carried:
        edits.previous_targets = c.targets


def _apply_structure(edits: _Edits) -> list[Shot]:
    """The new order: swaps, then moves, then additions, then removals. Applied last, so every shot
    number in the message meant the order the person saw."""
    shots_now = list(edits.sb.shots)
    for a, b in edits.swaps:
        ia, ib = [s.id for s in shots_now].index(a), [s.id for s in shots_now].index(b)
        shots_now[ia], shots_now[ib] = shots_now[ib], shots_now[ia]
    for move in edits.moves:
        shot = edits.by_id[move.shot_id]
        shots_now.remove(shot)
        if move.where == "start":
            shots_now.insert(0, shot)
        elif move.where == "end":
            shots_now.append(shot)
        else:
            k = [s.id for s in shots_now].index(move.anchor)  # type: ignore[arg-type]
            shots_now.insert(k + 1 if move.where == "after" else k, shot)
    for added in edits.adds:
        new = added.shot
        if added.where == "start":
            shots_now.insert(0, new)
        elif added.where == "end":
            if shots_now and shots_now[-1].transition == "fade":
                # the old ending's fade-out now belongs to the new last shot
                shots_now[-1].transition = shots_now[0].transition if len(shots_now) > 1 else "cut"
                new.transition = "fade"
            shots_now.append(new)
        else:
            k = [s.id for s in shots_now].index(added.anchor)  # type: ignore[arg-type]
            shots_now.insert(k + 1 if added.where == "after" else k, new)
    if edits.removals:
        remaining = [s for s in shots_now if s.id not in edits.removals]
        if not remaining:
            raise _Ask("That would remove every shot. Which shot should stay?")
        shots_now = remaining
    return shots_now


def _check_understood(msg: _Message, edits: _Edits) -> None:
    """Nothing done is a question; clauses not understood beside ones that were are a note."""
    if not edits.reasons and edits.select is None:
        if edits.not_understood:
            raise _Ask(f"I didn't understand \"{msg.raw}\". Could you rephrase? For example: {EXAMPLES}.")
        raise _Ask(f"What should I change? For example: {EXAMPLES}.")
    if edits.not_understood:
        shown = [_MARK_RE.sub(lambda m: repr(msg.quotes[int(m.group(1))]), c) for c in edits.not_understood]
        edits.notes.append("I didn't understand: " + "; ".join(f"'{c}'" for c in shown) + ".")


def _new_version(msg: _Message, edits: _Edits, shots_now: list[Shot]) -> FeedbackResult:
    """The new storyboard in its new order, held to "keep it N s" when asked, and which shots need pixels."""
    original, notes = msg.original, edits.notes + edits.findings
    new_sb = Storyboard.model_validate({**edits.sb.model_dump(exclude={"shots"}), "shots": [s.model_dump() for s in shots_now]})
    if edits.film_seconds is not None:
        fitted, question = set_length(original, new_sb, edits.film_seconds)
        if fitted is None:
            return _unchanged(original, [], question)
        if [s.duration for s in fitted.shots] != [s.duration for s in new_sb.shots]:
            notes.append("A shot's length is its frame count, so the retimed shots render again.")
        new_sb = fitted
        _note_long_shots(new_sb.shots, msg.max_shot_seconds, notes)
    elif msg.keep_seconds is not None:
        new_sb, kept = hold_length(original, new_sb, msg.keep_seconds, msg.max_shot_seconds)
        notes.append(kept)
    notes += length_notes(original, new_sb)
    changed = changed_shot_ids(original, new_sb)
    if not changed and edits.reasons and edits.select is None:
        notes.append("No shot needs new pixels.")
    reason = "; ".join(edits.reasons) if edits.reasons else "no change"
    reason = reason[0].upper() + reason[1:]
    return FeedbackResult(storyboard=new_sb, reason=reason, changed_shots=changed, notes=notes, select_take=edits.select,
                          undo=False, question=None, wants_render=msg.wants_render)


def apply_feedback(
    storyboard: Storyboard,
    text: str,
    *,
    takes_by_shot: Mapping[str, Sequence[Any] | int] | None = None,
    shots: Sequence[str] | None = None,
    settings: AgentSettings,
) -> FeedbackResult:
    """Apply plain-language feedback. Returns a NEW storyboard; `storyboard` is left as it was.

    `takes_by_shot`: shot id -> its takes (or how many), to check "use the second take of shot 4".
    `shots`: the shots the person pointed at in the interface, for feedback that names none.
    `settings`: the Director's; its `max_shot_seconds` caps what "slower"/"longer" may stretch a shot to.
    """
    max_shot_seconds = settings.max_shot_seconds
    original = storyboard
    raw = (text or "").strip()
    if not raw:
        return _unchanged(original, [], f"What should I change? For example: {EXAMPLES}.")
    if _UNDO.match(raw):
        return _unchanged(original, [], None, reason="undo: back to the previous version", undo=True)
    if RENDER_ONLY.match(raw):
        return FeedbackResult(storyboard=original.model_copy(deep=True), reason="render", changed_shots=[], notes=[],
                              wants_render=True)
    msg = _read_message(original, raw, takes_by_shot, shots, max_shot_seconds)
    sb = original.model_copy(deep=True)
    edits = _Edits(sb=sb, by_id={s.id: s for s in sb.shots})
    try:
        for text_of_clause in msg.clauses:
            _apply_clause(_read_clause(text_of_clause, msg, edits), msg, edits)
        shots_now = _apply_structure(edits)
        _check_understood(msg, edits)
    except _Ask as ask:
        # nothing was applied: notes about the edits would describe changes that did not happen
        return _unchanged(original, edits.findings, ask.question)
    return _new_version(msg, edits, shots_now)
