"""WS /ws: the chat and production protocol (see server/models.py for every message).

Each message is validated, checked against the user's rate budget, then run by the Director in a
worker thread; the Director's events reach every tab of the owner that follows the project. A bad
message gets an `error` event and the connection stays open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from agent.errors import Cancelled, NotFound, as_director_error, public_message
from agent.events import DirectorMessage, Emit, ErrorEvent, Event, HistoryEvent
from server.deps import owner_of, token_from, user_for
from server.hub import Connection, Hub, Job
from server.models import (
    AcceptTake,
    ApproveKeyframes,
    ApproveStoryboard,
    CancelMessage,
    EditShot,
    FeedbackMessage,
    HistoryRequest,
    KeyframesRequest,
    ProtocolError,
    RenderMessage,
    RestoreVersion,
    SelectTake,
    Subscribe,
    UserMessage,
    error_event,
    parse_client_message,
)

router = APIRouter()
log = logging.getLogger("reel_director.server")


def error_for(err: BaseException, project_id: str | None) -> ErrorEvent:
    """The one translation of a Director exception for the websocket: an `error` event a person can act on."""
    error = as_director_error(err)
    return error_event(error.code, public_message(error.message), project_id)


async def store_read(app: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` on the server's store thread (see `store_pool` in server/app.py), off the event loop."""
    pool = getattr(app.state, "store_pool", None)
    if pool is None:   # an app run without its lifespan
        return await run_in_threadpool(fn, *args)
    return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)


def edit_shot(director: Any, owner: str, msg: EditShot, emit: Emit) -> dict:
    """An `edit_shot` message through the Director's edit path (one new storyboard version)."""
    from agent.editing import ShotEdit
    from agent.errors import BadInput

    if msg.upload is not None:
        if msg.shot_id is None:
            raise BadInput("edit_shot with an upload needs the shot_id it is for")
        return director.attach_upload(owner, msg.project_id, msg.upload, shots=[msg.shot_id], emit=emit)
    if msg.action != "add" and msg.shot_id is None:
        raise BadInput(f"edit_shot {msg.action}: say which shot (shot_id)")
    edit = ShotEdit(msg.action, msg.shot_id, dict(msg.fields), msg.position)
    return director.edit_storyboard(owner, msg.project_id, [edit], emit=emit)


