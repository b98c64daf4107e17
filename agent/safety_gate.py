"""The check every storyboard version passes before any take is generated.

It reads the storyboard as data and calls tools/safety: nothing a brief, feedback or LLM writes can
reach the safety settings, skip this check or remove the disclosure applied on export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.errors import Refused
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


class SafetyRefusal(Refused):
    """The storyboard was refused by the safety check; `report` says why, shot by shot."""

    def __init__(self, report: StoryboardSafety):
        super().__init__(report)


def picture_signature(path):
    """A 64x64 grey thumbnail of an image (or a clip's middle frame): the same picture gives the same
    signature after a re-encode or a metadata strip, which change the file's bytes."""
    from pathlib import Path

    import cv2
    import numpy as np

    from tools.safety._media import decode_frames
    from tools.safety.faces import VIDEO_EXTS, _load_image

    path = Path(path)
    if path.suffix.lower() in VIDEO_EXTS:
        frames = decode_frames(path, max_frames=3)
        rgb = frames[len(frames) // 2]
    else:
        rgb = _load_image(path)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)


SAME_PICTURE_MAD = 6.0   # mean grey difference of the signatures; re-encodes stay ~1-3, other pictures ~30+


def consents_for_media(store: Store, path) -> list[str]:
    """Who consented to appear in this very image or clip. Without a face recogniser, a face is covered
    only by a consent recorded with this picture as its reference."""
    import numpy as np

    consents = [c for c in store.active_consents() if c.reference]
    if not consents:
        return []
    try:
        target = picture_signature(path)
    except Exception:
        return []
    names = []
    for consent in consents:
        try:
            if float(np.abs(picture_signature(consent.reference) - target).mean()) < SAME_PICTURE_MAD:
                names.append(consent.name)
        except Exception:   # a consent whose reference is unreadable covers nothing
            continue
    return names


def check_storyboard(storyboard: Storyboard, store: Store, actor: str = "director", project_id: str | None = None) -> StoryboardSafety:
    from tools.safety.faces import check_image
    from tools.safety.policy import check_text

    consents = [c.name for c in store.active_consents()]

    def audit_use(report, shot_id: str) -> None:
        # Every render that relies on someone's consent is written to the audit log.
        if report.verdict in ("allow", "warn"):
            for person in report.people or []:
                store.audit(actor, "consent.used", {"person": person, "project_id": project_id, "shot_id": shot_id})
    result = StoryboardSafety()
    film_text = " ".join(x for x in (storyboard.title, storyboard.style_guide, storyboard.credits or "") if x)
    if film_text.strip():
        result.add("film", check_text(film_text, consents=consents))
    for shot in storyboard.shots:
        text = ". ".join(str(getattr(shot, f)) for f in TEXT_FIELDS if getattr(shot, f))
        # Film-wide context matters for a shot ("the president" in the style guide, minors in the title).
        report = check_text(f"{text}. {film_text}" if film_text else text, consents=consents)
        verdicts = [report.verdict]
        for kind, media in (("reference", shot.reference), ("source", shot.source)):
            if media:
                faces = check_image(media, consents=consents_for_media(store, media))
                result.add(f"shot '{shot.id}' {kind}", faces)
                audit_use(faces, shot.id)
                verdicts.append(faces.verdict)
        result.add(f"shot '{shot.id}'", report)
        audit_use(report, shot.id)
        result.shots[shot.id] = max(verdicts, key=SEVERITY.__getitem__)
    # A cast member's reference images condition every shot they are in: the same consent rules apply.
    for member in storyboard.cast:
        text_report = check_text(f"{member.name}. {member.description}", consents=consents)
        result.add(f"cast '{member.id}'", text_report)
        in_shots = [s.id for s in storyboard.shots if member.id in s.cast]
        for reference in member.references:
            faces = check_image(reference, consents=consents_for_media(store, reference))
            result.add(f"cast '{member.id}' reference", faces)
            for shot_id in in_shots:
                audit_use(faces, shot_id)
                result.shots[shot_id] = max(result.shots.get(shot_id, "allow"), faces.verdict, key=SEVERITY.__getitem__)
    return result
