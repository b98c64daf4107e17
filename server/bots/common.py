"""What the Slack and Discord bots share: the `/director` command language and its dispatcher.

A platform adapter turns an incoming slash command, mention or thread reply into
`BotDispatcher.handle(conversation, user_key, text)`, where `conversation` is the adapter's own
`Conversation` (how to post, edit and upload in that place). Everything else happens here:

    /director new <brief>               plan a storyboard; the reply becomes the film's thread
    /director render [project]          render (in a worker thread, progress as message edits)
    /director feedback <project> <text> change the film; plain text in the film's thread does the same
    /director status [project]          where a film is; /director list shows all of yours
    /director cancel [project]          stop a running render
    /director help

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
from agent.events import CutReady, DirectorMessage, ErrorEvent, Event, SafetyNotice, ShotProgress, StoryboardEvent, TakeReady
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
`/director help` this message
Films are AI-generated and labelled, watermarked and signed as such."""

PROJECT_ID = re.compile(r"^p-[0-9a-z]{4,}$", re.IGNORECASE)
# <@U123>, <@!123>, <@U123|name>: platform mentions, stripped before parsing.
MENTION = re.compile(r"<@!?[A-Za-z0-9]+(?:\|[^>]*)?>")

COMMANDS = ("new", "render", "feedback", "status", "list", "cancel", "help")
# No everyday words ("make", "stop") here: in a film's thread they start feedback ("make it darker").
ALIASES = {"plan": "new", "projects": "list", "?": "help"}


class CommandError(Exception):
    """Something the person typed that cannot be done; the message says what to type instead."""


@dataclass
class Command:
    name: str                       # one of COMMANDS
    project: str | None = None      # an explicit project id
    text: str = ""                  # the brief or the feedback


def strip_mentions(text: str) -> str:
    return MENTION.sub(" ", text or "").strip()


def parse_command(text: str, in_project_thread: bool = False) -> Command:
    """Parse what follows `/director` (or a mention of the bot).

    In a thread tied to a film, text that is not a command is feedback on that film.
    """
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


# ----------------------------------------------------------------------------------- the platform side


