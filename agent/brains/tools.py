"""The director's verbs, as tools an LLM can call, and what each call does to a draft storyboard.

An LLM brain never writes a storyboard itself: it calls these tools, and every call is checked here
before it changes anything.

- Every argument key is checked against the tool's own list. The lists hold storyboard fields only
  (title, format, shot fields): no verb reaches safety, watermark, label or provenance settings, and
  an unknown key (``watermark: false``) is an error sent back to the model, never written.
- Every storyboard a call would produce goes through ``Storyboard.parse``; an invalid one raises
  ``ToolError`` naming the shot and field, and the draft stays as it was.
- Seeds are not the model's to choose: a shot that already existed keeps its seed, a new shot gets a
  seed derived from a hash (the same text gives the same seed). "Try shot 2 again" is the
  ``regenerate_shot`` verb, which the session serves with a new seed.

Verbs: plan_storyboard, revise_shots, reorder_shots, set_project_settings, render, regenerate_shot,
select_take, assemble_cut, check_safety (read-only: the safety policy's verdict, as information).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agent.planner.rules import seed_for
from storyboards.schema import (
    ASPECT_RATIOS,
    CAMERA_MOVES,
    FRAMINGS,
    MAX_RESOLUTION,
    MAX_SHOT_SECONDS,
    MIN_RESOLUTION,
    TRANSITIONS,
    Storyboard,
    StoryboardError,
)

# What an LLM may write on a shot. Hidden from it, and carried over from the shot it replaces:
# seed (ours), mode/reference/source/strength (files the person gave), backend (a machine setting),
# prompt (derived by the composer).
SHOT_FIELDS = (
    "id", "duration", "style", "subject", "action", "setting", "atmosphere", "lighting", "camera", "framing",
    "technical", "negative_prompt", "transition", "narration", "caption", "cast", "continue_from",
)
HIDDEN_SHOT_FIELDS = ("seed", "mode", "reference", "source", "strength", "backend")
FILM_FIELDS = ("title", "aspect_ratio", "fps", "resolution", "style_guide", "title_card", "end_card")
CAST_FIELDS = ("id", "name", "description")     # a member's reference images are the person's uploads: hidden

READ_ONLY = frozenset({"check_safety"})
PLAN_TOOLS = ("plan_storyboard", "check_safety")
REVISE_TOOLS = (
    "revise_shots", "revise_cast", "reorder_shots", "set_project_settings", "plan_storyboard", "regenerate_shot", "select_take",
    "render", "assemble_cut", "check_safety",
)


class ToolError(ValueError):
    """A tool call that cannot be applied; the message is sent back to the model so it can fix the call."""


# ----------------------------------------------------------------------------- schemas

# Length caps keep a small local model from rambling (llama-cpp turns them into its grammar); a real
# shot description is far shorter.
_TEXT = 240
MAX_SHOTS = 20


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": _TEXT, "description": description}


def _shot_properties(with_id: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = {
        "duration": {"type": "number", "description": "seconds, more than 0 (most video models make at most 4-8 s)"},
        "style": _text("this shot's own look, if it differs (e.g. 'slow motion')"),
        "subject": _text("who or what we see, concretely (e.g. 'a small red fishing boat')"),
        "action": _text("what happens, one clear motion (e.g. 'leaves the harbour')"),
        "setting": _text("where and when (e.g. 'a stone harbour at dawn')"),
        "atmosphere": _text("mood and weather (e.g. 'calm, misty')"),
        "lighting": _text("light quality and direction (e.g. 'soft dawn light')"),
        "camera": {"type": "string", "enum": list(CAMERA_MOVES), "description": "camera move"},
        "framing": {"type": "string", "enum": list(FRAMINGS), "description": "shot size or angle"},
        "technical": _text("lens and technique (e.g. 'shallow depth of field')"),
        "negative_prompt": _text("what must not appear (e.g. 'text, camera shake')"),
        "transition": {"type": "string", "enum": list(TRANSITIONS), "description": "transition into the next shot"},
        "narration": _text("optional voice-over line, also the subtitle"),
        "caption": _text("optional on-screen text"),
        "cast": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 8,
                 "description": "ids of the cast members seen in this shot"},
        "continue_from": {"type": ["string", "null"], "maxLength": 64,
                          "description": "optional: an earlier shot's id whose last frame this shot starts from"},
    }
    if with_id:
        props = {"id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$",
                        "description": "stable shot id: lowercase letters, digits, '-' or '_' (e.g. 's1', 'opening')"},
                 **props}
    return props


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required, "additionalProperties": False},
    }}


def tool_schemas(names: tuple[str, ...] = REVISE_TOOLS) -> list[dict[str, Any]]:
    """The OpenAI-format tool definitions for the given verbs, in that order."""
    film = {
        "title": _text("the film's title"),
        "aspect_ratio": {"type": "string", "enum": list(ASPECT_RATIOS)},
        "fps": {"type": "integer", "minimum": 1, "maximum": 60},
        "resolution": {"type": "integer", "minimum": MIN_RESOLUTION, "maximum": MAX_RESOLUTION,
                       "description": "short side in pixels, even (720 = 1280x720 at 16:9)"},
        "style_guide": _text("the look carried into every shot's prompt"),
        "title_card": {"type": "boolean", "description": "open on a title card (only when asked; it counts in the length)"},
        "end_card": {"type": "boolean", "description": "close on an end card (only when asked; it counts in the length)"},
    }
    member = {"type": "object", "additionalProperties": False, "required": ["id", "description"],
              "properties": {"id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$", "description": "e.g. 'fisherman'"},
                             "name": _text("how the film calls them (e.g. 'the fisherman')"),
                             "description": _text("how they look, concretely, said once for every shot they are in")}}
    shot = {"type": "object", "properties": _shot_properties(), "additionalProperties": False,
            "required": ["id", "duration", "subject", "action", "setting", "camera", "framing"]}
    change = {"type": "object", "additionalProperties": False, "required": ["shot_id"],
              "properties": {"shot_id": {"type": "string", "maxLength": 64, "description": "the id of the shot to change"},
                             **_shot_properties(with_id=False)}}
    shot_id = {"type": "string", "maxLength": 64, "description": "a shot id from the storyboard"}
    all_tools = {
        "plan_storyboard": _tool(
            "plan_storyboard",
            "Write the whole storyboard: film settings and every shot in order. Use it for a new film, or to add "
            "or remove shots (send every shot; existing shots keep their ids).",
            {**film, "cast": {"type": "array", "items": member, "maxItems": 8},
             "shots": {"type": "array", "items": shot, "minItems": 1, "maxItems": MAX_SHOTS}},
            ["title", "aspect_ratio", "fps", "style_guide", "shots"]),
        "revise_shots": _tool(
            "revise_shots", "Change fields of existing shots. Give only the fields that change.",
            {"changes": {"type": "array", "items": change, "minItems": 1}}, ["changes"]),
        "reorder_shots": _tool(
            "reorder_shots", "Put the shots in a new order. List every shot id exactly once.",
            {"order": {"type": "array", "items": {"type": "string", "maxLength": 64}, "minItems": 1, "maxItems": MAX_SHOTS}}, ["order"]),
        "set_project_settings": _tool(
            "set_project_settings", "Change film-wide settings: aspect ratio, fps, resolution, style guide, title.",
            film, []),
        "revise_cast": _tool(
            "revise_cast", "Change how a cast member looks or is called; every shot they are in changes with them.",
            {"changes": {"type": "array", "minItems": 1, "items": {**member, "required": ["id"]}}}, ["changes"]),
        "render": _tool("render", "Render the film now (only shots that changed get new takes).", {}, []),
        "regenerate_shot": _tool(
            "regenerate_shot", "Make a new take of a shot with a new seed, without changing its description.",
            {"shot_id": shot_id}, ["shot_id"]),
        "select_take": _tool(
            "select_take", "Use an earlier take of a shot in the cut.",
            {"shot_id": shot_id, "take": {"type": "integer", "minimum": 1, "description": "take number, 1 = the first take made"}},
            ["shot_id", "take"]),
        "assemble_cut": _tool("assemble_cut", "Assemble the film from the selected takes.", {}, []),
        "check_safety": _tool(
            "check_safety",
            "Ask the safety policy about a text (real people, sexual content, artists, trademarks). Read-only: "
            "it changes nothing and returns the verdict and reasons.",
            {"text": {"type": "string"}}, ["text"]),
    }
    return [all_tools[n] for n in names]


# ----------------------------------------------------------------------------- the draft

@dataclass
class Draft:
    """What the tool calls of one plan or revise have done so far. `storyboard` is always valid (or None)."""

    storyboard: Storyboard | None
    seed_key: str
    takes_by_shot: dict[str, int] | None = None
    max_shot_seconds: float = MAX_SHOT_SECONDS
    regenerate_shots: list[str] = field(default_factory=list)
    select_take: tuple[str, int] | None = None
    wants_render: bool | None = None
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: bool = False     # a verb other than check_safety succeeded


def _check_keys(args: Any, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise ToolError(f"{what} must be a JSON object, not {type(args).__name__}")
    unknown = [k for k in args if k not in allowed]
    if unknown:
        raise ToolError(f"{what}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)}; "
                        f"allowed keys: {', '.join(allowed)}")
    return args


def _parse(data: dict[str, Any]) -> Storyboard:
    try:
        return Storyboard.parse(data)
    except StoryboardError as e:
        raise ToolError(f"invalid storyboard: {e}") from None


def _resolve(sb: Storyboard, ref: Any) -> str:
    """A shot id, or a 1-based position when the model passed a number ("2" for the second shot)."""
    ids = [s.id for s in sb.shots]
    text = str(ref).strip().lower()
    if text in ids:
        return text
    if text.isdigit() and 1 <= int(text) <= len(ids):
        return ids[int(text) - 1]
    shown = str(ref) if len(str(ref)) <= 40 else str(ref)[:40] + "..."
    raise ToolError(f"no shot {shown!r}; the shots are: {', '.join(ids)}")


def _with_seeds(data: dict[str, Any], draft: Draft) -> dict[str, Any]:
    """Carry hidden fields over from shots that already existed; give new shots a deterministic seed."""
    before = {s.id: s for s in draft.storyboard.shots} if draft.storyboard else {}
    shots = []
    for raw in data.get("shots") or []:
        if not isinstance(raw, dict):
            shots.append(raw)  # Storyboard.parse says what is wrong with it
            continue
        raw = dict(raw)
        sid = str(raw.get("id", "")).strip()
        old = before.get(sid)
        for f in HIDDEN_SHOT_FIELDS:
            raw[f] = getattr(old, f) if old is not None else None
        if raw["seed"] is None and sid:
            raw["seed"] = seed_for(draft.seed_key, sid)
        raw["mode"] = raw["mode"] or "t2v"
        shots.append(raw)
    return {**data, "shots": shots}


# Fields that cannot be empty: a model's `null` there means "not given". narration/caption: null = none.
_NOT_NULL = frozenset(SHOT_FIELDS + FILM_FIELDS) - {"narration", "caption", "continue_from"}


def _drop_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (v is None and k in _NOT_NULL)}


def _film_of(sb: Storyboard) -> dict[str, Any]:
    return sb.model_dump(exclude={"shots"})


# ----------------------------------------------------------------------------- the verbs

def _plan_storyboard(draft: Draft, args: dict[str, Any]) -> str:
    _check_keys(args, FILM_FIELDS + ("shots", "cast"), "plan_storyboard")
    for i, m in enumerate(args.get("cast") or []):
        _check_keys(m, CAST_FIELDS, f"plan_storyboard: cast member #{i + 1}")
    shots = args.get("shots")
    if not isinstance(shots, list) or not shots:
        raise ToolError("plan_storyboard: 'shots' must be a non-empty list of shots")
    for i, s in enumerate(shots):
        label = f"shot #{i + 1}" + (f" ('{s.get('id')}')" if isinstance(s, dict) and s.get("id") else "")
        _check_keys(s, SHOT_FIELDS, f"plan_storyboard: {label}")
    base = _film_of(draft.storyboard) if draft.storyboard else {}
    shots = [_drop_nulls(s) for s in shots]
    too_long = []
    if draft.storyboard is None:
        # A new plan never asks a video model for more than it makes in one go: shorten, and say so.
        for s in shots:
            d = s.get("duration")
            if isinstance(d, (int, float)) and not isinstance(d, bool) and d > draft.max_shot_seconds:
                s["duration"] = draft.max_shot_seconds
                too_long.append(str(s.get("id")))
    data = _with_seeds({**base, **_drop_nulls(args), "shots": shots}, draft)
    data["cast"] = _with_references(args.get("cast"), draft) if "cast" in args else base.get("cast", [])
    new = _parse(data)
    if too_long:
        draft.notes.append(f"{', '.join(too_long)} shortened to {draft.max_shot_seconds:g} s, the longest shot I plan.")
    draft.reasons.append("new storyboard" if draft.storyboard is None else "storyboard rewritten")
    draft.storyboard = new
    draft.changed = True
    return f"ok: {len(new.shots)} shots, {new.duration:g} s, ids {', '.join(s.id for s in new.shots)}"


def _with_references(cast: Any, draft: Draft) -> Any:
    """Cast members keep the reference images the person gave (the model never sees or writes them)."""
    if not isinstance(cast, list):
        return cast
    before = {m.id: m for m in draft.storyboard.cast} if draft.storyboard else {}
    out = []
    for m in cast:
        if isinstance(m, dict):
            old = before.get(str(m.get("id", "")).strip())
            m = {**_drop_nulls(m), "references": list(old.references) if old else []}
        out.append(m)
    return out


def _revise_cast(draft: Draft, args: dict[str, Any]) -> str:
    sb = _need(draft)
    _check_keys(args, ("changes",), "revise_cast")
    changes = args.get("changes")
    if isinstance(changes, dict):
        changes = [changes]
    if not isinstance(changes, list) or not changes:
        raise ToolError("revise_cast: 'changes' must be a non-empty list of {id, name, description}")
    members = {m.id: m.model_dump() for m in sb.cast}
    said = []
    for i, change in enumerate(changes):
        _check_keys(change, CAST_FIELDS, f"revise_cast: change #{i + 1}")
        mid = str(change.get("id", "")).strip().lower()
        if mid not in members:
            known = ", ".join(members) or "none yet (add members with plan_storyboard)"
            raise ToolError(f"revise_cast: no cast member {mid!r}; the cast is: {known}")
        members[mid].update({k: v for k, v in change.items() if k != "id" and v is not None})
        said.append(mid)
    new = _parse({**sb.model_dump(), "cast": list(members.values())})
    draft.storyboard = new
    draft.changed = True
    in_shots = [s.id for s in new.shots if set(s.cast) & set(said)]
    draft.reasons.append(f"cast {', '.join(said)} changed (in {', '.join(in_shots) or 'no shot'})")
    return f"ok: changed {', '.join(said)}; shots with them: {', '.join(in_shots) or 'none'}"


def _revise_shots(draft: Draft, args: dict[str, Any]) -> str:
    sb = _need(draft)
    _check_keys(args, ("changes",), "revise_shots")
    changes = args.get("changes")
    if isinstance(changes, dict):
        changes = [changes]
    if not isinstance(changes, list) or not changes:
        raise ToolError("revise_shots: 'changes' must be a non-empty list of {shot_id, fields to change}")
    shots = {s.id: s.model_dump() for s in sb.shots}
    touched: dict[str, list[str]] = {}
    for i, change in enumerate(changes):
        _check_keys(change, ("shot_id",) + SHOT_FIELDS[1:], f"revise_shots: change #{i + 1}")
        if "shot_id" not in change:
            raise ToolError(f"revise_shots: change #{i + 1} has no 'shot_id'; the shots are: {', '.join(shots)}")
        sid = _resolve(sb, change["shot_id"])
        fields = _drop_nulls({k: v for k, v in change.items() if k != "shot_id"})
        if "id" in fields:
            raise ToolError(f"revise_shots: a shot's id never changes (shot {sid})")
        shots[sid].update(fields)
        seen = touched.setdefault(sid, [])
        seen += [f for f in fields if f not in seen]
    new = _parse({**_film_of(sb), "shots": [shots[s.id] for s in sb.shots]})
    draft.storyboard = new
    draft.changed = True
    draft.reasons.append("; ".join(f"{sid}: {', '.join(f) or 'no fields'}" for sid, f in touched.items()))
    return "ok: changed " + "; ".join(f"{sid} ({', '.join(f)})" for sid, f in touched.items())


def _reorder_shots(draft: Draft, args: dict[str, Any]) -> str:
    sb = _need(draft)
    _check_keys(args, ("order",), "reorder_shots")
    order = args.get("order")
    if not isinstance(order, list) or not order:
        raise ToolError("reorder_shots: 'order' must be a list of every shot id")
    ids = [s.id for s in sb.shots]
    wanted = [_resolve(sb, x) for x in order]
    missing = [i for i in ids if i not in wanted]
    twice = sorted({i for i in wanted if wanted.count(i) > 1})
    if missing or twice:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"repeated {', '.join(twice)}"] if twice else [])
        raise ToolError(f"reorder_shots: list every shot id exactly once ({'; '.join(problems)}); the shots are: "
                        f"{', '.join(ids)}. To remove or add shots, send plan_storyboard with the whole storyboard.")
    by_id = {s.id: s.model_dump() for s in sb.shots}
    draft.storyboard = _parse({**_film_of(sb), "shots": [by_id[i] for i in wanted]})
    draft.changed = True
    draft.reasons.append(f"order {', '.join(wanted)}")
    return f"ok: order is now {', '.join(wanted)}"


def _set_project_settings(draft: Draft, args: dict[str, Any]) -> str:
    sb = _need(draft)
    _check_keys(args, FILM_FIELDS, "set_project_settings")
    if not args:
        raise ToolError(f"set_project_settings: give at least one of: {', '.join(FILM_FIELDS)}")
    draft.storyboard = _parse({**sb.model_dump(), **_drop_nulls(args)})
    draft.changed = True
    said = ", ".join(f"{k} {v}" for k, v in args.items())
    draft.reasons.append(said)
    return f"ok: {said}"


def _render(draft: Draft, args: dict[str, Any], verb: str) -> str:
    _check_keys(args, (), verb)
    draft.wants_render = True
    draft.changed = True
    return "ok: the film will render after this change (unchanged shots reuse their takes)"


def _regenerate_shot(draft: Draft, args: dict[str, Any]) -> str:
    sb = _need(draft)
    _check_keys(args, ("shot_id",), "regenerate_shot")
    sid = _resolve(sb, args.get("shot_id"))
    if sid not in draft.regenerate_shots:
        draft.regenerate_shots.append(sid)
    draft.changed = True
    draft.reasons.append(f"new take of {sid}")
    return f"ok: {sid} will be generated again with a new seed"


def _select_take(draft: Draft, args: dict[str, Any]) -> str:
    sb = _need(draft)
    _check_keys(args, ("shot_id", "take"), "select_take")
    sid = _resolve(sb, args.get("shot_id"))
    try:
        take = int(args.get("take"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ToolError(f"select_take: 'take' must be a take number from 1, not {args.get('take')!r}") from None
    have = draft.takes_by_shot.get(sid, 0) if draft.takes_by_shot is not None else None
    if have == 0:
        raise ToolError(f"select_take: shot {sid} has no takes yet; render it first")
    if take < 1 or (have is not None and take > have):
        raise ToolError(f"select_take: take must be from 1 to {have if have is not None else 'the number of takes'}"
                        f" (shot {sid}{f' has {have} takes' if have is not None else ''}), not {take}")
    draft.select_take = (sid, take - 1)
    draft.changed = True
    draft.reasons.append(f"{sid} uses take {take}")
    return f"ok: {sid} will use take {take}"


def _check_safety(draft: Draft, args: dict[str, Any]) -> str:
    from tools.safety.policy import check_text

    _check_keys(args, ("text",), "check_safety")
    report = check_text(str(args.get("text") or ""))
    return json.dumps({"verdict": report.verdict, "reasons": report.reasons})


def _need(draft: Draft) -> Storyboard:
    if draft.storyboard is None:
        raise ToolError("there is no storyboard yet: send plan_storyboard first")
    return draft.storyboard


def apply_tool(draft: Draft, name: str, args: Any) -> str:
    """Apply one tool call to the draft; returns the text for the model, or raises ToolError (draft untouched)."""
    if not isinstance(args, dict):
        raise ToolError(f"{name}: arguments must be a JSON object")
    if name == "plan_storyboard":
        return _plan_storyboard(draft, args)
    if name == "revise_shots":
        return _revise_shots(draft, args)
    if name == "revise_cast":
        return _revise_cast(draft, args)
    if name == "reorder_shots":
        return _reorder_shots(draft, args)
    if name == "set_project_settings":
        return _set_project_settings(draft, args)
    if name in ("render", "assemble_cut"):
        return _render(draft, args, name)
    if name == "regenerate_shot":
        return _regenerate_shot(draft, args)
    if name == "select_take":
        return _select_take(draft, args)
    if name == "check_safety":
        return _check_safety(draft, args)
    raise ToolError(f"there is no tool '{name}'; the tools are: {', '.join(REVISE_TOOLS)}")
