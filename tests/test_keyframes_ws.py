"""Keyframes first over the websocket: stills for every shot, one shot re-rolled, approval (a new
version where each shot is image-to-video from its still), then a render that animates them. The
stills are served to their project's owner only. Real Director, Store, workspace and encodes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from test_studio import until

from storyboards.schema import Storyboard

SHOT = {"duration": 1, "setting": "a stone harbour at dawn", "camera": "static"}
BOARD = {"title": "Harbour", "resolution": 64, "fps": 8,
         "shots": [{**SHOT, "id": "s1", "subject": "a small red fishing boat"},
                   {**SHOT, "id": "s2", "subject": "a white lighthouse", "setting": "a green cliff at noon"}]}


def still(client, url, token) -> np.ndarray:
    r = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_keyframes_reroll_approve_then_render_over_the_websocket(client, env):
    director, store, _, ann, bob = env
    pid = director.start_project("ann", Storyboard.parse(BOARD), "made by the test")
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        ws.send_json({"type": "keyframes", "project_id": pid})
        first = until(ws, lambda e: e["type"] == "keyframes")[-1]
        assert first["version"] == 1 and [k["shot_id"] for k in first["keyframes"]] == ["s1", "s2"]
        assert not any(k["approved"] for k in first["keyframes"])
        urls = {k["shot_id"]: k["url"] for k in first["keyframes"]}
        pictures = {sid: still(client, url, ann) for sid, url in urls.items()}
        width, height = director.store.get_version(pid).storyboard.size
        assert pictures["s1"].shape[:2] == (height, width)                 # a still is a frame of the film
        assert still(client, first["sheet"], ann).shape[1] > 320           # keyframes.png, every shot
        # Another person cannot see the stills, nor can a still be asked for under another project.
        assert client.get(urls["s1"], headers={"Authorization": f"Bearer {bob}"}).status_code == 404
        other = director.start_project("ann", Storyboard.parse(BOARD), "another")
        assert client.get(urls["s1"].replace(pid, other), headers={"Authorization": f"Bearer {ann}"}).status_code == 404

        ws.send_json({"type": "keyframes", "project_id": pid, "shots": ["s2"], "reroll": True})
        rolled = until(ws, lambda e: e["type"] == "keyframes")[-1]
        after = {k["shot_id"]: k for k in rolled["keyframes"]}
        assert after["s1"]["url"] == urls["s1"] and after["s1"]["roll"] == 1
        assert after["s2"]["url"] != urls["s2"] and after["s2"]["roll"] == 2

        ws.send_json({"type": "approve_keyframes", "project_id": pid})
        events = until(ws, lambda e: e["type"] == "keyframes")
        board = next(e for e in events if e["type"] == "storyboard")
        assert board["version"] == 2 and sorted(board["changed_shots"]) == ["s1", "s2"]
        assert all(s["mode"] == "i2v" for s in board["storyboard"]["shots"])
        assert events[-1]["version"] == 2 and all(k["approved"] for k in events[-1]["keyframes"])
        assert still(client, after["s2"]["url"], ann).shape == pictures["s1"].shape   # still served after approval
        state = client.get(f"/api/projects/{pid}", headers={"Authorization": f"Bearer {ann}"}).json()
        assert state["keyframes"] == events[-1]                            # a reloaded page shows them too

        ws.send_json({"type": "render", "project_id": pid})
        cut = until(ws, lambda e: e["type"] == "cut_ready")[-1]
    assert cut["version"] == 2
    from tools.edit.video_io import read_video

    for sid in ("s1", "s2"):
        frames, _ = read_video(director.workspace.resolve(store.selected_take(pid, sid).file))
        own = still(client, after[sid]["url"], ann).astype(np.float32)
        other = still(client, after["s2" if sid == "s1" else "s1"]["url"], ann).astype(np.float32)
        first_frame = frames[0].astype(np.float32)
        near, far = np.abs(first_frame - own).mean(), np.abs(first_frame - other).mean()
        assert near < far, f"shot {sid} does not open on its approved still ({near:.1f} vs {far:.1f})"


def test_approving_without_keyframes_is_an_error_event(client, env):
    director, _, _, ann, _ = env
    pid = director.start_project("ann", Storyboard.parse(BOARD), "made by the test")
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        ws.send_json({"type": "approve_keyframes", "project_id": pid, "request_id": "r1"})
        event = ws.receive_json()
        while event["type"] != "error":
            event = ws.receive_json()
    assert event["request_id"] == "r1" and "no keyframes" in event["message"] and "Keyframes" in event["message"]
    assert director.store.get_version(pid).number == 1
