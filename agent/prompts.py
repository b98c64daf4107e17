"""The prompt composer: a shot's structured fields -> the text a video model reads.

Order (the storyboard contract, ``storyboards.schema.PROMPT_FIELDS``): the film's style guide first,
then style, subject, action, setting, atmosphere, lighting, camera, framing, technical. Empty fields
are skipped; the rest are joined with ", ". An item of style, atmosphere, lighting or technical that
an earlier part already said (case-insensitively) is not repeated. Camera and framing are written as the words video models
were captioned with ("slow dolly in", "wide shot", "dutch angle"), not as our enum names.

Token budget. Each backend's text encoder reads a limited number of tokens (settings
``token_budgets``: animatic unlimited, CogVideoX 226, LTX 128, Wan 512, AnimateDiff/SVD CLIP 77).
We do not load a tokenizer to count: ``estimate_tokens`` counts words (runs of letters/digits) as
1.3 tokens each, rounded up, plus one token per punctuation mark. Real BPE/SentencePiece tokenizers
land near that for English prompts, and the estimate errs on the long side.

Truncation rule, applied one step at a time until the prompt fits (each applied step is reported in
``dropped``, in this order):
  1. ``technical``            dropped
  2. ``atmosphere``           dropped
  3. ``lighting``             dropped
  4. ``setting details``      the setting cut to its first phrase (before a comma, "with", "where", "while")
  5. ``style``                the shot's own style dropped (the film's style guide still carries the look)
  6. ``style guide details``  the style guide cut to its first comma-separated item
  7. ``framing``              dropped
  8. ``camera``               dropped
  9. ``setting``              dropped
 10. ``style guide``          dropped
Subject and action are never dropped or shortened. If they alone exceed the budget the prompt is
returned whole with ``over_budget=True`` (the encoder will cut the tail; say so to the person).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storyboards.schema import CastMember, Shot, Storyboard

if TYPE_CHECKING:
    from agent.settings import AgentSettings

CAMERA_WORDS = {
    "static": "static camera",
    "pan_left": "camera pans left",
    "pan_right": "camera pans right",
    "tilt_up": "camera tilts up",
    "tilt_down": "camera tilts down",
    "dolly_in": "slow dolly in",
    "dolly_out": "slow dolly out",
    "zoom_in": "slow zoom in",
    "zoom_out": "slow zoom out",
    "tracking": "tracking shot",
    "orbit": "camera orbits around the subject",
    "crane": "crane shot rising",
    "handheld": "handheld camera",
    "aerial": "aerial drone shot",
}
FRAMING_WORDS = {
    "extreme_wide": "extreme wide shot",
    "wide": "wide shot",
    "medium": "medium shot",
    "close_up": "close-up",
    "extreme_close_up": "extreme close-up",
    "low_angle": "low angle shot",
    "high_angle": "high angle shot",
    "dutch_angle": "dutch angle",
    "overhead": "overhead shot",
}
# A shot whose technical notes ask for speed gets "fast dolly in" rather than "slow dolly in".
_FAST = re.compile(r"\b(fast|quick|rapid|whip|snappy|energetic|dynamic)\b", re.I)

TRUNCATION_ORDER = (
    "technical", "atmosphere", "lighting", "setting details", "style",
    "style guide details", "framing", "camera", "setting", "style guide",
)


@dataclass(frozen=True)
class ComposedPrompt:
    prompt: str
    negative_prompt: str
    truncated: bool = False
    dropped: list[str] = field(default_factory=list)
    tokens: int = 0                 # estimate_tokens(prompt)
    budget: int | None = None       # None: unlimited
    over_budget: bool = False       # subject + action alone exceed the budget


def estimate_tokens(text: str) -> int:
    """Estimated tokens: ceil(1.3 x words) + punctuation marks (words = runs of letters/digits)."""
    words = len(re.findall(r"[^\W_]+", text))
    punct = len(re.findall(r"[^\w\s]", text))
    return math.ceil(1.3 * words) + punct


def camera_words(shot: Shot) -> str:
    words = CAMERA_WORDS.get(shot.camera, shot.camera.replace("_", " "))
    if _FAST.search(shot.technical or "") and words.startswith("slow "):
        words = "fast " + words[len("slow "):]
    return words


def framing_words(shot: Shot) -> str:
    return FRAMING_WORDS.get(shot.framing, shot.framing.replace("_", " "))


def split_items(text: str | None) -> list[str]:
    """'a, b; c' -> ['a', 'b', 'c'] (comma/semicolon separated, stripped, empties removed)."""
    return [p.strip() for p in re.split(r"[,;]", text or "") if p.strip()]


def merge_items(*texts: str | None) -> str:
    """Join comma lists, keeping the first of any case-insensitive duplicates."""
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        for item in split_items(text):
            key = item.lower()
            if key not in seen:
                seen.add(key)
                out.append(item)
    return ", ".join(out)


def cast_words(shot: Shot, cast: Sequence[CastMember]) -> str:
    """The descriptions of the cast members in `shot`, verbatim, each once; a description the subject
    already says word for word is not repeated."""
    members = {m.id: m for m in cast}
    subject = _clean(shot.subject).lower()
    out: list[str] = []
    for member_id in shot.cast:
        member = members.get(member_id)
        text = _clean(member.description) if member else ""
        if text and text.lower() not in subject and text not in out:
            out.append(text)
    return ", ".join(out)


def _shorten_phrase(text: str) -> str:
    head = re.split(r",|;|\s+(?:with|where|while|and|as)\s+", text, maxsplit=1)[0]
    return head.strip()


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "")).strip().strip(",;").strip()


def compose_prompt(
    shot: Shot,
    style_guide: str = "",
    backend: str | None = "animatic",
    *,
    film_negative: str | None = None,
    budget: int | None | str = "auto",
    model: str | None = None,
    settings: AgentSettings,
    cast: Sequence[CastMember] = (),
) -> ComposedPrompt:
    """Compose one shot's prompt and negative prompt for `backend`.

    `settings`: the Director's (made once at the front door): token budgets and the film-wide negatives.
    `cast`: the film's cast; each member the shot names is described verbatim right after the subject
    (never dropped for the budget, like the subject: it is who we see).
    `film_negative`: film-wide negatives added to the shot's own (default: settings.film_negative_prompt).
    `budget`: "auto" = the backend's budget from settings (see the module docstring); an int or None overrides.
    """
    if budget == "auto":
        budget = settings.token_budget(backend, model)
    if film_negative is None:
        film_negative = settings.film_negative_prompt

    guide = _clean(style_guide)
    # Descriptive lists never repeat an item said earlier ("moody" in the style guide and the atmosphere).
    seen = {i.lower() for i in split_items(guide)}

    def fresh(text: str) -> str:
        items = [i for i in split_items(text) if i.lower() not in seen]
        seen.update(i.lower() for i in items)
        return ", ".join(items)

    style = fresh(shot.style)
    parts: dict[str, str] = {
        "style guide": guide,
        "style": style,
        "subject": _clean(shot.subject),
        "cast": cast_words(shot, cast),
        "action": _clean(shot.action),
        "setting": _clean(shot.setting),
        "atmosphere": fresh(shot.atmosphere),
        "lighting": fresh(shot.lighting),
        "camera": camera_words(shot),
        "framing": framing_words(shot),
        "technical": fresh(shot.technical),
    }

    def render() -> str:
        return ", ".join(v for v in parts.values() if v)

    prompt = render()
    dropped: list[str] = []
    if isinstance(budget, int):   # "auto" was resolved above; None means no limit
        for step in TRUNCATION_ORDER:
            if estimate_tokens(prompt) <= budget:
                break
            if step == "setting details":
                short = _shorten_phrase(parts["setting"])
                if not parts["setting"] or short == parts["setting"]:
                    continue
                parts["setting"] = short
            elif step == "style guide details":
                items = split_items(parts["style guide"])
                if len(items) < 2:
                    continue
                parts["style guide"] = items[0]
            else:
                if not parts[step]:
                    continue
                parts[step] = ""
            dropped.append(step)
            prompt = render()
    tokens = estimate_tokens(prompt)
    return ComposedPrompt(
        prompt=prompt,
        negative_prompt=merge_items(shot.negative_prompt, film_negative),
        truncated=bool(dropped),
        dropped=dropped,
        tokens=tokens,
        budget=budget,  # type: ignore[arg-type]
        over_budget=budget is not None and tokens > budget,  # type: ignore[operator]
    )


def compose_storyboard(storyboard: Storyboard, backend: str | None = None, *, settings: AgentSettings) -> dict[str, ComposedPrompt]:
    """Every shot's composed prompt, by shot id. A shot's own `backend` wins over `backend`."""
    return {
        s.id: compose_prompt(s, storyboard.style_guide, s.backend or backend or settings.default_backend, settings=settings,
                             cast=storyboard.cast)
        for s in storyboard.shots
    }


def with_prompts(storyboard: Storyboard, backend: str | None = None, *, settings: AgentSettings) -> Storyboard:
    """A copy of the storyboard with each shot's `prompt` filled in (for `plan --json` and storyboard.yaml)."""
    composed = compose_storyboard(storyboard, backend, settings=settings)
    copy = storyboard.model_copy(deep=True)
    for shot in copy.shots:
        shot.prompt = composed[shot.id].prompt
    return copy


def negatives_from(texts: Iterable[str]) -> str:
    """Deduplicated comma list of negatives from several sources."""
    return merge_items(*texts)
