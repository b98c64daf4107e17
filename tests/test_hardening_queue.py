"""Busy projects through the Director itself (the websocket case is in test_hardening_server.py).

A render is running: a question and a plan change are answered at once; feedback that needs a
render is queued (a `queued` event with its position) and served when the render ends; the queue is
bounded, with a message naming the limit.
"""

from __future__ import annotations

import threading
import time

import pytest

from agent.queue import QueueFull
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import Storyboard
from storyboards.store import Store
from storyboards.workspace import Workspace

SHOTS = [{"id": f"s{i}", "duration": 2, "subject": subject} for i, subject in
         enumerate(["a red kite", "a green hill", "a girl waving", "a dog running", "the sea", "a lighthouse"])]
BOARD = {"title": "busy", "aspect_ratio": "16:9", "fps": 12, "resolution": 96, "shots": SHOTS}


def director(tmp_path, **settings) -> Director:
    workspace = Workspace(tmp_path / "home").ensure()
    return Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings(**settings))


class Recorder:
    def __init__(self):
        self.events: list[dict] = []
        self.started = threading.Event()

    def __call__(self, event: dict) -> None:
        self.events.append(event)
        if event.get("type") == "shot_progress":
            self.started.set()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_questions_and_plan_changes_never_wait_behind_a_render(tmp_path):
    d = director(tmp_path)
    pid = d.start_project("ann", Storyboard.parse(BOARD), "made by the test")
    first = Recorder()
    running = d.render_async("ann", pid, emit=first)
    assert first.started.wait(60), "the render did not start"

    started = time.monotonic()
    asked = Recorder()
    d.user_message("ann", "what is shot 1?", pid, emit=asked)   # no cut yet: answered, nothing rendered
    changed = d.feedback("ann", pid, "make shot 2 darker", render=False)
    answered_in = time.monotonic() - started
    assert not running.done(), "the render ended before the test could ask: make the board longer"
    assert any(e["type"] == "director_message" for e in asked.events)
    assert changed["version"] == 2 and changed["changed_shots"] == ["s1"]

    # Feedback that needs a render waits its turn, visibly, instead of being refused.
    later = Recorder()
    queued = d.feedback_async("ann", pid, "make shot 3 brighter", emit=later)
    result = queued.result(timeout=240)
    done_first = running.result(timeout=1)
    assert done_first["version"] == 1 and result["version"] == 3
    assert [e["position"] for e in later.events if e["type"] == "queued"] == [1]
    # The render of version 3 remakes what this feedback changed and what version 2 changed unrendered.
    assert result["changed_shots"] == ["s1", "s2"]
    assert d.store.list_cuts(pid)[-1].version == 3
    assert answered_in < 5, f"answers took {answered_in:.1f} s behind the render"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_queue_is_bounded_and_says_so(tmp_path):
    d = director(tmp_path, max_queued=1)
    pid = d.start_project("ann", Storyboard.parse(BOARD), "made by the test")
    first = Recorder()
    running = d.render_async("ann", pid, emit=first)
    assert first.started.wait(60)
    waiting = d.render_async("ann", pid)
    refused = d.render_async("ann", pid)
    with pytest.raises(QueueFull, match="the limit is 1"):
        refused.result(timeout=60)
    assert running.result(timeout=240)["version"] == 1
    assert waiting.result(timeout=240)["version"] == 1
