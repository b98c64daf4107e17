"""The corpus (tests/data/corpus/*.yaml) and the checks of its properties, shared by tests/test_corpus.py
(the rules brain) and bench/brains.py (the local LLM brain). Each check returns the problems it found."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from agent.planner.length import film_seconds
from agent.prompts import compose_storyboard
from agent.settings import AgentSettings
from storyboards.schema import Storyboard

SETTINGS = AgentSettings(max_shot_seconds=8.0)

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


def briefs() -> list[dict[str, Any]]:
    return yaml.safe_load((CORPUS / "briefs.yaml").read_text())


def feedback() -> tuple[dict[str, str], list[dict[str, Any]]]:
    data = yaml.safe_load((CORPUS / "feedback.yaml").read_text())
    return data["films"], data["cases"]


def _has(shot, want: dict[str, str]) -> bool:
    for key, word in want.items():
        value = getattr(shot, key) or ""
        if key in ("framing", "camera"):
            if value != word:
                return False
        elif word.lower() not in value.lower():
            return False
    return True


def check_plan(case: dict[str, Any], result) -> list[str]:
    """Problems with a PlanResult for a brief case (empty: it has every property asked)."""
    problems: list[str] = []
    if case.get("question"):
        if not result.question:
            problems.append("expected a question, got a plan")
        return problems
    if result.question:
        return [f"asked instead of planning: {result.question}"]
    sb: Storyboard = result.storyboard
    if "seconds" in case and abs(film_seconds(sb) - case["seconds"]) > 1 / sb.fps + 1e-9:
        problems.append(f"film is {film_seconds(sb):.2f} s, not {case['seconds']} s")
    if "shots" in case:
        lo, hi = case["shots"]
        if not lo <= len(sb.shots) <= hi:
            problems.append(f"{len(sb.shots)} shots, not {lo}-{hi}")
    if "aspect" in case and sb.aspect_ratio != case["aspect"]:
        problems.append(f"aspect {sb.aspect_ratio}, not {case['aspect']}")
    k = 0
    for want in case.get("has", []):
        while k < len(sb.shots) and not _has(sb.shots[k], want):
            k += 1
        if k == len(sb.shots):
            problems.append(f"no shot (in order) with {want}")
            break
        k += 1
    if case.get("style"):
        prompts = compose_storyboard(sb, "animatic", settings=SETTINGS)
        for word in case["style"]:
            missing = [s.id for s in sb.shots if word.lower() not in prompts[s.id].prompt.lower()]
            if missing:
                problems.append(f"'{word}' missing from the prompts of {', '.join(missing)}")
    if case.get("cast"):
        ids = {m.id for m in sb.cast}
        if not set(case["cast"]) <= ids:
            problems.append(f"cast {sorted(ids)} lacks {sorted(set(case['cast']) - ids)}")
    if case.get("narration") is True and not any(s.narration for s in sb.shots):
        problems.append("no narration")
    elif isinstance(case.get("narration"), str) and not any(s.narration == case["narration"] for s in sb.shots):
        problems.append(f"no shot says {case['narration']!r}")
    if case.get("no_repeat", True):
        pairs = [(s.subject.lower(), s.action.lower()) for s in sb.shots]
        if len(set(pairs)) != len(pairs):
            problems.append("a beat is repeated word for word")
    if case.get("no_dangling", True):
        dangling = [s.id for s in sb.shots if re.search(r"\bit\s*$", s.action)]
        if dangling:
            problems.append(f"unresolved 'it' in {', '.join(dangling)}")
    return problems


def check_revision(case: dict[str, Any], before: Storyboard, result) -> list[str]:
    """Problems with a FeedbackResult for a feedback case."""
    problems: list[str] = []
    if case.get("question"):
        return [] if result.question else ["expected a question"]
    if result.question:
        return [f"asked: {result.question}"]
    sb: Storyboard = result.storyboard
    if case.get("render") and not result.wants_render:
        problems.append("did not take it as a request to render")
    if "changed" in case:
        want = [s.id for s in sb.shots] if case["changed"] == "all" else case["changed"]
        if sorted(result.changed_shots) != sorted(want):
            problems.append(f"changed {result.changed_shots}, not {want}")
    if "order" in case and [s.id for s in sb.shots] != case["order"]:
        problems.append(f"order {[s.id for s in sb.shots]}, not {case['order']}")
    if "shots" in case and len(sb.shots) != case["shots"]:
        problems.append(f"{len(sb.shots)} shots, not {case['shots']}")
    if "seconds" in case and abs(film_seconds(sb) - case["seconds"]) > 1 / sb.fps + 1e-9:
        problems.append(f"film is {film_seconds(sb):.2f} s, not {case['seconds']} s")
    for how in ("contains", "equals"):
        for where, fields in (case.get(how) or {}).items():
            targets = [sb] if where == "film" else sb.shots if where == "all" else [sb.shot(where)]
            for target in targets:
                for field, value in fields.items():
                    got = getattr(target, field)
                    ok = (str(value).lower() in str(got or "").lower()) if how == "contains" else got == value
                    if not ok:
                        problems.append(f"{where}.{field} is {got!r}, wanted {'to contain ' if how == 'contains' else ''}{value!r}")
    for member, word in (case.get("cast") or {}).items():
        desc = sb.member(member).description if any(m.id == member for m in sb.cast) else ""
        if word.lower() not in desc.lower():
            problems.append(f"cast {member} is {desc!r}, wanted {word!r}")
    return problems
