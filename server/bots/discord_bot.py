"""The Discord bot: `/director new|render|feedback|status|list|cancel|help`, and replies in a film's thread.

    DISCORD_BOT_TOKEN=… director bot discord
    DISCORD_BOT_TOKEN=… DIRECTOR_BOT_DISCORD_GUILD_ID=1234 director bot discord   # commands show up at once there

Invite the bot with the `bot` and `applications.commands` scopes and the permissions Send Messages,
Create Public Threads, Send Messages in Threads and Attach Files. `/director new` answers with the
storyboard and opens a thread on it; in that thread, mention the bot with a change ("@Reel Director
shot 2 darker"), or, with DIRECTOR_BOT_DISCORD_MESSAGE_CONTENT=true and the Message Content intent
enabled in the Developer Portal, just write it.

discord.py is asyncio; the dispatcher is synchronous. App commands defer at once (Discord wants an
answer within 3 s) and run the dispatcher in a worker thread; the conversation below carries its
posts back onto the event loop.
"""

# No `from __future__ import annotations`: discord.py reads the command callbacks' annotations as types.
import asyncio
import functools
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from server.bots.common import (
    BUTTON_ID,
    EDIT_FIELDS,
    MB,
    BotDispatcher,
    Button,
    CommandError,
    Conversation,
    discord_user_key,
    strip_mentions,
)
from server.bots.settings import BotConfigError, BotSettings

log = logging.getLogger("reel_director.bots.discord")

MAX_MESSAGE = 2000          # Discord's limit on a message's content
CALL_TIMEOUT = 120.0        # seconds a worker thread waits for one Discord API call

# Subcommand -> (description, whether its answer is only for the person who asked)
SUBCOMMANDS = {
    "new": ("Plan a storyboard from a brief", False),
    "render": ("Render a film (your latest when no project is given)", False),
    "feedback": ("Change a film in plain words; re-renders what changed", False),
    "status": ("Where a film is", True),
    "list": ("Your films", True),
    "cancel": ("Stop a running render", True),
    "invite": ("Let someone direct your film with you", False),
    "help": ("What the director can do", True),
}


def command_text(name: str, project: str | None = None, text: str | None = None) -> str:
    """An app command's options as the text the dispatcher parses (`feedback p-1a2b3c4d shot 2 darker`)."""
    return " ".join(p.strip() for p in (name, project, text) if p and p.strip())