class Session:
    """One websocket's handling of client messages."""

    def __init__(self, websocket: WebSocket, owner: str):
        self.app = websocket.app
        state = websocket.app.state
        self.director = state.director
        self.hub: Hub = state.hub
        self.settings = state.settings
        self.limiter = state.limiter
        self.chat_pool = state.chat_pool
        self.render_pool = state.render_pool
        self.loop = asyncio.get_running_loop()
        self.owner = owner
        self.conn = Connection(websocket, owner, self.settings.ws_queue_size)
        self.tasks: set[asyncio.Task] = set()

    def reply(self, event: Event) -> None:
        self.conn.push(event.to_wire())

    async def handle(self, raw: str | bytes) -> None:
        try:
            msg = parse_client_message(raw, self.settings.ws_max_message_bytes)
            # cancel is always let through: it is how a person stops work they started.
            if not isinstance(msg, CancelMessage):
                wait = self.limiter.acquire(self.owner)
                if wait:
                    raise ProtocolError("rate_limited", f"too many messages; try again in {wait:.1f} s",
                                        msg.project_id, msg.request_id)
            text = getattr(msg, "text", None)
            if text is not None and len(text) > self.settings.max_text_chars:
                raise ProtocolError("too_large", f"text is {len(text)} characters; the limit is "
                                    f"{self.settings.max_text_chars}", msg.project_id, msg.request_id)
            await self.dispatch(msg)
        except ProtocolError as err:
            self.reply(err.event())

    async def dispatch(self, msg: Any) -> None:
        owner, d = self.owner, self.director
        if isinstance(msg, Subscribe):
            await self.subscribe(msg.project_id, msg.request_id)
        elif isinstance(msg, CancelMessage):
            job = self.hub.jobs.get((owner, msg.project_id))
            if job is None:
                raise ProtocolError("not_running", f"nothing is running for project {msg.project_id}",
                                    msg.project_id, msg.request_id)
            job.cancel.set()
            # What arrives after the cancel is new work, with its own cancel event.
            self.hub.jobs.pop((owner, msg.project_id), None)
            self.hub.publish(DirectorMessage(project_id=msg.project_id,
                                             text=f"Stopping the {job.kind} after the current step; finished takes are kept."),
                             owner=owner, origin=self.conn)
        # Each *_async call only queues the message (agent/queue.py), here on the event loop, so
        # messages keep the order they arrived in; a busy project queues them, it never refuses.
        elif isinstance(msg, UserMessage):
            self.start(msg.project_id, "plan" if msg.project_id is None else "chat", msg.request_id,
                       lambda emit, cancel: d.user_message_async(owner, msg.text, msg.project_id, emit=emit,
                                                                 cancel=cancel, upload=msg.upload))
        elif isinstance(msg, FeedbackMessage):
            self.start(msg.project_id, "feedback", msg.request_id,
                       lambda emit, cancel: d.feedback_async(owner, msg.project_id, msg.text, shots=msg.shots,
                                                             emit=emit, render=True, cancel=cancel))
        elif isinstance(msg, ApproveStoryboard):
            self.start(msg.project_id, "approval", msg.request_id,
                       lambda emit, cancel: d.approve_storyboard_async(owner, msg.project_id, emit=emit))
        elif isinstance(msg, RenderMessage):
            self.start(msg.project_id, "render", msg.request_id,
                       lambda emit, cancel: d.render_async(owner, msg.project_id, emit=emit, cancel=cancel))
        elif isinstance(msg, SelectTake):
            self.start(msg.project_id, "take selection", msg.request_id,
                       lambda emit, cancel: d.select_take_async(owner, msg.project_id, msg.shot_id, msg.take_id,
                                                                emit=emit, render=True, cancel=cancel))
        # Card edits, going back a version and accepting a take are quick: queued in order like any
        # message (a second edit right after the first waits its turn instead of being refused).
        elif isinstance(msg, EditShot):
            self.start(msg.project_id, "edit", msg.request_id,
                       lambda emit, cancel: d.queues.submit(msg.project_id, lambda: edit_shot(d, owner, msg, emit)))
        elif isinstance(msg, RestoreVersion):
            self.start(msg.project_id, "restore", msg.request_id,
                       lambda emit, cancel: d.queues.submit(
                           msg.project_id, lambda: d.restore_version(owner, msg.project_id, msg.version, emit=emit)))
        elif isinstance(msg, AcceptTake):
            self.start(msg.project_id, "accept", msg.request_id,
                       lambda emit, cancel: d.queues.submit(
                           msg.project_id, lambda: d.accept_take(owner, msg.project_id, msg.shot_id, emit=emit)))
        # Keyframes first: stills are quick (an animatic frame offline), approval is one new version.
        elif isinstance(msg, KeyframesRequest):
            self.start(msg.project_id, "keyframes", msg.request_id,
                       lambda emit, cancel: d.queues.submit(
                           msg.project_id, lambda: d.keyframes(owner, msg.project_id, shots=msg.shots,
                                                               reroll=msg.reroll, emit=emit)))
        elif isinstance(msg, ApproveKeyframes):
            self.start(msg.project_id, "keyframe approval", msg.request_id,
                       lambda emit, cancel: d.queues.submit(
                           msg.project_id, lambda: d.approve_keyframes(owner, msg.project_id, shots=msg.shots,
                                                                       emit=emit)))
        elif isinstance(msg, HistoryRequest):
            try:
                versions = await store_read(self.app, d.history, owner, msg.project_id)
            except NotFound:
                raise ProtocolError("not_found", f"no project {msg.project_id!r} for you", msg.project_id,
                                    msg.request_id) from None
            self.reply(HistoryEvent(project_id=msg.project_id, versions=versions))

    async def subscribe(self, project_id: str, request_id: str | None) -> None:
        """Follow a project; the answer is its latest `storyboard` (the full state is GET /api/projects/{id})."""
        try:
            board = await store_read(self.app, self.director.storyboard_event, self.owner, project_id)
        except NotFound:
            raise ProtocolError("not_found", f"no project {project_id!r} for you", project_id, request_id) from None
        self.hub.subscribe(self.conn, project_id)
        self.reply(board)

    def start(self, project_id: str | None, kind: str, request_id: str | None,
              work: Callable[[Emit, Any], Any]) -> None:
        """Queue `work(emit, cancel)` (which returns a Future at once) and report how it ends.
        Jobs of one project share one cancel event: 'cancel' stops what runs and what waits."""
        job = None
        if project_id is not None:
            key = (self.owner, project_id)
            job = self.hub.jobs.get(key)
            if job is None:
                job = self.hub.jobs[key] = Job(kind, self.owner, project_id)
            else:
                job.count += 1
        cancel = job.cancel if job else None

        def deliver(event: Event) -> None:  # on the event loop
            self.hub.publish(event, self.owner, self.conn, project_id)

        def emit(event: Event) -> None:  # from the Director's worker thread
            try:
                self.loop.call_soon_threadsafe(deliver, event)
            except RuntimeError:  # loop closed: the server is shutting down
                pass

        try:
            future = work(emit, cancel)
        except Exception as err:  # refused before it was queued (a full queue)
            if job is not None:
                self._release(job)
            event = error_for(err, project_id)
            if request_id is not None:
                event.request_id = request_id
            self.reply(event)
            return
        task = asyncio.ensure_future(self._run(future, job, project_id, request_id, kind))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, future: Any, job: Job | None, project_id: str | None,
                   request_id: str | None, kind: str) -> None:
        try:
            result = await asyncio.wrap_future(future)
            if project_id is None and isinstance(result, str) and result:
                # A brief made a project: this tab follows it even if the Director emitted nothing.
                self.hub.subscribe(self.conn, result)
        except BaseException as err:  # noqa: BLE001 - every failure becomes an error event
            if isinstance(err, asyncio.CancelledError):
                raise
            event: Event
            if isinstance(err, Cancelled):
                event = DirectorMessage(project_id=project_id, cancelled=True,
                                        text=f"The {kind} was cancelled; finished takes are kept.")
            else:
                event = error_for(err, project_id)
                if event.code == "internal":
                    log.exception("director %s failed for %s on %s", kind, self.owner, project_id)
            if request_id is not None:
                event.request_id = request_id
            self.hub.publish(event, owner=self.owner, origin=self.conn)
        finally:
            if job is not None:
                self._release(job)

    def _release(self, job: Job) -> None:
        job.count -= 1
        key = (job.owner, job.project_id)
        if job.count <= 0 and self.hub.jobs.get(key) is job:
            del self.hub.jobs[key]


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    user = await store_read(websocket.app, user_for, websocket, token_from(websocket))
    if user is None:
        body = {"detail": "missing or unknown token: connect to /ws?token=TOKEN or send 'Authorization: Bearer TOKEN'"}
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(JSONResponse(body, status_code=401))
        else:
            await websocket.close(code=1008, reason="unauthorized")
        return
    await websocket.accept()
    session = Session(websocket, owner_of(user))
    sender = asyncio.ensure_future(session.conn.run_sender())
    hub = session.hub
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            await session.handle(raw)
            if sender.done():  # the sender failed (client gone) or was closed for not reading
                break
    except WebSocketDisconnect:
        pass
    finally:
        hub.drop(session.conn)
        sender.cancel()
        # Running jobs go on: other tabs may follow them, and finished takes are stored either way.
