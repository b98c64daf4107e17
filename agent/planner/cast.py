"""The film's cast: people and creatures that must look the same in every shot they are in.

`with_cast` fills a planned storyboard's cast from its shots (each member described once, as first
mentioned); `recast` changes a member from feedback ("the hunter should be a woman"), so every shot
with them changes.
"""

from __future__ import annotations

import re

from agent.language.nouns import head_noun
from agent.language.words import BEINGS, FEMININE, MAN_WORDS, MASCULINE, WOMAN_WORDS
from storyboards.schema import CastMember, Storyboard

_POSSESSIVE = re.compile(r"^(?:his|her|their|its|our|my|your)\s+", re.I)


def _member_phrases(subject: str) -> list[str]:
    """The noun phrases of people and creatures in a subject: 'an old fisherman and his dog' -> both."""
    subject = re.sub(r"^(?:a\s+)?(?:details?|textures?)\s+of\s+", "", subject, flags=re.I)
    parts = re.split(r"\s+(?:and|with|&)\s+|,\s*", subject)
    return [p.strip() for p in parts if head_noun(p) in BEINGS and not re.match(r"^(?:\w+'s)\b", p)]


def with_cast(sb: Storyboard) -> Storyboard:
    """Fill the film's cast from its shots: each person or creature once, described as first mentioned,
    and named in every shot they are in."""
    members: dict[str, dict] = {}
    shot_cast: list[list[str]] = []
    for shot in sb.shots:
        here: list[str] = []
        for phrase in _member_phrases(shot.subject):
            noun = head_noun(phrase)
            mid = re.sub(r"[^a-z0-9_-]", "", noun)[:64]
            if not mid:
                continue
            if mid not in members:
                described = _POSSESSIVE.sub("a ", re.sub(r"^the\s+", "a ", phrase, flags=re.I))
                described = re.sub(r"^a\s+(?=[aeiou])", "an ", described, flags=re.I)
                members[mid] = {"id": mid, "name": f"the {noun}", "description": described}
            here.append(mid)
        # a coverage shot or pronoun that names the member only by its noun still has them in it
        for mid in members:
            if mid not in here and re.search(rf"\b{re.escape(mid)}\b", f"{shot.subject} {shot.action}", re.I):
                here.append(mid)
        shot_cast.append(here)
    if not members:
        return sb
    data = sb.model_dump()
    data["cast"] = list(members.values())
    for raw, here in zip(data["shots"], shot_cast):
        raw["cast"] = here
    return Storyboard.model_validate(data)


def _swap_words(text: str, table: dict[str, str]) -> str:
    """Swap whole words by `table` keeping their case; '-man'/'-woman' compounds follow (fisherman -> fisherwoman)."""
    def one(m: re.Match) -> str:
        word = m.group(0)
        low = word.lower()
        new = table.get(low)
        if new is None and table.get("man") == "woman" and low.endswith("man") and not low.endswith("woman") and len(low) > 4:
            new = low[:-3] + "woman"
        elif new is None and table.get("woman") == "man" and low.endswith("woman") and len(low) > 6:
            new = low[:-5] + "man"
        if new is None:
            return word
        return new[0].upper() + new[1:] if word[0].isupper() else new
    return re.sub(r"[A-Za-z]+", one, text)


def find_member(sb: Storyboard, words: str) -> CastMember | None:
    """The cast member a phrase names: 'the hunter', 'hunter', 'the old fisherman'."""
    noun = head_noun(words)
    for m in sb.cast:
        if noun and noun in (m.id, head_noun(m.name), head_noun(m.description)):
            return m
    return None


def recast(sb: Storyboard, member_id: str, becomes: str) -> tuple[Storyboard, str]:
    """`member_id` becomes `becomes` ("a woman", "a black labrador"): the member's description and name
    change, and so do the words of every shot they are in (pronouns included). Returns (storyboard, what changed)."""
    data = sb.model_dump()
    member = next(m for m in data["cast"] if m["id"] == member_id)
    target = re.sub(r"^(?:an?|the)\s+", "", becomes.strip(" .!"), flags=re.I).lower()
    table = FEMININE if target in WOMAN_WORDS else MASCULINE if target in MAN_WORDS else None
    before = member["description"]
    if table is not None:
        member["description"] = _swap_words(before, table)
        member["name"] = _swap_words(member["name"], table)
        if member["description"] == before:
            # nothing gendered to swap ("a hunter"): say it before the noun ("a woman hunter")
            word = "woman" if table is FEMININE else "man"
            noun = head_noun(before)
            member["description"] = re.sub(rf"\b{re.escape(noun)}\b", f"{word} {noun}", before, count=1) if noun else f"a {word}"
        for shot in data["shots"]:
            if member_id in shot["cast"]:
                for field in ("subject", "action", "narration"):
                    if shot.get(field) and (len(shot["cast"]) == 1 or field == "subject"):
                        shot[field] = _swap_words(shot[field], table)
    else:
        article = "an" if target[:1] in "aeiou" else "a"
        member["description"] = f"{article} {target}"
    new = Storyboard.model_validate(data)
    return new, f"{member['name']}: {before} -> {member['description']}"
