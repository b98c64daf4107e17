"""The Slack bot: `/director` slash command, @mentions, and plain replies in a film's thread.

    SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… director bot slack          # Socket Mode: no public URL needed
    SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… director bot slack          # HTTP on DIRECTOR_BOT_HOST:PORT

In the Slack app's settings: a slash command `/director` (request URL `https://<host>/slack/events`
in HTTP mode), bot events `app_mention` and `message.channels` (+ `message.groups` for private
channels), and the scopes `commands`, `chat:write`, `files:write`, `app_mentions:read`,
`channels:history` (`groups:history`). Every HTTP request is checked against the signing secret by
slack-bolt's own request verification (a wrong signature or a stale timestamp gets 401).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from server.bots.common import BUTTON_ID, EDIT_FIELDS, MB, BotDispatcher, CommandError, Conversation, slack_user_key
from server.bots.settings import BotConfigError, BotSettings

log = logging.getLogger("reel_director.bots.slack")

SLACK_API = "https://slack.com/api/"
# Posting where the bot is not a member fails with these; the person can fix it by inviting the bot.
NOT_THERE = {"not_in_channel", "channel_not_found", "is_archived"}
SECTION_LIMIT = 3000   # characters of one Block Kit section


def button_blocks(text: str | None, buttons) -> list[dict]:
    """Block Kit: the text (optional) and an actions block; action_id is the button's custom id."""
    blocks: list[dict] = []
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}})
    elements = []
    for b in buttons:
        element = {"type": "button", "action_id": b.custom_id, "value": b.custom_id,
                   "text": {"type": "plain_text", "text": b.label}}
        if b.style in ("primary", "danger"):
            element["style"] = b.style
        elements.append(element)
    blocks.append({"type": "actions", "elements": elements})
    return blocks


def edit_modal(project_id: str, values: dict[str, str], where: dict) -> dict:
    """The Edit form as a Slack modal; `where` (channel, thread) rides along in private_metadata."""
    blocks = []
    for name, label in EDIT_FIELDS:
        element = {"type": "plain_text_input", "action_id": name, "multiline": name != "shot"}
        if values.get(name):
            element["initial_value"] = values[name][:3000]
        blocks.append({"type": "input", "block_id": name, "label": {"type": "plain_text", "text": label},
                       "element": element, "optional": name != "shot"})
    return {"type": "modal", "callback_id": f"rd-edit:{project_id}", "title": {"type": "plain_text", "text": "Edit a shot"},
            "submit": {"type": "plain_text", "text": "Save"}, "blocks": blocks, "private_metadata": json.dumps(where)}


def invite_modal(project_id: str, where: dict) -> dict:
    return {"type": "modal", "callback_id": f"rd-invite:{project_id}", "title": {"type": "plain_text", "text": "Invite"},
            "submit": {"type": "plain_text", "text": "Invite"}, "private_metadata": json.dumps(where),
            "blocks": [{"type": "input", "block_id": "members", "label": {"type": "plain_text", "text": "Who may direct this film with you?"},
                        "element": {"type": "multi_users_select", "action_id": "members"}}]}


