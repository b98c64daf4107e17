"""Pre-generation text check: real-person likeness, sexual content, violence, rights warnings.

    check_text("a chef named Marco cooks pasta")              -> allow
    check_text("Tom Hanks dances in the rain")                 -> needs_consent (unless consents=["Tom Hanks"])
    check_text("Spider-Man swings over the harbour")           -> warn (trademarked character)
    check_text("a city at dusk in the style of Greg Rutkowski") -> warn (living artist as style)
    check_text("<sexual content> involving a child")            -> block, always

Requests in the text to drop the label, watermark or signature are reported and ignored: the
safety settings are operator-only (settings.py) and nothing here can change them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from tools.safety import names as N

VERDICTS = ("allow", "warn", "needs_consent", "block")


@dataclass
class SafetyReport:
    verdict: str = "allow"                     # allow | warn | needs_consent | block
    reasons: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, str, str]] = field(default_factory=list)   # (start, end, label, text)
    people: list[str] = field(default_factory=list)                        # real people named (canonical)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def allowed(self) -> bool:
        return self.verdict in ("allow", "warn")


SEXUAL = re.compile(r"\b(nude|nudes|naked|nsfw|sex|sexual(?:ly)?|sexy|porn\w*|explicit|erotic\w*|topless|bottomless|"
                    r"undress\w*|strip(?:s|ping|tease)|lingerie|intercourse|orgasm\w*|fetish\w*|genital\w*|"
                    r"make\s+love|making\s+love|having\s+sex|in\s+bed\s+with|seductive(?:ly)?|lewd|onlyfans)\b", re.I)
MINOR = re.compile(r"\b(child|children|kid|kids|minor|minors|underage|under-age|teen|teens|teenage[rd]?|"
                   r"boy|boys|girl|girls|schoolgirl|schoolboy|school\s+uniform|toddler|baby|babies|infant|preteen|"
                   r"pre-teen|young\s+(?:girl|boy)|little\s+(?:girl|boy)|loli\w*|shota|juvenile|pupil)\b", re.I)
AGE = re.compile(r"\b(\d{1,2})[\s-]*(?:year|yr)s?[\s-]*old\b", re.I)
VIOLENCE = re.compile(r"\b(kill\w*|murder\w*|shoot(?:s|ing)?|shot\s+dead|stab\w*|behead\w*|decapitat\w*|assassinat\w*|"
                      r"tortur\w*|beat(?:s|ing)?\s+up|beaten|punch(?:es|ing|ed)?|lynch\w*|hang(?:s|ed|ing)\b|"
                      r"burn(?:s|ed|ing)?\s+alive|bomb(?:s|ed|ing)?|strangl\w*|execut(?:e|es|ed|ing|ion)|"
                      r"blow(?:s|ing)?\s+up|attack(?:s|ed|ing)?|mutilat\w*|drown(?:s|ed|ing)?|bleed\w*|blood(?:y|ied))\b",
                      re.I)
SELF_HARM = re.compile(r"\b(suicide|suicidal|self[\s-]?harm\w*|kills?\s+(?:him|her|them)sel(?:f|ves)|"
                       r"cut(?:s|ting)?\s+(?:him|her|them)sel(?:f|ves)|overdos\w*|slit(?:s|ting)?\s+(?:his|her|their)\s+wrists?|"
                       r"hang(?:s|ing)?\s+(?:him|her|them)sel(?:f|ves)|jumps?\s+off\s+a\s+(?:bridge|roof|building))\b", re.I)
DISABLE = re.compile(r"\b(ignore|remove|removing|disable|disabling|turn(?:ing)?\s+off|switch\s+off|skip|hide|hiding|drop|"
                     r"strip|bypass|without|no|don'?t\s+(?:add|use|put|include)|omit|crop\s+out|blur\s+out)\s+"
                     r"(?:the\s+|any\s+|all\s+|a\s+|your\s+)?(?:ai[\s-]*generated\s+)?(watermarks?|labels?|disclosures?|"
                     r"safety(?:\s+(?:checks?|filters?|settings?))?|c2pa|provenance|content\s+credentials|"
                     r"ai\s+(?:label|tag|notice)|signature|manifest|filters?)\b", re.I)


def _sentences(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in re.finditer(r"[.!?;\n]+", text):
        out.append((start, m.end()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def _consented(span: N.NameSpan, consents: set[str]) -> bool:
    return N.normalize(span.canonical) in consents or N.normalize(span.text) in consents


def check_text(text: str, *, consents: list[str] | tuple[str, ...] = (), brief_names: list[str] | tuple[str, ...] = (),
               check_unknown_people: bool = True) -> SafetyReport:
    """Classify a brief, feedback or prompt. Reasons are sentences a person can act on."""
    text = text or ""
    consent_set = {N.normalize(c) for c in consents if c and c.strip()}
    spans = N.find_names(text, brief_names)
    if not check_unknown_people:
        spans = [s for s in spans if s.label != N.UNKNOWN_PERSON]
    severity = 0
    reasons: list[str] = []
    out_spans = [s.as_tuple() for s in spans]

    def raise_to(level: str, reason: str) -> None:
        nonlocal severity
        severity = max(severity, VERDICTS.index(level))
        if reason not in reasons:
            reasons.append(reason)

    real = [s for s in spans if s.label in N.REAL]
    people = list(dict.fromkeys(s.canonical for s in real))

    # -------------------------------------------------- content rules (consent never unlocks these)
    sexual = list(SEXUAL.finditer(text))
    minor = list(MINOR.finditer(text)) + [m for m in AGE.finditer(text) if int(m.group(1)) < 18]
    if sexual and minor:
        raise_to("block", f"sexual content involving minors is never made ('{sexual[0].group(0)}' with "
                          f"'{minor[0].group(0)}')")
    if sexual and real:
        raise_to("block", f"sexual content involving a real person ({', '.join(people)}) is never made, "
                          "with or without consent")
    elif sexual and not minor:
        raise_to("warn", f"sexual content ('{sexual[0].group(0)}'): kept non-explicit; explicit material is not made")
    for s0, s1 in _sentences(text):
        in_sentence = [s for s in real if s0 <= s.start < s1]
        if not in_sentence:
            continue
        who = ", ".join(dict.fromkeys(s.canonical for s in in_sentence))
        seg = text[s0:s1]
        if (m := SELF_HARM.search(seg)):
            raise_to("block", f"self-harm shown with a real person ({who}: '{m.group(0)}') is not made")
        elif (m := VIOLENCE.search(seg)):
            raise_to("block", f"violence aimed at a real person ({who}: '{m.group(0)}') is not made")
    for m in DISABLE.finditer(text):
        out_spans.append((m.start(), m.end(), "disable_request", m.group(0)))
        raise_to("warn", "requests to remove disclosure are ignored: every export carries the visible label, "
                         "the invisible watermark and a signed C2PA manifest")

    # -------------------------------------------------- likeness and rights
    for s in real:
        if _consented(s, consent_set):
            reasons.append(f"{s.canonical}: consent on record")
            continue
        if s.label == N.PUBLIC_FIGURE:
            why = f"'{s.text}' is a real person ({s.canonical})"
        elif s.label == N.ROLE:
            why = f"'{s.text}' refers to a real person"
        else:
            why = f"'{s.text}' looks like a real person's name"
        raise_to("needs_consent", f"{why}: showing their likeness needs a consent record from them; "
                                  "or make the character fictional (e.g. 'a chef named Marco')")
    for s in spans:
        if s.label == N.TRADEMARK:
            raise_to("warn", f"'{s.text}' is a trademarked character ({s.canonical}): fine for private previz, "
                             "needs the rights holder's licence to publish")
        elif s.label == N.LIVING_ARTIST:
            if N.is_style_reference(text, s):
                raise_to("warn", f"'{s.text}' is a living artist: a style reference is not a likeness, but imitating "
                                 "a living artist's style may upset them; consider describing the style instead")
            elif not _consented(s, consent_set):
                raise_to("needs_consent", f"'{s.text}' is a real, living person: showing them needs their consent")
                people.append(s.canonical)
    verdict = VERDICTS[severity]
    if not reasons:
        reasons.append("no real people, sexual content, violence against real people or rights issues found")
    return SafetyReport(verdict=verdict, reasons=reasons, spans=sorted(out_spans), people=list(dict.fromkeys(people)))
