"""The Director session across restarts and take choices, with a real store and real renders."""

from __future__ import annotations

import pytest

from agent.session import Director
from agent.settings import AgentSettings
from storyboards.store import Store
from storyboards.workspace import Workspace

# real renders across restarts: `make test` runs these; `make check` leaves them out.
pytestmark = pytest.mark.slow

BRIEF = "A 4-second film in two shots: a paper boat floats down a gutter, then a cat watches it."


def director(home) -> Director:
    workspace = Workspace(home)
    return Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings(resolution=96))


def test_a_render_a_crash_left_unfinished_resumes_after_a_restart(tmp_path):
    first = director(tmp_path)
    project = first.user_message("ada", BRIEF)
    # What a process that died mid-render leaves behind: a start and no end.
    first.store.audit("ada", "render.started", {"project_id": project})
    assert first.unfinished_renders() == [("ada", project)]

    events = []
    restarted = director(tmp_path)   # a new process on the same workspace
    assert restarted.resume_unfinished(emit=events.append) == [project]
    assert any(e["type"] == "cut_ready" for e in events)
    assert restarted.unfinished_renders() == []
    assert (tmp_path / "projects" / project / "final.mp4").is_file()


def test_a_render_the_person_cancelled_is_not_resumed(tmp_path):
    import threading

    import pytest

    from agent.session import Cancelled

    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        d.render("ada", project, cancel=stop)
    assert d.unfinished_renders() == []
    d.interrupt()    # a shutdown, by contrast, is resumed
    with pytest.raises(Cancelled):
        d.render("ada", project, cancel=stop)
    assert d.unfinished_renders() == [("ada", project)]


def test_choosing_a_take_of_an_earlier_version_brings_that_shot_back(tmp_path):
    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    d.render("ada", project)
    first_shot = d.store.get_version(project).storyboard.shots[0]
    old_take = d.store.selected_take(project, first_shot.id)
    d.feedback("ada", project, "make shot 1 darker")
    assert d.store.selected_take(project, first_shot.id).id != old_take.id

    result = d.select_take("ada", project, first_shot.id, old_take.id)
    assert result["new_takes"] == 0
    latest = d.store.get_version(project)
    assert latest.storyboard.shot(first_shot.id) == first_shot
    assert d.store.selected_take(project, first_shot.id).id == old_take.id
    manifest_takes = {t["shot_id"]: t["take_id"] for t in d.store.list_cuts(project)[-1].manifest["takes"]}
    assert manifest_takes[first_shot.id] == old_take.id


def test_the_final_tier_generates_small_and_slow_then_upscales_and_interpolates(tmp_path):
    from storyboards.schema import Shot, Storyboard
    from tools.edit.video_io import probe

    workspace = Workspace(tmp_path)
    settings = AgentSettings(generate_scale=0.5, generate_fps=8)
    d = Director(store=Store(workspace=workspace), workspace=workspace, settings=settings)
    board = Storyboard(title="Tier", resolution=144, fps=24, shots=[
        Shot(id="pan", duration=1.5, subject="a red kite", action="rises", setting="a green hill", camera="pan_right", framing="wide")])
    project = d.start_project("ada", board, "test")
    d.render("ada", project)
    take = d.store.selected_take(project, "pan")
    info = probe(workspace.resolve(take.file))
    assert (info["width"], info["height"], info["frames"]) == (256, 144, 36)
    assert any("upscaled 128x72 to 256x144" in n for n in take.params["notes"])
    assert any("interpolated 12 frames at 8 fps to 36 at 24 fps" in n for n in take.params["notes"])
    assert "enhance" in take.timings

    # The tier is part of the take's spec: going back to full size makes a new take, not a reuse.
    d.settings = AgentSettings()
    d.producer.settings = d.settings
    assert d.render("ada", project)["new_takes"] == 1
