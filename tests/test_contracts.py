"""The typed contracts between the floors: events (agent/events.py) and coded errors (agent/errors.py),
through the Director and the front doors that translate them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import BadInput, NotFound, as_director_error, public_message
from agent.events import DirectorMessage, Event, StoryboardEvent, parse_event
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.store import Store
from storyboards.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
BRIEF = "A 4-second film in two shots: a paper boat floats down a gutter, then a cat watches it."


def director(home: Path) -> Director:
    workspace = Workspace(home)
    return Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings(resolution=96))


def test_the_director_emits_typed_events_that_survive_the_wire(tmp_path):
    events: list[Event] = []
    d = director(tmp_path)
    project = d.user_message("ada", BRIEF, emit=events.append)
    assert [type(e) for e in events] == [StoryboardEvent, DirectorMessage]
    board = events[0]
    assert board.project_id == project and board.version == 1 and board.changed_shots == [s["id"] for s in board.storyboard["shots"]]
    for event in events:
        wire = event.to_wire()
        assert wire["type"] and wire["project_id"] == project
        assert parse_event(wire) == event   # what a client receives parses back into the same event


def test_not_found_is_a_coded_error_and_a_stray_key_error_is_not(tmp_path):
    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    with pytest.raises(NotFound) as missing:
        d.feedback("ada", "p-nothere", "darker")
    with pytest.raises(NotFound) as foreign:
        d.feedback("bob", project, "darker")
    # Someone else's project and a missing one read the same, and neither names the workspace.
    assert str(foreign.value).replace(project, "X") == str(missing.value).replace("p-nothere", "X")
    assert str(tmp_path) not in str(missing.value)
    with pytest.raises(NotFound, match="shots are"):
        d.feedback("ada", project, "darker", shots=["no-such-shot"], render=False)
    # A KeyError from a bug is an internal failure, never "not found".
    assert as_director_error(KeyError("shot_id")).code == "internal"
    assert as_director_error(ValueError("fps 0 must be between 1 and 60")).code == "bad_request"
    assert isinstance(as_director_error(BadInput("x")), BadInput)


def test_error_messages_lose_server_paths():
    text = public_message("could not read /srv/director/projects/p-1/takes/ab.mp4 (16:9, https://x.org/a/b)")
    assert text == "could not read …/ab.mp4 (16:9, https://x.org/a/b)"


@pytest.mark.slow
def test_the_cli_turns_a_missing_project_into_exit_2_without_a_traceback(tmp_path):
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "server.cli", "feedback", "p-nothere", "darker", "--json"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "no project 'p-nothere'" in proc.stderr and "Traceback" not in proc.stderr
    assert str(tmp_path) not in proc.stderr and proc.stdout == ""


def test_the_websocket_reports_a_director_bug_as_internal_not_as_not_found():
    from server.routes.ws import error_for

    event = error_for(KeyError("shot_id"), "p-1")
    assert (event.code, event.type, event.project_id) == ("internal", "error", "p-1")
    event = error_for(NotFound("no project 'p-1'"), "p-1")
    assert event.to_wire() == {"type": "error", "project_id": "p-1", "code": "not_found", "message": "no project 'p-1'"}


@pytest.mark.slow
def test_a_director_with_its_own_settings_generates_and_caches_with_them(tmp_path, monkeypatch):
    monkeypatch.delenv("DIRECTOR_FILM_NEGATIVE_PROMPT", raising=False)
    workspace = Workspace(tmp_path)
    store = Store(workspace=workspace)
    own = AgentSettings(resolution=96, film_negative_prompt="purple elephants")
    d = Director(store=store, workspace=workspace, settings=own)
    project = d.user_message("ada", BRIEF)
    first = d.render("ada", project)
    shots = d.store.get_version(project).storyboard.shots
    for shot in shots:
        take = d.store.selected_take(project, shot.id)
        assert "purple elephants" in take.negative_prompt   # the Director's settings, not the environment's
        assert take.spec_key == d.producer.plan_shot(d.store.get_version(project).storyboard, shot).spec_key
    # Same settings: every take is found under its key. Other settings: other pixels, new takes.
    assert first["new_takes"] >= len(shots)
    again = d.render("ada", project)
    assert (again["reused_takes"], again["new_takes"]) == (len(shots), 0)
    default = Director(store=store, workspace=workspace, settings=AgentSettings(resolution=96))
    assert default.render("ada", project)["reused_takes"] == 0


def test_a_render_run_shares_one_retry_budget_between_threads():
    import threading

    from agent.run import RenderRun

    run = RenderRun("p-1", retries_left=5)
    granted: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        for _ in range(10):
            ok = run.take_retry()
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 5 and run.retries_left == 0


@pytest.mark.slow
def test_render_results_print_the_cli_keys_and_a_question_only_when_asked(tmp_path):
    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    undo = d.feedback("ada", project, "undo", render=False)   # nothing to undo: the director says so
    assert undo.question and undo.to_json()["question"] == undo.question and undo.cut is None
    done = d.render("ada", project)
    data = done.to_json()
    assert "question" not in data
    assert {"project_id", "version", "cut", "cut_id", "changed_shots", "new_takes", "reused_takes", "verdict",
            "duration", "out_dir", "warnings"} <= set(data)
    assert Path(data["cut"]).is_file() and data["version"] == 1 and data["new_takes"] >= 2


@pytest.mark.parametrize("field,value", [
    ("duration", 3.0), ("style", "watercolor"), ("subject", "a gull"), ("action", "dives"), ("setting", "a pier"),
    ("atmosphere", "stormy"), ("technical", "f/2.8"), ("camera", "pan_left"), ("framing", "wide"),
    ("lighting", "neon"), ("negative_prompt", "fog"), ("seed", 7),
    ("transition", "crossfade"), ("narration", "The sea waits."), ("caption", "Dawn"),
])
def test_the_diff_the_feedback_and_the_take_key_agree_on_what_changes_pixels(tmp_path, field, value):
    from agent.feedback import changed_shot_ids
    from agent.production import Producer
    from storyboards.diff import diff_storyboards
    from storyboards.pixels import EDIT_ONLY_SHOT_FIELDS, PIXEL_SHOT_FIELDS
    from storyboards.schema import Shot, Storyboard

    old = Storyboard(title="t", shots=[Shot(id="a", subject="a boat", duration=2.0), Shot(id="b", subject="a cat", duration=2.0)])
    new = old.model_copy(update={"shots": [old.shots[0].model_copy(update={field: value}), old.shots[1]]})
    workspace = Workspace(tmp_path)
    producer = Producer(Store(workspace=workspace), workspace, AgentSettings(resolution=96))
    key_changed = producer.plan_shot(old, old.shots[0]).spec_key != producer.plan_shot(new, new.shots[0]).spec_key
    pixels = field in PIXEL_SHOT_FIELDS
    assert pixels != (field in EDIT_ONLY_SHOT_FIELDS)
    assert diff_storyboards(old, new).shots_to_regenerate == (["a"] if pixels else [])
    assert changed_shot_ids(old, new) == (["a"] if pixels else [])
    assert key_changed == pixels
