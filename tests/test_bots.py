"""The chat bots: the /director command language on a real Director, Slack through a real Bolt HTTP app
with real request signatures, Discord's command group and start-up.

A real Director, Store and workspace in tmp_path; briefs are planned at 128 px, 8 fps, 4 s, so a render
takes seconds. Slack's Web API is a local fake on 127.0.0.1 (WebClient base_url) that records every call.
The Discord bot through the real discord.py client and a fake Discord API: tests/test_bots_discord.py.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from agent.session import Director
from server.bots import BotConfigError, BotSettings, run_bot
from server.bots.common import (
    DISCLOSURE,
    BotDispatcher,
    CommandError,
    Conversation,
    discord_user_key,
    parse_command,
    slack_user_key,
)
from storyboards.store import Store
from storyboards.workspace import Workspace

# bots rendering films through the Director: `make test` runs these; `make check` leaves them out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BRIEF = "a small fishing boat leaves a misty harbour at dawn, then gulls circle the lighthouse"
SMALL = dict(resolution=128, seconds=4, fps=8)
INTERVAL = 0.5
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def director(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    workspace = Workspace(tmp_path / "home").ensure()
    return Director(store=Store(workspace=workspace), workspace=workspace)


@pytest.fixture
def dispatcher(director):
    d = BotDispatcher(director, BotSettings(**SMALL, progress_interval=INTERVAL))
    yield d
    d.close()


class Chat(Conversation):
    """A chat channel that keeps what the bot said (the platform side, as a test stand-in)."""

    platform = "test"

    def __init__(self, thread: str | None = None, max_upload_bytes: int = 100 << 20):
        self.thread = thread
        self.max_upload_bytes = max_upload_bytes
        self.posts: list[str] = []
        self.edits: list[tuple[float, str]] = []
        self.uploads: list[tuple[Path, str]] = []
        self.buttons: list[list[str]] = []      # custom ids under each post or upload, in order
        self.private_notes: list[str] = []
        self.live_posted_at: float | None = None
        self.lock = threading.Lock()

    @property
    def thread_key(self):
        return self.thread

    def post(self, text, *, live=False, buttons=()):
        with self.lock:
            self.posts.append(text)
            self.buttons.append([b.custom_id for b in buttons])
            if live:
                self.live_posted_at = time.monotonic()
            return len(self.posts) - 1

    def edit(self, handle, text):
        self.edits.append((time.monotonic(), text))
        self.posts[handle] = text

    def upload(self, path, text, *, buttons=()):
        assert path.is_file()
        with self.lock:
            self.uploads.append((path, text))
            self.buttons.append([b.custom_id for b in buttons])

    def films(self) -> list[tuple[Path, str]]:
        return [(p, t) for p, t in self.uploads if p.suffix == ".mp4"]

    def pictures(self) -> list[tuple[Path, str]]:
        return [(p, t) for p, t in self.uploads if p.suffix == ".png"]

    def private(self, text):
        self.private_notes.append(text)

    def open_thread(self, handle, title):
        self.thread = self.thread or f"test:thread:{handle}"
        return self.thread

    def everything(self) -> str:
        return "\n".join(self.posts + self.private_notes + [t for _, t in self.uploads])


# ------------------------------------------------------------------------------------------ parser


@pytest.mark.parametrize("text, expected", [
    ("new a boat at dawn", ("new", None, "a boat at dawn")),
    ("<@U0BOT> new a boat at dawn", ("new", None, "a boat at dawn")),
    ("/director render", ("render", None, "")),
    ("render P-1A2B3C4D", ("render", "p-1a2b3c4d", "")),
    ("feedback p-1a2b3c4d shot 2 darker", ("feedback", "p-1a2b3c4d", "shot 2 darker")),
    ("status", ("status", None, "")),
    ("", ("help", None, "")),
    ("help", ("help", None, "")),
])
def test_parse_commands(text, expected):
    c = parse_command(text)
    assert (c.name, c.project, c.text) == expected


def test_parse_rejects_what_it_cannot_do_with_a_hint():
    with pytest.raises(CommandError, match="what the film is about"):
        parse_command("new")
    with pytest.raises(CommandError, match="project id like"):
        parse_command("render my boat film")
    with pytest.raises(CommandError, match="Say what to change"):
        parse_command("feedback p-1a2b3c4d")
    with pytest.raises(CommandError, match="“@sam” reached me as plain text"):
        parse_command("invite @sam")
    c = parse_command("invite <@U123|sam> p-1a2b3c4d")
    assert (c.name, c.members, c.project) == ("invite", ["U123"], "p-1a2b3c4d")
    with pytest.raises(CommandError, match="don't know the command “dance”"):
        parse_command("dance please")
    # In a film's thread, plain words are feedback on that film.
    c = parse_command("make shot 2 darker", in_project_thread=True)
    assert (c.name, c.project, c.text) == ("feedback", None, "make shot 2 darker")
    c = parse_command("render it in black and white", in_project_thread=True)
    assert (c.name, c.text) == ("feedback", "render it in black and white")


# ------------------------------------------------------------------------------------------ dispatcher


def test_new_plans_a_storyboard_for_a_platform_user_created_on_first_use(dispatcher, director):
    user = slack_user_key("T123", "U456")
    assert director.store.get_user(user) is None
    chat = Chat()
    assert dispatcher.handle(chat, user, f"new {BRIEF}") is None
    assert director.store.get_user(user) is not None

    [projects] = [director.store.list_projects(owner=user)]
    assert len(projects) == 1
    pid = projects[0].id
    board = chat.posts[0]
    assert pid in board and "1. `s1`" in board and "2. `s2`" in board
    assert "4 s" in board and "8 fps" in board
    # The reply became the film's thread: plain text there is feedback on it.
    assert dispatcher.threads.project(chat.thread) == pid
    assert director.store.get_version(pid).storyboard.size[1] == 128

    # A second message from the same person does not create a second user.
    dispatcher.handle(Chat(), user, "list")
    assert [u.name for u in director.store.list_users()].count(user) == 1


def test_render_posts_rate_limited_progress_then_the_cut_with_the_disclosure(dispatcher, director):
    owner = discord_user_key(4242)
    chat = Chat()
    dispatcher.handle(chat, owner, f"new {BRIEF}")
    pid = director.store.list_projects(owner=owner)[0].id

    started = time.monotonic()
    job = dispatcher.handle(chat, owner, f"render {pid}")
    assert job is not None and time.monotonic() - started < 2, "render must run in the background"
    result = job.result(timeout=120)

    assert chat.live_posted_at is not None and chat.edits
    times = [chat.live_posted_at] + [t for t, _ in chat.edits]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= INTERVAL * 0.95, f"edits closer than {INTERVAL} s: {gaps}"
    assert any("shots ready" in text for _, text in chat.edits[:-1]) or len(chat.edits) == 1
    assert chat.edits[-1][1].startswith("Rendered “")
    # The price and the time are said before any take is made.
    live = [t for _, t in chat.edits]
    assert any("Estimate: " in t and "new take" in t for t in live), live

    [(path, text)] = chat.films()
    assert path == Path(result["cut"]) and path.name == "final.mp4" and path.stat().st_size > 10_000
    assert "AI-generated" in text and DISCLOSURE in text and pid in text

    # status tells the same person where the film is.
    dispatcher.handle(chat, owner, f"status {pid}")
    assert "Last cut: version 1" in chat.private_notes[-1]
    assert str(path.parent) not in chat.everything(), "a server path must never reach the chat"

    # Plain feedback in the film's thread makes version 2 and re-renders only what changed.
    job = dispatcher.handle(chat, owner, "make shot 2 darker", explicit=False)
    assert "Version 2" in chat.everything()
    again = job.result(timeout=120)
    assert again["version"] == 2 and again["reused_takes"] >= 1 and again["new_takes"] >= 1
    assert len(chat.films()) == 2


def test_projects_are_visible_to_their_owner_alone(dispatcher, director):
    ann, bob = slack_user_key("T1", "UANN"), slack_user_key("T1", "UBOB")
    thread = Chat()
    dispatcher.handle(thread, ann, f"new {BRIEF}")
    pid = director.store.list_projects(owner=ann)[0].id

    for text in (f"status {pid}", f"render {pid}", f"feedback {pid} make it vertical"):
        chat = Chat()
        assert dispatcher.handle(chat, bob, text) is None
        assert "no project" in chat.everything() and "Traceback" not in chat.everything()
    # Bob chatting in Ann's film thread is people talking: no answer, no change.
    chat = Chat(thread=thread.thread)
    assert dispatcher.handle(chat, bob, "nice boat!", explicit=False) is None
    assert chat.everything() == ""
    # Bob mentioning the bot there gets told whose film it is.
    dispatcher.handle(chat, bob, "render")
    assert "belongs to someone else" in chat.everything()
    assert len(director.store.list_versions(pid)) == 1
    assert dispatcher.handle(Chat(), bob, "list") is None


def test_errors_are_clear_messages_never_tracebacks(dispatcher, director):
    owner = slack_user_key("T1", "U1")
    chat = Chat()
    dispatcher.handle(chat, owner, "render")
    assert "no films yet" in chat.private_notes[-1]
    dispatcher.handle(chat, owner, "render p-deadbeef")
    assert "no project 'p-deadbeef'" in chat.private_notes[-1]
    dispatcher.handle(chat, owner, "feedback make it darker")
    assert "Which film?" in chat.private_notes[-1]
    dispatcher.handle(chat, owner, "new " + "x" * 5000)
    assert "keep it under" in chat.private_notes[-1]

    # A real person's likeness without consent: the render is refused, in words.
    dispatcher.handle(chat, owner, "new Tom Hanks walks along a beach at dawn")
    pid = director.store.list_projects(owner=owner)[0].id
    assert dispatcher.handle(chat, owner, f"render {pid}").result(timeout=60) is None
    said = chat.everything()
    assert "Refused by the safety check" in said and "Tom Hanks" in said and "consent" in said
    assert "Traceback" not in said


def test_a_cut_too_big_for_the_chat_is_fitted_signed_and_linked(dispatcher, director):
    owner = slack_user_key("T1", "U1")
    chat = Chat()
    dispatcher.handle(chat, owner, f"new {BRIEF}")
    pid = director.store.list_projects(owner=owner)[0].id
    result = dispatcher.handle(chat, owner, "render").result(timeout=120)
    full = Path(result.cut)
    # The same film delivered where the upload limit is half its size.
    limit = full.stat().st_size // 2
    small_chat = Chat(max_upload_bytes=limit)
    dispatcher.settings.public_url = "https://films.example.org/"
    dispatcher.deliver(small_chat, result, "Harbour")

    [(small, text)] = small_chat.films()
    assert small != full and small.stat().st_size <= limit
    assert "smaller copy" in text and "AI-generated" in text and pid in text
    assert f"https://films.example.org/media/{pid}/final.mp4" in text
    assert str(full.parent) not in small_chat.everything(), "a server path must never reach the chat"
    # The smaller file still carries all three disclosures: label, watermark and a valid C2PA manifest.
    from tools.safety.verify import verify_video

    report = verify_video(small, keys_dir=director.workspace.keys_dir, resolve_watermark=director.store.resolve_watermark)
    assert report["c2pa"]["present"] and report["c2pa"]["valid"] and report["c2pa"]["ai_generated"]
    assert report["watermark"]["present"] and report["watermark"]["project_id"] == pid
    assert report["label"]["present"]
    assert "transcoded" in json.dumps(report["c2pa"]["actions"])


# ------------------------------------------------------------------------------------------ Slack


class FakeSlack:
    """Slack's Web API on loopback: answers like Slack and records every call."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.uploaded: dict[str, int] = {}
        self.socket_url = ""           # what apps.connections.open answers (Socket Mode tests set it)
        self.lock = threading.Lock()
        self._ts = 1700000000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urllib.parse.urlparse(self.path).path
                if path.startswith("/upload/"):
                    fake.uploaded[path.rsplit("/", 1)[1]] = len(body)
                    return self._send(200, b"OK - %d" % len(body), "text/plain")
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(body or b"{}")
                else:
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                method = "respond" if path.startswith("/respond/") else path.rsplit("/", 1)[1]
                with fake.lock:
                    fake.calls.append((method, params))
                    fake._ts += 1
                    ts = f"{fake._ts}.000100"
                answer = {"ok": True}
                if method == "auth.test":
                    answer.update(user_id="UBOT", bot_id="BBOT", team_id="T1", team="Test", user="director", url="http://x/")
                elif method in ("chat.postMessage", "chat.update"):
                    answer.update(channel=params.get("channel"), ts=params.get("ts") or ts)
                elif method == "files.getUploadURLExternal":
                    answer.update(upload_url=f"http://127.0.0.1:{fake.port}/upload/F{ts[:10]}", file_id=f"F{ts[:10]}")
                elif method == "users.info":
                    uid = params.get("user")
                    answer.update(user={"id": uid, "name": uid.lower(), "real_name": f"Person {uid}",
                                        "profile": {"display_name": {"U456": "Ann", "USAM": "Sam"}.get(uid, "")}})
                elif method == "apps.connections.open":
                    answer.update(url=fake.socket_url)
                elif method == "files.completeUploadExternal":
                    answer.update(files=[{"id": f["id"], "title": f.get("title")} for f in json.loads(params["files"])])
                self._send(200, json.dumps(answer).encode(), "application/json")

            def _send(self, status, data, ctype):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, method: str) -> list[dict]:
        with self.lock:
            return [p for m, p in self.calls if m == method]

    def wait_for(self, predicate, timeout: float = 120.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"timed out; Slack calls so far: {[m for m, _ in self.calls]}")

    def wait_quiet(self, quiet: float = 0.7, timeout: float = 60.0) -> None:
        """Until the bot has made no call for `quiet` seconds (a render's last posts are done)."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.calls), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if len(self.calls) != seen:
                seen, since = len(self.calls), time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
        raise AssertionError("the bot never went quiet")

    def close(self):
        self.server.shutdown()


class Uvicorn:
    def __init__(self, app):
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def slack(director):
    from slack_sdk import WebClient

    from server.bots.slack import build_app, create_http_app

    fake = FakeSlack()
    settings = BotSettings(**SMALL, progress_interval=INTERVAL, slack_bot_token="xoxb-test", slack_signing_secret=SECRET)
    dispatcher = BotDispatcher(director, settings)
    client = WebClient(token="xoxb-test", base_url=fake.url + "/api/")
    app = build_app(dispatcher, settings, client=client)
    server = Uvicorn(create_http_app(app, settings))
    yield fake, server.port
    server.close()
    dispatcher.close()
    fake.close()


def signed_post(port: int, body: str, content_type: str, secret: str = SECRET, age: float = 0, headers=None):
    ts = str(int(time.time() - age))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/slack/events", body=body.encode(), headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def slash(port: int, fake: FakeSlack, text: str, user: str = "U456", **kw):
    body = urllib.parse.urlencode({
        "token": "legacy", "team_id": "T1", "team_domain": "test", "channel_id": "C1", "channel_name": "films",
        "user_id": user, "user_name": "ann", "command": "/director", "text": text, "api_app_id": "A1",
        "response_url": f"{fake.url}/respond/{user}", "trigger_id": "1.2.3"})
    return signed_post(port, body, "application/x-www-form-urlencoded", **kw)


def films(fake: FakeSlack) -> list[dict]:
    return [p for p in fake.of("files.completeUploadExternal") if json.loads(p["files"])[0]["title"].endswith(".mp4")]


def test_slack_rejects_bad_signatures_and_stale_timestamps(slack):
    fake, port = slack
    before = len(fake.calls)
    assert slash(port, fake, f"new {BRIEF}", secret="not-the-secret")[0] == 401
    assert slash(port, fake, f"new {BRIEF}", age=10 * 60)[0] == 401
    time.sleep(0.3)
    assert len(fake.calls) == before, "a rejected request must not reach the bot"

    # The same request, signed properly, gets through.
    status, _ = slash(port, fake, "help")
    assert status == 200
    fake.wait_for(lambda: fake.of("respond"))
    assert "/director new" in fake.of("respond")[0]["text"] and fake.of("respond")[0]["response_type"] == "ephemeral"


def test_slack_new_render_and_thread_feedback_through_signed_requests(slack, director):
    fake, port = slack
    started = time.monotonic()
    assert slash(port, fake, f"new {BRIEF}")[0] == 200
    assert time.monotonic() - started < 3, "Slack wants an answer within 3 s"
    board = fake.wait_for(lambda: [p for p in fake.of("chat.postMessage") if "1. `s1`" in p["text"]])[0]
    assert board["channel"] == "C1" and "<@U456>" in board["text"]
    owner = slack_user_key("T1", "U456")
    pid = director.store.list_projects(owner=owner)[0].id
    assert pid in board["text"]

    assert slash(port, fake, f"render {pid}")[0] == 200
    done = fake.wait_for(lambda: films(fake))[0]
    assert "AI-generated" in done["initial_comment"] and pid in done["initial_comment"]
    cut = director.workspace.project_dir(pid) / "final.mp4"
    assert cut.stat().st_size in fake.uploaded.values()

    progress = [p for p in fake.of("chat.postMessage") if p["text"].startswith("Rendering")]
    assert len(progress) == 1
    updates = fake.of("chat.update")
    assert updates and all(u["ts"] == updates[0]["ts"] for u in updates)
    assert updates[-1]["text"].startswith("Rendered “")
    # The render was posted into the film's thread (the storyboard message started it).
    thread_ts = progress[0]["thread_ts"]
    assert thread_ts and done["thread_ts"] == thread_ts

    # A plain reply in that thread is feedback: a signed Events API callback.
    event = {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": "Ev1",
             "event_time": int(time.time()), "event": {
                 "type": "message", "user": "U456", "text": "make shot 2 darker", "channel": "C1",
                 "ts": "1800000000.000200", "thread_ts": thread_ts, "channel_type": "channel"}}
    assert signed_post(port, json.dumps(event), "application/json")[0] == 200
    fake.wait_for(lambda: len(films(fake)) == 2)
    said = [p["text"] for p in fake.of("chat.postMessage") if p.get("thread_ts") == thread_ts]
    said += [p.get("initial_comment", "") for p in fake.of("files.completeUploadExternal") if p.get("thread_ts") == thread_ts]
    assert any(t.startswith("Version 2") for t in said)
    assert len(director.store.list_versions(pid)) == 2

    # Someone else's reply in the thread is left alone.
    fake.wait_quiet()
    event["event"].update(user="U999", ts="1800000000.000300", text="lovely")
    event["event_id"] = "Ev2"
    n = len(fake.calls)
    assert signed_post(port, json.dumps(event), "application/json")[0] == 200
    time.sleep(0.5)
    assert [m for m, _ in fake.calls[n:]] == []


# ------------------------------------------------------------------------------------------ Discord


def test_discord_app_commands_feed_the_shared_dispatcher(dispatcher, director):
    from server.bots.discord_bot import SUBCOMMANDS, build_group, command_text

    group = build_group(dispatcher, dispatcher.settings, client=None)
    assert group.name == "director"
    assert {c.name for c in group.commands} == set(SUBCOMMANDS) >= {"new", "render", "feedback", "status"}
    params = {c.name: {p.name: p.required for p in c.parameters} for c in group.commands}
    assert params["new"] == {"brief": True}
    assert params["feedback"] == {"text": True, "project": False}
    assert params["render"] == params["status"] == {"project": False}

    # What the subcommands hand the dispatcher, run on a real Director.
    owner = discord_user_key(123456789012345678)
    chat = Chat()
    dispatcher.handle(chat, owner, command_text("new", text=BRIEF))
    pid = director.store.list_projects(owner=owner)[0].id
    assert director.store.get_project(pid).owner == "discord:123456789012345678"
    dispatcher.handle(chat, owner, command_text("feedback", pid, "make it vertical"))
    assert director.store.get_version(pid).storyboard.aspect_ratio == "9:16"
    dispatcher.handle(chat, owner, command_text("status", None))
    assert "Latest change" in chat.private_notes[-1] and pid in chat.private_notes[-1]


def test_bots_without_tokens_fail_naming_the_variable(monkeypatch, tmp_path):
    for var in ("DISCORD_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(BotConfigError, match="DISCORD_BOT_TOKEN is not set"):
        run_bot("discord")
    with pytest.raises(BotConfigError, match="SLACK_BOT_TOKEN is not set"):
        run_bot("slack")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    with pytest.raises(BotConfigError, match="SLACK_SIGNING_SECRET is not set"):
        run_bot("slack", director=object())

    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_BOT_TOKEN", "SLACK_BOT_TOKEN")}
    env["DIRECTOR_HOME"] = str(tmp_path / "home")
    # As the `director` console script runs it (server.cli:main).
    proc = subprocess.run([sys.executable, "-c", "from server.cli import main; main()", "bot", "discord"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "DISCORD_BOT_TOKEN" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------------------ buttons, pictures, members


def _wait_render(dispatcher, pid, after=None, timeout=120):
    """The project's latest render job (other than `after`), once it is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = dispatcher._jobs.get(pid)
        if job is not None and job is not after and job.future is not None and job.future.done():
            return job.future.result()
        time.sleep(0.05)
    raise AssertionError("no render finished")