class Conversation(ABC):
    """Where a command came from and how to answer there. Adapters subclass it.

    Methods are called from worker threads and block until the platform answered. `post` returns a
    handle that `edit` takes.
    """

    platform: str = "chat"
    max_upload_bytes: int = 10 * MB
    thread_key: str | None = None   # the thread this conversation is in, if any

    @abstractmethod
    def post(self, text: str, *, live: bool = False) -> Any:
        """Post a message. live=True: the message will be edited for a long time (render progress)."""

    @abstractmethod
    def edit(self, handle: Any, text: str) -> None:
        """Replace the text of a message `post` returned."""

    @abstractmethod
    def upload(self, path: Path, text: str) -> None:
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
                verdict = (event.critique or {}).get("verdict", "?")
                self._now = f"shot {event.shot_id} done (critic: {verdict})"
            elif isinstance(event, CutReady):
                self._now = "cut ready"
            elif isinstance(event, SafetyNotice):
                self._notes.append("safety: " + "; ".join(event.reasons))
            elif isinstance(event, ErrorEvent):
                self._notes.append(event.message)
            else:
                return
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
class _Job:
    project_id: str
    reporter: ProgressReporter
    cancel: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None


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

    # ------------------------------------------------------------------ entry point
    def handle(self, conv: Conversation, user_key: str, text: str, *, explicit: bool = True) -> Future | None:
        """Answer one message. Returns the render's Future when one was started (tests wait on it).

        explicit=False for plain thread messages: from anyone but the film's owner they are chat between
        people, not commands, and get no answer.
        """
        try:
            if len(text or "") > self.settings.max_text_chars:
                raise CommandError(f"That is {len(text)} characters; keep it under {self.settings.max_text_chars}.")
            thread_project = self.threads.project(conv.thread_key)
            if not explicit and thread_project is None:
                return None
            command = parse_command(text, in_project_thread=thread_project is not None)
            owner = self.ensure_user(user_key)
            if thread_project is not None and not self._is_owner(owner, thread_project):
                if not explicit:
                    return None
                if command.name in ("feedback", "render", "status", "cancel") and command.project is None:
                    raise CommandError("This thread's film belongs to someone else; start your own with `/director new <brief>`.")
                thread_project = None
            return getattr(self, "_cmd_" + command.name)(conv, owner, command, thread_project)
        except CommandError as e:
            conv.private(str(e))
        except Exception as e:
            self._report_error(conv, e, "handling that")
        return None

    def ensure_user(self, user_key: str) -> str:
        """The Reel Director user for a platform user, created on first use. Returns the owner name."""
        with self._users_lock:
            if self.store.get_user(user_key) is None:
                try:
                    self.store.create_user(user_key)
                    log.info("new bot user %s", user_key)
                except ValueError:  # created meanwhile by another process
                    pass
        return user_key

    def _is_owner(self, owner: str, project_id: str) -> bool:
        try:
            return self.store.get_project(project_id).owner == owner
        except KeyError:
            return False

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
    def _resolve(self, conv: Conversation, owner: str, command: Command, thread_project: str | None) -> str:
        if command.project:
            if not self._is_owner(owner, command.project):  # missing and someone else's look the same
                raise NotFound(f"you have no project '{command.project}'")
            return command.project
        if thread_project:
            return thread_project
        projects = self.store.list_projects(owner=owner)
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

    # ------------------------------------------------------------------ commands
    def _cmd_help(self, conv, owner, command, thread_project):
        conv.private(HELP)

    def _cmd_new(self, conv, owner, command, thread_project):
        plan = self.director.plan(command.text, self.settings.plan_overrides())
        if plan.question:
            conv.post(f"{conv.mention(owner)} One question first: {plan.question}\nAnswer with `/director new` and a fuller brief.".strip())
            return None
        project_id = self.director.start_project(owner, plan.storyboard, "planned from the brief", brief=command.text)
        from agent.prompts import with_prompts

        sb = with_prompts(plan.storyboard, settings=self.director.settings).model_dump(mode="json", exclude_none=True)
        notes = " ".join(plan.notes)
        self.store.add_message(project_id, "director", "Planned from the brief. " + notes)
        who = conv.mention(owner)
        text = ((f"{who} asked for: " if who else "Brief: ") + command.text[:300] + "\n"
                + describe_storyboard(sb, project_id, 1)
                + (f"\n_{notes}_" if notes else "")
                + f"\nReply in this thread with changes (“shot 2 darker”, “make it vertical”), or `/director render {project_id}`.")
        handle = conv.post(text)
        key = conv.open_thread(handle, sb.get("title", "film"))
        # A `new` inside another film's thread leaves that thread to its film.
        if key and self.threads.project(key) is None:
            self.threads.bind(key, project_id)
        return None

    def _cmd_render(self, conv, owner, command, thread_project):
        project_id = self._resolve(conv, owner, command, thread_project)
        self._follow_thread(conv, project_id)
        return self.start_render(conv, owner, project_id)

    def _cmd_feedback(self, conv, owner, command, thread_project):
        if command.project is None and thread_project is None:
            latest = self.store.list_projects(owner=owner)
            hint = f" (your latest is `{latest[0].id}`)" if latest else ""
            raise CommandError(f"Which film? `/director feedback <project> <change>`{hint}, or write the change in the film's thread.")
        project_id = self._resolve(conv, owner, command, thread_project)
        self._follow_thread(conv, project_id)
        if self._running(project_id):
            raise CommandError(f"`{project_id}` is rendering; send the change when it is done, or `/director cancel {project_id}`.")
        events: list[Event] = []
        result = self.director.feedback(owner, project_id, command.text, emit=events.append, render=False)
        if result.question:
            conv.post(result.question)
            return None
        said = " ".join(e.text for e in events if isinstance(e, DirectorMessage))
        changed = result.changed_shots
        board = next((e for e in events if isinstance(e, StoryboardEvent)), None)
        text = said or f"Version {result.version}."
        if board and changed:
            shots = {s["id"]: s for s in board.storyboard["shots"]}
            text += "\nChanged: " + ", ".join(f"`{sid}`" for sid in changed if sid in shots)
        if self.store.list_cuts(project_id):
            conv.post(text + "\nRe-rendering what changed…")
            return self.start_render(conv, owner, project_id)
        conv.post(text + f"\nSay `/director render {project_id}` when it looks right.")
        return None

    def _cmd_status(self, conv, owner, command, thread_project):
        project_id = self._resolve(conv, owner, command, thread_project)
        state = self.director.project_state(owner, project_id)
        sb = state["storyboard"]
        versions = state["versions"]
        lines = [describe_storyboard(sb, project_id, state["version"]).split("\n")[0],
                 f"Latest change: {versions[-1]['reason']} ({len(versions)} version{'s' if len(versions) != 1 else ''})."]
        job = self._running(project_id)
        if job:
            lines.append("Rendering now: " + job.reporter.summary())
        cuts = state["cuts"]
        if cuts:
            last = cuts[-1]
            path = self.director.workspace.project_dir(project_id) / "final.mp4"
            lines.append(f"Last cut: version {last['version']} ({len(cuts)} cut{'s' if len(cuts) != 1 else ''} in all), {path}")
        elif not job:
            lines.append(f"Not rendered yet: `/director render {project_id}`.")
        if command.project is None and thread_project is None:
            others = [p for p in self.store.list_projects(owner=owner) if p.id != project_id][:5]
            if others:
                lines.append("Your other films: " + ", ".join(f"`{p.id}` {p.title}" for p in others))
        conv.private("\n".join(lines))

    def _cmd_list(self, conv, owner, command, thread_project):
        projects = self.store.list_projects(owner=owner)
        if not projects:
            conv.private("You have no films yet. Start one with `/director new <brief>`.")
            return
        lines = [f"`{p.id}` {p.title}" + (" (rendering)" if self._running(p.id) else "") for p in projects[:20]]
        more = f"\n…and {len(projects) - 20} more." if len(projects) > 20 else ""
        conv.private("Your films, latest first:\n" + "\n".join(lines) + more)

    def _cmd_cancel(self, conv, owner, command, thread_project):
        project_id = self._resolve(conv, owner, command, thread_project)
        job = self._running(project_id)
        if not job:
            conv.private(f"`{project_id}` is not rendering.")
            return
        job.cancel.set()
        conv.private(f"Stopping the render of `{project_id}` after the takes under way.")

    # ------------------------------------------------------------------ rendering
    def _running(self, project_id: str) -> _Job | None:
        with self._jobs_lock:
            job = self._jobs.get(project_id)
            return job if job and job.future and not job.future.done() else None

    def start_render(self, conv: Conversation, owner: str, project_id: str) -> Future | None:
        with self._jobs_lock:
            running = self._jobs.get(project_id)
            if running and running.future and not running.future.done():
                conv.private(f"`{project_id}` is already rendering: {running.reporter.summary()}.")
                return None
            version = self.store.get_version(project_id)
            reporter = ProgressReporter(conv, self._title(project_id), project_id, version.number,
                                        len(version.storyboard.shots), self.settings.progress_interval)
            job = _Job(project_id, reporter)
            self._jobs[project_id] = job
        reporter.start()
        job.future = self.pool.submit(self._render_job, conv, owner, job)
        return job.future

    def _render_job(self, conv: Conversation, owner: str, job: _Job) -> RenderResult | None:
        reporter, project_id = job.reporter, job.project_id
        try:
            result = self.director.render(owner, project_id, emit=reporter, cancel=job.cancel)
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

    clock = staticmethod(time.monotonic)

    def deliver(self, conv: Conversation, result: RenderResult, title: str) -> None:
        """Upload the cut with the AI-generated disclosure, or give its path when it is too big."""
        path = Path(result.cut or "")
        size = path.stat().st_size
        warnings = "".join(f"\nNote: {w}" for w in result.warnings[:5])
        text = (f"“{title}”: {result.duration or 0:.1f} s, project `{result.project_id}` version {result.version}.\n"
                f"{DISCLOSURE}{warnings}")
        if size <= conv.max_upload_bytes:
            try:
                conv.upload(path, text)
                return
            except Exception as e:
                log.warning("upload of %s failed: %s", path, e)
                reason = f"The upload failed ({_one_line(e)})"
        else:
            reason = f"The film is {size / MB:.1f} MB, over this chat's {conv.max_upload_bytes / MB:.0f} MB upload limit"
        conv.post(f"{text}\n{reason}; it is on the bot's machine at {path}")
