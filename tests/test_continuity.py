"""`continue_from`: a shot starts from the last frame of the shot it continues (a walk through a door
carries across the cut), and changes upstream flow downstream: a new first shot means a new second
shot, while an unrelated shot keeps its take."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard
from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.edit.video_io import read_video


def board() -> Storyboard:
    return Storyboard(title="Through the door", resolution=144, fps=12, shots=[
        Shot(id="hall", duration=2, subject="a woman in a red coat", action="walks to a door", setting="a long hallway",
             camera="dolly_in", framing="wide"),
        Shot(id="garden", duration=2, subject="a woman in a red coat", action="steps into the garden",
             setting="a walled garden", camera="dolly_in", framing="wide", continue_from="hall"),
        Shot(id="sky", duration=2, subject="a kite", action="flies", setting="a blue sky", camera="tilt_up", framing="wide"),
    ])


def centre(frame: np.ndarray) -> np.ndarray:
    """The middle of the picture, clear of the burned-in label, timecode and shot slate."""
    h, w = frame.shape[:2]
    return frame[h // 4: 3 * h // 4, w // 4: 3 * w // 4].astype(np.float32)


@pytest.mark.slow
def test_a_continued_shot_starts_where_the_shot_before_ended(tmp_path):
    workspace = Workspace(tmp_path)
    director = Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings())
    project = director.start_project("ada", board(), "test")
    director.render("ada", project)

    hall = director.store.selected_take(project, "hall")
    garden = director.store.selected_take(project, "garden")
    hall_frames, _ = read_video(workspace.resolve(hall.file))
    garden_frames, _ = read_video(workspace.resolve(garden.file))
    start_gap = np.abs(centre(garden_frames[0]) - centre(hall_frames[-1])).mean()
    fresh_gap = np.abs(centre(garden_frames[0]) - centre(hall_frames[0])).mean()
    assert start_gap < 12, f"the garden shot does not start from the hall's last frame (mean difference {start_gap:.1f})"
    assert start_gap < fresh_gap / 2

    # A change to the hall regenerates the garden (its first frame changed) but not the sky.
    sky = director.store.selected_take(project, "sky")
    result = director.feedback("ada", project, "make shot 1 darker")
    assert {"hall", "garden"} <= set(result.changed_shots) and "sky" not in result.changed_shots
    assert director.store.selected_take(project, "sky").id == sky.id
    assert director.store.selected_take(project, "garden").id != garden.id


@pytest.mark.slow
def test_director_render_of_a_storyboard_file_carries_the_action_across_the_cut(tmp_path):
    """The same through the command line: a YAML file with `continue_from`, rendered by `director render`."""
    import json
    import os
    import subprocess
    import sys

    from storyboards.yamlio import dump_storyboard

    film = board().model_copy(update={"shots": [s.model_copy(update={"transition": "cut"}) for s in board().shots]})
    path = tmp_path / "door.yaml"
    path.write_text(dump_storyboard(film))
    out = tmp_path / "film"
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "server.cli", "render", str(path), "--out", str(out), "--json"],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["new_takes"] >= 3
    manifest = json.loads((out / "manifest.json").read_text())
    frames, _ = read_video(out / "final.mp4")
    shots = {t["shot_id"]: seg for t, seg in zip(manifest["takes"], [s for s in manifest["timeline"] if s["kind"] == "shot"])}
    hall_end = frames[shots["hall"]["start_frame"] + shots["hall"]["frames"] - 1]
    garden_start = frames[shots["garden"]["start_frame"]]
    sky_start = frames[shots["sky"]["start_frame"]]
    across = np.abs(centre(garden_start) - centre(hall_end)).mean()
    assert across < 12 and across < np.abs(centre(sky_start) - centre(hall_end)).mean() / 2, across
