"""The Slack bot's buttons, modals, retries and Socket Mode, through slack-bolt.

HTTP: signed requests (real HMAC signatures) into the Bolt app served by uvicorn on loopback.
Socket Mode: slack-bolt's own SocketModeHandler opens a websocket to a local server that speaks the
Socket Mode envelope (hello, envelopes with envelope_id, acks back). The Web API is the loopback fake
of test_bots.py; a real Director renders tiny films behind it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse

import pytest
from test_bots import BRIEF, INTERVAL, SECRET, SMALL, FakeSlack, Uvicorn, director, films, signed_post, slash  # noqa: F401

from server.bots.common import BotDispatcher, slack_user_key
from server.bots.settings import BotSettings


@pytest.fixture
def slack(director):  # noqa: F811
    from slack_sdk import WebClient

    from server.bots.slack import build_app, create_http_app

    fake = FakeSlack()
    settings = BotSettings(**SMALL, progress_interval=INTERVAL, slack_bot_token="xoxb-test", slack_signing_secret=SECRET)
    dispatcher = BotDispatcher(director, settings)
    app = build_app(dispatcher, settings, client=WebClient(token="xoxb-test", base_url=fake.url + "/api/"))
    server = Uvicorn(create_http_app(app, settings))
    yield fake, server.port
    server.close()
    dispatcher.close()
    fake.close()


def _interactive(port: int, payload: dict):
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return signed_post(port, body, "application/x-www-form-urlencoded")


def block_action(fake: FakeSlack, custom_id: str, message: dict, user: str = "U456") -> dict:
    return {"type": "block_actions", "team": {"id": "T1", "domain": "test"}, "api_app_id": "A1", "token": "legacy",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C1", "is_ephemeral": False,
                          "thread_ts": message.get("thread_ts")},
            "trigger_id": "13345224609.738474920.8088930838d88f008e0", "channel": {"id": "C1", "name": "films"},
            "message": {"type": "message", "ts": message["ts"], "thread_ts": message.get("thread_ts"),
                        "text": message.get("text", ""), "blocks": message.get("blocks", [])},
            "response_url": f"{fake.url}/respond/{user}",
            "actions": [{"type": "button", "action_id": custom_id, "block_id": "b", "value": custom_id,
                         "text": {"type": "plain_text", "text": "x"}, "action_ts": str(time.time())}]}


def _button_messages(fake: FakeSlack, prefix: str) -> list[dict]:
    found = []
    for p in fake.of("chat.postMessage"):
        blocks = p.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
        ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
        if any(i.startswith(prefix) for i in ids):
            found.append({**p, "blocks": blocks, "ts": p.get("ts") or "1700000000.000001"})
    return found


@pytest.mark.slow
def test_slack_buttons_and_the_edit_modal_through_signed_interactive_requests(slack, director):  # noqa: F811
    fake, port = slack
    assert slash(port, fake, f"new {BRIEF}")[0] == 200
    pid = fake.wait_for(lambda: director.store.list_projects(owner=slack_user_key("T1", "U456")))[0].id
    board = fake.wait_for(lambda: _button_messages(fake, f"rd:render:{pid}"))[0]
    # The storyboard picture went up as a file in the film's thread; its buttons right under it.
    pictures = [p for p in fake.of("files.completeUploadExternal") if "storyboard-v1" in p["files"]]
    assert pictures and pictures[0]["thread_ts"] == board["thread_ts"]

    started = time.monotonic()
    status, _ = _interactive(port, block_action(fake, f"rd:render:{pid}", board))
    assert status == 200 and time.monotonic() - started < 3, "acknowledged within Slack's 3 s"
    fake.wait_for(lambda: films(fake))
    cut_buttons = fake.wait_for(lambda: _button_messages(fake, f"rd:download:{pid}"))  # right under the film
    assert cut_buttons[0]["thread_ts"] == board["thread_ts"]
    assert len(_button_messages(fake, f"rd:reroll:{pid}:")) == len(director.store.get_version(pid).storyboard.shots)

    # Vertical 9:16 under the cut: a new version, re-rendered, the new cut uploaded.
    _interactive(port, block_action(fake, f"rd:vertical:{pid}", cut_buttons[0]))
    fake.wait_for(lambda: len(films(fake)) == 2)
    assert director.store.get_version(pid).storyboard.aspect_ratio == "9:16"

    # Edit opens a modal (views.open with the trigger id) holding the shot's current fields.
    _interactive(port, block_action(fake, f"rd:edit:{pid}", board))
    opened = fake.wait_for(lambda: fake.of("views.open"))[0]
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    assert view["callback_id"] == f"rd-edit:{pid}" and opened["trigger_id"].startswith("13345224609")
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert initial["shot"] == "s1" and initial["subject"]
    submission = {"type": "view_submission", "team": {"id": "T1"}, "api_app_id": "A1", "token": "legacy",
                  "user": {"id": "U456", "name": "ann", "team_id": "T1"}, "trigger_id": "1.2.3",
                  "view": {**view, "id": "V1", "state": {"values": {
                      "shot": {"shot": {"type": "plain_text_input", "value": "2"}},
                      "subject": {"subject": {"type": "plain_text_input", "value": "a keeper in a yellow coat"}},
                      "action": {"action": {"type": "plain_text_input", "value": None}}}}}}
    status, body = _interactive(port, submission)
    assert status == 200 and body in (b"", b"{}")
    fake.wait_for(lambda: director.store.get_version(pid).storyboard.shot("s2").subject == "a keeper in a yellow coat")

    # A stranger's press is answered privately and changes nothing.
    n = len(director.store.list_versions(pid))
    _interactive(port, block_action(fake, f"rd:square:{pid}", board, user="U999"))
    fake.wait_for(lambda: [r for r in fake.of("respond") if "owner and the people they invited" in r.get("text", "")])
    assert len(director.store.list_versions(pid)) == n
    fake.wait_quiet()


def test_slack_retried_events_are_answered_once_and_members_are_named(slack, director):  # noqa: F811
    fake, port = slack
    slash(port, fake, f"new {BRIEF}")
    pid = fake.wait_for(lambda: director.store.list_projects(owner=slack_user_key("T1", "U456")))[0].id
    board = fake.wait_for(lambda: _button_messages(fake, f"rd:render:{pid}"))[0]
    thread_ts = board["thread_ts"]
    slash(port, fake, f"invite <@USAM|sam> {pid}")
    fake.wait_for(lambda: director.store.project_members(pid) == [slack_user_key("T1", "USAM")])

    event = {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": "EvR1",
             "event_time": int(time.time()), "event": {
                 "type": "message", "user": "USAM", "text": "make shot 1 brighter", "channel": "C1",
                 "ts": "1800000000.000500", "thread_ts": thread_ts, "channel_type": "channel"}}
    assert signed_post(port, json.dumps(event), "application/json")[0] == 200
    # Slack did not see our 200 in time and sends the same event again.
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert signed_post(port, json.dumps(event), "application/json", headers=retry)[0] == 200
    fake.wait_for(lambda: len(director.store.list_versions(pid)) >= 2)
    time.sleep(0.8)
    versions = director.store.list_versions(pid)
    assert len(versions) == 2, "a retried event must not change the film twice"
    assert versions[-1].reason.endswith("(by Sam)")


class SocketModeServer:
    """A websocket server speaking Slack's Socket Mode protocol: hello, envelopes, acks."""

    def __init__(self):
        from websockets.sync.server import serve

        self.acks: dict[str, tuple[float, dict]] = {}
        self.sent: dict[str, float] = {}
        self.connected = threading.Event()
        self._ws = None
        self.server = serve(self._session, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/link/?ticket=t1&app_id=A1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _session(self, ws):
        self._ws = ws
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"},
                            "debug_info": {"host": "test", "approximate_connection_time": 18060}}))
        self.connected.set()
        for raw in ws:
            data = json.loads(raw)
            if "envelope_id" in data:
                self.acks[data["envelope_id"]] = (time.monotonic(), data)

    def push(self, kind: str, payload: dict, envelope_id: str) -> None:
        self.sent[envelope_id] = time.monotonic()
        self._ws.send(json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                  "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": ""}))

    def ack_delay(self, envelope_id: str, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        while envelope_id not in self.acks and time.monotonic() < deadline:
            time.sleep(0.02)
        assert envelope_id in self.acks, f"envelope {envelope_id} was never acknowledged"
        return self.acks[envelope_id][0] - self.sent[envelope_id]

    def close(self):
        self.server.shutdown()


@pytest.mark.slow
def test_slack_socket_mode_commands_events_and_buttons_over_a_local_websocket(director):  # noqa: F811
    from slack_sdk import WebClient

    from server.bots.slack import build_app, socket_mode_handler

    fake = FakeSlack()
    ws = SocketModeServer()
    fake.socket_url = ws.url
    settings = BotSettings(**SMALL, progress_interval=INTERVAL, slack_bot_token="xoxb-test", slack_app_token="xapp-test")
    dispatcher = BotDispatcher(director, settings)
    app = build_app(dispatcher, settings, client=WebClient(token="xoxb-test", base_url=fake.url + "/api/"), socket_mode=True)
    handler = socket_mode_handler(app, settings)
    try:
        handler.connect()
        assert ws.connected.wait(10), "the bot opened the Socket Mode websocket from apps.connections.open"
        assert fake.of("apps.connections.open")

        ws.push("slash_commands", {"token": "legacy", "team_id": "T1", "channel_id": "C1", "user_id": "U456",
                                   "user_name": "ann", "command": "/director", "text": f"new {BRIEF}", "api_app_id": "A1",
                                   "response_url": f"{fake.url}/respond/U456", "trigger_id": "1.2.3"}, "env-new")
        assert ws.ack_delay("env-new") < 3
        pid = fake.wait_for(lambda: director.store.list_projects(owner=slack_user_key("T1", "U456")))[0].id
        board = fake.wait_for(lambda: _button_messages(fake, f"rd:render:{pid}"))[0]

        ws.push("interactive", block_action(fake, f"rd:render:{pid}", board), "env-render")
        assert ws.ack_delay("env-render") < 3
        fake.wait_for(lambda: films(fake))

        event = {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": "EvS1",
                 "event_time": int(time.time()), "event": {
                     "type": "message", "user": "U456", "text": "make shot 2 darker", "channel": "C1",
                     "ts": "1800000000.000900", "thread_ts": board["thread_ts"], "channel_type": "channel"}}
        ws.push("events_api", event, "env-event")
        assert ws.ack_delay("env-event") < 3
        fake.wait_for(lambda: len(films(fake)) == 2)
        assert "darker" in director.store.get_version(pid).reason
    finally:
        handler.close()
        ws.close()
        dispatcher.close()
        fake.close()
