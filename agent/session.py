"""The director session: one transport-agnostic API behind the CLI, the websocket and the bots.

Every method is synchronous (front doors run long ones in a thread) and reports what happens as
protocol events through `emit`. The store is the record of truth, so a session resumes after a
restart: nothing lives only in this object.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import BadInput, Cancelled, Conflict, NeedsAnswer, NotFound, Refused
from agent.estimate import PlannedShot, RenderEstimate, estimate_render
from agent.events import DirectorMessage, Emit, ErrorEvent, Estimate, SafetyNotice, StoryboardEvent, noop
from agent.film import finish_film
from agent.keyframes import Keyframe, KeyframeSet, approved_storyboard, describe, load_proposals, save_proposals, save_still
from agent.limits import check_caps, check_inputs
from agent.prompts import with_prompts
from agent.production import Producer
from agent.queue import AnyCancel, ProjectQueues, RenderRequest, then
from agent.run import RenderResult, RenderRun
from agent.safety_gate import SafetyRefusal, check_storyboard
from agent.settings import AgentSettings
from storyboards.diff import diff_storyboards
from storyboards.schema import Storyboard
from storyboards.store import RenderJob, Store, StoryboardVersion, VersionConflict
from storyboards.workspace import Workspace

__all__ = ["Director", "Emit", "Cancelled", "SafetyRefusal", "Refused", "NotFound", "Conflict", "noop"]

# How often feedback is applied again on a newer version when another writer got there first.
FEEDBACK_ATTEMPTS = 4
# After Ctrl-C, how long the CLI waits for the render to record itself as interrupted.
INTERRUPT_GRACE_S = 1.5


@dataclass
class _Revision:
    storyboard: Storyboard
    reason: str
    result: Any   # the brain's FeedbackResult


class Director:
    def __init__(self, store: Store | None = None, workspace: Workspace | None = None, settings: AgentSettings | None = None):
        self.workspace = workspace or Workspace()
        self.store = store or Store(workspace=self.workspace)
        self.settings = settings or AgentSettings()
        self.producer = Producer(self.store, self.workspace, self.settings)
        self._project_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._interrupted = threading.Event()
        # Busy projects queue work in order instead of refusing it (agent/queue.py).
        self.queues = ProjectQueues(self._render_batch, max_queued=self.settings.max_queued,
                                    parallel_renders=self.settings.parallel_renders)

    # ------------------------------------------------------------------ helpers
    def _lock(self, project_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._project_locks.setdefault(project_id, threading.Lock())

    def _owned(self, owner: str, project_id: str):
        """The owner's project, or NotFound (someone else's project looks the same as a missing one)."""
        try:
            project = self.store.get_project(project_id)
        except KeyError:
            project = None
        if project is None or project.owner != owner:
            raise NotFound(f"no project '{project_id}'", project_id=project_id)
        return project

    @staticmethod
    def _shot(storyboard: Storyboard, shot_id: str, project_id: str):
        try:
            return storyboard.shot(shot_id)
        except KeyError as err:  # the message names the valid shots
            raise NotFound(str(err.args[0]), project_id=project_id) from None

    @staticmethod
    def _say(emit: Emit, project_id: str | None, text: str) -> None:
        emit(DirectorMessage(project_id=project_id, text=text))

    def _brain(self):
        from agent.brains import make_brain

        return make_brain(self.settings)

    def _storyboard_event(self, project_id: str, version, changed: list[str] | None = None) -> StoryboardEvent:
        sb = with_prompts(version.storyboard, settings=self.settings)
        return StoryboardEvent(project_id=project_id, version=version.number, parent=version.parent, reason=version.reason,
                               storyboard=sb.model_dump(mode="json", exclude_none=True), changed_shots=changed or [],
                               duration=sb.duration, size=list(sb.size))

    def _emit_storyboard(self, emit: Emit, project_id: str, version, changed: list[str] | None = None) -> None:
        emit(self._storyboard_event(project_id, version, changed))

    def storyboard_event(self, owner: str, project_id: str) -> StoryboardEvent:
        """The project's latest version as a `storyboard` event (what a new subscriber sees first)."""
        self._owned(owner, project_id)
        return self._storyboard_event(project_id, self.store.get_version(project_id))

    # ------------------------------------------------------------------ conversation
    def start_project(self, owner: str, storyboard: Storyboard, reason: str, emit: Emit = noop, brief: str | None = None) -> str:
        check_caps(storyboard, self.settings)
        project = self.store.create_project(owner, storyboard.title, settings={"aspect_ratio": storyboard.aspect_ratio, "fps": storyboard.fps})
        if brief:
            self.store.add_message(project.id, "user", brief)
        number = self.store.add_version(project.id, storyboard, reason)
        self._emit_storyboard(emit, project.id, self.store.get_version(project.id, number), [s.id for s in storyboard.shots])
        return project.id

    def plan(self, brief: str, overrides: dict | None = None):
        """A storyboard from a brief, without creating a project (for `director plan`)."""
        from agent.brains import plan_brief

        return plan_brief(self.settings, brief, overrides)   # the caps are checked there

    def user_message(self, owner: str, text: str, project_id: str | None = None, emit: Emit = noop,
                     cancel: threading.Event | None = None) -> str:
        return self.user_message_async(owner, text, project_id, emit, cancel).result()

    def user_message_async(self, owner: str, text: str, project_id: str | None = None, emit: Emit = noop,
                           cancel: threading.Event | None = None) -> Future:
        """Queue a chat line (in arrival order, per project); the future gets the project id once it is
        applied and, when it re-renders, once the render is done. Returns at once."""
        if project_id is None:
            return self.queues.submit(("new", owner), lambda: self._brief(owner, text, emit))

        def step():
            self._owned(owner, project_id)
            has_cut = bool(self.store.list_cuts(project_id))
            outcome = self._feedback_step(owner, project_id, text, None, emit, has_cut, cancel, None)
            return then(outcome, lambda _: project_id) if isinstance(outcome, Future) else project_id

        return self.queues.submit(project_id, step)

    def _brief(self, owner: str, text: str, emit: Emit) -> str:
        plan = self.plan(text)
        if plan.question:
            self._say(emit, None, plan.question)
            return ""
        project_id = self.start_project(owner, plan.storyboard, "planned from the brief", emit, brief=text)
        message = self._describe_plan(plan)
        self.store.add_message(project_id, "director", message)
        self._say(emit, project_id, message)
        return project_id

    def _describe_plan(self, plan) -> str:
        sb = plan.storyboard
        lines = [f"Here is “{sb.title}”: {len(sb.shots)} shots, {sb.duration:g} s at {sb.aspect_ratio}, {sb.fps} fps."]
        lines += [f"- {n}" for n in plan.notes]
        lines.append("Say what to change (\"shot 2 darker\", \"make it vertical\"), or render it.")
        return "\n".join(lines)

    def feedback(self, owner: str, project_id: str, text: str, shots: list[str] | None = None, emit: Emit = noop,
                 render: bool = True, cancel: threading.Event | None = None, out_dir: Path | None = None) -> RenderResult:
        cancel = cancel or threading.Event()
        return self._wait(self.feedback_async(owner, project_id, text, shots, emit, render, cancel, out_dir), cancel)

    def feedback_async(self, owner: str, project_id: str, text: str, shots: list[str] | None = None,
                       emit: Emit = noop, render: bool = True, cancel: threading.Event | None = None,
                       out_dir: Path | None = None) -> Future:
        """Queue feedback behind the project's earlier messages; returns at once (see agent/queue.py)."""
        return self.queues.submit(project_id, lambda: self._feedback_step(owner, project_id, text, shots, emit, render,
                                                                          cancel, out_dir))

    def _feedback_step(self, owner, project_id, text, shots, emit, render, cancel, out_dir) -> RenderResult | Future:
        """Apply feedback now (a new version); a render it needs is queued and returned as a Future.

        The new version names the version it was made from. When another process stored a version
        first (the store's compare-and-set refuses ours), the text is applied again on the new latest
        version, a few times at most, so no one's change is lost."""
        self._owned(owner, project_id)
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            unknown = [sid for sid in shots or [] if sid not in {s.id for s in current.storyboard.shots}]
            if unknown:
                refusal = (f"There is no shot '{unknown[0]}' in this storyboard; shots are: "
                           f"{', '.join(s.id for s in current.storyboard.shots)}. Nothing was changed.")
                self.store.add_message(project_id, "user", text)    # the transcript keeps it, with its refusal
                self.store.add_message(project_id, "director", refusal)
                raise NotFound(refusal, project_id=project_id)
            self.store.add_message(project_id, "user", text)
            for attempt in range(1, FEEDBACK_ATTEMPTS + 1):
                revision = self._revise(project_id, current, text, shots, emit)
                if isinstance(revision, RenderResult):   # a question or a refusal: no new version
                    return revision
                try:
                    number = self.store.add_version(project_id, revision.storyboard, revision.reason, parent=current.number)
                    break
                except VersionConflict as conflict:
                    if attempt == FEEDBACK_ATTEMPTS:
                        raise Conflict(f"{conflict}; your change was not applied (tried {attempt} times). "
                                       "Send it again to apply it to the latest version.", project_id=project_id) from None
                    current = self.store.get_version(project_id)
                    note = f"Version {conflict.head} was made meanwhile; applying “{text}” to it."
                    self.store.add_message(project_id, "director", note)
                    self._say(emit, project_id, note)
            version = self.store.get_version(project_id, number)
            result = revision.result
            regenerate = [sid for sid in result.regenerate_shots or [] if sid in {s.id for s in revision.storyboard.shots}]
            changed = sorted(set(diff_storyboards(current.storyboard, revision.storyboard).shots_to_regenerate) | set(regenerate)
                             | ({result.select_take[0]} if result.select_take else set()))
            self._emit_storyboard(emit, project_id, version, changed)
            message = f"Version {number}: {revision.reason}." + (f" Notes: {' '.join(result.notes)}" if result.notes else "")
            self.store.add_message(project_id, "director", message)
            self._say(emit, project_id, message)
        if getattr(result, "wants_render", None) is not None:
            render = render or bool(result.wants_render)
        if not render:
            return RenderResult(project_id=project_id, version=number, changed_shots=changed)
        request = RenderRequest(owner, emit, cancel, Path(out_dir) if out_dir else None, None, set(regenerate))
        return then(self.queues.request_render(project_id, request),
                    # What the person changed, and what the render had to make again because of it (a
                    # shot that continues a changed one starts from a new frame). `version` is the one this
                    # feedback made; the cut is of the latest (`rendered_version`), newer when someone else
                    # changed the film meanwhile (then it has both changes).
                    lambda out: out.model_copy(update={"changed_shots": sorted(set(changed) | set(out.changed_shots)),
                                                       "version": number, "rendered_version": out.version}))

    def _revise(self, project_id: str, current: StoryboardVersion, text: str, shots: list[str] | None,
                emit: Emit) -> _Revision | RenderResult:
        """What the feedback makes of `current`: a revision to store, or a reply (a question, a refusal)."""
        def reply(msg: str, store: bool = False) -> RenderResult:
            if store:
                self.store.add_message(project_id, "director", msg)
            self._say(emit, project_id, msg)
            return RenderResult(project_id=project_id, version=current.number, question=msg)

        result = self._brain().revise(current.storyboard, text, takes_by_shot=self._takes_by_shot(project_id, current.storyboard),
                                      shots=shots)
        if result.question:
            return reply(result.question, store=True)
        if result.undo:
            if current.parent is None:
                return reply("There is nothing to undo: this is the first version.")
            parent = self.store.get_version(project_id, current.parent)
            new_sb, reason = parent.storyboard, f"undo: back to version {parent.number}"
        else:
            new_sb, reason = result.storyboard, result.reason
        if result.select_take:
            shot_id, index = result.select_take
            takes = [t for t in reversed(self.store.takes_for_shot(project_id, shot_id)) if t.file]
            if not (0 <= index < len(takes)):
                return reply(f"Shot {shot_id} has {len(takes)} takes; pick one from 1 to {len(takes)}.")
            self.store.select_take(project_id, takes[index].id)
        check_caps(new_sb, self.settings)
        return _Revision(new_sb, reason, result)

    def _takes_by_shot(self, project_id: str, storyboard: Storyboard) -> dict[str, int]:
        return {s.id: len(self.store.takes_for_shot(project_id, s.id)) for s in storyboard.shots}

    def approve_storyboard(self, owner: str, project_id: str, emit: Emit = noop) -> None:
        return self.approve_storyboard_async(owner, project_id, emit).result()

    def approve_storyboard_async(self, owner: str, project_id: str, emit: Emit = noop) -> Future:
        return self.queues.submit(project_id, lambda: self._approve(owner, project_id, emit))

    def _approve(self, owner: str, project_id: str, emit: Emit) -> None:
        self._owned(owner, project_id)
        self.store.audit(owner, "storyboard.approved", {"project_id": project_id, "version": self.store.get_version(project_id).number})
        self._say(emit, project_id, "Storyboard approved. Rendering when you say so.")

    # ------------------------------------------------------------------ keyframes first
    def keyframes(self, owner: str, project_id: str, shots: list[str] | None = None, reroll: bool = False,
                  emit: Emit = noop) -> KeyframeSet:
        """One still per shot of the latest version (or of `shots`), to approve before rendering. A
        shot that already has a proposal for this version keeps it unless `reroll` asks for another."""
        from agent.production import derive_seed
        from tools.generate import GenerationRequest
        from tools.generate.stills import make_still

        self._owned(owner, project_id)
        version = self.store.get_version(project_id)
        storyboard = version.storyboard
        wanted = self._shot_ids(storyboard, shots)
        old = load_proposals(self.workspace, project_id)
        previous = {k.shot_id: k for k in old.keyframes} if old and old.version == version.number else {}
        made: list[Keyframe] = []
        for shot in storyboard.shots:
            kept = previous.get(shot.id)
            if kept is not None and not (reroll and shot.id in wanted):
                made.append(kept)
                continue
            if shot.id not in wanted and kept is None and shots is not None:
                continue
            roll = kept.roll + 1 if kept else 1
            plan = self.producer.plan_shot(storyboard, shot)
            width, height = storyboard.size
            seed = derive_seed(project_id, shot.id, plan.spec_key, "keyframe", roll)
            still = make_still(GenerationRequest(**{**plan.request.__dict__, "seed": seed, "width": width, "height": height}))
            path = save_still(self.workspace, still.image)
            made.append(Keyframe(shot_id=shot.id, still=self.workspace.relative(path), seed=seed, backend=still.backend,
                                 model=still.model, roll=roll))
        proposals = save_proposals(self.workspace, KeyframeSet(project_id=project_id, version=version.number,
                                                               keyframes=made), storyboard)
        self._say(emit, project_id, describe(proposals) + f" They are in /media/{project_id}/keyframes.png.")
        return proposals

    def approve_keyframes(self, owner: str, project_id: str, shots: list[str] | None = None,
                          emit: Emit = noop) -> KeyframeSet:
        """A new version in which each approved shot is image-to-video from its still."""
        self._owned(owner, project_id)
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            proposals = load_proposals(self.workspace, project_id)
            if proposals is None or proposals.version != current.number:
                raise BadInput("there are no keyframes for the latest version yet: make them first "
                               f"(`director keyframes {project_id}`, or Keyframes on the page)")
            wanted = [sid for sid in self._shot_ids(current.storyboard, shots) if proposals.get(sid)]
            storyboard = approved_storyboard(current.storyboard, proposals, self.workspace, wanted)
            order = [s.id for s in current.storyboard.shots]
            positions = ", ".join(str(order.index(sid) + 1) for sid in wanted)
            number = self.store.add_version(project_id, storyboard, f"keyframes approved for shot {positions}",
                                            parent=current.number)
            for k in proposals.keyframes:
                k.approved = k.approved or k.shot_id in wanted
            proposals.version = number
            save_proposals(self.workspace, proposals, storyboard)
            self._emit_storyboard(emit, project_id, self.store.get_version(project_id, number), wanted)
        self._say(emit, project_id, f"Keyframes approved for shot {positions}: rendering animates each from its still.")
        return proposals

    @staticmethod
    def _shot_ids(storyboard: Storyboard, shots: list[str] | None) -> list[str]:
        known = [s.id for s in storyboard.shots]
        for sid in shots or []:
            if sid not in known:
                raise NotFound(f"no shot '{sid}' in this storyboard; its shots are {', '.join(known)}")
        return list(shots) if shots else known

    # ------------------------------------------------------------------ production
    def render(self, owner: str, project_id: str, emit: Emit = noop, cancel: threading.Event | None = None,
               out_dir: Path | None = None, backend: str | None = None, regenerate: list[str] | None = None,
               budget_usd: float | None = None) -> RenderResult:
        """Render the project's latest version. Unchanged shots reuse their takes; shots in
        `regenerate` get a new take (new seed) even so. `budget_usd` (default: the settings') caps the
        money for hosted backends: over it the render is not started (NeedsAnswer). Waits its turn
        behind a running render of the project."""
        cancel = cancel or threading.Event()
        return self._wait(self.render_async(owner, project_id, emit, cancel, out_dir, backend, regenerate, budget_usd), cancel)

    def _wait(self, future: Future, cancel: threading.Event) -> Any:
        """The queued work's result. Ctrl-C while waiting (the CLI) interrupts the render the wait is for:
        it stops after its running takes' current step and its row says `interrupted`, for `resume`."""
        try:
            return future.result()
        except KeyboardInterrupt:
            self.interrupt()
            cancel.set()
            try:
                future.result(timeout=INTERRUPT_GRACE_S)
            except BaseException:  # noqa: BLE001 - stopping: only the record matters now
                pass
            raise

    def render_async(self, owner: str, project_id: str, emit: Emit = noop, cancel: threading.Event | None = None,
                     out_dir: Path | None = None, backend: str | None = None,
                     regenerate: list[str] | None = None, budget_usd: float | None = None) -> Future:
        """Queue a render behind the project's earlier messages and renders; returns at once."""
        request = RenderRequest(owner, emit, cancel, Path(out_dir) if out_dir else None, backend, set(regenerate or ()),
                                budget_usd=budget_usd)

        def step() -> Future:
            self._owned(owner, project_id)
            return self.queues.request_render(project_id, request)

        return self.queues.submit(project_id, step)

    def _render_batch(self, project_id: str, requests: list[RenderRequest]) -> RenderResult:
        """One render of the latest version for every request that waited for it (agent/queue.py). The
        render is a row in the store (store.renders), written before work starts, so `resume` can finish
        it if this process dies."""
        first = requests[0]
        regenerate = set().union(*(r.regenerate for r in requests))
        cancel: Any = first.cancel if len(requests) == 1 else AnyCancel([r.cancel for r in requests])
        version = self.store.get_version(project_id)
        job = self.store.renders.create(
            project_id, first.owner, version.number, [s.id for s in version.storyboard.shots],
            out_dir=str(Path(first.out_dir).absolute()) if first.out_dir else None, backend=first.backend,
            regenerate=sorted(regenerate))
        return self._render_job(job, first.emit, cancel, first.budget_usd)

    def _render_job(self, job: RenderJob, emit: Emit, cancel: Any, budget_usd: float | None = None) -> RenderResult:
        owner, project_id = job.owner, job.project_id
        budget = self.settings.budget_usd if budget_usd is None else budget_usd
        run = RenderRun(project_id, emit=emit, cancel=cancel or threading.Event(), budget_usd=budget)
        out_dir = Path(job.out_dir) if job.out_dir else None
        regenerate = set(job.regenerate) - set(job.done_shots)   # a resumed render keeps what it already made
        self.store.audit(owner, "render.started", {"project_id": project_id, "render_id": job.id})
        try:
            result = self._render_steps(owner, run, out_dir, job.backend, regenerate, job.id)
        except Cancelled:
            stopped = "interrupted" if self._interrupted.is_set() else "cancelled"
            self.store.renders.finish(job.id, stopped)
            self.store.audit(owner, f"render.{stopped}", {"project_id": project_id, "render_id": job.id})
            raise
        except KeyboardInterrupt:   # Ctrl-C: the person can resume it
            self.store.renders.finish(job.id, "interrupted")
            raise
        except Exception as err:
            self.store.renders.finish(job.id, "failed", error=str(err))
            self.store.audit(owner, "render.failed", {"project_id": project_id, "render_id": job.id, "error": str(err)[:500]})
            raise
        self.store.renders.finish(job.id, "done", cut_id=result.cut_id)
        self.store.renders.supersede(project_id, by=job.id)
        self.store.audit(owner, "render.finished", {"project_id": project_id, "render_id": job.id, "cut_id": result.cut_id})
        result.render_id = job.id
        return result

    def estimate(self, owner: str, project_id: str, backend: str | None = None) -> RenderEstimate:
        """What rendering the latest version would take (video, takes, time, money), without rendering."""
        self._owned(owner, project_id)
        storyboard = self.store.get_version(project_id).storyboard
        plans = [self.producer.plan_shot(storyboard, shot, backend) for shot in storyboard.shots]
        retries = self.settings.attempts_for_film(len(storyboard.shots)) - len(storyboard.shots)
        return self._estimate(project_id, storyboard, plans, set(), retries, self.settings.budget_usd)

    def _estimate(self, project_id: str, storyboard: Storyboard, plans: list, regenerate: set[str], retries: int,
                  budget_usd: float | None) -> RenderEstimate:
        shots = [PlannedShot(p.shot.id, p.backend, p.model, p.shot.duration, p.request.width, p.request.height,
                             p.request.frames,
                             reused=p.shot.id not in regenerate and self.producer.existing_take(project_id, p) is not None)
                 for p in plans]
        return estimate_render(shots, speeds=self.producer.speeds, prices=self.settings.hosted_prices, retries=retries,
                               film_seconds=storyboard.duration, film_pixels=storyboard.size, fps=storyboard.fps,
                               budget_usd=budget_usd)

    def interrupt(self) -> None:
        """The process is stopping: renders stop after their current step and resume on the next start."""
        self._interrupted.set()

    def unfinished_renders(self, owner: str | None = None, project_id: str | None = None) -> list[RenderJob]:
        """Renders a previous process started and neither finished, failed nor saw cancelled by the person
        (it was killed, or a shutdown interrupted it): the newest of each project, from the renders table."""
        return self.store.renders.unfinished(owner=owner, project_id=project_id)

    def resume(self, owner: str | None = None, project_id: str | None = None, emit: Emit = noop,
               cancel: threading.Event | None = None) -> list[RenderResult]:
        """Finish interrupted renders (all of `owner`'s, or one project's): finished takes are reused and the
        cut goes where the interrupted render was asked to write it."""
        if project_id is not None and owner is not None:
            self._owned(owner, project_id)
        results = []
        for job in self.unfinished_renders(owner=owner, project_id=project_id):
            if cancel is not None and cancel.is_set():
                break
            self._say(emit, job.project_id, "Resuming the render that was interrupted.")
            with self._lock(job.project_id):
                results.append(self._render_job(job, emit, cancel))
        return results

    def resume_unfinished(self, emit: Emit = noop, cancel: threading.Event | None = None) -> list[str]:
        """Render again what a previous process left unfinished (every owner's; for a server starting up)."""
        resumed = []
        for job in self.unfinished_renders():
            if cancel is not None and cancel.is_set():
                break
            try:
                resumed += [r.project_id for r in self.resume(project_id=job.project_id, emit=emit, cancel=cancel)]
            except Cancelled:
                break
            except Exception as err:  # one broken project must not stop the others
                emit(ErrorEvent(project_id=job.project_id, code="resume_failed", message=str(err)))
        return resumed

    def _render_steps(self, owner: str, run: RenderRun, out_dir, backend, regenerate: set[str], render_id: str) -> RenderResult:
        project_id, emit = run.project_id, run.emit
        version = self.store.get_version(project_id)
        storyboard = version.storyboard
        renders = self.store.renders
        renders.start(render_id, version=version.number, shot_ids=[s.id for s in storyboard.shots])
        # Before any take: a music file that is not audio must not cost a whole render first.
        check_caps(storyboard, self.settings)
        check_inputs(storyboard, max_pixels=self.settings.max_input_pixels)
        report = check_storyboard(storyboard, self.store, actor=owner, project_id=project_id)
        if report.verdict in ("block", "needs_consent"):
            emit(SafetyNotice(project_id=project_id, verdict=report.verdict, reasons=report.reasons))
            raise SafetyRefusal(report)
        if report.reasons:
            emit(SafetyNotice(project_id=project_id, verdict=report.verdict, reasons=report.reasons))

        from agent.production import continuity_waves, farm_lane

        plans = [self.producer.plan_shot(storyboard, shot, backend) for shot in storyboard.shots]
        run.retries_left = self.settings.attempts_for_film(len(storyboard.shots)) - len(storyboard.shots)
        estimate = self._estimate(project_id, storyboard, plans, regenerate, run.retries_left, run.budget_usd)
        emit(Estimate(project_id=project_id, video_seconds=estimate.video_seconds, takes=estimate.takes_budgeted,
                      wall_seconds=estimate.wall_seconds, cost_usd=estimate.cost_usd, text=estimate.text()))
        if estimate.over_budget:
            raise NeedsAnswer(
                f"This render is estimated at ${estimate.cost_usd:.2f}, over the budget of ${estimate.budget_usd:.2f}. "
                f"To go ahead, allow it: --budget {estimate.cost_usd_max or estimate.cost_usd:.2f} on the command line "
                f"(or DIRECTOR_BUDGET_USD), or render with fewer or shorter hosted shots.")
        run.spent_usd = estimate.cost_usd or 0.0   # every shot's first take is booked before any retry
        farm = self.producer._farm()

        def one(plan):   # each shot's row in the render job follows it: resume reads these
            renders.shot_running(render_id, plan.shot.id)
            try:
                outcome = self.producer.produce_shot(run, plan, force_new=plan.shot.id in regenerate)
            except Cancelled:
                raise
            except Exception as err:
                renders.shot_failed(render_id, plan.shot.id, str(err))
                raise
            renders.shot_done(render_id, plan.shot.id, outcome.take.id, outcome.reused, outcome.new_takes)
            return outcome

        outcomes: dict = {}
        for wave in continuity_waves(storyboard):
            # A shot that continues another starts from the last frame of that shot's take, made in an earlier wave.
            wave_plans = [plan for plan in plans if plan.shot in wave and not plan.shot.continue_from] + [
                self.producer.plan_shot(storyboard, shot, backend,
                                        start_frame=self.producer.last_frame(outcomes[shot.continue_from].take))
                for shot in wave if shot.continue_from]
            outcomes.update({o.shot_id: o for o in farm.run_shots(one, wave_plans, lane_of=farm_lane, cancel=run.cancel,
                                                                  stop=run.stop)})
            run.stop_if_cancelled()
        outcomes = {s.id: outcomes[s.id] for s in storyboard.shots}   # storyboard order, as before
        target = Path(out_dir) if out_dir else self.workspace.project_dir(project_id)
        film = finish_film(self.store, self.workspace, project_id, version.number, storyboard, outcomes, target, emit,
                           settings=self.settings, safety_warnings=report.reasons, backend=backend,
                           farm=farm.describe())
        new_takes = sum(o.new_takes for o in outcomes.values())
        reused = sum(1 for o in outcomes.values() if o.reused)
        summary = (f"Cut ready: {Path(film.cut).name} ({film.duration:.1f} s). {new_takes} new takes, {reused} reused. "
                   f"Critic: {film.verdict}." + (f" {film.reasons[-1]}" if film.verdict != "pass" and film.reasons else ""))
        self.store.add_message(project_id, "director", summary)
        self._say(emit, project_id, summary)
        return RenderResult(project_id=project_id, version=version.number, cut=film.cut, cut_id=film.cut_id,
                            changed_shots=[sid for sid, o in outcomes.items() if not o.reused], new_takes=new_takes,
                            reused_takes=reused, verdict=film.verdict, duration=film.duration, out_dir=str(target),
                            warnings=film.warnings + report.reasons)

    def select_take(self, owner: str, project_id: str, shot_id: str, take_id: str, emit: Emit = noop, render: bool = True) -> RenderResult:
        return self.select_take_async(owner, project_id, shot_id, take_id, emit, render).result()

    def select_take_async(self, owner: str, project_id: str, shot_id: str, take_id: str, emit: Emit = noop,
                          render: bool = True) -> Future:
        return self.queues.submit(project_id, lambda: self._select_step(owner, project_id, shot_id, take_id, emit, render))

    def _select_step(self, owner, project_id, shot_id, take_id, emit, render) -> RenderResult | Future:
        self._owned(owner, project_id)
        try:
            take = self.store.get_take(take_id)
        except KeyError:
            take = None
        if take is None or take.shot_id != shot_id or not take.file or self.store.take_project(take_id) != project_id:
            raise NotFound(f"shot '{shot_id}' has no take '{take_id}'", project_id=project_id)
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            if self.producer.plan_shot(current.storyboard, self._shot(current.storyboard, shot_id, project_id)).spec_key != take.spec_key:
                # A take of an earlier version of the shot: using it means the shot as it was then.
                restored = self._storyboard_with_shot_from_take(project_id, current.storyboard, shot_id, take)
                if restored is None:
                    raise BadInput(f"take '{take_id}' of shot '{shot_id}' was made when the film had another look or size; "
                                   "undo back to that version to use it", project_id=project_id)
                try:
                    number = self.store.add_version(project_id, restored, f"shot {shot_id}: back to take {take.attempt}",
                                                    parent=current.number)
                except VersionConflict as conflict:
                    raise Conflict(f"{conflict}; choose the take again on the latest version", project_id=project_id) from None
                self._emit_storyboard(emit, project_id, self.store.get_version(project_id, number), [shot_id])
            self.store.select_take(project_id, take_id)
        self._say(emit, project_id, f"Shot {shot_id} now uses take {take.attempt}.")
        if not render:
            return RenderResult(project_id=project_id, version=self.store.get_version(project_id).number,
                                changed_shots=[shot_id])
        return self.queues.request_render(project_id, RenderRequest(owner, emit))

    def _storyboard_with_shot_from_take(self, project_id: str, storyboard: Storyboard, shot_id: str, take) -> Storyboard | None:
        for version in reversed(self.store.list_versions(project_id)):
            try:
                old_shot = version.storyboard.shot(shot_id)
            except KeyError:
                continue
            candidate = storyboard.model_copy(update={"shots": [old_shot if s.id == shot_id else s for s in storyboard.shots]})
            if self.producer.plan_shot(candidate, old_shot).spec_key == take.spec_key:
                return candidate
        return None

    # ------------------------------------------------------------------ reading
    def list_projects(self, owner: str) -> list[dict]:
        return [p.model_dump(mode="json") if hasattr(p, "model_dump") else dict(p) for p in self.store.list_projects(owner=owner)]

    def project_state(self, owner: str, project_id: str) -> dict:
        project = self._owned(owner, project_id)
        versions = self.store.list_versions(project_id)
        latest = versions[-1]
        takes = {}
        for shot in latest.storyboard.shots:
            takes[shot.id] = [t.model_dump(mode="json", exclude={"file"}) for t in self.store.takes_for_shot(project_id, shot.id)]
        return {
            "project": project.model_dump(mode="json") if hasattr(project, "model_dump") else dict(project),
            "versions": [{"number": v.number, "parent": v.parent, "reason": v.reason, "created_at": str(v.created_at)} for v in versions],
            "storyboard": with_prompts(latest.storyboard, settings=self.settings).model_dump(mode="json", exclude_none=True),
            "version": latest.number,
            "takes": takes,
            "cuts": [c.model_dump(mode="json") for c in self.store.list_cuts(project_id)],
            "messages": [m if isinstance(m, dict) else m.model_dump(mode="json") for m in self.store.messages(project_id)],
        }

    def history(self, owner: str, project_id: str) -> list[dict]:
        """Every version, oldest first: number, parent, reason, what changed from its parent, and the storyboard."""
        self._owned(owner, project_id)
        versions = self.store.list_versions(project_id)
        by_number = {v.number: v for v in versions}
        out = []
        for v in versions:
            parent = by_number.get(v.parent) if v.parent is not None else None
            if parent is None:
                changed, removed, changes = [s.id for s in v.storyboard.shots], [], ["first version"]
            else:
                diff = diff_storyboards(parent.storyboard, v.storyboard)
                changed, removed, changes = diff.touched_shots, list(diff.removed), diff.lines()
            out.append({"number": v.number, "parent": v.parent, "reason": v.reason, "created_at": v.created_at.isoformat(),
                        "changed_shots": changed, "removed_shots": removed, "changes": changes,
                        "storyboard": with_prompts(v.storyboard, settings=self.settings).model_dump(mode="json", exclude_none=True)})
        return out

    def projects_overview(self, owner: str) -> list[dict]:
        """The owner's projects, most recently changed first, with their versions, last cut and render state."""
        rows = []
        for project in self.store.list_projects(owner=owner):
            cut = self.store.cuts.latest(project.id)
            job = self.store.renders.latest(project.id)
            state = None if job is None else ("interrupted" if job.unfinished else job.state)
            rows.append({"id": project.id, "title": project.title, "versions": self.store.versions.count(project.id),
                         "last_cut": self.workspace.resolve(cut.file).as_posix() if cut else None,
                         "render_state": state, "render_id": job.id if job else None,
                         "updated_at": project.updated_at.isoformat()})
        return rows

    def media_path(self, owner: str, project_id: str, filename: str) -> Path:
        self._owned(owner, project_id)
        root = self.workspace.project_dir(project_id).resolve()
        path = (root / filename).resolve()
        if root not in path.parents or not path.is_file():
            raise NotFound(f"no file '{filename}' in project '{project_id}'", project_id=project_id)
        return path
