"""Plain-language feedback about the film's length, through the Director at default settings: the film
delivered is as long as asked (cards and transition overlaps counted), and a change that cannot be made
is said in words, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import BadInput
from agent.planner.length import film_seconds
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard
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


def carded(resolution: int = 96) -> Storyboard:
    """Three 4 s shots joined by crossfades, with a title card and an end card (2 s each)."""
    return Storyboard(
        title="Lanterns", resolution=resolution, title_card=True, end_card=True, music_bed=False,
        shots=[Shot(id=f"s{i}", duration=4.0, seed=10 + i, subject=subject, action="glows", setting="a night market",
                    transition="crossfade" if i < 3 else "cut")
               for i, subject in enumerate(("a paper lantern", "a red lantern", "a string of lanterns"), start=1)])


def test_make_it_12_seconds_is_a_12_second_film_cards_and_crossfades_included(tmp_path):
    d = director(tmp_path)
    project = d.start_project("ada", carded(), "a storyboard with cards")
    assert film_seconds(latest(d, project)) == 15   # 12 s of shots, 4 s of cards, less two 0.5 s crossfades
    d.feedback("ada", project, "make it 12 seconds", render=False)
    after = latest(d, project)
    assert after.title_card and after.end_card and [s.transition for s in after.shots] == ["crossfade", "crossfade", "cut"]
    assert abs(film_seconds(after) - 12) <= 1 / after.fps + 1e-9
    said = d.store.messages(project)[-1]
    assert "Length 12 s" in said.text and "now 12 s" in said.text, said.text


def test_a_length_too_short_for_the_cards_and_shots_is_a_question_and_changes_nothing(tmp_path):
    d = director(tmp_path)
    project = d.start_project("ada", carded(), "a storyboard with cards")
    out = d.feedback("ada", project, "make it 4 seconds", render=False)
    assert out.question and "title card and end card" in out.question and "4 s" in out.question
    assert d.store.get_version(project).number == 1 and latest(d, project) == carded()


def cli_feedback(home: Path, project: str, text: str) -> subprocess.CompletedProcess:
    """`director feedback PROJECT TEXT --json`, run as a person runs it."""
    return subprocess.run([sys.executable, "-m", "server.cli", "feedback", project, text, "--json"],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=600,
                          env={**os.environ, "DIRECTOR_HOME": str(home), "DIRECTOR_USER": "local"})


@pytest.mark.slow
def test_make_it_12_seconds_through_the_cli_renders_a_12_second_final_mp4(tmp_path):
    from tools.edit.video_io import read_video

    home = tmp_path / "home"
    project = director(home).start_project("local", carded(resolution=64), "a storyboard with cards")
    proc = cli_feedback(home, project, "make it 12 seconds")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    final = Path(result["out_dir"]) / "final.mp4"
    frames, fps = read_video(final)   # decoded, as a player shows it
    assert fps == latest(director(home), project).fps
    assert abs(len(frames) / fps - 12) <= 1 / fps + 1e-9   # 12 s to the frame, cards and crossfades included


@pytest.mark.slow
def test_the_cafe_phrase_and_an_impossible_value_through_the_cli(tmp_path):
    home = tmp_path / "home"
    cafe = director(home).plan(FILMS["cafe"]).storyboard.model_copy(update={"resolution": 144})   # vertical: the label needs 81 px across
    project = director(home).start_project("local", cafe, "the cafe ad")
    bad = cli_feedback(home, project, "make it 90 fps")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "make it 90 fps" in bad.stderr and "between 1 and 60" in bad.stderr
    proc = cli_feedback(home, project, "make the second shot longer but keep it 15 seconds")
    assert proc.returncode == 0, proc.stderr
    after = latest(director(home), project)
    assert abs(film_seconds(after) - 15) <= 1 / after.fps + 1e-9 and after.shots[1].duration > cafe.shots[1].duration
    assert json.loads(proc.stdout)["version"] == 2


def test_a_question_comes_back_without_notes_about_edits_that_did_not_happen():
    from agent.brains.rules import RulesBrain

    brain = RulesBrain(AgentSettings())
    before = carded()
    r = brain.revise(before, "shorter, and use the last take of shot 2")
    assert r.question and "take" in r.question
    assert r.storyboard == before and r.changed_shots == []
    assert r.notes == []   # not "Durations set frame counts, so the shortened shots render again."
    # what the message found about the film as it is is still said beside the question
    r = brain.revise(before, "replace the dog with a cat, and use the last take of shot 2")
    assert r.question and r.notes == ["No shot shows 'dog'."]


def test_through_the_director_a_question_is_all_that_is_said_and_a_shot_without_takes_says_so(tmp_path):
    d = director(tmp_path)
    project = d.start_project("ada", carded(), "a storyboard with cards")   # not rendered: no takes
    for text in ("use the previous take of shot 2", "shorter, and use the last take of shot 2"):
        out = d.feedback("ada", project, text, render=False)
        assert out.question == "Shot 2 (s2) has no takes yet: render the film first, then choose a take.", out.question
        assert d.store.messages(project)[-1].text == out.question   # no notes about a shortening that did not happen
    assert d.store.get_version(project).number == 1


def test_a_shot_added_after_shot_2_takes_its_setting_from_shot_2(tmp_path):
    d = director(tmp_path)
    places = ("a harbour at dawn", "a busy fish market", "a lighthouse on the headland")
    sb = carded().model_copy(update={"shots": [s.model_copy(update={"setting": p}) for s, p in zip(carded().shots, places)]})
    project = d.start_project("ada", sb, "three places")
    d.feedback("ada", project, "add a close-up of a fishmonger after shot 2", render=False)
    after = latest(d, project)
    assert [s.setting for s in after.shots] == [places[0], places[1], places[1], places[2]]
    assert "fishmonger" in after.shots[2].subject


def test_a_length_longer_than_the_shots_can_last_is_a_question(tmp_path):
    d = director(tmp_path)
    project = d.start_project("ada", carded(), "a storyboard with cards")
    out = d.feedback("ada", project, "make it 300 seconds", render=False)
    assert out.question and "at most 60 s" in out.question and "add a shot" in out.question
    assert d.store.get_version(project).number == 1


def test_a_film_without_a_title_is_as_long_as_its_storyboard_says(tmp_path):
    """With no title there is no title card to show: the length the director reports and fits is the
    length the rendered film has."""
    d = director(tmp_path)
    sb = Storyboard(title="", fps=12, resolution=96, title_card=True, end_card=True,
                    shots=[Shot(id="s1", duration=1.5, subject="a red kite"), Shot(id="s2", duration=1.5, subject="a hill")])
    project = d.start_project("ada", sb, "test")
    d.feedback("ada", project, "make it 5 seconds", render=False)
    planned = film_seconds(latest(d, project))
    assert abs(planned - 5) <= 1 / 12
    cut = d.render("ada", project)
    assert abs(cut.duration - planned) <= 1 / 12
