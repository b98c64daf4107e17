"""Who is named in a text: real people (known public figures, role phrases, real-looking full names),
fictional characters, names the brief invents, trademarked characters, living artists, landmarks.

Rules only, from lists shipped in tools/safety/data/. When spaCy and its `en_core_web_sm`
model import, its PERSON entities are added as candidate real people (the rules still decide
what is fictional, invented or a landmark).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data")

# Span labels. REAL labels need consent; the others never do.
PUBLIC_FIGURE, ROLE, UNKNOWN_PERSON = "public_figure", "role", "person"
FICTIONAL, INVENTED, TRADEMARK, LIVING_ARTIST, LANDMARK = "fictional", "invented", "trademark", "living_artist", "landmark"
REAL = (PUBLIC_FIGURE, ROLE, UNKNOWN_PERSON)


@dataclass(frozen=True)
class NameSpan:
    start: int
    end: int
    label: str
    text: str
    canonical: str        # the person/character the span refers to

    def as_tuple(self) -> tuple[int, int, str, str]:
        return (self.start, self.end, self.label, self.text)


def normalize(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name, for consent matching."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _load_table(filename: str) -> list[tuple[str, list[str]]]:
    rows = []
    for line in (DATA / filename).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|") if p.strip()]
        rows.append((parts[0], parts))
    return rows


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    lines = (DATA / "first_names.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=8)
def _matcher(filename: str) -> tuple[re.Pattern, re.Pattern | None, dict[str, str]]:
    """(case-insensitive pattern for multi-word names, case-sensitive pattern for one-word aliases, alias->canonical)."""
    canon: dict[str, str] = {}
    multi: list[str] = []
    single: list[str] = []
    for name, aliases in _load_table(filename):
        for a in aliases:
            if len(a) < 3:
                continue  # "Ye", "AOC"-like two-letter aliases match too much
            canon[normalize(a)] = name
            (multi if " " in a or "-" in a or "." in a else single).append(a)
    by_len = lambda xs: sorted(set(xs), key=len, reverse=True)  # noqa: E731
    rx = lambda xs: r"(?<![\w-])(?:" + "|".join(re.escape(x) for x in by_len(xs)) + r")(?![\w-])"  # noqa: E731
    p_multi = re.compile(rx(multi), re.IGNORECASE)
    # One word ("Trump", "Sonic", "Elsa") only counts capitalised, as a name.
    p_single = re.compile(rx(single)) if single else None
    return p_multi, p_single, canon


def _find_listed(text: str, filename: str, label: str) -> list[NameSpan]:
    p_multi, p_single, canon = _matcher(filename)
    spans = []
    for p in (p_multi, p_single):
        if p is None:
            continue
        for m in p.finditer(text):
            spans.append(NameSpan(m.start(), m.end(), label, m.group(0), canon.get(normalize(m.group(0)), m.group(0))))
    return spans


ROLE_PATTERN = re.compile(
    r"\b(?:the\s+)?(?:current\s+|former\s+|late\s+)?(?:(?:US|U\.S\.|American|British|French|German|Russian|Chinese|Indian|"
    r"Canadian|Italian|Spanish|Japanese|Ukrainian|Israeli|Brazilian)\s+)?"
    r"(?:president|prime\s+minister|chancellor|king|queen|pope|governor|mayor|ceo|chief\s+executive|first\s+lady|"
    r"crown\s+prince|prince|princess|emperor|supreme\s+leader|senator|premier)"
    r"(?:\s+of\s+(?:the\s+)?(?-i:[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,3}))?",
    re.IGNORECASE)
PRIVATE_ROLE = re.compile(
    r"\bmy\s+(?:boss|manager|neighbou?r|ex(?:-(?:wife|husband|girlfriend|boyfriend|partner))?|wife|husband|"
    r"girlfriend|boyfriend|partner|teacher|co-?worker|colleague|landlord|landlady|classmate|friend|roommate|flatmate|"
    r"sister|brother|mother|father|mom|mum|dad|son|daughter|cousin|aunt|uncle|grandma|grandpa|grandmother|grandfather)\b",
    re.IGNORECASE)
# "the pope" / "the president" alone are real office holders; "a king", "the king of the forest" are not.
ROLE_NEEDS = re.compile(r"^(?:the\s+)?(?:current\s+|former\s+|late\s+)?(?:pope|dalai\s+lama)$|\bof\s+(?:the\s+)?(?-i:[A-Z])|"
                        r"^(?:the\s+)?(?:US|U\.S\.|American|British|French|German|Russian|Chinese|Indian|Canadian|"
                        r"Italian|Spanish|Japanese|Ukrainian|Israeli|Brazilian)\s+|^the\s+(?:current\s+)?president$",
                        re.IGNORECASE)
INTRODUCED = re.compile(r"\b(?:named|called|nicknamed|known\s+as|by\s+the\s+name\s+of|whose\s+name\s+is)\s+"
                        r"((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)?)")
FULL_NAME = re.compile(r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s+(?:[A-Z]\.\s+)?((?:Mc|Mac|O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")
NOT_SURNAMES = frozenset("""street avenue road lane river lake mountain mount park bay city town village island beach
bridge tower hall square valley forest woods garden gardens castle palace station airport church cathedral school
university college hospital hotel cafe restaurant day night morning evening christmas easter monday tuesday wednesday
thursday friday saturday sunday january february march april may june july august september october november
december north south east west""".split())


def _spacy_people(text: str) -> list[NameSpan]:
    try:  # optional: better recall of unknown names when the model is installed

        nlp = _spacy_model()
    except Exception:
        return []
    return [NameSpan(e.start_char, e.end_char, UNKNOWN_PERSON, e.text, e.text) for e in nlp(text).ents
            if e.label_ == "PERSON" and " " in e.text.strip()]


@lru_cache(maxsize=1)
def _spacy_model():
    import spacy

    return spacy.load("en_core_web_sm")


def _overlaps(span: NameSpan, taken: list[NameSpan]) -> bool:
    return any(span.start < t.end and t.start < span.end for t in taken)


def find_names(text: str, brief_names: list[str] | tuple[str, ...] = ()) -> list[NameSpan]:
    """Every name-like span in `text`, classified; overlapping spans resolved by precedence and length.

    `brief_names`: characters the brief itself invents (e.g. from a storyboard's cast list)."""
    invented_names = {normalize(n) for n in brief_names if n.strip()}
    invented: list[NameSpan] = []
    for m in INTRODUCED.finditer(text):
        invented.append(NameSpan(m.start(1), m.end(1), INVENTED, m.group(1), m.group(1)))
        invented_names.add(normalize(m.group(1)))
    # Later mentions of an introduced name ("a chef named Marco ... Marco cooks") stay invented.
    for n in list(invented_names):
        if not n:
            continue
        for m in re.finditer(r"(?<![\w-])" + r"\s+".join(re.escape(w) for w in n.split()) + r"(?![\w-])", text, re.I):
            s = NameSpan(m.start(), m.end(), INVENTED, m.group(0), m.group(0))
            if not _overlaps(s, invented):
                invented.append(s)

    # Precedence: landmarks, invented names, then public figures, trademarks, fictional, artists.
    candidates = (_find_listed(text, "landmarks.txt", LANDMARK) + invented
                  + _find_listed(text, "public_figures.txt", PUBLIC_FIGURE)
                  + _find_listed(text, "trademarked.txt", TRADEMARK)
                  + _find_listed(text, "fictional.txt", FICTIONAL)
                  + _find_listed(text, "living_artists.txt", LIVING_ARTIST))
    order = {LANDMARK: 0, INVENTED: 1, PUBLIC_FIGURE: 2, TRADEMARK: 3, FICTIONAL: 4, LIVING_ARTIST: 5}
    candidates.sort(key=lambda s: (order[s.label], -(s.end - s.start)))
    # A living artist's name in a style phrase is a style reference; a public figure list hit
    # for the same words (e.g. a director) yields to it there.
    taken: list[NameSpan] = []
    for s in candidates:
        if s.label == PUBLIC_FIGURE and _is_style_ref(text, s) and _find_listed(s.text, "living_artists.txt", LIVING_ARTIST):
            s = NameSpan(s.start, s.end, LIVING_ARTIST, s.text, s.canonical)
        if not _overlaps(s, taken):
            taken.append(s)

    for m in PRIVATE_ROLE.finditer(text):
        s = NameSpan(m.start(), m.end(), ROLE, m.group(0), m.group(0).lower())
        if not _overlaps(s, taken):
            taken.append(s)
    for m in ROLE_PATTERN.finditer(text):
        phrase = m.group(0).strip()
        if ROLE_NEEDS.search(phrase):
            s = NameSpan(m.start(), m.start() + len(phrase), ROLE, phrase, phrase.lower())
            if not _overlaps(s, taken):
                taken.append(s)

    extra = _spacy_people(text)
    names = first_names()
    for m in FULL_NAME.finditer(text):
        first, last = m.group(1), m.group(2)
        if first.lower() in names and last.lower() not in NOT_SURNAMES and last.lower() != "the":
            extra.append(NameSpan(m.start(), m.end(), UNKNOWN_PERSON, m.group(0), m.group(0)))
    for s in extra:
        if not _overlaps(s, taken) and _looks_like_person(s.text):
            taken.append(s)
    return sorted(taken, key=lambda s: s.start)


def _looks_like_person(text: str) -> bool:
    from nameparser import HumanName

    n = HumanName(text)
    return bool(n.first and n.last)


def _is_style_ref(text: str, span: NameSpan) -> bool:
    before = text[max(0, span.start - 40):span.start].lower()
    after = text[span.end:span.end + 12].lower()
    return bool(re.search(r"(in\s+the\s+style\s+of|style\s+of|inspired\s+by|like\s+a|a\s+la|à\s+la|by)\s*$", before)
                or re.match(r"^(?:'s)?[\s-]*(style|esque|inspired|aesthetic|look)", after))


def is_style_reference(text: str, span: NameSpan) -> bool:
    return _is_style_ref(text, span)
