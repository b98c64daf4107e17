"""The feedback people actually send (issue 18), including the director's own suggestions, on a planned film."""

from __future__ import annotations

import pytest

from agent.feedback import apply_feedback
from agent.planner import plan_storyboard
from agent.planner.length import film_seconds
from agent.prompts import compose_storyboard
from agent.settings import AgentSettings

SETTINGS = AgentSettings(max_shot_seconds=8.0)

WOLF = ("A 15 second teaser: a wolf howling on a ridge, a hunter lighting a fire below, the wolf turns away. "
        "Cold, bleak, shot on 16mm.")


@pytest.fixture(scope="module")
def wolf():
    return plan_storyboard(WOLF, settings=SETTINGS).storyboard


def revise(sb, text):
    r = apply_feedback(sb, text, settings=SETTINGS)
    assert r.question is None, r.question
    return r


def test_render_it_is_understood_and_changes_nothing(wolf):
    for text in ("render it", "Render it.", "looks good, render it", "go ahead and render", "make the film"):
        r = revise(wolf, text)
        assert r.wants_render is True, text
        assert r.changed_shots == [] and r.storyboard.shots == wolf.shots


def test_add_rain_the_web_page_placeholder(wolf):
    r = revise(wolf, "add rain")
    assert r.changed_shots == [s.id for s in wolf.shots]
    assert all("rain" in s.atmosphere for s in r.storyboard.shots)
    r2 = revise(wolf, "add fog to shot 2")
    assert r2.changed_shots == ["s2"] and "fog" in r2.storyboard.shot("s2").atmosphere


def test_second_shot_longer_says_what_happened_to_the_film(wolf):
    r = revise(wolf, "make the second shot longer")
    assert r.changed_shots == ["s2"]
    assert r.storyboard.shot("s2").duration > wolf.shot("s2").duration
    now = film_seconds(r.storyboard)
    assert now > 15 and any(f"{now:.1f}".rstrip("0").rstrip(".") in n and "15" in n for n in r.notes), r.notes


def test_longer_but_keep_the_length_keeps_the_film_at_its_length(wolf):
    r = revise(wolf, "make the second shot longer but keep it 15 seconds")
    assert r.storyboard.shot("s2").duration > wolf.shot("s2").duration
    assert abs(film_seconds(r.storyboard) - 15) <= 1 / 24
    assert r.storyboard.shot("s1").duration < wolf.shot("s1").duration


def test_the_hunter_should_be_a_woman_changes_the_cast_member_and_every_shot_with_her(wolf):
    r = revise(wolf, "the hunter should be a woman")
    hunter = r.storyboard.member("hunter")
    assert "woman" in hunter.description
    with_hunter = [s.id for s in r.storyboard.shots if "hunter" in s.cast]
    assert with_hunter and r.changed_shots == with_hunter
    prompts = compose_storyboard(r.storyboard, "animatic", settings=SETTINGS)
    assert all("woman" in prompts[sid].prompt for sid in with_hunter)


def test_the_fisherman_should_be_a_woman_changes_every_shot():
    sb = plan_storyboard("an old fisherman and his dog wait out a storm", settings=SETTINGS).storyboard
    r = revise(sb, "the fisherman should be a woman")
    assert "woman" in r.storyboard.member("fisherman").description
    assert r.storyboard.member("dog").description == sb.member("dog").description
    assert r.changed_shots == [s.id for s in sb.shots]
    assert not any("fisherman" in s.subject for s in r.storyboard.shots if "fisherman" in s.cast and "woman" not in s.subject)


def test_cut_the_last_shot_says_the_new_length(wolf):
    r = revise(wolf, "cut the last shot")
    assert [s.id for s in r.storyboard.shots] == [s.id for s in wolf.shots[:-1]]
    assert any("now 10" in n and "15" in n for n in r.notes), r.notes


def test_add_narration_saying_a_line(wolf):
    r = revise(wolf, "add narration saying 'The cold comes early.'")
    assert r.storyboard.shots[0].narration == "The cold comes early."
    assert r.changed_shots == []


def test_drone_shot_for_the_opening_changes_the_opening_only(wolf):
    for text in ("use a drone shot for the opening", "open with a drone shot"):
        r = revise(wolf, text)
        assert r.storyboard.shots[0].camera == "aerial", text
        assert r.changed_shots == ["s1"], (text, r.changed_shots)


def test_more_dramatic_lighting_everywhere(wolf):
    r = revise(wolf, "more dramatic lighting everywhere")
    assert r.changed_shots == [s.id for s in wolf.shots]
    assert all("dramatic" in s.lighting for s in r.storyboard.shots)


def test_shot_3_should_be_a_close_up(wolf):
    r = revise(wolf, "shot 3 should be a close-up")
    assert r.changed_shots == ["s3"] and r.storyboard.shot("s3").framing == "close_up"


def test_slower_and_make_it_30_seconds(wolf):
    slower = revise(wolf, "slower")
    assert film_seconds(slower.storyboard) > 15
    thirty = revise(wolf, "make it 30 seconds")
    assert abs(film_seconds(thirty.storyboard) - 30) <= 1 / 24
    assert any("30" in n for n in thirty.notes + [thirty.reason])


def _director(tmp_path):
    from agent.session import Director
    from agent.settings import AgentSettings
    from storyboards.store import Store
    from storyboards.workspace import Workspace

    workspace = Workspace(tmp_path)
    return Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings(resolution=64))


def test_through_the_director_add_rain_and_the_hunter_becomes_a_woman(tmp_path):
    d = _director(tmp_path)
    events = []
    project = d.user_message("ada", WOLF, emit=events.append)
    said = " ".join(e.get("text", "") for e in events if e.get("type") == "director_message")
    assert "render it" in said and "exactly 15 s" in said      # the director's own suggestion, and the length
    out = d.feedback("ada", project, "add rain", render=False)
    assert out["changed_shots"] == [s.id for s in d.store.get_version(project).storyboard.shots]
    out = d.feedback("ada", project, "the hunter should be a woman", render=False)
    sb = d.store.get_version(project).storyboard
    assert "woman" in sb.member("hunter").description
    assert out["changed_shots"] == [s.id for s in sb.shots if "hunter" in s.cast]


@pytest.mark.slow
def test_render_it_through_the_director_renders(tmp_path):
    d = _director(tmp_path)
    project = d.user_message("ada", "an 4 second film of a paper boat drifting down a rain gutter")
    d.user_message("ada", "render it", project_id=project)
    assert d.store.list_cuts(project), "\"render it\" made no cut"
