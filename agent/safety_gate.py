"""The check every storyboard version passes before any take is generated.

It reads the storyboard as data and calls tools/safety: nothing a brief, feedback or LLM writes can
reach the safety settings, skip this check or remove the disclosure applied on export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storyboards.schema import Storyboard
from storyboards.store import Store

SEVERITY = {"allow": 0, "warn": 1, "needs_consent": 2, "block": 3}
TEXT_FIELDS = ("style", "subject", "action", "setting", "atmosphere", "technical", "lighting", "narration", "caption")


@dataclass
class StoryboardSafety:
    verdict: str = "allow"
    reasons: list[str] = field(default_factory=list)
    shots: dict[str, str] = field(default_factory=dict)   # shot id -> verdict

    def add(self, where: str, report) -> None:
        if SEVERITY[report.verdict] > SEVERITY[self.verdict]:
            self.verdict = report.verdict
        if report.verdict == "allow":
            return  # "nothing found" is not news; only warnings and refusals are reported
        for reason in report.reasons:
            line = f"{where}: {reason}"
            if line not in self.reasons:
                self.reasons.append(line)


class SafetyRefusal(Exception):
    def __init__(self, report: StoryboardSafety):
        self.report = report
        super().__init__("refused: " + "; ".join(report.reasons))


def check_storyboard(storyboard: Storyboard, store: Store, actor: str = "director", project_id: str | None = None) -> StoryboardSafety:
    from tools.safety.faces import check_image
    from tools.safety.policy import check_text

    consents = [c.name for c in store.active_consents()]
    result = StoryboardSafety()
    film_text = " ".join(x for x in (storyboard.title, storyboard.style_guide, storyboard.credits or "") if x)
    if film_text.strip():
        result.add("film", check_text(film_text, consents=consents))
    for shot in storyboard.shots:
        text = ". ".join(str(getattr(shot, f)) for f in TEXT_FIELDS if getattr(shot, f))
        # Film-wide context matters for a shot ("the president" in the style guide, minors in the title).
        report = check_text(f"{text}. {film_text}" if film_text else text, consents=consents)
        if shot.reference:
            result.add(f"shot '{shot.id}' reference", check_image(shot.reference, consents=consents))
        if shot.source:
            result.add(f"shot '{shot.id}' source", check_image(shot.source, consents=consents))
        result.add(f"shot '{shot.id}'", report)
        result.shots[shot.id] = report.verdict
        for person in getattr(report, "consented", []) or []:
            store.audit(actor, "consent.used", {"person": person, "project_id": project_id, "shot_id": shot.id})
    return result