class SlackConversation(Conversation):
    platform = "slack"

    def __init__(self, client, team_id: str | None, channel: str, *, thread_ts: str | None = None,
                 reply_ts: str | None = None, respond=None, max_upload_bytes: int = 100 * MB):
        self.client = client
        self.team_id = team_id
        self.channel = channel
        self.thread_ts = thread_ts        # a real thread this came from
        self.reply_ts = reply_ts          # a top-level mention: answer under it
        self.respond = respond            # slash commands: ephemeral answers through response_url
        self.max_upload_bytes = max_upload_bytes

    def _key(self, ts: str) -> str:
        return f"slack:{self.team_id or '-'}:{self.channel}:{ts}"

    @property
    def thread_key(self) -> str | None:
        return self._key(self.thread_ts) if self.thread_ts else None

    def _call(self, method: str, **kwargs) -> Any:
        from slack_sdk.errors import SlackApiError

        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as e:
            error = e.response.get("error", "") if e.response is not None else ""
            if error in NOT_THERE:
                raise CommandError(f"I can't post in this channel ({error}). Invite me with `/invite @Reel Director`, "
                                   "or talk to me in a channel I'm in.") from None
            raise

    @property
    def whispers(self) -> bool:
        return self.respond is not None

    def post(self, text: str, *, live: bool = False, buttons=()) -> str:
        extra = {"blocks": button_blocks(text, buttons)} if buttons else {}
        r = self._call("chat_postMessage", channel=self.channel, text=text, thread_ts=self.thread_ts or self.reply_ts,
                       unfurl_links=False, unfurl_media=False, **extra)
        return r["ts"]

    def edit(self, handle: str, text: str) -> None:
        self._call("chat_update", channel=self.channel, ts=handle, text=text)

    def upload(self, path: Path, text: str, *, buttons=()) -> None:
        self._call("files_upload_v2", channel=self.channel, file=str(path), filename=path.name, title=path.name,
                   initial_comment=text, thread_ts=self.thread_ts or self.reply_ts)
        if buttons:
            # A file message cannot carry blocks: its buttons follow right under it.
            self._call("chat_postMessage", channel=self.channel, text=f"Buttons for {path.name}",
                       thread_ts=self.thread_ts or self.reply_ts, blocks=button_blocks(None, buttons))

    def private(self, text: str) -> None:
        if self.respond is not None:
            self.respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            self.post(text)

    def open_thread(self, handle: str, title: str) -> str | None:
        if not self.thread_ts:
            self.thread_ts = self.reply_ts or handle
        return self.thread_key

    def adopt_thread(self, key: str) -> bool:
        prefix = self._key("")
        if self.thread_ts or self.reply_ts or not key.startswith(prefix):
            return False
        self.thread_ts = key[len(prefix):]
        return True

    def mention(self, user_key: str) -> str:
        return f"<@{user_key.rsplit(':', 1)[-1]}>"

    def user_key_for(self, platform_user_id: str) -> str:
        return slack_user_key(self.team_id, platform_user_id)

    def where(self) -> dict:
        return {"channel": self.channel, "thread_ts": self.thread_ts or self.reply_ts}


class _Seen:
    """Slack may deliver an event twice (retries); remember recent ones."""

    def __init__(self, size: int = 2000):
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str):
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def make_client(settings: BotSettings):
    from slack_sdk import WebClient

    base = settings.slack_api_url or SLACK_API
    return WebClient(token=settings.require("slack_bot_token"), base_url=base if base.endswith("/") else base + "/")


def build_app(dispatcher: BotDispatcher, settings: BotSettings, client=None, socket_mode: bool = False):
    """The Bolt app with the /director command, mentions and thread replies wired to `dispatcher`.

    HTTP mode needs SLACK_SIGNING_SECRET: Bolt verifies every request's signature and timestamp with it.
    """
    from slack_bolt import App
    from slack_bolt.error import BoltError

    client = client or make_client(settings)
    secret = "" if socket_mode else settings.require("slack_signing_secret")
    try:
        # Bolt calls auth.test here, so a wrong token fails now rather than on the first command.
        # Bolt also reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the same token.
        quiet = _DropMessage("`token` will be unused")
        logging.getLogger("slack_bolt.App").addFilter(quiet)
        try:
            app = App(client=client, signing_secret=secret, process_before_response=False)
        finally:
            logging.getLogger("slack_bolt.App").removeFilter(quiet)
    except BoltError as e:
        raise BotConfigError(f"Slack refused SLACK_BOT_TOKEN ({e}). Copy the Bot User OAuth Token (xoxb-…) from the app's "
                             "OAuth & Permissions page.") from None
    people = SlackPeople(int(settings.slack_max_upload_mb * MB))
    _add_interactions(app, dispatcher, people)
    _add_messages(app, dispatcher, settings, people)
    return app


