"""The websocket protocol: through FastAPI's TestClient and through a real uvicorn server on loopback.

A real Director, Store and workspace in tmp_path. Films are tiny (64 px, 8 fps, 1 s shots) so a whole
render takes seconds.
"""

from __future__ import annotations

import http.client
import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import WebSocketDenialResponse

from server.app import create_app
from server.models import CLIENT_TYPES, ERROR_CODES, server_event_adapter
from server.settings import ServerSettings
from storyboards.schema import Storyboard

# a live server and real renders: `make test` runs these; `make check` leaves them out.
pytestmark = pytest.mark.slow

BOARD = {
    "title": "Harbour at dawn",
    "resolution": 64,
    "fps": 8,
    "shots": [
        {"id": "opening", "duration": 1, "subject": "a small fishing boat", "action": "leaving the harbour",
         "setting": "a stone harbour at dawn", "camera": "dolly_in", "framing": "wide"},
        {"id": "gulls", "duration": 1, "subject": "gulls", "setting": "over the sea wall", "camera": "pan_left"},
        {"id": "lamp", "duration": 1, "subject": "a lighthouse lamp", "lighting": "warm glow", "framing": "close_up"},
    ],
}




def project(env, owner="ann", board=BOARD):
    return env[0].start_project(owner, Storyboard.parse(board), "made by the test")


def until(ws, pred, limit=2000, allow=("busy",)):
    """Read events until one matches `pred`; return all read, the match last.

    Every event must be valid; an `error` that does not match fails at once (rather than hang)."""
    seen = []
    for _ in range(limit):
        event = ws.receive_json()
        server_event_adapter.validate_python(event)
        seen.append(event)
        if pred(event):
            return seen
        if event["type"] == "error" and event["code"] not in allow:
            raise AssertionError(f"unexpected error event: {event}")
    raise AssertionError(f"no matching event in {len(seen)}: {[e['type'] for e in seen][-20:]}")


def file_url(files: dict, kind: str) -> str:
    """A cut's file by kind: SESSION_API names them `srt`, `vtt`...; the Director also uses `final.srt`."""
    return files.get(kind) or next(url for name, url in files.items() if name.endswith(f".{kind}"))


def of_type(kind, **match):
    return lambda e: e["type"] == kind and all(e.get(k) == v for k, v in match.items())


# ----------------------------------------------------------------------------- auth and errors


def test_websocket_needs_a_token(client, env):
    for url in ("/ws", "/ws?token=rd_wrong"):
        with pytest.raises(WebSocketDenialResponse) as err:
            with client.websocket_connect(url):
                pass
        assert err.value.status_code == 401
        assert "token" in err.value.json()["detail"]
    with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {env[3]}"}) as ws:
        ws.send_json({"type": "subscribe", "project_id": "p-none"})
        assert ws.receive_json()["code"] == "not_found"


MALFORMED = [
    ("{not json", "bad_json"),
    ("", "bad_json"),
    ("[1, 2]", "not_object"),
    ("42", "not_object"),
    ('"render"', "not_object"),
    ("{}", "unknown_type"),
    ('{"project_id": "p-1"}', "unknown_type"),
    ('{"type": "explode", "project_id": "p-1"}', "unknown_type"),
    ('{"type": 7}', "unknown_type"),
    ('{"type": null}', "unknown_type"),
    ('{"type": "feedback", "project_id": "p-1"}', "invalid_message"),
    ('{"type": "feedback", "project_id": "p-1", "text": "  "}', "invalid_message"),
    ('{"type": "feedback", "project_id": "p-1", "text": "x", "shots": "opening"}', "invalid_message"),
    ('{"type": "user_message", "text": 12}', "invalid_message"),
    ('{"type": "user_message", "txt": "hello"}', "invalid_message"),
    ('{"type": "render"}', "invalid_message"),
    ('{"type": "render", "project_id": ""}', "invalid_message"),
    ('{"type": "select_take", "project_id": "p-1", "shot_id": "a"}', "invalid_message"),
    ('{"type": "cancel", "project_id": "p-1"}', "not_running"),
    ('{"type": "render", "project_id": "p-nope"}', "not_found"),
    ('{"type": "feedback", "project_id": "p-nope", "text": "darker"}', "not_found"),
    ('{"type": "approve_storyboard", "project_id": "p-nope"}', "not_found"),
    ('{"type": "select_take", "project_id": "p-nope", "shot_id": "a", "take_id": "t"}', "not_found"),
    ('{"type": "user_message", "project_id": "p-nope", "text": "darker"}', "not_found"),
    (json.dumps({"type": "user_message", "text": "x" * 70_000}), "too_large"),
]