def _fit(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class DiscordConversation(Conversation):
    """Posts into the interaction's channel (or a message's channel / thread), from worker threads."""

    platform = "discord"

    def __init__(self, loop: asyncio.AbstractEventLoop, channel: Any, interaction: discord.Interaction | None = None,
                 client: discord.Client | None = None, max_upload_bytes: int = 10 * MB):
        self.loop = loop
        self.channel = channel
        self.interaction = interaction
        self.client = client
        self.max_upload_bytes = max_upload_bytes
        self.answered = interaction is None

    def _run(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=CALL_TIMEOUT)

    @property
    def _interaction_alive(self) -> bool:
        # Interaction tokens last 15 minutes; after that (a long render) only the bot token works.
        return self.interaction is not None and not self.interaction.is_expired()

    @property
    def whispers(self) -> bool:
        return self._interaction_alive

    def _view(self, buttons) -> dict:
        return {"view": director_view(buttons)} if buttons else {}

    @property
    def thread_key(self) -> str | None:
        return f"discord:{self.channel.id}" if isinstance(self.channel, discord.Thread) else None

    def _answer(self, text: str, **kwargs) -> Any:
        self.answered = True
        return self._run(self.interaction.followup.send(_fit(text), wait=True, **kwargs))

    def post(self, text: str, *, live: bool = False, buttons=()) -> Any:
        if not self.answered and self._interaction_alive:
            if not live:
                return self._answer(text, **self._view(buttons))
            # Interaction messages can be edited for 15 minutes only; a render's progress may last longer,
            # so it goes into an ordinary channel message.
            self._answer("On it: progress below.")
        try:
            return self._run(self.channel.send(_fit(text), **self._view(buttons)))
        except discord.Forbidden:
            if not self._interaction_alive:
                raise
            return self._run(self.interaction.followup.send(_fit(text), wait=True, **self._view(buttons)))

    def edit(self, handle: Any, text: str) -> None:
        self._run(handle.edit(content=_fit(text)))

    def upload(self, path: Path, text: str, *, buttons=()) -> None:
        file = discord.File(str(path), filename=path.name)
        if not self.answered and self._interaction_alive:
            self.answered = True
            self._run(self.interaction.followup.send(_fit(text), file=file, wait=True, **self._view(buttons)))
        else:
            self._run(self.channel.send(_fit(text), file=file, **self._view(buttons)))

    def private(self, text: str) -> None:
        if self._interaction_alive:
            self.answered = True
            self._run(self.interaction.followup.send(_fit(text), ephemeral=True, wait=True))
        else:
            self._run(self.channel.send(_fit(text)))

    def open_thread(self, handle: Any, title: str) -> str | None:
        if isinstance(self.channel, discord.Thread):
            return self.thread_key
        try:
            # A follow-up (webhook) message carries no guild; the same message seen from its channel does.
            target = self.channel.get_partial_message(handle.id) if hasattr(self.channel, "get_partial_message") else handle
            self.channel = self._run(target.create_thread(name=(title or "film")[:100]))
        except (discord.HTTPException, AttributeError, ValueError) as e:
            # DMs and channels without thread permission: the film just has no thread.
            log.info("no thread for this film: %s", e)
            return None
        return self.thread_key

    def adopt_thread(self, key: str) -> bool:
        if self.client is None or self.thread_key or not key.startswith("discord:"):
            return False
        try:
            thread = self.client.get_channel(int(key.split(":", 1)[1]))
        except ValueError:
            return False
        if isinstance(thread, discord.Thread) and thread.parent_id == getattr(self.channel, "id", None):
            self.channel = thread
            return True
        return False

    def mention(self, user_key: str) -> str:
        return f"<@{user_key.rsplit(':', 1)[-1]}>"

    def user_key_for(self, platform_user_id: str) -> str:
        return discord_user_key(platform_user_id)


# ----------------------------------------------------------------------------------- buttons
# Persistent: every button is a DynamicItem whose custom id (rd:<action>:<project>[:<shot>]) says what
# it does, registered in setup_hook, in views with timeout=None. A press after a restart still works.

STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger,
          "secondary": discord.ButtonStyle.secondary}


def _conversation(interaction: discord.Interaction) -> "DiscordConversation":
    client = interaction.client
    return DiscordConversation(asyncio.get_running_loop(), interaction.channel, interaction, client,
                               _upload_limit(client.settings, interaction.guild, interaction))


