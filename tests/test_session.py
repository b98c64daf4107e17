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


def _dead_process() -> str:
    """host:pid:start of a process that has exited (what a killed render leaves in its row)."""
    import socket
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:1"


def test_a_render_a_crash_left_unfinished_resumes_after_a_restart(tmp_path):
    import sqlalchemy as sa

    first = director(tmp_path)
    project = first.user_message("ada", BRIEF)
    # What a process that died mid-render leaves behind: a running render whose process is gone.
    shots = [s.id for s in first.store.get_version(project).storyboard.shots]
    job = first.store.renders.create(project, "ada", 1, shots, out_dir=str(tmp_path / "wanted"))
    first.store.renders.start(job.id, version=1, shot_ids=shots)
    assert first.unfinished_renders() == []     # its process (this one) is alive: not resumable
    with first.store.engine.begin() as c:
        c.execute(sa.text("UPDATE renders SET process = :p WHERE id = :id"), {"p": _dead_process(), "id": job.id})
    assert [(j.owner, j.project_id, j.state) for j in first.unfinished_renders()] == [("ada", project, "running")]

    events = []
    restarted = director(tmp_path)   # a new process on the same workspace
    assert restarted.resume_unfinished(emit=events.append) == [project]
    assert any(e["type"] == "cut_ready" for e in events)
    assert restarted.unfinished_renders() == []
    assert (tmp_path / "wanted" / "final.mp4").is_file()    # where the interrupted render was asked to write
    finished = restarted.store.renders.get(job.id)
    assert finished.state == "done" and [s.state for s in finished.shots] == ["done"] * len(shots)
    assert all(s.take_id for s in finished.shots)


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
    assert [(j.owner, j.project_id, j.state) for j in d.unfinished_renders()] == [("ada", project, "interrupted")]
    assert [j.state for j in d.store.renders.for_project(project)] == ["interrupted", "cancelled"]


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


def test_feedback_that_loses_the_race_is_applied_again_on_the_new_latest_version(tmp_path):
    a, b = director(tmp_path), director(tmp_path)    # two sessions on one database, as two processes are
    project = a.user_message("ada", BRIEF)
    real_add = a.store.versions.add
    raced = []

    def someone_else_first(*args, **kwargs):
        if not raced:   # between A reading version 1 and storing its change, B stores version 2
            raced.append(b.feedback("ada", project, "make shot 2 brighter", render=False))
        return real_add(*args, **kwargs)

    a.store.versions.add = someone_else_first
    events = []
    result = a.feedback("ada", project, "make shot 1 darker", render=False, emit=events.append)
    assert raced[0]["version"] == 2 and result["version"] == 3
    versions = a.store.list_versions(project)
    assert [(v.number, v.parent) for v in versions] == [(1, None), (2, 1), (3, 2)]
    latest = versions[-1].storyboard.shots
    assert "dim" in latest[0].lighting and "bright" in latest[1].lighting    # both changes survive
    assert any("applying" in e.get("text", "") for e in events)
    assert any("Version 2 was made meanwhile" in m.text for m in a.store.messages(project))


def test_feedback_naming_an_unknown_shot_is_kept_in_the_transcript_with_its_refusal(tmp_path):
    import pytest

    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    with pytest.raises(KeyError, match="no shot 'nope'"):
        d.feedback("ada", project, "make it darker", shots=["nope"])
    said = [(m.role, m.text) for m in d.store.messages(project)][-2:]
    assert said[0] == ("user", "make it darker") and said[1][0] == "director" and "Nothing was changed" in said[1][1]
    assert len(d.store.list_versions(project)) == 1


def test_a_take_file_swapped_or_truncated_is_made_again_and_said_so(tmp_path):
    import shutil

    from storyboards.hashing import file_sha256

    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    d.render("ada", project)
    shots = [s.id for s in d.store.get_version(project).storyboard.shots]
    first, second = (d.store.selected_take(project, sid) for sid in shots)
    first_path, second_path = (d.workspace.resolve(t.file) for t in (first, second))
    assert first_path.name == f"{first.content_hash}.mp4"     # named by content
    assert (first.file_size, first.file_mtime_ns) == (first_path.stat().st_size, first_path.stat().st_mtime_ns)

    # Shot 1's file is truncated to half; shot 2's is swapped for another valid clip of the same size class.
    data = first_path.read_bytes()
    first_path.write_bytes(data[: len(data) // 2])
    shutil.copyfile(_other_clip(d, tmp_path), second_path)

    events = []
    result = d.render("ada", project, emit=events.append)
    # Neither changed file is used (another good take of the same shot may be; the rest is made again).
    assert result["new_takes"] >= 1 and result["reused_takes"] < len(shots)
    said = " ".join(e.get("text", "") for e in events if e["type"] == "director_message")
    assert f"Shot {shots[0]}: take {first.attempt} was not reused because its file is" in said
    assert f"Shot {shots[1]}: take {second.attempt} was not reused" in said
    for sid, old in zip(shots, (first, second), strict=True):
        now = d.store.selected_take(project, sid)
        assert now.id != old.id and file_sha256(d.workspace.resolve(now.file)) == now.content_hash
        assert d.store.get_take(old.id).status == "error" and "not reused" in d.store.get_take(old.id).error
    # Untouched takes are still reused on the next render.
    assert d.render("ada", project)["reused_takes"] == len(shots)


def _other_clip(d, tmp_path):
    """A valid MP4 that is not the take: solid red, as in the report."""
    import numpy as np

    from tools.edit.video_io import write_video

    frames = np.zeros((24, 96, 96, 3), np.uint8)
    frames[..., 0] = 255
    return write_video(frames, 24, tmp_path / "red.mp4")


def test_history_lists_every_version_with_its_parent_and_changed_shots(tmp_path):
    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    d.feedback("ada", project, "make shot 2 darker", render=False)
    history = d.history("ada", project)
    shots = [s["id"] for s in history[0]["storyboard"]["shots"]]
    assert [(v["number"], v["parent"]) for v in history] == [(1, None), (2, 1)]
    assert history[0]["changed_shots"] == shots and history[1]["changed_shots"] == [shots[1]]
    assert all(s["prompt"] for s in history[1]["storyboard"]["shots"])   # the composed prompts, as `plan --json`
    assert any("lighting" in line for line in history[1]["changes"])
