"""What a render is doing right now, for a page that reloads mid-render, and how long it should take.

The Director wraps the `emit` of each render with `LiveJobs.track`: every shot_progress event gains
`elapsed` (seconds since the shot started) and `left` (estimated seconds to go), and the latest event
per shot is kept in memory so GET /api/projects/{id} can rebuild the page. Nothing here is the record
of truth: takes and cuts in the store are; a restart simply forgets what was running.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from agent.events import Emit, Event, ShotProgress, TakeReady


@dataclass
class LiveJob:
    kind: str
    started: float = field(default_factory=time.time)
    stage: str = "starting"
    shots: dict[str, dict] = field(default_factory=dict)        # shot id -> latest shot_progress
    estimates: dict[str, float] = field(default_factory=dict)   # shot id -> estimated seconds
    shot_started: dict[str, float] = field(default_factory=dict)

    def public(self) -> dict:
        now = time.time()
        total = sum(self.estimates.values())
        return {"kind": self.kind, "stage": self.stage, "elapsed": round(now - self.started, 1),
                "estimate": round(total, 1), "left": round(max(0.0, total - (now - self.started)), 1),
                "shots": dict(self.shots), "estimates": dict(self.estimates)}


class LiveJobs:
    def __init__(self) -> None:
        self._jobs: dict[str, LiveJob] = {}
        self._guard = threading.Lock()

    def get(self, project_id: str) -> dict | None:
        with self._guard:
            job = self._jobs.get(project_id)
            return job.public() if job else None

    def start(self, project_id: str, kind: str) -> LiveJob:
        with self._guard:
            job = self._jobs[project_id] = LiveJob(kind)
            return job

    def finish(self, project_id: str, job: LiveJob) -> None:
        with self._guard:
            if self._jobs.get(project_id) is job:
                del self._jobs[project_id]

    def track(self, job: LiveJob, emit: Emit) -> Emit:
        """`emit`, recording progress into `job` and adding elapsed/left to shot_progress events."""

        def tracked(event: Event) -> None:
            if isinstance(event, ShotProgress):
                sid = event.shot_id
                if sid and sid != "*":
                    elapsed = time.time() - job.shot_started.setdefault(sid, time.time())
                    left = 0.0 if event.stage == "reused" else max(0.0, job.estimates.get(sid, 0.0) - elapsed)
                    event = event.model_copy(update={"elapsed": round(elapsed, 2), "left": round(left, 2)})
                    job.shots[sid] = event.to_wire()
                job.stage = "assembling the cut" if sid == "*" else "rendering shots"
            elif isinstance(event, TakeReady):
                sid = event.shot_id
                elapsed = time.time() - job.shot_started.get(sid, time.time())
                job.shots[sid] = ShotProgress(project_id=event.project_id, shot_id=sid, stage="done", done=1, total=1,
                                              elapsed=round(elapsed, 2), left=0.0).to_wire()
            emit(event)

        return tracked