@pytest.mark.slow
def test_buttons_do_what_the_words_do_with_pictures_of_the_storyboard_and_each_shot(dispatcher, director):
    owner = discord_user_key(31)
    chat = Chat()
    dispatcher.handle(chat, owner, f"new {BRIEF}")
    pid = director.store.list_projects(owner=owner)[0].id
    # The storyboard as a picture, with Render / Edit / Invite / Cancel under it.
    [(board, _)] = chat.pictures()
    from PIL import Image

    with Image.open(board) as im:
        assert im.width >= 600 and im.height >= 300
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.std() > 20, "the cards carry pictures, not a blank sheet"
    assert chat.buttons[-1] == [f"rd:render:{pid}", f"rd:edit:{pid}", f"rd:invite:{pid}", f"rd:cancel:{pid}"]

    result = dispatcher.press(chat, owner, f"rd:render:{pid}").result(timeout=120)
    shots = [p for p, t in chat.pictures() if p.name.startswith("shot-")]
    assert len(shots) == len(director.store.get_version(pid).storyboard.shots), "each shot's first frame as it finishes"
    assert [f"rd:reroll:{pid}:s1", f"rd:another:{pid}:s1", f"rd:darker:{pid}:s1", f"rd:brighter:{pid}:s1",
            f"rd:previous:{pid}:s1"] in chat.buttons
    assert chat.buttons[-1] == [f"rd:undo:{pid}", f"rd:vertical:{pid}", f"rd:square:{pid}", f"rd:download:{pid}"]
    first_s2 = director.store.selected_take(pid, "s2")

    # Darker on shot 2: a new version that touches shot 2 alone, re-rendered at once.
    again = dispatcher.press(chat, owner, f"rd:darker:{pid}:s2").result(timeout=120)
    v = director.store.get_version(pid)
    assert v.number == 2 and "darker" in v.reason
    assert again["reused_takes"] == len(v.storyboard.shots) - 1 and again["new_takes"] >= 1
    assert director.store.selected_take(pid, "s2").id != first_s2.id
    # Re-roll shot 1: same storyboard, a new take (a new seed) all the same.
    s1_before = director.store.selected_take(pid, "s1")
    dispatcher.press(chat, owner, f"rd:reroll:{pid}:s1").result(timeout=120)
    s1_after = director.store.selected_take(pid, "s1")
    assert s1_after.id != s1_before.id and s1_after.seed != s1_before.seed
    # Use previous take: back to the first take of shot 1.
    dispatcher.press(chat, owner, f"rd:previous:{pid}:s1").result(timeout=120)
    assert director.store.selected_take(pid, "s1").id == s1_before.id
    # Vertical, then Undo.
    dispatcher.press(chat, owner, f"rd:vertical:{pid}").result(timeout=120)
    assert director.store.get_version(pid).storyboard.aspect_ratio == "9:16"
    dispatcher.press(chat, owner, f"rd:undo:{pid}").result(timeout=120)
    assert director.store.get_version(pid).storyboard.aspect_ratio == "16:9"
    assert result["version"] == 1

    # The Edit form: current values in, a new version with what was typed out.
    form = dispatcher.edit_form(owner, pid, "2")
    assert form["shot"] == "s2" and form["subject"]
    dispatcher.submit_edit(chat, owner, pid, {"shot": "2", "subject": "a red lighthouse keeper", "action": ""})
    v = director.store.get_version(pid)
    assert v.storyboard.shot("s2").subject == "a red lighthouse keeper" and v.reason.startswith("shot 2: edited subject")
    dispatcher.submit_edit(chat, owner, pid, {"shot": "9", "subject": "x"})
    assert "There is no shot “9”" in chat.private_notes[-1]

    # Someone else's presses change nothing.
    stranger = Chat()
    n = len(director.store.list_versions(pid))
    assert dispatcher.press(stranger, discord_user_key(99), f"rd:vertical:{pid}") is None
    assert "owner and the people they invited" in stranger.private_notes[-1]
    assert len(director.store.list_versions(pid)) == n
    dispatcher.press(stranger, owner, "rd:explode")
    assert "older version of the bot" in stranger.private_notes[-1]