class SlackPeople:
    """Who is talking, from where: display names (cached), teams, the conversation a modal came from,
    and the messages already answered."""

    def __init__(self, max_upload: int):
        self.max_upload = max_upload
        self.seen = _Seen()
        self.names: dict[str, str] = {}

    def display_name(self, client, user_id: str, fallback: str | None = None) -> str:
        """The person's Slack display name, for the version history (users.info, cached)."""
        if user_id not in self.names:
            try:
                profile = client.users_info(user=user_id)["user"]
                self.names[user_id] = ((profile.get("profile") or {}).get("display_name") or profile.get("real_name")
                                       or profile.get("name") or user_id)
            except Exception as e:  # no users:read scope, or Slack is slow: the id will do
                log.info("users.info %s failed: %s", user_id, e)
                return fallback or user_id
        return self.names[user_id]

    @staticmethod
    def team_of(body: dict) -> str | None:
        return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or body.get("team_id")

    def view_conversation(self, body: dict, view: dict, client) -> SlackConversation:
        where = json.loads(view.get("private_metadata") or "{}")
        return SlackConversation(client, self.team_of(body), where.get("channel"), thread_ts=where.get("thread_ts"),
                                 max_upload_bytes=self.max_upload)


def _add_interactions(app, dispatcher: BotDispatcher, people: SlackPeople) -> None:
    """Buttons, and the edit and invite modals they open."""

    @app.action(re.compile(r"^rd:"))
    def on_button(ack, body, action, client, respond):
        ack()  # Slack wants the acknowledgement within 3 s; the work follows
        team, user = people.team_of(body), body["user"]["id"]
        message = body.get("message") or {}
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        conv = SlackConversation(client, team, channel, thread_ts=message.get("thread_ts") or container.get("thread_ts"),
                                 respond=respond, max_upload_bytes=people.max_upload)
        key, custom_id = slack_user_key(team, user), action["action_id"]
        author = lambda: people.display_name(client, user, body["user"].get("name"))  # noqa: E731  (asked only for members)
        m = BUTTON_ID.match(custom_id)
        if m and m["action"] in ("edit", "invite"):
            # A modal must open within 3 s of the press (the trigger id expires): no render work first.
            try:
                if m["action"] == "edit":
                    view = edit_modal(m["project"], dispatcher.edit_form(key, m["project"]), conv.where())
                else:
                    view = invite_modal(m["project"], conv.where())
                client.views_open(trigger_id=body["trigger_id"], view=view)
            except CommandError as e:
                conv.private(str(e))
            return
        dispatcher.press(conv, key, custom_id, author=author)

    @app.view(re.compile(r"^rd-edit:p-"))
    def on_edit(ack, body, view, client):
        ack()
        project_id = view["callback_id"].split(":", 1)[1]
        values = {block: (fields.get(block) or {}).get("value") or "" for block, fields in view["state"]["values"].items()}
        user = body["user"]["id"]
        dispatcher.submit_edit(people.view_conversation(body, view, client), slack_user_key(people.team_of(body), user), project_id,
                               values, author=lambda: people.display_name(client, user, body["user"].get("name")))

    @app.view(re.compile(r"^rd-invite:p-"))
    def on_invite(ack, body, view, client):
        ack()
        project_id = view["callback_id"].split(":", 1)[1]
        members = view["state"]["values"]["members"]["members"].get("selected_users") or []
        dispatcher.invite(people.view_conversation(body, view, client), slack_user_key(people.team_of(body), body["user"]["id"]),
                          project_id, members)


