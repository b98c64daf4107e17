"""Fan-out of project events to every open websocket of the project's owner, and the running jobs.

The Director is synchronous and calls `emit(event)` from worker threads; `Hub.emitter()` turns that
into `loop.call_soon_threadsafe(...)`, so all hub state is touched from the event loop thread only
(no locks) and events keep the order the Director emitted them in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import logging
import threading
from collections import defaultdict
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from agent.events import Emit, Event

log = logging.getLogger("reel_director.server")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (PurePath,)):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    return str(obj)


def dumps(event: dict) -> str:
    return json.dumps(event, default=_json_default, ensure_ascii=False)


class Connection:
    """One websocket: a bounded outbox drained by its own sender task."""

    def __init__(self, websocket: Any, owner: str, queue_size: int):
        self.websocket = websocket
        self.owner = owner
        self.outbox: asyncio.Queue[dict | None] = asyncio.Queue(maxsize=queue_size)
        self.projects: set[str] = set()
        self.closed = False

    def push(self, event: dict) -> None:
        if self.closed:
            return
        try:
            self.outbox.put_nowait(event)
        except asyncio.QueueFull:
            # A client that stops reading must not make the server hold every event forever.
            log.warning("dropping websocket of %s: %d events unread", self.owner, self.outbox.qsize())
            self.closed = True
            asyncio.ensure_future(self._close(1013, "too many unread events; reconnect"))

    async def _close(self, code: int, reason: str) -> None:
        try:
            await self.websocket.close(code=code, reason=reason)
        except Exception:  # already gone
            pass

    async def run_sender(self) -> None:
        while True:
            event = await self.outbox.get()
            if event is None:
                return
            await self.websocket.send_text(dumps(event))


@dataclasses.dataclass
class Job:
    kind: str
    owner: str
    project_id: str
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    count: int = 1   # messages of the project running or queued under this job


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Connection]] = defaultdict(set)
        self.jobs: dict[tuple[str, str], Job] = {}

    # -- subscriptions (event loop thread only)

    def subscribe(self, conn: Connection, project_id: str) -> None:
        if conn.closed:
            return
        self._subscribers[project_id].add(conn)
        conn.projects.add(project_id)

    def drop(self, conn: Connection) -> None:
        conn.closed = True
        for pid in conn.projects:
            subs = self._subscribers.get(pid)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self._subscribers[pid]
        conn.projects.clear()

    def subscribers(self, project_id: str) -> list[Connection]:
        return list(self._subscribers.get(project_id, ()))

    def publish(self, event: Event, owner: str | None = None, origin: Connection | None = None,
                project_id: str | None = None) -> None:
        """Deliver to every subscriber of the event's project (of `owner`, when known) and to `origin`."""
        pid = event.project_id or project_id
        wire = event.to_wire()
        if pid and not wire.get("project_id"):
            wire["project_id"] = pid
        if origin is not None and pid and not origin.closed:
            # The connection that started a job follows the project it made or changed.
            self.subscribe(origin, pid)
        targets = set(self._subscribers.get(pid, ())) if pid else set()
        if origin is not None:
            targets.add(origin)
        for conn in targets:
            if owner is None or conn.owner == owner:
                conn.push(wire)

    def emitter(self, loop: asyncio.AbstractEventLoop, owner: str | None, origin: Connection | None = None,
                project_id: str | None = None) -> Emit:
        """An `emit` for the Director, callable from any thread."""

        def emit(event: Event) -> None:
            try:
                loop.call_soon_threadsafe(self.publish, event, owner, origin, project_id)
            except RuntimeError:  # loop closed: the server is shutting down
                pass

        return emit
