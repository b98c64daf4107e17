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
"""

from __future__ import annotations

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
from agent.planner.length import film_seconds, fit_storyboard
from agent.planner.rules import (
    NUM,
    ORDINALS,
    QUOTE,
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


def _retime(shots: list[Shot], total: float) -> None:
    """Scale durations to `total` seconds in proportion, 0.1 s steps, the total exact (each shot 0.5..60 s)."""
    total = min(max(total, 0.5 * len(shots)), MAX_SHOT_SECONDS * len(shots))
    old = sum(s.duration for s in shots)
    tenths = [min(int(MAX_SHOT_SECONDS * 10), max(5, round(s.duration / old * total * 10))) for s in shots]
    diff = round(total * 10) - sum(tenths)
    i = 0
    while diff != 0 and i < 10000:
        k = i % len(shots) if diff > 0 else max(range(len(shots)), key=lambda j: tenths[j])
        step = 1 if diff > 0 else -1
        if 5 <= tenths[k] + step <= MAX_SHOT_SECONDS * 10:
            tenths[k] += step
            diff -= step
        i += 1
    for s, t in zip(shots, tenths):
        s.duration = t / 10


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
    others share what is left (to the frame)."""
    before = {s.id: s.duration for s in old.shots}
    fixed = [s.id for s in new.shots if s.id in before and abs(before[s.id] - s.duration) > 1e-9 or s.id not in before]
    free = [s for s in new.shots if s.id not in fixed]
    if not free:
        fitted = fit_storyboard(new, seconds, max(max_shot_seconds, 60.0))
    else:
        lo, hi = 0.02, 20.0
        trial = new
        for _ in range(40):   # the film's length grows with the free shots' scale: bisect for it
            mid = (lo + hi) / 2
            trial = new.model_copy(deep=True)
            for s in trial.shots:
                if s.id not in fixed:
                    s.duration = round(max(0.05, before[s.id] * mid), 4)
            if film_seconds(trial) < seconds:
                lo = mid
            else:
                hi = mid
        fitted = trial
        off = round((seconds - film_seconds(fitted)) * fitted.fps)
        longest = max((s for s in fitted.shots if s.id not in fixed), key=lambda s: s.duration)
        longest.duration = round(longest.duration + off / fitted.fps, 4)
    if fitted is None or abs(film_seconds(fitted) - seconds) > 1 / new.fps or any(s.duration <= 0 for s in fitted.shots):
        return new, f"I couldn't keep the film at {seconds:g} s with that change."
    return fitted, f"The film stays {seconds:g} s: the other shots give up the time."


