"""The Discord bot through the real discord.py: its client logs in, syncs its commands and registers its
persistent buttons (setup_hook); slash commands, button presses, modal submits and thread messages
arrive as gateway payloads through discord.py's own ConnectionState (parse_interaction_create,
parse_message_create), which builds real `discord.Interaction` and `discord.Message` objects and runs
the real command callbacks and views. Every REST call discord.py makes goes to a fake Discord API on
127.0.0.1 (aiohttp), which answers like Discord and records what the bot said, deferred and uploaded.

A real Director renders real (tiny) films behind it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from agent.session import Director
from server.bots.common import BotDispatcher, discord_user_key
from server.bots.settings import BotSettings
from storyboards.store import Store
from storyboards.workspace import Workspace

discord = pytest.importorskip("discord")
from aiohttp import web  # noqa: E402  (discord.py's own dependency)

BRIEF = "a small fishing boat leaves a misty harbour at dawn, then gulls circle the lighthouse"
APP_ID, GUILD, CHANNEL, BOT_ID = 900000000000000001, 900000000000000002, 900000000000000003, 900000000000000004
ANN, SAM, KIM = 111111111111111111, 222222222222222222, 333333333333333333
NAMES = {ANN: "Ann", SAM: "Sam", KIM: "Kim"}


def _user(uid: int, bot: bool = False) -> dict:
    return {"id": str(uid), "username": NAMES.get(uid, "director"), "global_name": NAMES.get(uid, "Reel Director"),
            "discriminator": "0", "avatar": None, "bot": bot}


BOT = _user(BOT_ID, bot=True)


def _snowflake(ago: float = 0.0) -> str:
    return str(discord.utils.time_snowflake(datetime.now(UTC) - timedelta(seconds=ago)))


class FakeDiscord:
    """Discord's REST API on loopback, enough of it for what the bot does; records every call."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict, list[tuple[str, int]]]] = []   # method, path, json, files
        self.messages: dict[str, dict] = {}
        self.threads: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.app = web.Application(client_max_size=200 * 2**20)
        self.app.router.add_route("*", "/api/v10/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        payload, files = {}, []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(data)
                else:
                    files.append((part.filename, len(data)))
        elif request.can_read_body:
            payload = await request.json()
        path = "/" + request.match_info["tail"]
        with self.lock:
            self.calls.append((request.method, path, payload, files))
        # Exactly "application/json": discord.py decodes only that (aiohttp's json_response adds a charset).
        return web.Response(body=json.dumps(self.answer(request.method, path, payload, files)).encode(),
                            headers={"Content-Type": "application/json"})

    def _message(self, channel_id: str, payload: dict, files) -> dict:
        mid = _snowflake()
        time.sleep(0.001)  # distinct snowflakes
        message = {"id": mid, "channel_id": channel_id, "guild_id": str(GUILD), "author": BOT,
                   "content": payload.get("content") or "", "timestamp": datetime.now(UTC).isoformat(),
                   "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
                   "attachments": [{"id": _snowflake(), "filename": f, "size": n, "url": f"http://127.0.0.1/{f}",
                                    "proxy_url": f"http://127.0.0.1/{f}"} for f, n in files],
                   "embeds": [], "pinned": False, "type": 0, "flags": payload.get("flags", 0),
                   "components": payload.get("components", [])}
        self.messages[mid] = message
        return message

    def answer(self, method: str, path: str, payload: dict, files) -> object:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return BOT
        if path == "/oauth2/applications/@me":
            return {"id": str(APP_ID), "name": "Reel Director", "description": "", "icon": None, "bot_public": True,
                    "bot_require_code_grant": False, "owner": _user(ANN), "verify_key": "00", "flags": 0}
        if parts[0] == "applications" and parts[-1] == "commands":
            return []
        if parts[0] == "interactions":
            return {"interaction": {"id": parts[1], "type": 2,
                                    "response_message_loading": payload.get("type") == 5,
                                    "response_message_ephemeral": bool((payload.get("data") or {}).get("flags", 0) & 64)}}
        if parts[0] == "webhooks" and method == "POST":
            return self._message(str(CHANNEL), payload, files)
        if parts[0] in ("webhooks", "channels") and method == "PATCH" and "messages" in parts:
            message = self.messages.get(parts[-1]) or self._message(str(CHANNEL), {}, [])
            message.update(content=payload.get("content", message["content"]), edited_timestamp=message["timestamp"])
            return message
        if parts[0] == "channels" and parts[-1] == "threads":
            tid = _snowflake()
            thread = {"id": tid, "type": 11, "guild_id": str(GUILD), "parent_id": parts[1], "name": payload.get("name"),
                      "owner_id": str(BOT_ID), "member_count": 1, "message_count": 0, "rate_limit_per_user": 0,
                      "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                          "archive_timestamp": datetime.now(UTC).isoformat()}}
            self.threads[tid] = thread
            return thread
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            return self._message(parts[1], payload, files)
        return {}

    # -- reading what happened
    def of(self, method: str, fragment: str) -> list[tuple[str, dict, list]]:
        with self.lock:
            return [(p, j, f) for m, p, j, f in self.calls if m == method and fragment in p]

    def said(self) -> str:
        with self.lock:
            out = []
            for _, _, j, _ in self.calls:
                if not isinstance(j, dict):
                    continue
                out.append(j.get("content") or "")
                out.append((j.get("data") or {}).get("content") or "")
            return "\n".join(out)

    def wait_for(self, predicate, timeout: float = 120.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("timed out; calls so far: " + ", ".join(f"{m} {p}" for m, p, _, _ in self.calls))


class Harness:
    """The real client on its own event loop, logged in against the fake API."""

    def __init__(self, dispatcher: BotDispatcher, settings: BotSettings, monkeypatch):
        from server.bots.discord_bot import build_client

        self.fake = FakeDiscord()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(self.fake.app)
        self.run(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.run(site.start())
        port = site._server.sockets[0].getsockname()[1]
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")

        self._build = lambda: build_client(dispatcher, settings)
        self.client = self.run(self._start())
        self.state = self.client._connection

    async def _start(self):
        client = self._build()
        await client.login("fake-token")   # GET /users/@me, application info, then setup_hook
        client._connection._add_guild_from_data(self.guild())
        return client

    def restart(self) -> None:
        """A new bot process: a fresh client (nothing remembered of the messages it sent) logs in."""
        old = self.client
        self.client = self.run(self._start())
        self.state = self.client._connection
        self.run(old.close())

    def run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn, *args):
        """Run a gateway parser on the client's loop (as the gateway would) and let its tasks start."""
        async def go():
            fn(*args)
            await asyncio.sleep(0)
        self.run(go())

    @staticmethod
    def guild() -> dict:
        return {"id": str(GUILD), "name": "films", "owner_id": str(ANN), "region": "eu", "afk_channel_id": None,
                "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
                "explicit_content_filter": 0, "features": [], "mfa_level": 0, "premium_tier": 0, "emojis": [],
                "stickers": [], "member_count": 4, "members": [], "threads": [], "preferred_locale": "en-US",
                "roles": [{"id": str(GUILD), "name": "@everyone", "permissions": str(2**41 - 1), "position": 0,
                           "color": 0, "hoist": False, "managed": False, "mentionable": False}],
                "channels": [{"id": str(CHANNEL), "type": 0, "name": "films", "position": 0, "guild_id": str(GUILD),
                              "permission_overwrites": [], "nsfw": False, "parent_id": None, "rate_limit_per_user": 0}]}

    def channel_payload(self, channel_id: int | str) -> dict:
        return self.fake.threads.get(str(channel_id)) or {"id": str(CHANNEL), "type": 0, "name": "films", "position": 0,
                                                          "guild_id": str(GUILD), "permission_overwrites": []}

    def interaction(self, kind: int, data: dict, user: int = ANN, channel: int | str = CHANNEL, ago: float = 0.0,
                    message: dict | None = None) -> str:
        iid = _snowflake(ago)
        payload = {"id": iid, "application_id": str(APP_ID), "type": kind, "token": f"itok-{iid}", "version": 1,
                   "guild_id": str(GUILD), "channel_id": str(channel), "channel": self.channel_payload(channel),
                   "member": {"user": _user(user), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False,
                              "mute": False, "flags": 0, "permissions": str(2**41 - 1)},
                   "data": data, "locale": "en-US", "guild_locale": "en-US", "app_permissions": str(2**41 - 1),
                   "entitlements": [], "attachment_size_limit": 10 * 2**20, "authorizing_integration_owners": {"0": str(GUILD)}, "context": 0}
        if message is not None:
            payload["message"] = message
        self.call(self.state.parse_interaction_create, payload)
        return iid

    def slash(self, sub: str, user: int = ANN, channel: int | str = CHANNEL, ago: float = 0.0, **options) -> str:
        types = {"brief": 3, "text": 3, "project": 3, "member": 6}
        opts = [{"name": k, "type": types[k], "value": str(v)} for k, v in options.items()]
        data = {"id": "1", "name": "director", "type": 1, "options": [{"name": sub, "type": 1, "options": opts}]}
        if "member" in options:
            data["resolved"] = {"users": {str(options["member"]): _user(int(options["member"]))}}
        return self.interaction(2, data, user, channel, ago)

    def press(self, message: dict, custom_id: str, user: int = ANN) -> str:
        return self.interaction(3, {"custom_id": custom_id, "component_type": 2}, user, message["channel_id"], message=message)

    def say(self, channel: str, text: str, user: int = ANN) -> None:
        self.call(self.state.parse_message_create, {
            "id": _snowflake(), "channel_id": str(channel), "guild_id": str(GUILD), "author": _user(user),
            "member": {"roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0,
                       "nick": NAMES[user]},
            "content": text, "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": [], "pinned": False, "type": 0})

    def close(self):
        async def stop():
            await self.client.close()
            await self.runner.cleanup()
        try:
            self.run(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


@pytest.fixture
def director(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    workspace = Workspace(tmp_path / "home").ensure()
    return Director(store=Store(workspace=workspace), workspace=workspace)


@pytest.fixture
def bot(director, monkeypatch):
    settings = BotSettings(resolution=128, seconds=4, fps=8, progress_interval=0.3, discord_guild_id=GUILD,
                           discord_message_content=True, discord_bot_token="fake-token")
    dispatcher = BotDispatcher(director, settings)
    harness = Harness(dispatcher, settings, monkeypatch)
    if not hasattr(harness, "client"):
        pytest.fail("the client did not log in")
    yield harness, dispatcher
    harness.close()
    dispatcher.close()


def _callbacks(fake: FakeDiscord, iid: str) -> list[dict]:
    return [j for p, j, _ in fake.of("POST", f"/interactions/{iid}/")]


def _messages_with(fake: FakeDiscord, custom_id_prefix: str) -> list[dict]:
    with fake.lock:
        return [m for m in fake.messages.values()
                if any(c.get("custom_id", "").startswith(custom_id_prefix) for row in m["components"] for c in row["components"])]


def test_login_syncs_commands_and_registers_persistent_buttons(bot):
    h, _ = bot
    puts = h.fake.of("PUT", f"/applications/{APP_ID}/guilds/{GUILD}/commands")
    assert puts, "setup_hook syncs the /director commands to the configured guild"
    [group] = puts[0][1]
    assert group["name"] == "director"
    assert {o["name"] for o in group["options"]} >= {"new", "render", "feedback", "invite", "cancel"}
    # The persistent buttons: registered as dynamic items, so presses on old messages are understood.
    from server.bots.discord_bot import DirectorButton, InviteSelect

    assert {DirectorButton, InviteSelect} <= set(h.state._view_store._dynamic_items.values())


@pytest.mark.slow
def test_slash_new_defers_then_storyboard_thread_buttons_render_and_cut(bot, director):
    h, dispatcher = bot
    iid = h.slash("new", brief=BRIEF)
    # The first thing the bot does with a command is defer (Discord wants an answer within 3 s).
    first = h.fake.wait_for(lambda: _callbacks(h.fake, iid), timeout=3)[0]
    assert first["type"] == 5
    owner = discord_user_key(ANN)
    h.fake.wait_for(lambda: director.store.list_projects(owner=owner))
    pid = director.store.list_projects(owner=owner)[0].id
    # The storyboard: as a follow-up, then a thread on it, then the picture with its buttons in the thread.
    board = h.fake.wait_for(lambda: _messages_with(h.fake, f"rd:render:{pid}"))[0]
    [thread_id] = list(h.fake.threads)
    assert board["channel_id"] == thread_id and board["attachments"][0]["filename"].startswith("storyboard-v1")
    followups = h.fake.of("POST", f"/webhooks/{APP_ID}/itok-{iid}")
    assert "1. `s1`" in followups[0][1]["content"] and pid in followups[0][1]["content"]
    h.call(h.state.parse_thread_create, {**h.fake.threads[thread_id], "newly_created": True})

    # The bot restarts; then Render is pressed on the old storyboard picture: the new client knows the
    # button from its custom id alone (persistent, registered in setup_hook).
    h.restart()
    assert not h.state._view_store._synced_message_views
    h.call(h.state.parse_thread_create, {**h.fake.threads[thread_id], "newly_created": True})
    press = h.press(board, f"rd:render:{pid}")
    assert h.fake.wait_for(lambda: _callbacks(h.fake, press), timeout=3)[0]["type"] == 5
    cut = h.fake.wait_for(lambda: _messages_with(h.fake, f"rd:download:{pid}"))[0]
    assert cut["channel_id"] == thread_id and cut["attachments"][0]["filename"] == "final.mp4"
    assert "AI-generated" in cut["content"]
    shot_frames = _messages_with(h.fake, f"rd:reroll:{pid}:")
    assert len(shot_frames) == len(director.store.get_version(pid).storyboard.shots)
    assert all(m["attachments"][0]["filename"].endswith(".png") for m in shot_frames)
    # Progress went into an ordinary channel message edited in place (bot token), not the interaction.
    edits = h.fake.of("PATCH", f"/channels/{thread_id}/messages/")
    assert edits and edits[-1][1]["content"].startswith("Rendered “")

    # Darker under shot 2's first frame: a new version, re-rendered.
    shot2 = next(m for m in shot_frames if any(c["custom_id"] == f"rd:darker:{pid}:s2" for r in m["components"] for c in r["components"]))
    h.press(shot2, f"rd:darker:{pid}:s2")
    h.fake.wait_for(lambda: len(_messages_with(h.fake, f"rd:download:{pid}")) == 2)
    assert "darker" in director.store.get_version(pid).reason

    # Edit: the modal opens with the shot's fields; submitting it makes a new version.
    edit = h.press(board, f"rd:edit:{pid}")
    modal = h.fake.wait_for(lambda: _callbacks(h.fake, edit), timeout=3)[0]
    assert modal["type"] == 9 and modal["data"]["custom_id"] == f"rd-edit:{pid}"
    inputs = {c["custom_id"]: c for row in modal["data"]["components"] for c in row["components"]}
    assert inputs["shot"]["value"] == "s1" and inputs["subject"]["value"]
    boards = len(_messages_with(h.fake, f"rd:render:{pid}"))
    h.interaction(5, {"custom_id": f"rd-edit:{pid}", "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": "shot", "value": "2"}]},
        {"type": 1, "components": [{"type": 4, "custom_id": "subject", "value": "a lighthouse keeper in a red coat"}]},
        {"type": 1, "components": [{"type": 4, "custom_id": "action", "value": ""}]},
        {"type": 1, "components": [{"type": 4, "custom_id": "setting", "value": ""}]},
        {"type": 1, "components": [{"type": 4, "custom_id": "lighting", "value": ""}]}]}, channel=thread_id)
    h.fake.wait_for(lambda: director.store.get_version(pid).storyboard.shot("s2").subject == "a lighthouse keeper in a red coat")
    # The changed storyboard comes back as a picture, in the thread.
    h.fake.wait_for(lambda: len(_messages_with(h.fake, f"rd:render:{pid}")) > boards)
    assert "Traceback" not in h.fake.said()


def test_invited_members_direct_in_the_thread_others_are_ignored_and_expired_tokens_fall_back(bot, director):
    h, dispatcher = bot
    h.slash("new", brief=BRIEF)
    owner = discord_user_key(ANN)
    h.fake.wait_for(lambda: h.fake.threads and director.store.list_projects(owner=owner))
    pid = director.store.list_projects(owner=owner)[0].id
    [thread_id] = list(h.fake.threads)
    h.call(h.state.parse_thread_create, {**h.fake.threads[thread_id], "newly_created": True})

    h.say(thread_id, "make shot 2 darker", user=SAM)   # not invited yet: people talking
    time.sleep(0.5)
    assert len(director.store.list_versions(pid)) == 1

    invite = h.slash("invite", channel=thread_id, member=SAM)
    h.fake.wait_for(lambda: director.store.project_members(pid) == [discord_user_key(SAM)])
    assert _callbacks(h.fake, invite)[0]["type"] == 5
    h.fake.wait_for(lambda: "can now direct" in h.fake.said())

    h.say(thread_id, "make shot 2 darker", user=SAM)
    h.fake.wait_for(lambda: len(director.store.list_versions(pid)) == 2)
    assert director.store.get_version(pid).reason.endswith("(by Sam)")
    h.say(thread_id, "make it vertical", user=KIM)
    time.sleep(0.5)
    assert len(director.store.list_versions(pid)) == 2

    # An interaction older than 15 minutes: its token is dead, so the answer goes out with the bot
    # token into the channel instead of as a follow-up.
    n = len(h.fake.of("POST", f"/channels/{thread_id}/messages"))
    old = h.slash("status", channel=thread_id, ago=16 * 60)
    h.fake.wait_for(lambda: len(h.fake.of("POST", f"/channels/{thread_id}/messages")) > n)
    assert "Latest change" in h.fake.of("POST", f"/channels/{thread_id}/messages")[-1][1]["content"]
    assert not h.fake.of("POST", f"/webhooks/{APP_ID}/itok-{old}")
