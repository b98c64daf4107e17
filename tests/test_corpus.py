"""The corpus against the rules brain: every brief and every feedback sentence has the properties written
beside it in tests/data/corpus/. (bench/brains.py runs the same corpus against the local LLM brain.)"""

from __future__ import annotations

import pytest

from agent.brains.rules import RulesBrain
from agent.settings import AgentSettings
from tests.corpus_check import briefs, check_plan, check_revision, feedback

BRAIN = RulesBrain(AgentSettings(brain="rules", max_shot_seconds=8.0))
BRIEFS = briefs()
FILMS, CASES = feedback()


def test_the_corpus_is_big_enough_and_multilingual():
    assert len(BRIEFS) >= 60 and len(CASES) >= 60
    assert sum(1 for b in BRIEFS if b.get("question") and not b["brief"].isascii()) >= 3   # French, German, Spanish


@pytest.mark.parametrize("case", BRIEFS, ids=[b["brief"][:50] for b in BRIEFS])
def test_brief(case):
    result = BRAIN.plan(case["brief"])
    assert not check_plan(case, result), check_plan(case, result)


_PLANNED: dict = {}


def _film(name):
    if name not in _PLANNED:
        _PLANNED[name] = BRAIN.plan(FILMS[name]).storyboard
    return _PLANNED[name]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['film']}: {c['text'][:40]}" for c in CASES])
def test_feedback(case):
    before = _film(case["film"])
    result = BRAIN.revise(before, case["text"])
    if case["text"].strip().lower() == "undo":
        assert result.undo
        return
    assert not check_revision(case, before, result), check_revision(case, before, result)