def test_the_owner_invites_people_whose_thread_messages_count_with_their_name(dispatcher, director):
    owner = "test:UOWNER"
    chat = Chat()
    dispatcher.handle(chat, owner, f"new {BRIEF}")
    pid = director.store.list_projects(owner=owner)[0].id
    thread = Chat(thread=chat.thread)

    # Before the invitation, Sam's words in the thread are people talking.
    assert dispatcher.handle(thread, "test:USAM", "make shot 2 darker", explicit=False, author="Sam") is None
    assert len(director.store.list_versions(pid)) == 1 and thread.everything() == ""
    # Only the owner invites.
    dispatcher.handle(thread, "test:USAM", "invite <@UKIM>")
    assert "belongs to someone else" in thread.private_notes[-1]

    dispatcher.handle(thread, owner, "<@UBOT> invite <@USAM>")
    assert director.store.project_members(pid) == ["test:USAM"]
    assert "can now direct" in thread.posts[-1]

    dispatcher.handle(thread, "test:USAM", "make shot 2 darker", explicit=False, author="Sam")
    latest = director.store.get_version(pid)
    assert latest.number == 2 and "darker" in latest.reason and "(by Sam)" in latest.reason
    history = director.project_state(owner, pid)["versions"]
    assert history[-1]["reason"].endswith("(by Sam)")
    # Sam can press the film's buttons too; Kim, not invited, is still ignored.
    assert dispatcher.press(thread, "test:USAM", f"rd:square:{pid}") is None
    assert director.store.get_version(pid).storyboard.aspect_ratio == "1:1"
    assert dispatcher.handle(thread, "test:UKIM", "make it vertical", explicit=False, author="Kim") is None
    assert director.store.get_version(pid).number == 3
    # Sam finds the film among the ones they direct with others.
    listing = Chat()
    dispatcher.handle(listing, "test:USAM", "list")
    assert "Films you direct with others" in listing.private_notes[-1] and pid in listing.private_notes[-1]
    # The owner's own changes carry no name.
    dispatcher.handle(thread, owner, "undo", explicit=False)
    assert "(by" not in director.store.get_version(pid).reason


