"""Busy projects queue their work instead of refusing it: one mechanism behind every front door.

Each project has two lanes:

- the message lane: chat lines, feedback, take choices, approvals and render requests are taken
  one at a time, in the order they arrived. Applying a message (a new storyboard version, an
  answer) never waits for a render, so a question or a plan change is answered at once.
- the render lane: one render at a time per project. A render asked for while another runs waits
  in order and its sender gets a `queued` event with its position; when its turn comes, it and
  every render queued behind it (same output folder and backend) are served by one render of the
  latest version, so forty quick changes cost one or two renders, not forty.

Both lanes are bounded (`max_queued`); past that the sender gets `QueueFull`, a message naming the
limit. Lanes are threads that exist only while a project has work. `parallel_renders` caps renders
running at once across all projects.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.events import Emit, Queued, noop
from agent.limits import InputRefused


class QueueFull(InputRefused):
    """The project's queue is full: the sender should wait for the director to catch up."""

    code, exit_code, http_status = "queue_full", 5, 429


class AnyCancel(threading.Event):
    """Set when any of the batched requests' cancel events is set (what the render polls)."""

    def __init__(self, events: list[threading.Event | None]):
        super().__init__()
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return super().is_set() or any(e.is_set() for e in self.events)

    def set(self) -> None:
        super().set()
        for e in self.events:
            e.set()


@dataclass(eq=False)
class RenderRequest:
    owner: str
    emit: Emit = noop
    cancel: threading.Event | None = None
    out_dir: Path | None = None
    backend: str | None = None
    regenerate: set[str] = field(default_factory=set)
    budget_usd: float | None = None
    future: Future = field(default_factory=Future)

    def same_output(self, other: RenderRequest) -> bool:
        """Requests one render can serve: same person, output folder, backend and budget."""
        return (self.owner, self.out_dir, self.backend, self.budget_usd) == \
            (other.owner, other.out_dir, other.backend, other.budget_usd)


def then(source: Future, fn: Callable[[Any], Any]) -> Future:
    """A future of fn(result of source); an exception passes through unchanged."""
    target: Future = Future()

    def done(f: Future) -> None:
        try:
            value = fn(f.result())
        except BaseException as err:  # noqa: BLE001 - handed to whoever waits
            target.set_exception(err)
            return
        if isinstance(value, Future):
            value.add_done_callback(lambda g: _copy(g, target))
        else:
            target.set_result(value)

    source.add_done_callback(done)
    return target


def _copy(source: Future, target: Future) -> None:
    err = source.exception()
    if err is not None:
        target.set_exception(err)
    else:
        target.set_result(source.result())


class ProjectQueues:
    def __init__(self, render_batch: Callable[[str, list[RenderRequest]], Any], *, max_queued: int = 100,
                 parallel_renders: int = 2):
        self.render_batch = render_batch
        self.max_queued = max_queued
        self._lock = threading.Lock()
        self._messages: dict[Any, deque[tuple[Callable[[], Any], Future]]] = {}
        self._renders: dict[str, list[RenderRequest]] = {}
        self._render_running: set[str] = set()
        self._slots = threading.BoundedSemaphore(parallel_renders)

    # ------------------------------------------------------------------ the message lane
    def submit(self, key: Any, work: Callable[[], Any]) -> Future:
        """Run `work()` after every message submitted for `key` before it. Returns at once.

        When `work` returns a Future (a render it asked for), the returned future follows that one."""
        step: Future = Future()
        with self._lock:
            pending = self._messages.get(key)
            if pending is not None and len(pending) >= self.max_queued:
                raise QueueFull(f"{len(pending)} messages are already waiting for this project (the limit is "
                                f"{self.max_queued}); wait for the director to catch up")
            start = pending is None
            if pending is None:
                pending = self._messages[key] = deque()
            pending.append((work, step))
        if start:
            threading.Thread(target=self._drain_messages, args=(key,), daemon=True,
                             name=f"director-lane-{key}").start()
        return then(step, lambda value: value)

    def _drain_messages(self, key: Any) -> None:
        while True:
            with self._lock:
                pending = self._messages[key]
                if not pending:
                    del self._messages[key]
                    return
                work, step = pending.popleft()
            if not step.set_running_or_notify_cancel():
                continue
            try:
                step.set_result(work())
            except BaseException as err:  # noqa: BLE001 - handed to whoever waits
                step.set_exception(err)

    # ------------------------------------------------------------------ the render lane
    def request_render(self, project_id: str, request: RenderRequest) -> Future:
        """Queue a render of the project's latest version; the future gets the render's result."""
        with self._lock:
            waiting = self._renders.setdefault(project_id, [])
            if len(waiting) >= self.max_queued:
                raise QueueFull(f"{len(waiting)} renders are already waiting for this project (the limit is "
                                f"{self.max_queued}); wait for the current one, or cancel it")
            waiting.append(request)
            busy = project_id in self._render_running
            if not busy:
                self._render_running.add(project_id)
            position = len(waiting)
        if busy:
            request.emit(queued_event(project_id, position, "render"))
        else:
            threading.Thread(target=self._drain_renders, args=(project_id,), daemon=True,
                             name=f"director-render-{project_id}").start()
        return request.future

    def rendering(self, project_id: str) -> bool:
        with self._lock:
            return project_id in self._render_running

    def _next_batch(self, project_id: str) -> list[RenderRequest]:
        with self._lock:
            waiting = self._renders.get(project_id) or []
            if not waiting:
                self._renders.pop(project_id, None)
                self._render_running.discard(project_id)
                return []
            batch = [r for r in waiting if r.same_output(waiting[0])]
            rest = [r for r in waiting if not r.same_output(waiting[0])]
            self._renders[project_id] = rest
        for position, request in enumerate(rest, 1):
            request.emit(queued_event(project_id, position, "render"))
        return batch

    def _drain_renders(self, project_id: str) -> None:
        from agent.errors import Cancelled

        while batch := self._next_batch(project_id):
            live = [r for r in batch if r.cancel is None or not r.cancel.is_set()]
            for request in batch:
                if live and request not in live:   # cancelled while it waited
                    request.future.set_exception(Cancelled())
            # All cancelled: the render itself stops at once and records how it ended.
            live = live or batch
            with self._slots:
                try:
                    result = self.render_batch(project_id, live)
                except BaseException as err:  # noqa: BLE001 - handed to whoever waits
                    for request in live:
                        request.future.set_exception(err)
                    continue
            for request in live:
                request.future.set_result(result.model_copy())


def queued_event(project_id: str, position: int, what: str) -> Queued:
    text = (f"Your change is saved; its {what} starts when the current one ends "
            f"({'next' if position == 1 else f'{position} in line'}).")
    return Queued(project_id=project_id, position=position, kind=what, text=text)