def test_malformed_messages_get_an_error_and_the_connection_stays(client, env):
    pid = project(env)
    with client.websocket_connect(f"/ws?token={env[3]}") as ws:
        for raw, code in MALFORMED:
            ws.send_text(raw)
            event = ws.receive_json()
            assert event["type"] == "error" and event["code"] == code, (raw[:80], event)
            assert len(event["message"]) > 10 and event["message"][0].isalpha()
        ws.send_bytes(b"\xff\xfe not utf-8")
        assert ws.receive_json()["code"] == "bad_json"
        # A misspelt field is named; the request id comes back so a client can match the answer.
        ws.send_json({"type": "feedback", "project_id": pid, "txt": "darker", "request_id": "r1"})
        event = ws.receive_json()
        assert "'text' is required" in event["message"] and "unknown field 'txt'" in event["message"]
        assert event["request_id"] == "r1" and event["project_id"] == pid
        # Still up: a good message works.
        ws.send_json({"type": "subscribe", "project_id": pid})
        event = ws.receive_json()
        assert event["type"] == "storyboard" and event["storyboard"]["title"] == "Harbour at dawn"


def test_rate_limited_messages_get_an_error(env):
    director, store, _, ann, _ = env
    app = create_app(director=director, store=store, settings=ServerSettings(rate_limit_burst=5, rate_limit_per_minute=1))
    with TestClient(app) as c, c.websocket_connect(f"/ws?token={ann}") as ws:
        codes = []
        for _ in range(7):
            ws.send_json({"type": "subscribe", "project_id": "p-none"})
            codes.append(ws.receive_json()["code"])
        assert codes == ["not_found"] * 5 + ["rate_limited"] * 2
        ws.send_json({"type": "cancel", "project_id": "p-none"})  # cancel is never rate limited
        assert ws.receive_json()["code"] == "not_running"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Messages that look nearly right: a real type, some of its fields, wrong types, extra keys.
near_messages = st.fixed_dictionaries(
    {"type": st.sampled_from(CLIENT_TYPES + ("Render", "", "user-message"))},
    optional={
        "project_id": st.one_of(st.text(max_size=70), st.integers(), st.none(), st.just("p-00000000")),
        "text": st.one_of(st.text(max_size=50), st.integers(), st.lists(st.text(max_size=3), max_size=2)),
        "shots": st.one_of(st.lists(st.text(max_size=8), max_size=3), st.text(max_size=5), st.none()),
        "shot_id": st.one_of(st.text(max_size=8), st.integers()),
        "take_id": st.one_of(st.text(max_size=8), st.none()),
        "extra": json_values,
    },
)