@pytest.mark.slow
def test_feedback_during_a_render_is_queued_then_applied_and_rendered(dispatcher, director):
    owner = slack_user_key("T1", "UQ")
    chat = Chat()
    dispatcher.handle(chat, owner, f"new {BRIEF}")
    pid = director.store.list_projects(owner=owner)[0].id
    first = dispatcher.handle(chat, owner, "render")
    first_job = dispatcher._jobs[pid]
    dispatcher.handle(Chat(thread=chat.thread), owner, "make shot 1 brighter", explicit=False)
    dispatcher.press(chat, owner, f"rd:darker:{pid}:s2")
    assert first.result(timeout=120)["version"] == 1
    said = chat.everything()
    assert "Queued after the current render: “darker”" in said
    second = _wait_render(dispatcher, pid, after=first_job)
    v = director.store.get_version(pid)
    assert v.number == 3 and second["version"] == 3
    reasons = [x.reason for x in director.store.list_versions(pid)]
    assert "brighter" in reasons[1] and "darker" in reasons[2]
    assert len(chat.films()) == 2


@pytest.mark.slow
def test_fit_trades_bitrate_then_resolution_and_says_when_a_film_cannot_fit(tmp_path):
    from tools.edit.fit import fit_to_size
    from tools.edit.video_io import EditError, probe, write_video

    rng = np.random.default_rng(3)
    base = rng.integers(0, 255, (1, 180, 320, 3), dtype=np.uint8)
    frames = np.repeat(base, 48, axis=0)
    frames = np.clip(frames.astype(np.int16) + np.arange(48)[:, None, None, None] * 3, 0, 255).astype(np.uint8)
    big = tmp_path / "big.mp4"
    write_video(np.concatenate([np.kron(f, np.ones((4, 4, 1), np.uint8))[None] for f in frames]), 24, big, crf=10)
    source = probe(big)
    assert (source["width"], source["height"]) == (1280, 720)

    # A generous limit: only the bitrate goes down.
    roomy = fit_to_size(big, tmp_path / "roomy.mp4", big.stat().st_size // 2)
    assert roomy.bytes <= big.stat().st_size // 2 and not roomy.scaled
    # A tight one: the picture gets smaller too, the film keeps every frame.
    tight = fit_to_size(big, tmp_path / "tight.mp4", 40_000)
    info = probe(tight.path)
    assert tight.bytes <= 40_000 and tight.scaled and info["width"] < 1280 and info["frames"] == source["frames"]
    assert min(info["width"], info["height"]) >= 256, "the watermark needs 256 px on the short side"
    # Impossible: a clear message, and nothing half-written left behind.
    with pytest.raises(EditError, match="cannot fit in 2 KB"):
        fit_to_size(big, tmp_path / "never.mp4", 2_000)
    assert not (tmp_path / "never.mp4").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.mp4", "roomy.mp4", "tight.mp4"]