def _narration_for(shot: Shot) -> str:
    line = " ".join(p for p in (shot.subject, shot.action) if p).strip()
    if shot.setting:
        line += (" " if line else "") + (shot.setting if re.match(r"^(?:at|in|on|under|by)\b", shot.setting) else f"in {shot.setting}")
    line = re.sub(r"\s+", " ", line).strip()
    return (line[0].upper() + line[1:] + ".") if line else ""


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
    sb = storyboard.model_copy(deep=True)
    order = [s.id for s in sb.shots]
    notes: list[str] = []
    reasons: list[str] = []
    not_understood: list[str] = []
    select: tuple[str, int] | None = None
    valid = ", ".join(f"{i + 1} ({sid})" for i, sid in enumerate(order))

    def unchanged(question: str | None, reason: str = "no change", undo: bool = False) -> FeedbackResult:
        return FeedbackResult(storyboard=original.model_copy(deep=True), reason=reason, changed_shots=[], notes=notes,
                              select_take=None, undo=undo, question=question)

    raw = (text or "").strip()
    if not raw:
        return unchanged(f"What should I change? For example: {EXAMPLES}.")
    if _UNDO.match(raw):
        return unchanged(None, reason="undo: back to the previous version", undo=True)

    quotes: list[str] = []

    def _stash(m: re.Match) -> str:
        quotes.append(next(g for g in m.groups() if g is not None).strip())
        return f" ⟦{len(quotes) - 1}⟧ "

    wants_render: bool | None = None
    if RENDER_ONLY.match(raw):
        return FeedbackResult(storyboard=original.model_copy(deep=True), reason="render", changed_shots=[], notes=notes,
                              wants_render=True)
    if RENDER_TAIL.search(raw) and not RENDER_ONLY.match(RENDER_TAIL.sub("", raw) or "x"):
        raw, wants_render = RENDER_TAIL.sub("", raw).strip(" ,;"), True   # "make it vertical and render it"
    keep = KEEP_LENGTH.search(raw)
    keep_seconds: float | None = None
    if keep:
        keep_seconds = float(keep.group(1)) if keep.group(1) else film_seconds(original)
        raw = (raw[:keep.start()] + raw[keep.end():]).strip(" ,;")

    work = QUOTE.sub(_stash, raw)
    clauses = _split_clauses(work)
    by_id = {s.id: s for s in sb.shots}
    previous_targets: list[str] = []
    pending_removals: list[str] = []
    pending_moves: list[tuple[str, str, str | None]] = []   # (shot_id, "start"|"end"|"after"|"before", anchor)
    pending_swaps: list[tuple[str, str]] = []
    pending_adds: list[tuple[Shot, str, str | None]] = []

    def lines_in(clause: str) -> list[str]:
        return [quotes[int(i)] for i in re.findall(r"⟦(\d+)⟧", clause)]

    for clause in clauses:
        low = clause.lower()
        is_swap = bool(re.search(r"\b(?:swap|switch|exchange|flip)\b", low))
        refs = _find_refs(clause, order, bare_numbers=is_swap, subjects={s.id: s.subject for s in sb.shots})
        if refs.bad:
            shots_word = "shot" if len(refs.bad) == 1 else "shots"
            return unchanged(f"There is no {shots_word} {' or '.join(refs.bad)}: this storyboard has shots {valid}. Which did you mean?")
        targets = refs.ids
        rest = refs.text.lower()
        carried = False
        if not targets and shots:
            # shots picked in the interface: they scope shot edits, but "make it vertical" is still the whole film
            targets, carried = [s for s in shots if s in by_id], True
        if not targets and previous_targets and re.match(r"^(?:and\s+)?(?:make\s+)?(?:it|them|that\s+one|too|also)\b|^(?:and\s+)?(?:a\s+bit\s+|much\s+|more\s+|less\s+)?\w+er\b", rest):
            targets, carried = previous_targets, True
        handled = False
        by_position = False
        opening = re.match(r"^(?:and\s+)?(?:open|start|begin)\s+(?:with|on)\s+(?:an?\s+)", low)
        ending = re.match(r"^(?:and\s+)?(?:end|finish|close)\s+(?:with|on)\s+(?:an?\s+)", low)
        if not targets and (opening or ending) and (find_camera(clause) or find_framing(clause)):
            targets = [order[0] if opening else order[-1]]   # "open with a drone shot": the opening only
            by_position = True   # scoped by position, not a shot to move

        # --- "add rain", "add fog to shot 2": weather and texture on shots, not a new shot
        added = ADD_WEATHER.search(low)
        if added and not re.search(r"\b(?:shot|scene|clip)\s+of\b", low):
            word = re.sub(r"\s+", " ", added.group(1).lower())
            fld, words = ADDITIONS[word]
            if fld == "style":
                sb.style_guide = merge_items(sb.style_guide, words)
            else:
                for s in ([by_id[t] for t in targets] if targets else sb.shots):
                    setattr(s, fld, merge_items(getattr(s, fld), words))
            reasons.append(f"{word} on {', '.join(targets) if targets and fld != 'style' else 'every shot'}")
            previous_targets = targets
            continue

        # --- take selection: "use the second take of shot 4", "take 2 for shot 1"
        m = re.search(rf"\b(?:(?:the\s+)?({'|'.join(ORDINALS)}|last|latest|previous|earlier|original|newest)\s+take|take\s+(?:number\s+|#)?(\d+))\b", low)
        if m and not targets and not re.search(r"\b(?:add|another|new|one\s+more)\b", low):
            return unchanged("Which shot's take? For example: 'use the second take of shot 2'.")
        if m and targets:
            sid = targets[0]
            word = m.group(1)
            count = None
            if takes_by_shot is not None and sid in takes_by_shot:
                v = takes_by_shot[sid]
                count = v if isinstance(v, int) else len(v)
            if m.group(2):
                index = int(m.group(2)) - 1
            elif word in {"last", "latest", "newest"}:
                if count is None:
                    return unchanged(f"How many takes does shot {order.index(sid) + 1} have? Say which take, e.g. 'use take 2 of shot {order.index(sid) + 1}'.")
                index = count - 1
            elif word in {"previous", "earlier"}:
                index = (count - 2) if count else 0
            elif word == "original":
                index = 0
            else:
                index = ORDINALS[word] - 1
            if count is not None and not (0 <= index < count):
                return unchanged(f"Shot {order.index(sid) + 1} ({sid}) has {count} take{'s' if count != 1 else ''}; which one do you want (1–{count})?")
            if index < 0:
                return unchanged(f"Which take of shot {order.index(sid) + 1} do you want?")
            select = (sid, index)
            reasons.append(f"use take {index + 1} of {sid}")
            previous_targets = targets
            continue

        # --- add a shot
        pos = re.search(r"\b(?:at\s+the\s+(end|start|beginning|front)|to\s+the\s+(end|start|beginning)|(first|last)|(after|before)\s+((?:shot\s+)?\d+|the\s+\w+\s+shot|shot\s+[a-z0-9_-]+))\b", clause, re.I)
        add_text = clause.replace(pos.group(0), " ") if pos else clause
        m = re.match(r"^(?:please\s+)?(?:and\s+)?(?:add|insert|include|append|put\s+in)\s+(?:(?:a|an|one|another)\s+)?(?:more\s+|new\s+|extra\s+|final\s+|closing\s+|opening\s+)?(.*)$", add_text.strip(), re.I)
        if m and not re.match(r"^(?:some\s+|the\s+)?(?:narration|voice[\s-]?over|captions?|subtitles?|text|music|a\s+caption|film\s+grain|grain|fog|mist|rain|snow|more)\b", m.group(1), re.I):
            body = m.group(1)
            where, anchor = "end", None
            if pos:
                word = (pos.group(1) or pos.group(2) or pos.group(3) or pos.group(4) or "").lower()
                if word in {"start", "beginning", "front", "first"}:
                    where = "start"
                elif word in {"after", "before"}:
                    target = pos.group(5)
                    anchor_refs = _find_refs(f"shot {target}" if target.isdigit() else target, order)
                    if anchor_refs.bad:
                        return unchanged(f"There is no shot {anchor_refs.bad[0]}: this storyboard has shots {valid}.")
                    if anchor_refs.ids:
                        where, anchor = word, anchor_refs.ids[0]
            body = re.sub(r"\b(?:at\s+the\s+(?:end|start|beginning|front)|to\s+the\s+(?:end|start|beginning))\b", " ", body, flags=re.I)
            body = re.sub(r"^(?:shot|scene|clip)\s*(?:of|with|showing)?\s*", "", body.strip(), flags=re.I)
            body = re.sub(r"\s+", " ", body).strip(" ,:")
            beat = parse_beat(body, quotes)
            if not (beat.subject or beat.action or beat.setting):
                not_understood.append(clause)
                continue
            all_ids = order + [a[0].id for a in pending_adds]
            sid = _new_id(all_ids)
            durations = [s.duration for s in sb.shots]
            neg = sb.shots[0].negative_prompt if all(s.negative_prompt == sb.shots[0].negative_prompt for s in sb.shots) else ""
            is_card = bool(re.search(r"\b(?:logo|title|card|tagline|product)\b", beat.subject, re.I))
            framing = beat.framing or ("close_up" if is_card else ("wide" if where in {"start", "end"} else "medium"))
            camera = beat.camera or ("static" if is_card else ("dolly_in" if where == "start" else ("dolly_out" if where == "end" else "static")))
            new = Shot(
                id=sid, duration=round(statistics.median(durations), 1), subject=beat.subject, action=beat.action,
                setting=beat.setting or ("" if is_card else sb.shots[-1 if where == "end" else 0].setting),
                atmosphere=", ".join(beat.atmosphere), lighting=", ".join(beat.lighting), technical=", ".join(beat.technical),
                camera=camera, framing=framing, negative_prompt=neg, seed=seed_for(f"{sb.title}|{raw}", sid),
                transition=sb.shots[0].transition, narration=" ".join(beat.narration) or None, caption=beat.caption,
            )
            pending_adds.append((new, where, anchor))
            reasons.append(f"added {sid} ({beat.subject or beat.action}) {'at the ' + where if where in {'start', 'end'} else where + ' ' + str(anchor)}")
            handled = True
            continue

        # --- swap
        if is_swap and len(targets) >= 2:
            pending_swaps.append((targets[0], targets[1]))
            reasons.append(f"swapped shots {order.index(targets[0]) + 1} and {order.index(targets[1]) + 1}")
            previous_targets = targets
            continue

        # --- move / open with / end on
        m = re.search(r"\b(?:move|put|bring|place|shift)\b|\b(?:open|start|begin)\s+(?:with|on)\b|\b(?:end|finish|close)\s+(?:with|on)\b", low)
        if m and targets and not by_position and not re.search(r"\b(?:narration|caption|text)\b", low):
            # "after shot 3" names a shot; "to the start" is read with the shot references taken out ("the last shot")
            dest = re.search(r"\b(after|before)\s+((?:shot\s+)?\d+|the\s+\w+(?:\s+shot)?|shot\s+[a-z0-9_-]+)", clause, re.I) \
                or re.search(r"\b(?:to\s+the\s+)?(start|beginning|front|top|first|end|last|back)\b", refs.text, re.I)
            verb = m.group(0).lower()
            where, anchor = None, None
            moving = targets
            if verb.startswith(("open", "start", "begin")):
                where = "start"
            elif verb.startswith(("end", "finish", "close")):
                where = "end"
            elif dest and dest.group(1).lower() in {"after", "before"}:
                target = dest.group(2)
                anchor_refs = _find_refs(f"shot {target}" if target.isdigit() else target, order)
                if anchor_refs.bad:
                    return unchanged(f"There is no shot {anchor_refs.bad[0]}: this storyboard has shots {valid}.")
                if anchor_refs.ids:
                    where, anchor = dest.group(1).lower(), anchor_refs.ids[-1]
                    moving = [t for t in targets if t != anchor] or targets
            elif dest:
                where = "start" if dest.group(1).lower() in {"start", "beginning", "front", "top", "first"} else "end"
            if where:
                for sid in moving:
                    pending_moves.append((sid, where, anchor))
                reasons.append(f"moved {', '.join(moving)} to the {where}" if not anchor else f"moved {', '.join(moving)} {where} {anchor}")
                previous_targets = moving
                continue

        # --- remove
        if re.search(r"\b(?:cut(?!\s+to)|remove|drop|delete|lose|scrap|skip|get\s+rid\s+of|take\s+out|kill|ditch)\b", low) and targets \
                and not re.search(r"\b(?:narration|voice[\s-]?over|captions?|text|music|transitions?|seconds?|shorter|down)\b", low):
            pending_removals += [t for t in targets if t not in pending_removals]
            reasons.append(f"removed {', '.join(targets)}")
            previous_targets = targets
            continue

        # --- narration and captions (no pixels)
        if re.search(r"\b(?:no|without|remove|drop|cut|lose|kill|delete)\s+(?:the\s+|all\s+(?:the\s+)?)?(?:narration|voice[\s-]?over|narrator|voice)\b", low):
            for s in sb.shots:
                if not targets or s.id in targets:
                    s.narration = None
            reasons.append("no narration" if not targets else f"no narration on {', '.join(targets)}")
            handled = True
        elif re.search(r"\b(?:narration|voice[\s-]?over|narrator|say|says|line|lines)\b", low) and (lines_in(clause) or re.search(r"\badd\b|\bwith\b", low)):
            lines = lines_in(clause)
            if lines:
                slots = targets or [s.id for s in sb.shots if not s.narration] or order
                for sid, line in zip(slots, lines):
                    by_id[sid].narration = line
                if len(lines) > len(slots):
                    by_id[slots[-1]].narration = " ".join([by_id[slots[-1]].narration or ""] + lines[len(slots):]).strip()
                reasons.append(f"narration on {', '.join(slots[:len(lines)])}")
            else:
                for s in sb.shots:
                    if (not targets or s.id in targets) and not s.narration:
                        s.narration = _narration_for(s)
                reasons.append("added narration")
                notes.append("Narration lines are written from each shot's description; give me quoted lines to use your words.")
            handled = True
        if re.search(r"\b(?:no|without|remove|drop)\s+(?:the\s+)?(?:captions?|subtitles?|on[\s-]screen\s+text|titles?)\b", low):
            for s in sb.shots:
                if not targets or s.id in targets:
                    s.caption = None
            reasons.append("no captions")
            handled = True
        elif re.search(r"\b(?:caption|text|title|tagline|super)\b", low) and lines_in(clause) and not re.search(r"narration|voice", low):
            sid = targets[0] if targets else order[-1]
            by_id[sid].caption = " ".join(lines_in(clause))
            reasons.append(f"caption on {sid}")
            handled = True
        if handled:
            previous_targets = targets
            continue

        # --- transitions (no pixels)
        tr = re.search(r"\b(crossfades?|cross-fades?|dissolves?|hard\s+cuts|straight\s+cuts|cuts\s+only|wipes?)\b", low)
        if tr and not re.search(r"\bshorter|seconds\b", low):
            word = tr.group(1)
            kind = "crossfade" if word.startswith(("cross", "dissolve")) else "wipe" if word.startswith("wipe") else "cut"
            for s in sb.shots[:-1]:
                if not targets or s.id in targets:
                    s.transition = kind
            reasons.append(f"{kind} transitions")
            handled = True
        if re.search(r"\bfade\s+(?:out|to\s+black)\b", low):
            sb.shots[-1].transition = "fade"
            reasons.append("fade out at the end")
            handled = True

        # --- regenerate
        if re.search(r"\b(?:regenerate|re-?render|redo|re-?roll|try\s+(?:it\s+|that\s+)?again|another\s+(?:take|version|go)|new\s+take|one\s+more\s+take|different\s+seed)\b", low):
            for sid in targets or order:
                s = by_id[sid]
                s.seed = seed_for(f"{s.seed}|{raw}", sid)
            reasons.append(f"new take of {', '.join(targets) if targets else 'every shot'}")
            handled = True

        # --- format
        aspects = find_aspects(clause)
        if re.search(r"\bsquare\b", low) and not any(a[0] == "1:1" for a in aspects):
            aspects.append(("1:1", "square", True, 0))
        if aspects and (not targets or carried):
            ratio = next((a for a in aspects if a[2]), aspects[0])[0]
            if ratio != sb.aspect_ratio:
                sb.aspect_ratio = ratio
                reasons.append(f"aspect ratio {ratio}")
                notes.append(f"Every shot is reframed for {ratio}, so every shot renders again.")
            else:
                reasons.append(f"already {ratio}")
                notes.append(f"The film is already {ratio}.")
            handled = True
        m = re.search(r"\b(\d{1,2})\s*fps\b", low)
        if m:
            sb.fps = int(m.group(1))
            reasons.append(f"{sb.fps} fps")
            handled = True
        m = re.search(r"\b(2160|1440|1080|720|576|480|360)p\b", low)
        if m:
            sb.resolution = int(m.group(1))
            reasons.append(f"{sb.resolution}p")
            handled = True

        # --- style for the whole film
        styles = find_style(clause)
        look_like = re.search(r"\b(?:look(?:s)?\s+like|feel\s+like|in\s+the\s+style\s+of|style\s+of)\s+(?:an?\s+|the\s+)?([^,.;]+)", refs.text, re.I)
        if (styles or look_like) and (not targets or carried):
            replace_it = bool(look_like) or bool(re.search(r"\b(?:make\s+it|turn\s+it\s+into|instead|style|look)\b", low)) and not re.search(r"\b(?:more|add|also|a\s+bit|slightly|extra)\b", low)
            new_style = ", ".join(styles) if styles else look_like.group(1).strip()  # type: ignore[union-attr]
            sb.style_guide = new_style if replace_it else merge_items(sb.style_guide, new_style)
            reasons.append(f"look: {sb.style_guide}")
            handled = True

        # --- length of the film or of shots
        secs = _seconds_in(clause)
        scope = [by_id[t] for t in targets] if targets else sb.shots
        at_most = bool(re.search(r"\b(?:no\s+more\s+than|at\s+most|under|max(?:imum)?|less\s+than|no\s+longer\s+than)\b", low))
        if secs and at_most and not targets and sb.duration <= secs:
            reasons.append(f"already {round(sb.duration, 1):g} s")
            handled = True
        elif secs and (at_most or re.search(r"\b(?:make|cut|trim|set|bring|keep|it|to|shorten|long|total|down|film|video|be)\b", low)) and not re.search(r"\bfps\b", low):
            if targets:
                for s in scope:
                    s.duration = round(min(secs, 60.0), 1)
                reasons.append(f"{', '.join(targets)} {secs:g} s")
            else:
                _retime(sb.shots, secs)
                if abs(sb.duration - secs) > 0.05:
                    notes.append(f"{secs:g} s doesn't fit {len(sb.shots)} shots of 0.5–{MAX_SHOT_SECONDS:g} s; the film is now {round(sb.duration, 1):g} s.")
                reasons.append(f"length {round(sb.duration, 1):g} s")
            notes.append("A shot's length is its frame count, so the retimed shots render again.")
            if any(s.duration > max_shot_seconds for s in scope):
                long = [s.id for s in scope if s.duration > max_shot_seconds]
                notes.append(f"{', '.join(long)} now run longer than {max_shot_seconds:g} s, more than most video models make in one go.")
            handled = True
        elif _SHORTER.search(low) or (re.search(r"\bcut\s+it\b", low) and not targets):
            for s in scope:
                s.duration = _scale(s, 0.75, max_shot_seconds)
            reasons.append(f"{'shorter ' + ', '.join(targets) if targets else 'shorter: every shot 25% shorter'}")
            notes.append("Durations set frame counts, so the shortened shots render again.")
            handled = True
        elif _LONGER.search(low):
            for s in scope:
                s.duration = _scale(s, 1.25, max(max_shot_seconds, 60.0 if targets else max_shot_seconds))
            reasons.append(f"{'longer ' + ', '.join(targets) if targets else 'longer: every shot 25% longer'}")
            notes.append("Durations set frame counts, so the lengthened shots render again.")
            handled = True

        # --- pace
        if _ENERGETIC.search(low) and (not targets or carried):
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
            reasons.append("more energetic: shorter shots, hard cuts, moving camera")
            handled = True
        elif _SLOWER.search(low):
            for s in scope:
                s.duration = _scale(s, 1.25, max_shot_seconds)
                s.technical = _edit_items(s.technical, _SLOW_TECH, r"fast|quick|rapid|dynamic")
                if s.camera in {"handheld"}:
                    s.camera = "dolly_in"
                if not targets and s is not sb.shots[-1]:
                    s.transition = "crossfade"
            capped = [s.id for s in scope if s.duration >= max_shot_seconds]
            if capped:
                notes.append(f"{', '.join(capped)} stay at most {max_shot_seconds:g} s; slower camera moves instead.")
            reasons.append(f"slower {', '.join(targets) if targets else 'pace'}")
            handled = True
        elif _FASTER.search(low):
            for s in scope:
                s.duration = _scale(s, 0.8, max_shot_seconds)
                s.technical = _edit_items(s.technical, _FAST_TECH, r"slow|gentle")
            reasons.append(f"faster {', '.join(targets) if targets else 'pace'}")
            handled = True

        # --- camera and framing of shots
        if not re.search(r"\b(?:add|insert)\b", low):
            cam_text = re.sub(r"\bcamera\b", " ", refs.text)
            camera = find_camera(cam_text)
            framing = find_framing(cam_text)
            if not framing:
                m = re.search(r"\b(?:make\s+(?:it|them)\s+)?(?:an?\s+)?(wide|medium)\b(?:\s+shot)?", rest)
                if m and (targets or re.search(r"\bshots?\b", rest)):
                    framing = m.group(1)
            step = 0
            if re.search(r"\b(?:wider|pull\s+back|further\s+away|zoom\s+out\s+the\s+framing)\b", low):
                step = -1
            elif re.search(r"\b(?:tighter|closer|nearer)\b", low):
                step = 1
            if camera or framing or step:
                for s in scope:
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
                reasons.append(f"{', '.join(targets) if targets else 'every shot'}: {what}")
                handled = True

        # --- looks: darker, stormier, warmer ...
        looked = []
        for pattern, label, edits in _LOOKS:
            if re.search(rf"\b(?:{pattern})\b", low):
                for s in scope:
                    for fld, add, remove in edits:
                        current = getattr(s, fld)
                        if fld == "setting":
                            if add and "storm" not in current.lower():
                                setattr(s, fld, f"{current}, {add}" if current else add)
                        else:
                            setattr(s, fld, _edit_items(current, add, remove))
                looked.append(label)
        if looked:
            reasons.append(f"{', '.join(targets) if targets else 'every shot'} {' and '.join(looked)}")
            handled = True

        # --- time of day: "at night", "make it sunset"
        tod = re.search(r"\b(?:at|by|to|into)\s+(night|dawn|dusk|sunset|sunrise|midday|noon|midnight|daybreak|twilight)\b|\b(night[\s-]?time|golden\s+hour|daytime|sunset|sunrise)\b", low)
        if tod:
            when = (tod.group(1) or tod.group(2)).replace("-", " ")
            light = {"night": "night, artificial light", "midnight": "night, artificial light", "night time": "night, artificial light",
                     "nighttime": "night, artificial light", "dawn": "soft dawn light", "sunrise": "soft dawn light",
                     "daybreak": "soft dawn light", "dusk": "warm low sunset light", "sunset": "warm low sunset light",
                     "twilight": "warm low sunset light", "golden hour": "warm golden hour light",
                     "midday": "bright midday sun", "noon": "bright midday sun", "daytime": "bright daylight"}.get(when, "")
            times = r"\b(?:at\s+)?(?:night|dawn|dusk|sunset|sunrise|midday|noon|midnight|daybreak|twilight|golden\s+hour|morning|evening)\b"
            for s in scope:
                setting = re.sub(r"\s*,?\s*" + times, "", s.setting, flags=re.I).strip(" ,")
                phrase = when if when in {"golden hour", "daytime"} else f"at {when}"
                s.setting = f"{setting} {phrase}".strip() if setting else phrase
                s.lighting = _edit_items(s.lighting, light, r"dawn|sunset|dusk|night|midday|daylight|golden|moon|sun")
            reasons.append(f"{', '.join(targets) if targets else 'every shot'} {when}")
            handled = True

        # --- words in the picture: "replace the dog with a cat", "change the boat to a yacht"
        if not handled:
            m = re.search(r"\b(?:replace|swap\s+out|switch)\s+(?:the\s+)?(.+?)\s+(?:with|for)\s+(.+)$|\bchange\s+(?:the\s+)?(.+?)\s+(?:to|into)\s+(.+)$"
                          r"|\bmake\s+the\s+(.+?)\s+(?:an?\s+)(.+)$|(?:^|,\s*|\b(?:in|on)\s+)(?:the\s+)?([a-z][\w' -]*?)\s+should\s+be\s+(?:an?\s+)?(.+)$",
                          refs.text.strip(" ,"), re.I)
            colour = re.fullmatch(r"(?:make|paint|turn)\s+the\s+([a-z][\w'-]*)\s+([a-z]+)", refs.text.strip(" ,."), re.I)
            if not m and colour and any(re.search(rf"\b{re.escape(colour.group(1))}\b", x.subject, re.I) for x in sb.shots):
                # "make the boat red": the thing gets the adjective, in every shot that shows it
                thing, adjective = colour.group(1), colour.group(2)
                hit = [x.id for x in scope if re.search(rf"\b{re.escape(thing)}\b", x.subject, re.I)]
                for x in scope:
                    x.subject = re.sub(rf"\b{re.escape(thing)}\b", f"{adjective} {thing}", x.subject, count=1, flags=re.I)
                reasons.append(f"{adjective} {thing} in {', '.join(hit)}")
                handled = True
            member = find_member(sb, (m.group(1) or m.group(3) or m.group(5) or m.group(7) or "")) if m else None
            if m and member is not None:
                # a cast member: change them once, and every shot they are in changes with them
                recast_sb, what = recast(sb, member.id, (m.group(2) or m.group(4) or m.group(6) or m.group(8)))
                sb.cast = recast_sb.cast
                for shot in recast_sb.shots:
                    for fld in ("subject", "action", "narration"):
                        setattr(by_id[shot.id], fld, getattr(shot, fld))
                reasons.append(what)
                handled = True
            elif m:
                old_word = (m.group(1) or m.group(3) or m.group(5) or m.group(7)).strip(" ,")
                new_word = (m.group(2) or m.group(4) or m.group(6) or m.group(8)).strip(" .")
                old_word = re.sub(r"^(?:in|on)\s+,?\s*", "", old_word, flags=re.I).strip(" ,")
                new_word = re.sub(r"^(?:an?|the)\s+", "", new_word, flags=re.I)
                old_word = re.sub(r"^(?:an?|the)\s+", "", old_word, flags=re.I)
                hit = []
                for s in scope:
                    for fld in ("subject", "action", "setting"):
                        value = getattr(s, fld)
                        new_value = re.sub(rf"\b{re.escape(old_word)}\b", new_word, value, flags=re.I)
                        if new_value != value:
                            setattr(s, fld, new_value)
                            if s.id not in hit:
                                hit.append(s.id)
                if hit:
                    reasons.append(f"{old_word} -> {new_word} in {', '.join(hit)}")
                    handled = True
                else:
                    notes.append(f"No shot shows '{old_word}'.")

        if handled:
            previous_targets = targets if not carried else previous_targets
        else:
            not_understood.append(clause)

    # structural edits last, so every number meant the order the person saw
    shots_now = list(sb.shots)
    for a, b in pending_swaps:
        ia, ib = [s.id for s in shots_now].index(a), [s.id for s in shots_now].index(b)
        shots_now[ia], shots_now[ib] = shots_now[ib], shots_now[ia]
    for sid, where, anchor in pending_moves:
        shot = by_id[sid]
        shots_now.remove(shot)
        if where == "start":
            shots_now.insert(0, shot)
        elif where == "end":
            shots_now.append(shot)
        else:
            k = [s.id for s in shots_now].index(anchor)  # type: ignore[arg-type]
            shots_now.insert(k + 1 if where == "after" else k, shot)
    for new, where, anchor in pending_adds:
        if where == "start":
            shots_now.insert(0, new)
        elif where == "end":
            if shots_now and shots_now[-1].transition == "fade":
                # the old ending's fade-out now belongs to the new last shot
                shots_now[-1].transition = shots_now[0].transition if len(shots_now) > 1 else "cut"
                new.transition = "fade"
            shots_now.append(new)
        else:
            k = [s.id for s in shots_now].index(anchor)  # type: ignore[arg-type]
            shots_now.insert(k + 1 if where == "after" else k, new)
    if pending_removals:
        remaining = [s for s in shots_now if s.id not in pending_removals]
        if not remaining:
            return unchanged("That would remove every shot. Which shot should stay?")
        shots_now = remaining

    if not reasons and select is None:
        if not_understood:
            return unchanged(f"I didn't understand \"{raw}\". Could you rephrase? For example: {EXAMPLES}.")
        return unchanged(f"What should I change? For example: {EXAMPLES}.")
    if not_understood:
        shown = [_MARK_RE.sub(lambda m: repr(quotes[int(m.group(1))]), c) for c in not_understood]
        notes.append("I didn't understand: " + "; ".join(f"'{c}'" for c in shown) + ".")

    new_sb = Storyboard.model_validate({**sb.model_dump(exclude={"shots"}), "shots": [s.model_dump() for s in shots_now]})
    if keep_seconds is not None:
        new_sb, kept = hold_length(original, new_sb, keep_seconds, max_shot_seconds)
        notes.append(kept)
    notes += length_notes(original, new_sb)
    changed = changed_shot_ids(original, new_sb)
    if not changed and reasons and select is None:
        notes.append("No shot needs new pixels.")
    reason = "; ".join(reasons) if reasons else "no change"
    reason = reason[0].upper() + reason[1:]
    return FeedbackResult(storyboard=new_sb, reason=reason, changed_shots=changed, notes=notes, select_take=select,
                          undo=False, question=None, wants_render=wants_render)