def test_fuzzed_messages_always_get_an_answer_and_never_break_the_connection(client, env):
    ann = env[3]
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        counter = iter(range(10**9))

        @settings(max_examples=250, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
        @given(st.one_of(json_values.map(json.dumps), near_messages.map(json.dumps), st.text(max_size=40),
                         st.binary(max_size=40)))
        def fuzz(raw):
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("type") == "user_message" and not data.get("project_id"):
                # A valid brief would start a real plan; the fuzz is about the protocol layer.
                data["project_id"] = "p-00000000"
                raw = json.dumps(data)
            (ws.send_bytes if isinstance(raw, bytes) else ws.send_text)(raw)
            # A sentinel after each message proves the connection still answers. Messages the Director
            # handles are answered from a worker thread, possibly after the sentinel: wait for both.
            # An extra answer would land in the next example's window and fail there.
            n = str(next(counter))
            ws.send_json({"type": "cancel", "project_id": "p-sentinel", "request_id": n})
            answers, sentinel = [], False
            while not (sentinel and answers):
                event = ws.receive_json()
                server_event_adapter.validate_python(event)
                if event.get("request_id") == n and event.get("code") == "not_running":
                    sentinel = True
                else:
                    answers.append(event)
            assert len(answers) == 1, (raw, answers)
            error = answers[0]
            assert error["type"] == "error", (raw, error)
            assert error["code"] in ERROR_CODES, error
            assert error["code"] != "internal", (raw, error)
            assert error["message"]

        fuzz()
        ws.send_json({"type": "subscribe", "project_id": project(env)})
        assert ws.receive_json()["type"] == "storyboard"


def test_another_users_project_is_not_found_and_silent(client, env):
    _, _, _, ann, bob = env
    pid = project(env, "ann")
    with client.websocket_connect(f"/ws?token={bob}") as bob_ws:
        for msg in ({"type": "subscribe"}, {"type": "render"}, {"type": "approve_storyboard"},
                    {"type": "feedback", "text": "make it pink"}, {"type": "user_message", "text": "pink"},
                    {"type": "select_take", "shot_id": "opening", "take_id": "t-1"}, {"type": "cancel"}):
            bob_ws.send_json({**msg, "project_id": pid})
            event = bob_ws.receive_json()
            assert event["type"] == "error" and event["code"] in ("not_found", "not_running"), (msg, event)
        with client.websocket_connect(f"/ws?token={ann}") as ann_ws:
            ann_ws.send_json({"type": "approve_storyboard", "project_id": pid})
            assert until(ann_ws, of_type("director_message"))[-1]["text"].startswith("Storyboard approved")
        # Bob's next answer is to his own message: nothing of ann's reached him.
        bob_ws.send_json({"type": "subscribe", "project_id": "p-none"})
        assert bob_ws.receive_json()["code"] == "not_found"
    assert env[0].store.get_version(pid).storyboard.shots[0].subject == "a small fishing boat"


# ----------------------------------------------------------------------------- a brief, through the planner


@pytest.mark.timeout(120)
def test_a_brief_plans_a_storyboard(client, env):
    ann = env[3]
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        ws.send_json({"type": "user_message", "text": "A 6-second film in 3 shots: a lighthouse keeper at dusk lights the lamp as a storm rolls in."})
        events = until(ws, of_type("director_message"))
    board = next(e for e in events if e["type"] == "storyboard")
    pid = board["project_id"]
    assert pid and board["version"] == 1
    assert len(board["storyboard"]["shots"]) == 3
    assert all(s["prompt"] for s in board["storyboard"]["shots"])
    assert set(board["changed_shots"]) == {s["id"] for s in board["storyboard"]["shots"]}
    assert events[-1]["project_id"] == pid
    assert [p["id"] for p in client.get("/api/projects", params={"token": ann}).json()] == [pid]


# ----------------------------------------------------------------------------- production through the socket


@pytest.mark.timeout(300)
def test_render_feedback_and_take_selection(client, env):
    """Two tabs of one user follow one project: render, then feedback on one shot re-renders that shot only."""
    _, store, workspace, ann, _ = env
    pid = project(env)
    with client.websocket_connect(f"/ws?token={ann}") as tab1, client.websocket_connect(f"/ws?token={ann}") as tab2:
        tab2.send_json({"type": "subscribe", "project_id": pid})
        assert tab2.receive_json()["type"] == "storyboard"

        tab1.send_json({"type": "render", "project_id": pid})
        tab1.send_json({"type": "render", "project_id": pid})
        events = until(tab1, of_type("cut_ready"), allow=())
        # The second render is queued behind the first (never refused as busy) and told its place.
        assert [e["position"] for e in events if e["type"] == "queued"] == [1]
        other = until(tab2, of_type("cut_ready"), allow=())
        # The second tab saw the same production.
        assert events == other
        # The queued render runs when the first ends: the same version again, every take reused.
        again = until(tab1, of_type("cut_ready"), allow=())
        assert until(tab2, of_type("cut_ready"), allow=()) == again
        assert {e["stage"] for e in again if e["type"] == "shot_progress" and e.get("shot_id") != "*"} <= {"reused"}

        takes = {e["shot_id"]: e for e in events if e["type"] == "take_ready"}
        assert set(takes) == {"opening", "gulls", "lamp"}
        for e in takes.values():
            assert e["selected"] and e["critique"]["verdict"] in ("pass", "fail")
            assert client.get(e["thumbnail"], params={"token": ann}).headers["content-type"] == "image/jpeg"
        stages = {e["stage"] for e in events if e["type"] == "shot_progress"}
        assert {"generate", "critique", "assemble"} <= stages
        cut = events[-1]
        assert cut["url"] == f"/media/{pid}/final.mp4"
        video = client.get(cut["url"], params={"token": ann})
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        assert video.content[4:8] == b"ftyp"
        # Subtitles are offered only when the film has words on screen; what is offered is served.
        shots = store.get_version(pid).storyboard.shots
        has_words = any(s.narration or s.caption for s in shots)
        assert any(name.endswith(".srt") for name in cut["files"]) == has_words
        for kind in ("srt", "vtt", "otio") if has_words else ("otio",):
            assert client.get(file_url(cut["files"], kind), params={"token": ann}).status_code == 200, kind
        ranged = client.get(cut["url"], params={"token": ann}, headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206 and len(ranged.content) == 100

        # Feedback on one shot: a new version naming that shot, one new take, a new cut.
        tab1.send_json({"type": "feedback", "project_id": pid, "text": "darker, at night", "shots": ["gulls"]})
        events = until(tab1, of_type("cut_ready"), allow=())
        board = next(e for e in events if e["type"] == "storyboard")
        assert board["version"] == 2 and board["changed_shots"] == ["gulls"]
        assert [e["shot_id"] for e in events if e["type"] == "take_ready"] == ["gulls"]
        reused = {e["shot_id"] for e in events if e["type"] == "shot_progress" and e["stage"] == "reused"}
        assert reused == {"opening", "lamp"}
        assert events[-1]["cut_id"] != cut["cut_id"]
        until(tab2, of_type("cut_ready"))

        # Pick the take made before the feedback: the shot comes back as it was then (a new version),
        # the cut is reassembled with that take, and nothing is generated.
        first = takes["gulls"]["take"]["id"]
        tab1.send_json({"type": "select_take", "project_id": pid, "shot_id": "gulls", "take_id": first})
        events = until(tab1, of_type("cut_ready"), allow=())
        assert any(e["type"] == "director_message" and "Shot 2 now uses take" in e["text"] for e in events)  # gulls is shot 2
        assert any(e["type"] == "storyboard" and e["changed_shots"] == ["gulls"] for e in events)
        assert not any(e["type"] == "take_ready" for e in events)  # nothing was generated
        cut_takes = {t["shot_id"]: t["take_id"] for t in store.list_cuts(pid)[-1].manifest["takes"]}
        assert cut_takes["gulls"] == first
        tab1.send_json({"type": "select_take", "project_id": pid, "shot_id": "gulls", "take_id": "t-nope"})
        assert until(tab1, of_type("error"))[-1]["code"] == "not_found"

    state = client.get(f"/api/projects/{pid}", params={"token": ann}).json()
    assert len(state["versions"]) == 3 and len(state["cuts"]) == 4
    assert state["versions"][-1]["reason"].startswith("shot gulls: back to take")
    assert any(m["role"] == "user" and m["text"] == "darker, at night" for m in state["messages"])
    assert len(state["takes"]["gulls"]) == 2 and len(state["takes"]["opening"]) == 1


@pytest.mark.timeout(300)
def test_cancel_stops_a_render_and_keeps_finished_takes(client, env):
    _, store, _, ann, _ = env
    board = {**BOARD, "shots": [{**BOARD["shots"][i % 3], "id": f"shot-{i}"} for i in range(8)]}
    pid = project(env, board=board)
    with client.websocket_connect(f"/ws?token={ann}") as ws:
        ws.send_json({"type": "render", "project_id": pid})
        until(ws, of_type("take_ready"))
        ws.send_json({"type": "cancel", "project_id": pid})
        events = until(ws, lambda e: e["type"] == "director_message" and e.get("cancelled"))
        assert any("Stopping the render" in e.get("text", "") for e in events)
        assert not any(e["type"] == "cut_ready" for e in events)
        # The project is free again: a new render is accepted (and not 'busy').
        ws.send_json({"type": "render", "project_id": pid})
        rest = until(ws, lambda e: e["type"] in ("cut_ready", "error"))
        assert rest[-1]["type"] == "cut_ready"
        reused = {e["shot_id"] for e in rest if e["type"] == "shot_progress" and e["stage"] == "reused"}
    kept = {sid for sid in (s["id"] for s in board["shots"]) if store.takes_for_shot(pid, sid)}
    assert reused and reused <= kept


# ----------------------------------------------------------------------------- a real server on loopback


@pytest.fixture
def live(live_port):
    return live_port


@pytest.mark.timeout(120)
def test_real_server_protocol(live, env):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    _, _, _, ann, bob = env
    pid = project(env)
    url = f"ws://127.0.0.1:{live}/ws"
    with pytest.raises(InvalidStatus) as err:
        connect(url, open_timeout=5).close()
    assert err.value.response.status_code == 401

    with connect(url, additional_headers={"Authorization": f"Bearer {ann}"}, open_timeout=5) as ws:
        ws.send("{oops")
        assert json.loads(ws.recv(timeout=5))["code"] == "bad_json"
        ws.send(json.dumps({"type": "subscribe", "project_id": pid}))
        assert json.loads(ws.recv(timeout=5))["type"] == "storyboard"
        ws.send(json.dumps({"type": "approve_storyboard", "project_id": pid}))
        assert json.loads(ws.recv(timeout=5))["text"].startswith("Storyboard approved")
        ws.send(json.dumps({"type": "user_message", "text": "A 4-second film in 2 shots: rain on a tin roof."}))
        events = []
        while not events or events[-1]["type"] not in ("director_message", "error"):
            events.append(json.loads(ws.recv(timeout=60)))
        assert [e["type"] for e in events] == ["storyboard", "director_message"], events[-1]

    with connect(f"{url}?token={bob}", open_timeout=5) as ws:
        ws.send(json.dumps({"type": "render", "project_id": pid}))
        assert json.loads(ws.recv(timeout=5))["code"] == "not_found"

    # Raw HTTP: no client-side normalisation of '..' can hide a traversal.
    (env[2].project_dir(pid)).mkdir(parents=True, exist_ok=True)
    (env[2].project_dir(pid) / "final.srt").write_text("1\n")
    for path in (f"/media/{pid}/final.srt", f"/media/{pid}/../../director.db", f"/media/{pid}/thumbs/../../../director.db",
                 f"/media/{pid}/%2e%2e/%2e%2e/director.db", f"/media/{pid}/..%5c..%5cdirector.db"):
        conn = http.client.HTTPConnection("127.0.0.1", live, timeout=5)
        conn.putrequest("GET", f"{path}?token={ann}", skip_host=False)
        conn.endheaders()
        status = conn.getresponse().status
        conn.close()
        assert status == (200 if path.endswith("final.srt") else 404), path
