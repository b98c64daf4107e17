"""What the Slack and Discord bots share: the `/director` command language and its dispatcher.

A platform adapter turns an incoming slash command, mention or thread reply into
`BotDispatcher.handle(conversation, user_key, text)`, where `conversation` is the adapter's own
`Conversation` (how to post, edit and upload in that place). Everything else happens here:

    /director new <brief>               plan a storyboard; the reply becomes the film's thread
    /director render [project]          render (in a worker thread, progress as message edits)
    /director feedback <project> <text> change the film; plain text in the film's thread does the same
    /director status [project]          where a film is; /director list shows all of yours
    /director cancel [project]          stop a running render
    /director invite @name [project]    let someone direct the film too (their changes carry their name)
    /director help

Buttons (`Button`, custom ids `rd:<action>:<project>[:<shot>]`) under the storyboard picture, each
shot's first frame and the cut call `BotDispatcher.press`, which drives the same session calls as the
words. A change sent during a render is queued and applied when it ends. A cut over the chat's upload
limit is fitted (agent/delivery.py) and linked in full quality when DIRECTOR_PUBLIC_URL is set.

Each platform user is a Reel Director user (`slack:T123:U456`, `discord:1234`), created on first use,
and sees only their own films. `handle` is synchronous (planning may take a moment): adapters call it
from a worker thread. Renders run on this dispatcher's own pool, so `handle` returns at once for them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import Cancelled, Internal, NotFound, Refused, as_director_error, public_message
from agent.events import CutReady, DirectorMessage, ErrorEvent, Estimate, Event, SafetyNotice, ShotProgress, TakeReady
from agent.run import RenderResult
from server.bots.settings import BotSettings

log = logging.getLogger("reel_director.bots")

MB = 1024 * 1024

DISCLOSURE = ("AI-generated: this film was made with AI video generation (Reel Director). It carries a visible "
              "“AI-generated” label, an invisible watermark and a signed C2PA manifest (check with `director verify`).")

HELP = """Reel Director makes short films from a brief. Commands:
`/director new <brief>` plan a storyboard, e.g. `/director new a fishing boat leaves a misty harbour at dawn, 12 seconds`
`/director render [project]` render the film (your latest when no project is named)
`/director feedback <project> <text>` change it, e.g. `/director feedback p-1a2b3c4d shot 2 darker`; in a film's thread just write the change
`/director status [project]` where a film is · `/director list` your films · `/director cancel [project]` stop a render
`/director invite @name [project]` let someone direct your film with you (their changes count, with their name)
`/director help` this message
Buttons under the storyboard, each shot and the cut do the same as the words.
Films are AI-generated and labelled, watermarked and signed as such."""

PROJECT_ID = re.compile(r"^p-[0-9a-z]{4,}$", re.IGNORECASE)
# <@U123>, <@!123>, <@U123|name>: platform mentions, stripped before parsing.
MENTION = re.compile(r"<@!?[A-Za-z0-9]+(?:\|[^>]*)?>")

COMMANDS = ("new", "render", "feedback", "status", "list", "cancel", "invite", "help")
# No everyday words ("make", "stop") here: in a film's thread they start feedback ("make it darker").
ALIASES = {"plan": "new", "projects": "list", "?": "help"}


class CommandError(Exception):
    """Something the person typed that cannot be done; the message says what to type instead."""


@dataclass
class Command:
    name: str                       # one of COMMANDS
    project: str | None = None      # an explicit project id
    text: str = ""                  # the brief or the feedback
    members: list[str] = field(default_factory=list)   # invite: the platform ids of the people mentioned


def strip_mentions(text: str) -> str:
    return MENTION.sub(" ", text or "").strip()


def parse_command(text: str, in_project_thread: bool = False) -> Command:
    """Parse what follows `/director` (or a mention of the bot).

    In a thread tied to a film, text that is not a command is feedback on that film.
    """
    invite = re.search(r"\binvite\b(.*)$", text or "", re.IGNORECASE | re.DOTALL)
    if invite and re.match(r"^\s*(?:<@!?[A-Za-z0-9]+(?:\|[^>]*)?>\s*)*/?(?:director\s+)?invite\b", text, re.IGNORECASE):
        rest = invite.group(1)
        members = re.findall(r"<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>", rest)
        project = next((w.lower() for w in strip_mentions(rest).split() if PROJECT_ID.match(w)), None)
        if not members:
            plain = re.search(r"@\w+", rest)
            raise CommandError("Mention who to invite, e.g. `/director invite @sam` (in the film's thread, or add the project id)"
                               + (f"; “{plain.group(0)}” reached me as plain text (in Slack, turn on “Escape channels, users, "
                                  "and links” for the command), or press Invite under the storyboard." if plain else "."))
        return Command("invite", project=project, members=members)
    text = strip_mentions(text)
    text = re.sub(r"^/?director\b", "", text, flags=re.IGNORECASE).strip()
    if not text:
        return Command("help")
    word, rest = (text.split(None, 1) + [""])[:2]
    rest = rest.strip()
    name = ALIASES.get(word.lower(), word.lower())
    if name not in COMMANDS:
        if in_project_thread:
            return Command("feedback", text=text)
        raise CommandError(f"I don't know the command “{word}”.\n{HELP}")

    if name == "new":
        if not rest:
            raise CommandError("Tell me what the film is about, e.g. `/director new a fishing boat leaves a misty harbour at dawn`.")
        return Command("new", text=rest)
    if name == "feedback":
        first, after = (rest.split(None, 1) + [""])[:2]
        if PROJECT_ID.match(first):
            project, rest = first.lower(), after.strip()
        else:
            project = None
        if not rest:
            raise CommandError("Say what to change, e.g. `/director feedback p-1a2b3c4d make shot 2 darker`.")
        return Command("feedback", project=project, text=rest)
    if name in ("render", "status", "cancel"):
        if rest and not PROJECT_ID.match(rest) and in_project_thread:
            return Command("feedback", text=text)  # "render it in black and white" is a change, not a command
        if rest and not PROJECT_ID.match(rest):
            raise CommandError(f"`{name}` takes a project id like `p-1a2b3c4d`, or nothing for your latest film; "
                               f"“{rest}” is not one. `/director list` shows your films.")
        return Command(name, project=rest.lower() or None)
    return Command(name)


# ----------------------------------------------------------------------------------- buttons


@dataclass(frozen=True)
class Button:
    """A button under a message. Its custom id names the action, the film and the shot, so a press is
    understood by any running bot process, also after a restart."""

    action: str
    label: str
    project_id: str
    shot_id: str | None = None
    style: str = "secondary"        # primary | secondary | danger

    @property
    def custom_id(self) -> str:
        return ":".join(["rd", self.action, self.project_id] + ([self.shot_id] if self.shot_id else []))


BUTTON_ID = re.compile(r"^rd:(?P<action>[a-z]+):(?P<project>p-[0-9a-z]+)(?::(?P<shot>[A-Za-z0-9_.-]+))?$")

# Buttons that are a change in words: pressing one sends exactly this feedback (scoped to the shot).
BUTTON_FEEDBACK = {
    "reroll": "re-roll", "another": "another take", "darker": "darker", "brighter": "brighter",
    "previous": "use the previous take", "undo": "undo", "vertical": "make it vertical", "square": "make it square",
}


def storyboard_buttons(project_id: str) -> list[Button]:
    return [Button("render", "Render", project_id, style="primary"), Button("edit", "Edit", project_id),
            Button("invite", "Invite", project_id), Button("cancel", "Cancel", project_id, style="danger")]


def shot_buttons(project_id: str, shot_id: str) -> list[Button]:
    return [Button("reroll", "Re-roll", project_id, shot_id), Button("another", "Another take", project_id, shot_id),
            Button("darker", "Darker", project_id, shot_id), Button("brighter", "Brighter", project_id, shot_id),
            Button("previous", "Use previous take", project_id, shot_id)]


def cut_buttons(project_id: str) -> list[Button]:
    return [Button("undo", "Undo", project_id), Button("vertical", "Vertical 9:16", project_id),
            Button("square", "Square 1:1", project_id), Button("download", "Download", project_id, style="primary")]


# The fields of the Edit form (Discord allows five inputs in a modal): "shot" picks which one.
EDIT_FIELDS = (("shot", "Shot (number or id)"), ("subject", "Subject"), ("action", "Action"),
               ("setting", "Setting"), ("lighting", "Lighting"))


# ----------------------------------------------------------------------------------- the platform side


class Conversation(ABC):
    """Where a command came from and how to answer there. Adapters subclass it.

    Methods are called from worker threads and block until the platform answered. `post` returns a
    handle that `edit` takes.
    """

    platform: str = "chat"
    max_upload_bytes: int = 10 * MB
    thread_key: str | None = None   # the thread this conversation is in, if any

    whispers: bool = False          # True when `private` really reaches the asker alone (an ephemeral reply)

    @abstractmethod
    def post(self, text: str, *, live: bool = False, buttons: list[Button] = ()) -> Any:
        """Post a message. live=True: the message will be edited for a long time (render progress)."""

    @abstractmethod
    def edit(self, handle: Any, text: str) -> None:
        """Replace the text of a message `post` returned."""

    @abstractmethod
    def upload(self, path: Path, text: str, *, buttons: list[Button] = ()) -> None:
        """Upload a file with `text` as its message; raise when the platform refuses it."""

    def private(self, text: str) -> None:
        """Help and errors: only to the person who asked where the platform allows, else a post."""
        self.post(text)

    def open_thread(self, handle: Any, title: str) -> str | None:
        """Start a thread on a posted message (or stay in the current one); later posts go there. Its key."""
        return self.thread_key

    def adopt_thread(self, key: str) -> bool:
        """Post from now on in thread `key` when it belongs to this conversation's channel."""
        return False

    def mention(self, user_key: str) -> str:
        return ""

    def user_key_for(self, platform_user_id: str) -> str:
        """The Reel Director user for a person mentioned in this conversation."""
        return f"{self.platform}:{platform_user_id}"


