"""Render jobs: a row per render and per shot, written before work starts and updated as shots finish.

States: queued -> running -> done | failed | cancelled (the person stopped it) | interrupted (the
process was stopped: a shutdown or Ctrl-C). A process killed outright leaves its render `running`;
`RenderJob.abandoned` tells that apart from a render that is still running elsewhere, by the
process it names (host, pid and that pid's start time, so a reused pid is not mistaken for it).
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import col, select

from ..schema import utcnow
from ..tables import RenderRow, RenderShotRow
from .database import Database, project_or_raise

RenderState = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
FINISHED_STATES = ("done", "failed", "cancelled")
# A render on another machine that has not written for this long is taken for dead.
REMOTE_STALE_AFTER = timedelta(minutes=15)


class RenderShot(BaseModel):
    shot_id: str
    position: int
    state: str
    take_id: str | None = None
    reused: bool = False
    new_takes: int = 0
    error: str | None = None


class RenderJob(BaseModel):
    id: str
    project_id: str
    owner: str
    version: int
    state: str
    out_dir: str | None = None
    backend: str | None = None
    regenerate: list[str] = []
    process: str | None = None
    cut_id: str | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    shots: list[RenderShot] = []

    @property
    def unfinished(self) -> bool:
        """Interrupted, or left running/queued by a process that is gone: `director resume` finishes it."""
        return self.state == "interrupted" or (self.state in ("queued", "running") and self.abandoned)

    @property
    def abandoned(self) -> bool:
        if self.process is None:
            return True
        host, _, rest = self.process.partition(":")
        if host != socket.gethostname():
            return utcnow() - self.updated_at > REMOTE_STALE_AFTER
        pid, _, started = rest.partition(":")
        return not _process_alive(int(pid), started)

    @property
    def done_shots(self) -> list[str]:
        return [s.shot_id for s in self.shots if s.state == "done"]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), '' elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _process_alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    return not started or _start_time(pid) in ("", started)


@lru_cache(maxsize=1)
def _this_process(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def this_process() -> str:
    return _this_process(os.getpid())


def _to_job(row: RenderRow, shots: list[RenderShotRow]) -> RenderJob:
    return RenderJob(
        id=row.id, project_id=row.project_id, owner=row.owner, version=row.version, state=row.state,
        out_dir=row.out_dir, backend=row.backend, regenerate=list(row.regenerate or []), process=row.process,
        cut_id=row.cut_id, error=row.error, created_at=row.created_at, updated_at=row.updated_at,
        shots=[RenderShot(shot_id=s.shot_id, position=s.position, state=s.state, take_id=s.take_id, reused=s.reused,
                          new_takes=s.new_takes, error=s.error) for s in sorted(shots, key=lambda s: s.position)],
    )


class Renders:
    def __init__(self, db: Database):
        self.db = db

    def create(self, project_id: str, owner: str, version: int, shot_ids: list[str], *, out_dir: str | None = None,
               backend: str | None = None, regenerate: list[str] | None = None) -> RenderJob:
        """A queued render with a queued row per shot, before any work starts."""
        render_id = f"r-{secrets.token_hex(5)}"
        with self.db.write() as s:
            project_or_raise(s, project_id)
            s.add(RenderRow(id=render_id, project_id=project_id, owner=owner, version=version, state="queued",
                            out_dir=out_dir, backend=backend, regenerate=sorted(regenerate or []), process=this_process()))
            s.flush()  # the render row first: PostgreSQL checks the shots' foreign key at once
            for position, shot_id in enumerate(shot_ids):
                s.add(RenderShotRow(render_id=render_id, shot_id=shot_id, position=position, state="queued"))
        return self.get(render_id)

    def get(self, render_id: str) -> RenderJob:
        with self.db.read() as s:
            row = s.get(RenderRow, render_id)
            if row is None:
                raise KeyError(f"no render '{render_id}'")
            shots = s.exec(select(RenderShotRow).where(col(RenderShotRow.render_id) == render_id)).all()
        return _to_job(row, list(shots))

    def start(self, render_id: str, *, version: int, shot_ids: list[str]) -> RenderJob:
        """Running, in this process, for `version` (a resumed render may meet a newer version, with other shots)."""
        with self.db.write() as s:
            row = s.get(RenderRow, render_id)
            if row is None:
                raise KeyError(f"no render '{render_id}'")
            row.state, row.version, row.process, row.error, row.updated_at = "running", version, this_process(), None, utcnow()
            s.add(row)
            known = {r.shot_id: r for r in s.exec(select(RenderShotRow).where(col(RenderShotRow.render_id) == render_id))}
            for position, shot_id in enumerate(shot_ids):
                shot = known.pop(shot_id, None) or RenderShotRow(render_id=render_id, shot_id=shot_id, position=position,
                                                                 state="queued")
                shot.position = position
                if shot.state != "done":
                    shot.state, shot.error = "queued", None
                s.add(shot)
            for gone in known.values():  # shots the newer version no longer has
                s.delete(gone)
        return self.get(render_id)

    def shot_running(self, render_id: str, shot_id: str) -> None:
        self._shot(render_id, shot_id, state="running")

    def shot_done(self, render_id: str, shot_id: str, take_id: str, reused: bool, new_takes: int) -> None:
        self._shot(render_id, shot_id, state="done", take_id=take_id, reused=reused, new_takes=new_takes)

    def shot_failed(self, render_id: str, shot_id: str, error: str) -> None:
        self._shot(render_id, shot_id, state="failed", error=error[:2000])

    def _shot(self, render_id: str, shot_id: str, **values) -> None:
        now = utcnow()
        with self.db.write() as s:
            s.exec(update(RenderShotRow).where(col(RenderShotRow.render_id) == render_id, col(RenderShotRow.shot_id) == shot_id)
                   .values(updated_at=now, **values))
            s.exec(update(RenderRow).where(col(RenderRow.id) == render_id).values(updated_at=now))

    def finish(self, render_id: str, state: RenderState, *, cut_id: str | None = None, error: str | None = None) -> None:
        """The render's last word. Shots still queued or running take the render's state (but `done` stays done)."""
        now = utcnow()
        with self.db.write() as s:
            s.exec(update(RenderRow).where(col(RenderRow.id) == render_id)
                   .values(state=state, cut_id=cut_id, error=(error or None) and error[:2000], updated_at=now))
            shot_state = "cancelled" if state in ("done", "failed") else state
            s.exec(update(RenderShotRow).where(col(RenderShotRow.render_id) == render_id,
                                               col(RenderShotRow.state).in_(("queued", "running")))
                   .values(state=shot_state, updated_at=now))

    def for_project(self, project_id: str, limit: int = 20) -> list[RenderJob]:
        """Newest first."""
        with self.db.read() as s:
            rows = s.exec(select(RenderRow).where(col(RenderRow.project_id) == project_id)
                          .order_by(col(RenderRow.created_at).desc(), col(RenderRow.id).desc()).limit(limit)).all()
        return [self.get(r.id) for r in rows]

    def latest(self, project_id: str) -> RenderJob | None:
        jobs = self.for_project(project_id, limit=1)
        return jobs[0] if jobs else None

    def _open(self, owner: str | None = None, project_id: str | None = None) -> list[RenderJob]:
        """Renders not finished (queued, running, interrupted), oldest first."""
        q = select(RenderRow).where(col(RenderRow.state).in_(("queued", "running", "interrupted")))
        if owner is not None:
            q = q.where(col(RenderRow.owner) == owner)
        if project_id is not None:
            q = q.where(col(RenderRow.project_id) == project_id)
        with self.db.read() as s:
            rows = s.exec(q.order_by(col(RenderRow.created_at), col(RenderRow.id))).all()
        return [self.get(row.id) for row in rows]

    def unfinished(self, owner: str | None = None, project_id: str | None = None) -> list[RenderJob]:
        """The newest unfinished render of each project (oldest project first): what `resume` would finish."""
        newest: dict[str, RenderJob] = {}
        for job in self._open(owner, project_id):
            newest[job.project_id] = job
        return [job for job in newest.values() if job.unfinished]

    def supersede(self, project_id: str, by: str) -> int:
        """Older unfinished renders of the project are moot once a newer render of it finished."""
        stale = [job for job in self._open(project_id=project_id) if job.id != by and job.unfinished]
        for job in stale:
            self.finish(job.id, "cancelled", error=f"superseded by render {by}")
        return len(stale)
