"""The web studio's server side: cancel on every path, card edits, uploads, history, take media, live state.

Real Director, Store and workspace in tmp_path; the websocket through FastAPI's TestClient; tiny films
(64 px, 8 fps, 1 s shots) so renders take seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from agent.editing import ShotEdit
from server.models import server_event_adapter
from storyboards.schema import Storyboard

SHOT = {"duration": 1, "subject": "a small fishing boat", "setting": "a stone harbour at dawn", "camera": "dolly_in"}
BOARD = {"title": "Harbour", "resolution": 64, "fps": 8, "shots": [{**SHOT, "id": f"s{i}"} for i in range(1, 4)]}
LONG = {**BOARD, "shots": [{**SHOT, "id": f"s{i}", "subject": f"boat number {i}"} for i in range(1, 9)]}
STATIC = Path(__file__).resolve().parents[1] / "server" / "static"


def project(env, board=BOARD, owner="ann"):
    return env[0].start_project(owner, Storyboard.parse(board), "made by the test")


def until(ws, pred, limit=3000):
    seen = []
    for _ in range(limit):
        event = ws.receive_json()
        server_event_adapter.validate_python(event)
        seen.append(event)
        if pred(event):
            return seen
        if event["type"] == "error":
            raise AssertionError(f"unexpected error event: {event}")
    raise AssertionError("no matching event")


def idle(client, timeout=10.0):
    """Wait until no job holds a project (a chat line's job ends just after its last event)."""
    import time

    deadline = time.monotonic() + timeout
    while client.app.state.hub.jobs:
        assert time.monotonic() < deadline, "a job never finished"
        time.sleep(0.02)


def png_bytes(w=96, h=64) -> bytes:
    import cv2

    y, x = np.mgrid[0:h, 0:w]
    img = np.dstack([(x * 255 // w), (y * 255 // h), np.full_like(x, 200)]).astype(np.uint8)
    return cv2.imencode(".png", img)[1].tobytes()


# ----------------------------------------------------------------------------- 1. cancel on every path


def _cancel_after_first_take(ws, pid, send):
    ws.send_json(send)
    until(ws, lambda e: e["type"] == "take_ready")
    ws.send_json({"type": "cancel", "project_id": pid})
    events = until(ws, lambda e: e["type"] == "cut_ready" or (e["type"] == "director_message" and e.get("cancelled")))
    assert events[-1]["type"] != "cut_ready", f"{send['type']} was not cancelled"
    return events


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cancel_stops_every_path_that_renders(client, env):
    director, store, _, ann, _ = env
    pid = project(env, LONG)
    director.render("ann", pid)            # a cut exists: from now on a chat line re-renders
    cuts = len(store.list_cuts(pid))
    first_take = store.selected_take(pid, "s1").id
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        # the chat (user_message re-render): the path that ignored cancel
        _cancel_after_first_take(ws, pid, {"type": "user_message", "project_id": pid, "text": "make it darker"})
        # feedback
        _cancel_after_first_take(ws, pid, {"type": "feedback", "project_id": pid, "text": "brighter"})
        # render
        _cancel_after_first_take(ws, pid, {"type": "render", "project_id": pid})
        # select_take: the old take of shot 1 comes back, the other (changed) shots render again
        director.feedback("ann", pid, "warmer", render=False)
        _cancel_after_first_take(ws, pid, {"type": "select_take", "project_id": pid, "shot_id": "s1", "take_id": first_take})
    assert len(store.list_cuts(pid)) == cuts      # no path made a cut after its cancel
    assert director.live.get(pid) is None         # and nothing is left marked as running


# ----------------------------------------------------------------------------- 4. card edits


def test_card_edits_make_versions_and_go_back(env):
    director, store, *_ = env
    pid = project(env)
    events = []
    out = director.edit_shot("ann", pid, "s2", {"subject": "a red lighthouse", "camera": "orbit", "duration": 2}, emit=events.append)
    assert out["version"] == 2 and out["changed_shots"] == ["s2"]
    board = next(e for e in events if e["type"] == "storyboard")
    shot = board["storyboard"]["shots"][1]
    assert shot["subject"] == "a red lighthouse" and shot["camera"] == "orbit" and "red lighthouse" in shot["prompt"]
    assert store.get_version(pid).reason == "shot 2: edited camera, duration, subject"

    director.edit_storyboard("ann", pid, [ShotEdit("add", fields={"subject": "gulls"}, position=1)])
    director.edit_storyboard("ann", pid, [ShotEdit("move", "s3", position=1)])
    director.edit_storyboard("ann", pid, [ShotEdit("remove", "s1")])
    ids = [s.id for s in store.get_version(pid).storyboard.shots]
    assert ids == ["s3", "s4", "s2"] and store.get_version(pid).storyboard.shot("s4").subject == "gulls"

    with pytest.raises(ValueError, match="camera 'sideways' is not one of"):
        director.edit_shot("ann", pid, "s2", {"camera": "sideways"})
    with pytest.raises(ValueError, match="cannot edit id"):
        director.edit_shot("ann", pid, "s2", {"id": "x"})
    with pytest.raises(KeyError, match="shots are: s3, s4, s2"):
        director.edit_shot("ann", pid, "s9", {"subject": "x"})

    director.restore_version("ann", pid, 1)
    latest = store.get_version(pid)
    assert latest.number == 6 and latest.reason == "back to version 1"
    assert [s.id for s in latest.storyboard.shots] == ["s1", "s2", "s3"]
    history = director.history("ann", pid)
    assert [h["number"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert history[1]["changed_shots"] == ["s2"] and history[4]["removed_shots"] == ["s1"]


def test_edit_shot_over_the_websocket(client, env):
    _, store, _, ann, bob = env
    pid = project(env)
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        ws.send_json({"type": "edit_shot", "project_id": pid, "shot_id": "s1", "fields": {"lighting": "moonlight"}})
        board = until(ws, lambda e: e["type"] == "storyboard")[-1]
        assert board["version"] == 2 and board["changed_shots"] == ["s1"]
        until(ws, lambda e: e["type"] == "director_message")
        ws.send_json({"type": "edit_shot", "project_id": pid, "action": "move", "shot_id": "s3", "position": 1})
        board = until(ws, lambda e: e["type"] == "storyboard")[-1]
        assert [s["id"] for s in board["storyboard"]["shots"]] == ["s3", "s1", "s2"] and board["changed_shots"] == []
        until(ws, lambda e: e["type"] == "director_message")
        ws.send_json({"type": "restore_version", "project_id": pid, "version": 1})
        board = until(ws, lambda e: e["type"] == "storyboard")[-1]
        assert board["version"] == 4 and board["reason"] == "back to version 1"
        until(ws, lambda e: e["type"] == "director_message")
        ws.send_json({"type": "history", "project_id": pid})
        history = until(ws, lambda e: e["type"] == "history")[-1]["versions"]
        assert [h["reason"] for h in history][1:] == ["shot 1: edited lighting", "moved shot 3 to position 1", "back to version 1"]
        ws.send_json({"type": "edit_shot", "project_id": pid, "shot_id": "s1", "fields": {"framing": "nope"}})
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "bad_request" and "framing 'nope'" in error["message"]
    with client.websocket_connect(f"/ws?token={bob}") as ws:
        ws.send_json({"type": "edit_shot", "project_id": pid, "shot_id": "s1", "fields": {"lighting": "x"}})
        assert ws.receive_json()["code"] == "not_found"
    assert store.get_version(pid).number == 4


# ----------------------------------------------------------------------------- 2. uploads


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_uploaded_image_makes_the_shot_image_to_video(client, env):
    director, store, workspace, ann, bob = env
    pid = project(env)
    sent = client.post("/api/uploads", params={"token": ann}, files={"file": ("ref.png", png_bytes(), "image/png")})
    assert sent.status_code == 201, sent.text
    upload = sent.json()["id"]
    # Another user's upload id is not a path into ann's files.
    with client.websocket_connect(f"/ws?token={bob}") as ws:
        bob_pid = project(env, owner="bob")
        ws.send_json({"type": "edit_shot", "project_id": bob_pid, "shot_id": "s1", "upload": upload})
        assert ws.receive_json()["code"] == "not_found"
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        # the card: drop an image on shot 1
        ws.send_json({"type": "edit_shot", "project_id": pid, "shot_id": "s1", "upload": upload})
        board = until(ws, lambda e: e["type"] == "storyboard")[-1]
        shot = board["storyboard"]["shots"][0]
        assert shot["mode"] == "i2v" and Path(shot["reference"]) == workspace.resolve(upload)
        assert board["reason"] == "shot 1: made from your image"
        until(ws, lambda e: e["type"] == "director_message")
        # the chat: an attachment and "use this for shot 2"
        ws.send_json({"type": "user_message", "project_id": pid, "text": "use this for shot 2", "upload": upload})
        board = until(ws, lambda e: e["type"] == "storyboard")[-1]
        assert [s["mode"] for s in board["storyboard"]["shots"]] == ["i2v", "i2v", "t2v"]
        until(ws, lambda e: e["type"] == "director_message")
        idle(client)
        # a clip makes the shot video-to-video
        clip = Path(__file__).resolve().parents[1] / "storyboards" / "examples" / "city_remix_street.mp4"
        sent = client.post("/api/uploads", params={"token": ann}, files={"file": ("street.mp4", clip.read_bytes(), "video/mp4")})
        assert sent.status_code == 201, sent.text
        ws.send_json({"type": "edit_shot", "project_id": pid, "shot_id": "s3", "upload": sent.json()["id"]})
        board = until(ws, lambda e: e["type"] == "storyboard")[-1]
        assert board["storyboard"]["shots"][2]["mode"] == "v2v" and board["reason"] == "shot 3: made from your clip"
        until(ws, lambda e: e["type"] == "director_message")
        ws.send_json({"type": "user_message", "project_id": pid, "text": "here you go", "upload": upload})
        question = until(ws, lambda e: e["type"] == "director_message")[-1]["text"]
        assert question.startswith("Which shot should use this file?")
        idle(client)
        ws.send_json({"type": "render", "project_id": pid})
        events = until(ws, lambda e: e["type"] == "cut_ready")
    take = store.selected_take(pid, "s1")
    assert take.params.get("reference_size") == [96, 64]     # the animatic moved a camera over our image
    assert store.selected_take(pid, "s3").params.get("source_frames_read", 0) > 0   # and restyled our clip
    with pytest.raises(ValueError, match="start with a brief"):
        director.user_message("ann", "use this for shot 1", None, upload=upload)
    assert {e["shot_id"] for e in events if e["type"] == "take_ready"} == {"s1", "s2", "s3"}


# ----------------------------------------------------------------------------- 3, 5, 6: critique, takes, state


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_state_for_a_reloaded_page_takes_plots_and_history(client, env):
    director, store, _, ann, _ = env
    pid = project(env)
    events = []
    director.render("ann", pid, emit=events.append)
    estimate = next(e for e in events if e["type"] == "estimate")
    assert set(estimate["shots"]) == {"s1", "s2", "s3"} and not any(s["reused"] for s in estimate["shots"].values())
    assert estimate["wall_seconds"] >= 0 and all(s["seconds"] >= 0 for s in estimate["shots"].values())
    first_s2 = store.selected_take(pid, "s2").id
    progress = [e for e in events if e["type"] == "shot_progress" and e.get("shot_id") not in (None, "*")]
    assert progress and all(e.get("elapsed") is not None and e.get("left") is not None for e in progress)
    director.feedback("ann", pid, "shot 2 darker", render=False)
    events = []
    director.render("ann", pid, emit=events.append)
    estimate = next(e for e in events if e["type"] == "estimate")
    assert {sid for sid, s in estimate["shots"].items() if not s["reused"]} == {"s2"}
    assert estimate["shots"]["s1"]["seconds"] == 0

    state = client.get(f"/api/projects/{pid}", params={"token": ann}).json()
    assert state["job"] is None and [h["number"] for h in state["history"]] == [1, 2]
    assert state["files"]["final.mp4"] == f"/media/{pid}/final.mp4" and "critique.json" in state["files"]
    assert all(client.get(url, params={"token": ann}).status_code == 200 for url in state["files"].values())
    assert state["history"][1]["changed_shots"] == ["s2"]
    assert all(h["cut"] for h in state["history"])            # each version's cut is kept to compare
    assert client.get(state["history"][0]["cut"], params={"token": ann}).content[4:8] == b"ftyp"
    take = state["takes"]["s1"][0]
    video = client.get(f"/media/{pid}/takes/{take['id']}.mp4", params={"token": ann})
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    plot = client.get(f"/media/{pid}/plots/{take['id']}.png", params={"token": ann})
    assert plot.status_code == 200 and plot.content[:4] == b"\x89PNG"
    other = project(env, owner="bob")
    assert client.get(f"/media/{other}/takes/{take['id']}.mp4", params={"token": env[4]}).status_code == 404

    # Going back to version 1: shot 2 changes again, but its version-1 take exists and shows at once.
    events = []
    director.restore_version("ann", pid, 1, emit=events.append)
    board = next(e for e in events if e["type"] == "storyboard").to_wire()
    assert board["changed_shots"] == ["s2"]
    assert board["reusable_takes"]["s2"]["id"] == first_s2
    assert board["reusable_takes"]["s2"]["thumbnail"].endswith(".jpg")
    events = []
    director.render("ann", pid, emit=events.append)
    assert not any(e["type"] == "take_ready" for e in events)     # nothing generated: the take was reused

    director.accept_take("ann", pid, "s1")
    state = client.get(f"/api/projects/{pid}", params={"token": ann}).json()
    assert state["accepted"] == {"s1": take["id"]}


def test_live_state_is_readable_while_a_render_runs(env):
    director, *_ = env
    pid = project(env)
    seen = []

    def emit(event):
        if event["type"] == "take_ready" and not seen:
            seen.append(director.project_state("ann", pid)["job"])

    director.render("ann", pid, emit=emit)
    job = seen[0]
    assert job["kind"] == "render" and job["stage"] == "rendering shots" and set(job["estimates"]) == {"s1", "s2", "s3"}
    assert job["shots"] and all(p["type"] == "shot_progress" for p in job["shots"].values())
    assert director.project_state("ann", pid)["job"] is None


# ----------------------------------------------------------------------------- 8. the placeholder is understood


def test_the_feedback_placeholders_suggest_what_the_director_understands(env):
    director, store, *_ = env
    html = (STATIC / "index.html").read_text()
    for box in ("shot-feedback-input", "chat-input"):
        m = re.search(rf'id="{box}"[^>]*placeholder="([^"]+)"', html)
        assert m, box
    suggestion = re.search(r'id="shot-feedback-input"[^>]*placeholder="([^"]+)"', html).group(1).rstrip("…. ")
    pid = project(env)
    before = store.get_version(pid).storyboard
    # Every comma-separated suggestion, sent as feedback on one shot, changes that shot.
    for part in [p.strip() for p in suggestion.split(",")]:
        out = director.feedback("ann", pid, part, shots=["s2"], render=False)
        assert out.get("changed_shots") == ["s2"] and not out.get("question"), (part, out)
    assert store.get_version(pid).storyboard.shot("s2") != before.shot("s2")
