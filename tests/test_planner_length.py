"""A length the person asks for is the length of the film they get: final.mp4, cards and transitions included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.planner import plan_storyboard
from agent.planner.length import film_seconds, fit_storyboard
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.edit.video_io import ffmpeg_exe

SETTINGS = AgentSettings(max_shot_seconds=8.0)

ROOT = Path(__file__).resolve().parents[1]


def decoded_frames(path: Path) -> int:
    """Frames of the film's video stream, counted by decoding every one of them."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    return int(re.findall(r"frame=\s*(\d+)", proc.stderr)[-1])


@pytest.mark.parametrize("brief, seconds", [
    ("an 8 second film of a paper boat drifting down a rain gutter", 8),
    ("A 12 second film: a calm lake at dawn, then a heron lands on a post. Peaceful.", 12),   # crossfades
    ("A 15 second teaser: a wolf howling on a ridge, a hunter lighting a fire below, the wolf turns away. "
     "Cold, bleak, shot on 16mm.", 15),
    ("A dreamy 30-second film about a lighthouse keeper at dusk, with a title card and end credits.", 30),
    ("a 7.5 second loop of waves on a beach at 30 fps", 7.5),
    ("A 45 second documentary about bees in a meadow, slow and calm", 45),
])
def test_the_planned_film_is_exactly_as_long_as_asked(brief, seconds):
    r = plan_storyboard(brief, settings=SETTINGS)
    sb = r.storyboard
    assert abs(film_seconds(sb) - seconds) <= 1 / sb.fps + 1e-9, (film_seconds(sb), [s.duration for s in sb.shots])
    assert all(s.duration <= 8.0 for s in sb.shots)
    assert any(f"exactly {seconds:g} s" in n for n in r.notes), r.notes


def test_cards_are_off_unless_asked_and_fit_inside_when_asked():
    plain = plan_storyboard("an 8 second film of a paper boat drifting down a rain gutter", settings=SETTINGS)
    assert not plain.storyboard.title_card and not plain.storyboard.end_card
    assert any("no title or end card" in n for n in plain.notes)
    carded = plan_storyboard("A 20 second film of a fox in the snow, with a title card and end credits", settings=SETTINGS)
    sb = carded.storyboard
    assert sb.title_card and sb.end_card
    assert abs(film_seconds(sb) - 20) <= 1 / sb.fps
    assert abs(sum(s.duration for s in sb.shots) - 16) <= 1.5   # the cards' 4 s come out of the shots
    assert any("title card and end card (4 s) fit inside it" in n for n in carded.notes)
    # too short for cards: they are dropped, and the person is told
    tiny = plan_storyboard("a 3 second clip of a candle flame, with a title card and end card", settings=SETTINGS)
    assert not tiny.storyboard.title_card and abs(film_seconds(tiny.storyboard) - 3) <= 1 / 24
    assert any("no room for a title or end card" in n for n in tiny.notes)


def test_fit_keeps_round_durations_when_they_already_fit():
    r = plan_storyboard("a 12 second film in three shots of a busy market street. Fast cuts.", settings=SETTINGS)
    assert [s.transition for s in r.storyboard.shots][:2] == ["cut", "cut"]
    assert [s.duration for s in r.storyboard.shots] == [4.0, 4.0, 4.0]
    refit = fit_storyboard(r.storyboard, 9.0)
    assert refit is not None and abs(film_seconds(refit) - 9.0) <= 1 / 24


@pytest.mark.slow
def test_an_8_second_film_through_the_director_is_8_seconds_of_video(tmp_path):
    workspace = Workspace(tmp_path)
    d = Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings(resolution=64))
    # calm: crossfades overlap the shots, and the film must still be 8 s
    project = d.user_message("ada", "An 8 second film: a calm lake at dawn, then a heron lands on a post. Peaceful.")
    assert project
    out = d.render("ada", project)
    sb = d.store.get_version(project).storyboard
    assert any(s.transition == "crossfade" for s in sb.shots)
    assert abs(decoded_frames(Path(out["cut"])) - 8 * sb.fps) <= 1


@pytest.mark.slow
def test_director_make_json_gives_an_8_second_final_mp4(tmp_path):
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "server.cli", "make", "an 8 second film of a paper boat drifting down a rain gutter",
                           "--out", str(tmp_path / "film"), "--resolution", "64", "--json"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert abs(decoded_frames(Path(data["cut"])) - 8 * 24) <= 1


def test_director_plan_json_says_the_films_length_as_delivered(tmp_path):
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "server.cli", "plan", "A 12 second film: a calm lake at dawn, then a heron lands. Peaceful.",
                           "--json"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["duration"] == pytest.approx(12, abs=1 / 24)      # crossfades counted: the sum of shots is more
    assert sum(s["duration"] for s in data["shots"]) > 12.4
    assert data["title_card"] is False and data["end_card"] is False
