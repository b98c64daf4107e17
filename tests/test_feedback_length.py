"""Plain-language feedback about the film's length, through the Director at default settings: the film
delivered is as long as asked (cards and transition overlaps counted), and a change that cannot be made
is said in words, never a traceback."""

from __future__ import annotations

import pytest

from agent.errors import BadInput
from agent.planner.length import film_seconds
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.store import Store
from storyboards.workspace import Workspace
from tests.corpus_check import feedback

FILMS, _ = feedback()


def director(home) -> Director:
    workspace = Workspace(home)
    return Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings())


def latest(d: Director, project: str):
    return d.store.get_version(project).storyboard


def test_second_shot_longer_but_keep_it_15_seconds_on_the_cafe_film(tmp_path):
    d = director(tmp_path)
    project = d.user_message("ada", FILMS["cafe"])
    before = latest(d, project)
    assert min(s.duration for s in before.shots) > 6   # shots longer than 6 s are what made this crash
    d.feedback("ada", project, "make the second shot longer but keep it 15 seconds", render=False)
    after = latest(d, project)
    assert abs(film_seconds(after) - 15) <= 1 / after.fps + 1e-9
    assert after.shots[1].duration > before.shots[1].duration
    assert d.store.get_version(project).number == 2


def test_a_value_the_storyboard_cannot_hold_is_bad_input_naming_what_was_asked(tmp_path):
    d = director(tmp_path)
    project = d.user_message("ada", FILMS["cafe"])
    with pytest.raises(BadInput) as caught:
        d.feedback("ada", project, "make it 90 fps", render=False)
    said = str(caught.value)
    assert "make it 90 fps" in said and "fps 90 must be between 1 and 60" in said and "Nothing was changed" in said
    assert "pydantic" not in said and "validation error" not in said.lower()
    assert d.store.get_version(project).number == 1   # nothing half-made: no new version