def _add_messages(app, dispatcher: BotDispatcher, settings: BotSettings, people: SlackPeople) -> None:
    """The /director command, mentions, and replies in a film's thread."""

    @app.command(settings.command)
    def on_command(ack, command, client, respond):
        ack()
        conv = SlackConversation(client, command.get("team_id"), command["channel_id"], respond=respond,
                                 max_upload_bytes=people.max_upload)
        dispatcher.handle(conv, slack_user_key(command.get("team_id"), command["user_id"]), command.get("text") or "",
                          author=lambda: people.display_name(client, command["user_id"], command.get("user_name")))

    @app.event("app_mention")
    def on_mention(event, body, client):
        # Slack retries an event it thinks we missed (X-Slack-Retry-Num); the same message is answered once.
        if event.get("bot_id") or not people.seen.first_time(f"{event.get('channel')}:{event.get('ts')}"):
            return
        team = body.get("team_id") or event.get("team")
        conv = SlackConversation(client, team, event["channel"], thread_ts=event.get("thread_ts"),
                                 reply_ts=None if event.get("thread_ts") else event.get("ts"), max_upload_bytes=people.max_upload)
        dispatcher.handle(conv, slack_user_key(team, event["user"]), event.get("text") or "",
                          author=lambda: people.display_name(client, event["user"]))

    @app.event("message")
    def on_message(event, body, client, context):
        # Only people's replies inside a thread; the film's thread makes them feedback (the dispatcher
        # ignores threads that belong to no film). Mentions arrive as app_mention too: handled there.
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return
        text = event.get("text") or ""
        if context.bot_user_id and f"<@{context.bot_user_id}" in text:
            return
        if not people.seen.first_time(f"{event.get('channel')}:{event.get('ts')}"):
            return
        team = body.get("team_id") or event.get("team")
        conv = SlackConversation(client, team, event["channel"], thread_ts=thread_ts, max_upload_bytes=people.max_upload)
        dispatcher.handle(conv, slack_user_key(team, event["user"]), text, explicit=False,
                          author=lambda: people.display_name(client, event["user"]))


def create_http_app(bolt_app, settings: BotSettings):
    """FastAPI app serving the Bolt app at DIRECTOR_BOT_SLACK_PATH, plus /healthz."""
    from fastapi import FastAPI
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
    from starlette.concurrency import run_in_threadpool

    api = FastAPI(title="Reel Director Slack bot", docs_url=None, redoc_url=None, openapi_url=None)

    async def slack_events(request):
        body = await request.body()
        # Bolt's dispatch is blocking (signature check, then the listener until it acks): off the event loop.
        response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    # A plain Starlette route: the raw body must reach Bolt untouched for its signature check.
    api.router.add_route(settings.slack_path, slack_events, methods=["POST"])

    @api.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    return api


def socket_mode_handler(bolt_app, settings: BotSettings):
    """Socket Mode: Slack pushes commands, events and button presses over a websocket the bot opens
    (apps.connections.open with the app-level token), and each envelope is acknowledged on it."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bolt_app, settings.require("slack_app_token"), web_client=bolt_app.client)


def run(settings: BotSettings | None = None, director=None) -> None:
    settings = settings or BotSettings()
    settings.require("slack_bot_token")
    socket_mode = settings.slack_app_token is not None and bool(settings.slack_app_token.get_secret_value().strip())
    if not socket_mode:
        settings.require("slack_signing_secret")
    if director is None:
        from agent.session import Director

        director = Director()
    dispatcher = BotDispatcher(director, settings)
    app = build_app(dispatcher, settings, socket_mode=socket_mode)
    try:
        if socket_mode:
            log.info("Reel Director Slack bot connecting through Socket Mode")
            socket_mode_handler(app, settings).start()
        else:
            import uvicorn

            log.info("Reel Director Slack bot listening on http://%s:%d%s", settings.host, settings.port, settings.slack_path)
            uvicorn.run(create_http_app(app, settings), host=settings.host, port=settings.port, log_level="warning")
    finally:
        dispatcher.close()