def slack_user_key(team_id: str | None, user_id: str) -> str:
    return f"slack:{team_id or '-'}:{user_id}"


def discord_user_key(user_id: int | str) -> str:
    return f"discord:{user_id}"


# ----------------------------------------------------------------------------------- threads ↔ films


class ThreadBook:
    """Which chat thread belongs to which film, kept in the workspace so it survives restarts."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._map: dict[str, str] = {}
        if self.path.is_file():
            try:
                self._map = dict(json.loads(self.path.read_text(encoding="utf-8")))
            except (ValueError, OSError) as e:
                log.warning("ignoring unreadable thread map %s: %s", self.path, e)

    def project(self, key: str | None) -> str | None:
        if not key:
            return None
        with self._lock:
            return self._map.get(key)

    def threads(self, project_id: str) -> list[str]:
        with self._lock:
            return [k for k, p in self._map.items() if p == project_id]

    def bind(self, key: str, project_id: str) -> None:
        with self._lock:
            self._map[key] = project_id
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".threads-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._map, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)


# ----------------------------------------------------------------------------------- progress


class ProgressReporter:
    """Turns the Director's events into one message edited at most every `interval` seconds.

    It is the `emit` of a render: called from the farm's worker threads, so state sits behind a lock,
    and an edit already under way is not queued behind (the next event or `finish` catches up).
    """

    def __init__(self, conv: Conversation, title: str, project_id: str, version: int, n_shots: int,
                 interval: float, clock: Callable[[], float] = time.monotonic):
        self.conv, self.title, self.project_id, self.version, self.n_shots = conv, title, project_id, version, n_shots
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.handle: Any = None
        self._last_edit = self.started
        self._lock = threading.Lock()
        self._edit_lock = threading.Lock()
        self._ready: set[str] = set()
        self._now = "queued"
        self._notes: list[str] = []
        self._shown = ""
        self.edits = 0
        self._finished_takes: list[dict] = []
        self.on_take: Callable[[dict], None] | None = None   # each finished take, outside the lock

    def start(self) -> None:
        self._shown = self.text()
        self.handle = self.conv.post(self._shown, live=True)
        self._last_edit = self.clock()

    def text(self) -> str:
        return f"Rendering “{self.title}” (`{self.project_id}`, version {self.version}): {self.summary()}" + "".join(
            f"\nNote: {n}" for n in self._notes)

    def summary(self) -> str:
        with self._lock:
            elapsed = self.clock() - self.started
            return f"{len(self._ready)}/{self.n_shots} shots ready · {self._now} · {elapsed:.0f} s"

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, ShotProgress):
                stage, sid = event.stage, event.shot_id or "?"
                attempt = event.attempt or 0
                count = f" {event.done}/{event.total}" if event.total else ""
                take = f", take {attempt}" if attempt > 1 else ""
                if stage == "reused":
                    self._ready.add(sid)
                if sid == "*":
                    self._now = {"assemble": f"assembling the cut{count}", "sign": "labelling, watermarking and signing"}.get(stage, stage)
                else:
                    self._now = f"shot {sid}: {stage}{count}{take}"
            elif isinstance(event, TakeReady):
                self._ready.add(event.shot_id)
                self._finished_takes.append(event)
                verdict = (event.critique or {}).get("verdict", "?")
                self._now = f"shot {event.shot_id} done (critic: {verdict})"
            elif isinstance(event, CutReady):
                self._now = "cut ready"
            elif isinstance(event, SafetyNotice):
                self._notes.append("safety: " + "; ".join(event.reasons))
            elif isinstance(event, Estimate):
                self._notes.append(event.text)   # the price and the time, before any take is made
            elif isinstance(event, ErrorEvent):
                self._notes.append(event.message)
            else:
                return
            finished, self._finished_takes = self._finished_takes, []
        for take_event in finished:
            if self.on_take is not None:
                try:
                    self.on_take(take_event)
                except Exception as e:  # a picture that cannot be posted must not fail the render
                    log.warning("posting a finished take failed: %s", e)
        self._maybe_edit()

    def _maybe_edit(self) -> None:
        if self.handle is None or self.clock() - self._last_edit < self.interval:
            return
        if not self._edit_lock.acquire(blocking=False):
            return
        try:
            if self.clock() - self._last_edit < self.interval:
                return
            self._edit(self.text())
        finally:
            self._edit_lock.release()

    def _edit(self, text: str) -> None:
        if text == self._shown:
            return
        try:
            self.conv.edit(self.handle, text)
            self._shown = text
            self.edits += 1
        except Exception as e:  # a failed progress edit must not fail the render
            log.warning("progress edit failed: %s", e)
        self._last_edit = self.clock()

    def finish(self, text: str) -> None:
        """The last edit: waits out the interval so even it keeps the rate limit."""
        with self._edit_lock:
            wait = self.interval - (self.clock() - self._last_edit)
            if wait > 0:
                time.sleep(wait)
            if self.handle is None:
                self.conv.post(text)
            else:
                self._edit(text)


# ----------------------------------------------------------------------------------- the dispatcher


@dataclass
class _Queued:
    """Feedback that arrived during a render: applied, in order, when the render is over."""

    conv: Conversation
    actor: str
    text: str
    shots: list[str] | None
    author: str | None


@dataclass
class _Job:
    project_id: str
    reporter: ProgressReporter
    cancel: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None
    queued: list[_Queued] = field(default_factory=list)
    closed: bool = False            # finished rendering; what comes now no longer queues behind it


def _one_line(e: BaseException | str) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:400]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def describe_storyboard(sb: dict, project_id: str, version: int) -> str:
    """A storyboard as a compact numbered list (a chat message, not a table)."""
    shots = sb.get("shots", [])
    total = sum(float(s.get("duration") or 0) for s in shots)
    lines = [f"“{sb.get('title', 'Untitled')}”: {len(shots)} shots, {total:g} s, {sb.get('aspect_ratio', '16:9')}, "
             f"{sb.get('fps', 24)} fps · project `{project_id}`, version {version}"]
    for i, s in enumerate(shots, 1):
        what = ", ".join(x for x in (s.get("subject"), s.get("action"), s.get("setting")) if x) or s.get("prompt", "")[:80]
        how = ", ".join(x.replace("_", " ") for x in (s.get("framing"), s.get("camera")) if x and x != "static")
        line = f"{i}. `{s.get('id')}` {float(s.get('duration') or 0):g} s · {what}" + (f" ({how})" if how else "")
        if s.get("narration"):
            line += f" — “{s['narration']}”"
        lines.append(line)
    return "\n".join(lines)


class BotDispatcher:
    def __init__(self, director, settings: BotSettings | None = None, threads: ThreadBook | None = None):
        self.director = director
        self.store = director.store
        self.settings = settings or BotSettings()
        self.threads = threads or ThreadBook(director.workspace.home / "bots" / "threads.json")
        self.pool = ThreadPoolExecutor(max_workers=self.settings.render_workers, thread_name_prefix="bot-render")
        self._jobs: dict[str, _Job] = {}
        self._jobs_lock = threading.Lock()
        self._users_lock = threading.Lock()

    def close(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel.set()
        self.pool.shutdown(wait=True)

    # ------------------------------------------------------------------ entry points
    def handle(self, conv: Conversation, user_key: str, text: str, *, explicit: bool = True,
               author: str | Callable[[], str] | None = None) -> Future | None:
        """Answer one message. Returns the render's Future when one was started (tests wait on it).

        explicit=False for plain thread messages: from anyone but the film's owner and the people they
        invited, they are chat between people, not commands, and get no answer. `author` is the
        person's display name, shown in the version history when a member changes the film.
        """
        try:
            if len(text or "") > self.settings.max_text_chars:
                raise CommandError(f"That is {len(text)} characters; keep it under {self.settings.max_text_chars}.")
            thread_project = self.threads.project(conv.thread_key)
            if not explicit and thread_project is None:
                return None
            command = parse_command(text, in_project_thread=thread_project is not None)
            actor = self.ensure_user(user_key)
            if thread_project is not None and not self._may_direct(actor, thread_project):
                if not explicit:
                    return None
                if command.name in ("feedback", "render", "status", "cancel", "invite") and command.project is None:
                    raise CommandError("This thread's film belongs to someone else; start your own with `/director new <brief>`.")
                thread_project = None
            return getattr(self, "_cmd_" + command.name)(conv, actor, command, thread_project, author)
        except CommandError as e:
            conv.private(str(e))
        except Exception as e:
            self._report_error(conv, e, "handling that")
        return None

    def press(self, conv: Conversation, user_key: str, custom_id: str, *, author: str | None = None) -> Future | None:
        """A button press (its custom id, see `Button`): the same session calls as the words."""
        try:
            m = BUTTON_ID.match(custom_id or "")
            if not m:
                raise CommandError("That button belongs to an older version of the bot; `/director help` shows what to type.")
            action, project_id, shot = m.group("action"), m.group("project"), m.group("shot")
            actor = self.ensure_user(user_key)
            if not self._may_direct(actor, project_id):
                raise CommandError("Only the film's owner and the people they invited can use its buttons.")
            self._follow_thread(conv, project_id)
            if action == "previous" and shot:
                return self._use_previous_take(conv, actor, project_id, shot)
            if action in BUTTON_FEEDBACK:
                return self._feedback(conv, actor, project_id, BUTTON_FEEDBACK[action], [shot] if shot else None, author)
            if action == "render":
                return self.start_render(conv, actor, project_id)
            if action == "cancel":
                return self._cmd_cancel(conv, actor, Command("cancel", project=project_id), None, author)
            if action == "download":
                self.download(conv, actor, project_id)
                return None
            raise CommandError(f"“{action}” opens a form this chat cannot show; type the change instead.")
        except CommandError as e:
            conv.private(str(e))
        except Exception as e:
            self._report_error(conv, e, "handling that button")
        return None

    def _use_previous_take(self, conv: Conversation, actor: str, project_id: str, shot_id: str) -> Future | None:
        """Back to the take made before the selected one, skipping ones the critic failed (a re-roll may
        have needed several attempts), through the session's select_take, which also brings back the
        shot as it was for that take (its seed), then a render of the cut."""
        if self._running(project_id):
            raise CommandError(f"`{project_id}` is rendering; choose the take when it is done.")
        takes = [t for t in reversed(self.store.takes_for_shot(project_id, shot_id)) if t.file]  # oldest first
        selected = next((i for i, t in enumerate(takes) if t.selected), len(takes))
        earlier = list(range(selected))[::-1]
        passed = [i for i in earlier if takes[i].critique is None or takes[i].critique.verdict == "pass"]
        pick = (passed or earlier or [None])[0]
        if pick is None:
            raise CommandError(f"Shot `{shot_id}` has no earlier take to go back to.")
        events: list[Event] = []
        self.director.select_take(actor, project_id, shot_id, takes[pick].id, emit=events.append, render=False)
        conv.post(" ".join(e.text for e in events if isinstance(e, DirectorMessage)) or f"Shot `{shot_id}`: take {pick + 1}.")
        return self.start_render(conv, actor, project_id)

    def edit_form(self, user_key: str, project_id: str, shot_ref: str | None = None) -> dict[str, str]:
        """Current values for the Edit form (`EDIT_FIELDS`), for a shot (default: the first)."""
        actor = self.ensure_user(user_key)
        if not self._may_direct(actor, project_id):
            raise CommandError("Only the film's owner and the people they invited can edit it.")
        sb = self.store.get_version(project_id).storyboard
        shot = sb.shot(self._shot_id(sb, shot_ref)) if shot_ref else sb.shots[0]
        return {"shot": shot.id, **{k: str(getattr(shot, k) or "") for k, _ in EDIT_FIELDS if k != "shot"}}

    def submit_edit(self, conv: Conversation, user_key: str, project_id: str, values: dict[str, str], *,
                    author: str | None = None) -> None:
        """The Edit form sent: a new version with the shot's fields as typed (blank fields unchanged)."""
        try:
            actor = self.ensure_user(user_key)
            sb = self.store.get_version(project_id).storyboard if self._may_direct(actor, project_id) else None
            if sb is None:
                raise CommandError("Only the film's owner and the people they invited can edit it.")
            shot_id = self._shot_id(sb, (values.get("shot") or "").strip() or sb.shots[0].id)
            fields = {k: v.strip() for k, v in values.items() if k != "shot" and isinstance(v, str) and v.strip()}
            if not fields:
                conv.private("Nothing changed: every field was left as it was.")
                return
            name = self._author_for(actor, project_id, author)
            result = self.director.edit_shot(actor, project_id, shot_id, fields, author=name)
            self._post_board(conv, project_id, f"Version {result['version']}: shot `{shot_id}` edited"
                             + (f" by {name}" if name else "") + ". Render when it looks right.", result["changed_shots"])
        except CommandError as e:
            conv.private(str(e))
        except Exception as e:
            self._report_error(conv, e, "saving the edit")

    @staticmethod
    def _shot_id(sb, ref: str) -> str:
        ids = [s.id for s in sb.shots]
        if ref in ids:
            return ref
        if ref.isdigit() and 1 <= int(ref) <= len(ids):
            return ids[int(ref) - 1]
        raise CommandError(f"There is no shot “{ref}”; the shots are 1–{len(ids)} ({', '.join(ids)}).")

    def ensure_user(self, user_key: str) -> str:
        """The Reel Director user for a platform user, created on first use. Returns the user name."""
        with self._users_lock:
            if self.store.get_user(user_key) is None:
                try:
                    self.store.create_user(user_key)
                    log.info("new bot user %s", user_key)
                except ValueError:  # created meanwhile by another process
                    pass
        return user_key

    def _is_owner(self, actor: str, project_id: str) -> bool:
        try:
            return self.store.get_project(project_id).owner == actor
        except KeyError:
            return False

    def _may_direct(self, actor: str, project_id: str) -> bool:
        try:
            project = self.store.get_project(project_id)
        except KeyError:
            return False
        return project.owner == actor or actor in (project.settings or {}).get("members", [])

    def _author_for(self, actor: str, project_id: str, author) -> str | None:
        # The history names who changed the film when it was not the owner. `author` may be a callable
        # (a platform lookup), asked only then.
        if self._is_owner(actor, project_id):
            return None
        return (author() if callable(author) else author) or actor

    def _report_error(self, conv: Conversation, e: Exception, doing: str) -> None:
        """The one translation of an exception for the chat bots: a private message saying what to do."""
        if isinstance(e, CommandError):
            text = str(e)
        else:
            error = as_director_error(e)
            said = _one_line(public_message(error.message))
            if isinstance(error, Refused):
                text = (f"Refused by the safety check ({error.verdict}): " + "; ".join(error.reasons)
                        + ". Change the storyboard, or record consent with `director consent add NAME`.")
            elif isinstance(error, Cancelled):
                text = "Cancelled."
            elif isinstance(error, NotFound):
                text = f"{said[:1].upper()}{said[1:]}. `/director list` shows your films."
            elif isinstance(error, Internal):
                log.exception("bot: error while %s", doing)
                text = (f"Something went wrong on my side while {doing} ({type(e).__name__}: {_one_line(public_message(str(e)))}). "
                        "The details are in the bot's log.")
            else:
                text = f"Could not finish {doing}: {said}"
        try:
            conv.private(text)
        except Exception:
            log.exception("bot: could not even report an error")

    # ------------------------------------------------------------------ projects
    def _resolve(self, conv: Conversation, actor: str, command: Command, thread_project: str | None) -> str:
        if command.project:
            if not self._may_direct(actor, command.project):  # missing and someone else's look the same
                raise NotFound(f"you have no project '{command.project}'")
            return command.project
        if thread_project:
            return thread_project
        projects = self.store.list_projects(owner=actor)
        if not projects:
            raise CommandError("You have no films yet. Start one with `/director new <brief>`.")
        return projects[0].id

    def _follow_thread(self, conv: Conversation, project_id: str) -> None:
        if conv.thread_key and self.threads.project(conv.thread_key) == project_id:
            return
        for key in self.threads.threads(project_id):
            if conv.adopt_thread(key):
                return

    def _title(self, project_id: str) -> str:
        return self.store.get_project(project_id).title

    def _post_board(self, conv: Conversation, project_id: str, text: str, changed: list[str] | None = None) -> None:
        """The storyboard as a picture (cards with a thumbnail per shot) with its buttons."""
        from agent.previews import storyboard_image

        d = self.director
        try:
            image = storyboard_image(self.store, d.workspace, d.producer, project_id, changed or [])
        except Exception as e:  # no picture is no reason to withhold the storyboard
            log.warning("storyboard picture for %s failed: %s", project_id, e)
            conv.post(text, buttons=storyboard_buttons(project_id))
            return
        conv.upload(image, text, buttons=storyboard_buttons(project_id))

    # ------------------------------------------------------------------ commands
    def _cmd_help(self, conv, actor, command, thread_project, author):
        conv.private(HELP)

    def _cmd_new(self, conv, actor, command, thread_project, author):
        plan = self.director.plan(command.text, self.settings.plan_overrides())
        if plan.question:
            conv.post(f"{conv.mention(actor)} One question first: {plan.question}\nAnswer with `/director new` and a fuller brief.".strip())
            return
        project_id = self.director.start_project(actor, plan.storyboard, "planned from the brief", brief=command.text)
        from agent.prompts import with_prompts

        sb = with_prompts(plan.storyboard, settings=self.director.settings).model_dump(mode="json", exclude_none=True)
        notes = " ".join(plan.notes)
        self.store.add_message(project_id, "director", "Planned from the brief. " + notes)
        who = conv.mention(actor)
        text = ((f"{who} asked for: " if who else "Brief: ") + command.text[:300] + "\n"
                + describe_storyboard(sb, project_id, 1)
                + (f"\n_{notes}_" if notes else "")
                + "\nReply in this thread with changes (“shot 2 darker”, “make it vertical”), or press Render.")
        handle = conv.post(text)
        key = conv.open_thread(handle, sb.get("title", "film"))
        # A `new` inside another film's thread leaves that thread to its film.
        if key and self.threads.project(key) is None:
            self.threads.bind(key, project_id)
        self._post_board(conv, project_id, f"Storyboard of “{sb.get('title')}”, version 1.", [])
        return

    def _cmd_render(self, conv, actor, command, thread_project, author):
        project_id = self._resolve(conv, actor, command, thread_project)
        self._follow_thread(conv, project_id)
        return self.start_render(conv, actor, project_id)

    def _cmd_feedback(self, conv, actor, command, thread_project, author):
        if command.project is None and thread_project is None:
            latest = self.store.list_projects(owner=actor)
            hint = f" (your latest is `{latest[0].id}`)" if latest else ""
            raise CommandError(f"Which film? `/director feedback <project> <change>`{hint}, or write the change in the film's thread.")
        project_id = self._resolve(conv, actor, command, thread_project)
        self._follow_thread(conv, project_id)
        return self._feedback(conv, actor, project_id, command.text, None, author)

    def _feedback(self, conv: Conversation, actor: str, project_id: str, text: str, shots: list[str] | None,
                  author: str | None) -> Future | None:
        """Feedback in words or by button: a new version, then a re-render of what changed once the film
        has a cut. During a render it waits its turn ("queued after the current render")."""
        with self._jobs_lock:
            job = self._running_locked(project_id)
            if job is not None:
                job.queued.append(_Queued(conv, actor, text, shots, author))
                ahead = len(job.queued)
        if job is not None:
            conv.post(f"Queued after the current render: “{text[:200]}”" + (f" ({ahead} waiting)." if ahead > 1 else "."))
            return None
        outcome = self._apply_feedback(conv, actor, project_id, text, shots, author)
        if outcome is None or not self.store.list_cuts(project_id):
            if outcome is not None:
                conv.post(f"Press Render (or `/director render {project_id}`) when it looks right.")
            return None
        conv.post("Re-rendering what changed…")
        return self.start_render(conv, actor, project_id, regenerate=outcome.regenerate)

    def _apply_feedback(self, conv, actor, project_id, text, shots, author) -> RenderResult | None:
        """One change, no render. Posts what changed (the storyboard picture when shots changed)."""
        events: list[Event] = []
        result = self.director.feedback(actor, project_id, text, shots=shots, emit=events.append, render=False,
                                        author=self._author_for(actor, project_id, author))
        if result.question:
            conv.post(result.question)
            return None
        said = " ".join(e.text for e in events if isinstance(e, DirectorMessage))
        changed = result.changed_shots
        reply = said or f"Version {result.version}."
        if changed:
            self._post_board(conv, project_id, reply + "\nChanged: " + ", ".join(f"`{sid}`" for sid in changed), changed)
        else:
            conv.post(reply)
        return result

    def _cmd_status(self, conv, actor, command, thread_project, author):
        project_id = self._resolve(conv, actor, command, thread_project)
        state = self.director.project_state(actor, project_id)
        sb = state["storyboard"]
        versions = state["versions"]
        lines = [describe_storyboard(sb, project_id, state["version"]).split("\n")[0],
                 f"Latest change: {versions[-1]['reason']} ({len(versions)} version{'s' if len(versions) != 1 else ''})."]
        members = self.store.project_members(project_id)
        if members:
            lines.append("Directing it with the owner: " + ", ".join(conv.mention(m) or m for m in members))
        job = self._running(project_id)
        if job:
            lines.append("Rendering now: " + job.reporter.summary()
                         + (f" · {len(job.queued)} change(s) queued" if job.queued else ""))
        cuts = state["cuts"]
        if cuts:
            link = self._public_link(project_id, "final.mp4")
            lines.append(f"Last cut: version {cuts[-1]['version']} ({len(cuts)} cut{'s' if len(cuts) != 1 else ''} in all)"
                         + (f", {link}" if link else "; press Download under it for the file."))
        elif not job:
            lines.append(f"Not rendered yet: `/director render {project_id}`.")
        if command.project is None and thread_project is None:
            others = [p for p in self.store.list_projects(owner=actor) if p.id != project_id][:5]
            if others:
                lines.append("Your other films: " + ", ".join(f"`{p.id}` {p.title}" for p in others))
        conv.private("\n".join(lines))

    def _cmd_list(self, conv, actor, command, thread_project, author):
        projects = self.store.list_projects(owner=actor)
        # Films others invited this person to (members live in each project's settings: a scan).
        shared = [p for p in self.store.list_projects() if actor in (p.settings or {}).get("members", [])][:10]
        if not projects and not shared:
            conv.private("You have no films yet. Start one with `/director new <brief>`.")
            return
        lines = [f"`{p.id}` {p.title}" + (" (rendering)" if self._running(p.id) else "") for p in projects[:20]]
        more = f"\n…and {len(projects) - 20} more." if len(projects) > 20 else ""
        text = ("Your films, latest first:\n" + "\n".join(lines) + more) if projects else "You have no films of your own yet."
        if shared:
            text += "\nFilms you direct with others:\n" + "\n".join(
                f"`{p.id}` {p.title} (with {conv.mention(p.owner) or p.owner})" for p in shared)
        conv.private(text)

    def _cmd_cancel(self, conv, actor, command, thread_project, author):
        project_id = self._resolve(conv, actor, command, thread_project)
        job = self._running(project_id)
        if not job:
            conv.private(f"`{project_id}` is not rendering.")
            return
        job.cancel.set()
        conv.private(f"Stopping the render of `{project_id}` after the takes under way.")

    def _cmd_invite(self, conv, actor, command, thread_project, author):
        project_id = self._resolve(conv, actor, command, thread_project)
        if not self._is_owner(actor, project_id):
            raise CommandError("Only the film's owner can invite people to it.")
        invited = []
        for platform_id in command.members:
            member = self.ensure_user(conv.user_key_for(platform_id))
            if member != actor:
                self.director.invite(actor, project_id, member)
                invited.append(member)
        if not invited:
            raise CommandError("You own this film already; mention someone else to invite.")
        self._follow_thread(conv, project_id)
        who = ", ".join(conv.mention(m) or m for m in invited)
        conv.post(f"{who} can now direct “{self._title(project_id)}” (`{project_id}`) too: write changes in this thread "
                  "or use the buttons; the history shows who changed what.")

    def invite(self, conv: Conversation, owner_key: str, project_id: str, member_platform_ids: list[str]) -> None:
        """The Invite button's people picker: the same as `/director invite @name <project>`."""
        try:
            self._cmd_invite(conv, self.ensure_user(owner_key), Command("invite", project=project_id,
                                                                        members=member_platform_ids), None, None)
        except CommandError as e:
            conv.private(str(e))
        except Exception as e:
            self._report_error(conv, e, "inviting")

    # ------------------------------------------------------------------ rendering
    def _running(self, project_id: str) -> _Job | None:
        with self._jobs_lock:
            return self._running_locked(project_id)

    def _running_locked(self, project_id: str) -> _Job | None:
        job = self._jobs.get(project_id)
        return job if job and job.future and not job.future.done() and not job.closed else None

    def start_render(self, conv: Conversation, actor: str, project_id: str, regenerate: list[str] | None = None) -> Future | None:
        with self._jobs_lock:
            running = self._running_locked(project_id)
            if running:
                conv.private(f"`{project_id}` is already rendering: {running.reporter.summary()}.")
                return None
            version = self.store.get_version(project_id)
            reporter = ProgressReporter(conv, self._title(project_id), project_id, version.number,
                                        len(version.storyboard.shots), self.settings.progress_interval)
            reporter.on_take = lambda event: self._post_take(conv, project_id, event)
            job = _Job(project_id, reporter)
            self._jobs[project_id] = job
            reporter.start()
            job.future = self.pool.submit(self._render_job, conv, actor, job, list(regenerate or []))
        return job.future

    def _post_take(self, conv: Conversation, project_id: str, event: TakeReady) -> None:
        """A shot finished: its first frame, with the shot's buttons."""
        from agent.previews import first_frame_image

        shot_id, take = event.shot_id, event.take or {}
        image = first_frame_image(self.store, self.director.workspace, project_id, shot_id, take.get("id"))
        verdict = (event.critique or {}).get("verdict", "?")
        text = f"Shot `{shot_id}` ready: take {take.get('attempt', 1)}, critic: {verdict}."
        if image is None:
            conv.post(text, buttons=shot_buttons(project_id, shot_id))
        else:
            conv.upload(image, text, buttons=shot_buttons(project_id, shot_id))

    def _render_job(self, conv: Conversation, actor: str, job: _Job, regenerate: list[str]) -> RenderResult | None:
        try:
            return self._render(conv, actor, job, regenerate)
        finally:
            self._after_render(job)

    def _render(self, conv: Conversation, actor: str, job: _Job, regenerate: list[str]) -> RenderResult | None:
        reporter, project_id = job.reporter, job.project_id
        try:
            result = self.director.render(actor, project_id, emit=reporter, cancel=job.cancel, regenerate=regenerate)
        except Cancelled:
            reporter.finish(f"Render of “{reporter.title}” (`{project_id}`) cancelled. Takes already made are kept.")
            return None
        except Refused as e:
            reporter.finish(f"Render of “{reporter.title}” (`{project_id}`) refused by the safety check.")
            self._report_error(conv, e, "rendering")
            return None
        except Exception as e:
            reporter.finish(f"Render of “{reporter.title}” (`{project_id}`) failed.")
            self._report_error(conv, e, f"rendering `{project_id}`")
            return None
        reporter.finish(f"Rendered “{reporter.title}” (`{project_id}`, version {result.version}) in "
                        f"{self.clock() - reporter.started:.0f} s: {_n(result.new_takes, 'new take')}, "
                        f"{result.reused_takes} reused, critic: {result.verdict}.")
        try:
            self.deliver(conv, result, reporter.title)
        except Exception as e:
            self._report_error(conv, e, "sending the film")
        return result

    def _after_render(self, job: _Job) -> None:
        """Apply what was queued during the render, in order, then render those changes once."""
        with self._jobs_lock:
            queued, job.queued = job.queued, []
            job.closed = True  # from here on, new feedback no longer queues behind this job
        if not queued:
            return
        applied = None
        regenerate: list[str] = []
        for item in queued:
            try:
                outcome = self._apply_feedback(item.conv, item.actor, job.project_id, item.text, item.shots, item.author)
            except Exception as e:
                self._report_error(item.conv, e, "applying a queued change")
                continue
            if outcome is not None:
                applied = item
                regenerate += outcome.regenerate
        if applied is None:
            return
        if job.cancel.is_set():
            applied.conv.post("The queued changes are saved; the render was cancelled, so press Render when ready.")
            return
        self.start_render(applied.conv, applied.actor, job.project_id, regenerate)

    clock = staticmethod(time.monotonic)

    # ------------------------------------------------------------------ delivery
    def _public_link(self, project_id: str, name: str, token: str | None = None) -> str | None:
        base = (self.settings.public_url or "").strip().rstrip("/")
        if not base:
            return None
        return f"{base}/media/{project_id}/{name}" + (f"?token={token}" if token else "")

    def _limit(self, conv: Conversation) -> int:
        return int(conv.max_upload_bytes)

    def deliver(self, conv: Conversation, result: RenderResult, title: str) -> None:
        """Upload the cut with the AI-generated disclosure and the cut's buttons. A cut over the chat's
        upload limit is re-encoded to fit (still labelled, watermarked and signed), with a link to the
        full-quality file when the server has a public URL. A local path is never shown."""
        path = Path(result.cut or "")
        project_id = result.project_id
        size = path.stat().st_size
        warnings = "".join(f"\nNote: {w}" for w in result.warnings[:5])
        text = (f"“{title}”: {result.duration or 0:.1f} s, project `{project_id}` version {result.version}.\n"
                f"{DISCLOSURE}{warnings}")
        link = self._public_link(project_id, "final.mp4")
        limit = self._limit(conv)
        if size <= limit:
            conv.upload(path, text, buttons=cut_buttons(project_id))
            return
        full = (f"Full quality ({size / MB:.1f} MB): {link} (sign in with your Reel Director token; Download gives you a link with it)"
                if link else "Download sends the full-quality file where the chat allows it.")
        try:
            fitted = self._fitted(project_id, path, limit)
        except Exception as e:
            log.warning("fitting %s under %d bytes failed: %s", project_id, limit, e)
            conv.post(f"{text}\nThe film is {size / MB:.1f} MB, over this chat's {limit / MB:.0f} MB upload limit, "
                      f"and no smaller copy could be made ({_one_line(e)}). {full}", buttons=cut_buttons(project_id))
            return
        smaller = f"{fitted.width}x{fitted.height}, " if fitted.scaled else ""
        conv.upload(fitted.path, f"{text}\nThis is a smaller copy ({smaller}{fitted.bytes / MB:.1f} MB) to fit this "
                    f"chat's {limit / MB:.0f} MB upload limit. {full}", buttons=cut_buttons(project_id))

    def _fitted(self, project_id: str, path: Path, limit: int):
        from agent.delivery import fitted_cut

        return fitted_cut(self.store, self.director.workspace, project_id, path, limit)

    def download(self, conv: Conversation, actor: str, project_id: str) -> None:
        """The Download button: the full-quality film, as a link (public URL) or a file where it fits."""
        cuts = self.store.list_cuts(project_id)
        if not cuts:
            raise CommandError(f"`{project_id}` has no cut yet: press Render first.")
        path = Path(cuts[-1].file)
        if self.settings.public_url and conv.whispers:
            # Only the person who pressed sees this: a link that signs them in (a fresh token each time).
            token = self.store.login_token_for_first_user(actor)
            conv.private(f"Full-quality film (only you see this link; asking again replaces it): "
                         f"{self._public_link(project_id, path.name, token)}")
            return
        if self.settings.public_url:
            conv.private(f"Full-quality film: {self._public_link(project_id, path.name)} (sign in with your Reel Director token).")
            return
        title = self._title(project_id)
        if path.stat().st_size <= self._limit(conv):
            conv.upload(path, f"“{title}” in full quality ({path.stat().st_size / MB:.1f} MB).\n{DISCLOSURE}")
            return
        fitted = self._fitted(project_id, path, self._limit(conv))
        conv.upload(fitted.path, f"“{title}”: the full film is over this chat's upload limit, so this is the copy that fits "
                    f"({fitted.bytes / MB:.1f} MB). Ask the bot's operator to set DIRECTOR_PUBLIC_URL for full-quality links.\n{DISCLOSURE}")