class DirectorButton(discord.ui.DynamicItem[discord.ui.Button], template=BUTTON_ID.pattern):
    def __init__(self, button: Button):
        super().__init__(discord.ui.Button(label=button.label, custom_id=button.custom_id,
                                           style=STYLES.get(button.style, discord.ButtonStyle.secondary)))
        self.button = button

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match) -> "DirectorButton":
        return cls(Button(match["action"], item.label or match["action"], match["project"], match["shot"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        dispatcher: BotDispatcher = interaction.client.dispatcher
        user = discord_user_key(interaction.user.id)
        b = self.button
        loop = asyncio.get_running_loop()
        if b.action == "edit":
            # A modal must be the first answer (no defer); reading the form's values takes milliseconds.
            try:
                values = await loop.run_in_executor(None, dispatcher.edit_form, user, b.project_id, None)
            except (CommandError, KeyError) as e:
                await interaction.response.send_message(str(e.args[0] if e.args else e), ephemeral=True)
                return
            await interaction.response.send_modal(EditModal(b.project_id, values))
            return
        if b.action == "invite":
            view = discord.ui.View(timeout=None)
            view.add_item(InviteSelect(b.project_id))
            await interaction.response.send_message("Who should direct this film with you?", view=view, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        conv = _conversation(interaction)
        press = functools.partial(dispatcher.press, conv, user, b.custom_id, author=interaction.user.display_name)
        await loop.run_in_executor(None, press)
        if not conv.answered and not interaction.is_expired():
            await interaction.followup.send(f"{b.label}: on it.", ephemeral=True)


class InviteSelect(discord.ui.DynamicItem[discord.ui.UserSelect], template=r"rd-invite:(?P<project>p-[0-9a-z]+)"):
    def __init__(self, project_id: str):
        super().__init__(discord.ui.UserSelect(custom_id=f"rd-invite:{project_id}", min_values=1, max_values=5,
                                               placeholder="Pick people to invite"))
        self.project_id = project_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.UserSelect, match) -> "InviteSelect":
        return cls(match["project"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        conv = _conversation(interaction)
        ids = [str(u.id) for u in self.item.values]
        invite = functools.partial(interaction.client.dispatcher.invite, conv, discord_user_key(interaction.user.id),
                                   self.project_id, ids)
        await asyncio.get_running_loop().run_in_executor(None, invite)


class EditModal(discord.ui.Modal):
    """The Edit form: which shot, and its main fields (blank leaves a field as it is)."""

    def __init__(self, project_id: str, values: dict[str, str]):
        super().__init__(title="Edit a shot", timeout=None, custom_id=f"rd-edit:{project_id}")
        self.project_id = project_id
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for name, label in EDIT_FIELDS:
            field = discord.ui.TextInput(label=label, custom_id=name, default=(values.get(name) or "")[:400] or None,
                                         required=name == "shot", max_length=400,
                                         style=discord.TextStyle.short if name == "shot" else discord.TextStyle.paragraph)
            self.inputs[name] = field
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        conv = _conversation(interaction)
        values = {name: field.value for name, field in self.inputs.items()}
        submit = functools.partial(interaction.client.dispatcher.submit_edit, conv, discord_user_key(interaction.user.id),
                                   self.project_id, values, author=interaction.user.display_name)
        await asyncio.get_running_loop().run_in_executor(None, submit)
        if not conv.answered and not interaction.is_expired():
            await interaction.followup.send("Saved.", ephemeral=True)


def director_view(buttons) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for b in buttons:
        view.add_item(DirectorButton(b))
    return view


def _upload_limit(settings: BotSettings, guild: discord.Guild | None,
                  interaction: discord.Interaction | None = None) -> int:
    """The smallest of our setting, the server's limit (boosts raise it) and what Discord says this
    interaction may attach."""
    limits = [int(settings.discord_max_upload_mb * MB)]
    if guild is not None:
        limits.append(guild.filesize_limit)
    if interaction is not None and getattr(interaction, "filesize_limit", None):
        limits.append(interaction.filesize_limit)
    return min(limits)


def build_group(dispatcher: BotDispatcher, settings: BotSettings, client: discord.Client) -> app_commands.Group:
    """The `/director` command group; every subcommand goes through `dispatcher.handle`."""
    group = app_commands.Group(name="director", description="Reel Director: short films from a brief")

    async def run(interaction: discord.Interaction, name: str, text: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=SUBCOMMANDS[name][1])
        loop = asyncio.get_running_loop()
        conv = DiscordConversation(loop, interaction.channel, interaction, client,
                                   _upload_limit(settings, interaction.guild, interaction))
        user = discord_user_key(interaction.user.id)
        handle = functools.partial(dispatcher.handle, conv, user, text, author=interaction.user.display_name)
        await loop.run_in_executor(None, handle)
        if not conv.answered and not interaction.is_expired():  # every path answers; this only clears a stuck "thinking…"
            await interaction.followup.send("Done.", ephemeral=True)

    @group.command(name="new", description=SUBCOMMANDS["new"][0])
    @app_commands.describe(brief="What the film is about, in your words")
    async def new(interaction: discord.Interaction, brief: str):
        await run(interaction, "new", command_text("new", text=brief))

    @group.command(name="render", description=SUBCOMMANDS["render"][0])
    @app_commands.describe(project="A project id like p-1a2b3c4d")
    async def render(interaction: discord.Interaction, project: str | None = None):
        await run(interaction, "render", command_text("render", project))

    @group.command(name="feedback", description=SUBCOMMANDS["feedback"][0])
    @app_commands.describe(text="What to change, e.g. 'shot 2 darker'", project="A project id (default: this thread's film)")
    async def feedback(interaction: discord.Interaction, text: str, project: str | None = None):
        await run(interaction, "feedback", command_text("feedback", project, text))

    @group.command(name="status", description=SUBCOMMANDS["status"][0])
    @app_commands.describe(project="A project id (default: this thread's film, or your latest)")
    async def status(interaction: discord.Interaction, project: str | None = None):
        await run(interaction, "status", command_text("status", project))

    @group.command(name="list", description=SUBCOMMANDS["list"][0])
    async def list_(interaction: discord.Interaction):
        await run(interaction, "list", "list")

    @group.command(name="cancel", description=SUBCOMMANDS["cancel"][0])
    @app_commands.describe(project="A project id (default: this thread's film, or your latest)")
    async def cancel(interaction: discord.Interaction, project: str | None = None):
        await run(interaction, "cancel", command_text("cancel", project))

    @group.command(name="invite", description=SUBCOMMANDS["invite"][0])
    @app_commands.describe(member="Who may direct the film with you", project="A project id (default: this thread's film)")
    async def invite(interaction: discord.Interaction, member: discord.User, project: str | None = None):
        await run(interaction, "invite", command_text("invite", None, f"<@{member.id}> {project or ''}"))

    @group.command(name="help", description=SUBCOMMANDS["help"][0])
    async def help_(interaction: discord.Interaction):
        await run(interaction, "help", "help")

    return group


def build_client(dispatcher: BotDispatcher, settings: BotSettings) -> discord.Client:
    intents = discord.Intents.default()
    intents.message_content = settings.discord_message_content

    class DirectorClient(discord.Client):
        def __init__(self):
            super().__init__(intents=intents)
            self.dispatcher = dispatcher
            self.settings = settings
            self.tree = app_commands.CommandTree(self)
            self.tree.add_command(build_group(dispatcher, settings, self))

        async def setup_hook(self) -> None:
            # Buttons of earlier messages (also from before a restart) keep working: their custom ids
            # carry the action, the film and the shot.
            self.add_dynamic_items(DirectorButton, InviteSelect)
            if settings.discord_guild_id:
                guild = discord.Object(id=settings.discord_guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()

        async def on_ready(self) -> None:
            log.info("Reel Director Discord bot logged in as %s", self.user)

        async def on_message(self, message: discord.Message) -> None:
            if message.author.bot or self.user is None:
                return
            mentioned = self.user in message.mentions
            if not mentioned and not isinstance(message.channel, discord.Thread):
                return
            if not strip_mentions(message.content):
                return  # without the message-content intent, unmentioned messages arrive empty
            loop = asyncio.get_running_loop()
            conv = DiscordConversation(loop, message.channel, None, self, _upload_limit(settings, message.guild))
            handle = functools.partial(dispatcher.handle, conv, discord_user_key(message.author.id), message.content,
                                       explicit=mentioned, author=message.author.display_name)
            await loop.run_in_executor(None, handle)

    return DirectorClient()


def run(settings: BotSettings | None = None, director=None) -> None:
    settings = settings or BotSettings()
    token = settings.require("discord_bot_token")
    if director is None:
        from agent.session import Director

        director = Director()
    dispatcher = BotDispatcher(director, settings)
    client = build_client(dispatcher, settings)
    try:
        client.run(token, log_handler=None)
    except discord.LoginFailure:
        raise BotConfigError("Discord refused DISCORD_BOT_TOKEN. Copy the token from the Developer Portal "
                             "(your application → Bot → Reset Token) and run the bot again.") from None
    except discord.PrivilegedIntentsRequired:
        raise BotConfigError("DIRECTOR_BOT_DISCORD_MESSAGE_CONTENT is on but the Message Content intent is not enabled: "
                             "enable it in the Developer Portal (Bot → Privileged Gateway Intents) or unset the variable.") from None
    finally:
        dispatcher.close()
