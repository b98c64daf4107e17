"""The director session: one transport-agnostic API behind the CLI, the websocket and the bots.

Every method is synchronous (front doors run long ones in a thread) and reports what happens as
protocol events through `emit`. The store is the record of truth, so a session resumes after a
restart: nothing lives only in this object.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from agent.errors import BadInput, Cancelled, NeedsAnswer, NotFound, Refused
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
from storyboards.store import Store
from storyboards.workspace import Workspace

__all__ = ["Director", "Emit", "Cancelled", "SafetyRefusal", "Refused", "NotFound", "noop"]


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

    def _may_direct(self, actor: str, project_id: str):
        """The project, when `actor` owns it or was invited to direct it; else the same NotFound as a
        missing project (others cannot tell the two apart)."""
        try:
            project = self.store.get_project(project_id)
        except KeyError:
            project = None
        if project is None or (project.owner != actor and actor not in (project.settings or {}).get("members", [])):
            raise NotFound(f"no project '{project_id}'", project_id=project_id)
        return project

    def invite(self, owner: str, project_id: str, member: str) -> list[str]:
        """The owner lets `member` direct the project too: their feedback, renders and buttons count.
        Returns the members."""
        self._owned(owner, project_id)
        if member == owner:
            return self.store.project_members(project_id)
        members = self.store.add_project_member(project_id, member)
        self.store.audit(owner, "project.member_added", {"project_id": project_id, "member": member})
        return members

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
        self._may_direct(owner, project_id)
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
            self._may_direct(owner, project_id)
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
                 render: bool = True, cancel: threading.Event | None = None, out_dir: Path | None = None,
                 author: str | None = None) -> RenderResult:
        """`owner` is who acts (the project's owner or a member); `author`, when given, is the name the
        version history shows for the change (a member's display name in a chat thread)."""
        return self.feedback_async(owner, project_id, text, shots, emit, render, cancel, out_dir, author).result()

    def feedback_async(self, owner: str, project_id: str, text: str, shots: list[str] | None = None,
                       emit: Emit = noop, render: bool = True, cancel: threading.Event | None = None,
                       out_dir: Path | None = None, author: str | None = None) -> Future:
        """Queue feedback behind the project's earlier messages; returns at once (see agent/queue.py)."""
        return self.queues.submit(project_id, lambda: self._feedback_step(owner, project_id, text, shots, emit, render,
                                                                          cancel, out_dir, author))

    def _feedback_step(self, owner, project_id, text, shots, emit, render, cancel, out_dir,
                       author: str | None = None) -> RenderResult | Future:
        """Apply feedback now (a new version); a render it needs is queued and returned as a Future."""
        self._may_direct(owner, project_id)
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            self.store.add_message(project_id, "user", f"{author}: {text}" if author else text)
            for sid in shots or []:
                self._shot(current.storyboard, sid, project_id)
            result = self._brain().revise(current.storyboard, text, takes_by_shot=self._takes_by_shot(project_id, current.storyboard), shots=shots)
            if result.question:
                self.store.add_message(project_id, "director", result.question)
                self._say(emit, project_id, result.question)
                return RenderResult(project_id=project_id, version=current.number, question=result.question)
            if result.undo:
                if current.parent is None:
                    msg = "There is nothing to undo: this is the first version."
                    self._say(emit, project_id, msg)
                    return RenderResult(project_id=project_id, version=current.number, question=msg)
                parent = self.store.get_version(project_id, current.parent)
                new_sb, reason = parent.storyboard, f"undo: back to version {parent.number}"
            else:
                new_sb, reason = result.storyboard, result.reason
            if result.select_take:
                shot_id, index = result.select_take
                takes = [t for t in reversed(self.store.takes_for_shot(project_id, shot_id)) if t.file]
                if not (0 <= index < len(takes)):
                    msg = f"Shot {shot_id} has {len(takes)} takes; pick one from 1 to {len(takes)}."
                    self._say(emit, project_id, msg)
                    return RenderResult(project_id=project_id, version=current.number, question=msg)
                self.store.select_take(project_id, takes[index].id)
            check_caps(new_sb, self.settings)
            if author:
                reason = f"{reason} (by {author})"
            diff = diff_storyboards(current.storyboard, new_sb)
            number = self.store.add_version(project_id, new_sb, reason, parent=current.number)
            version = self.store.get_version(project_id, number)
            regenerate = [sid for sid in getattr(result, "regenerate_shots", []) or [] if sid in {s.id for s in new_sb.shots}]
            changed = sorted(set(diff.shots_to_regenerate) | set(regenerate) | ({result.select_take[0]} if result.select_take else set()))
            self._emit_storyboard(emit, project_id, version, changed)
            message = f"Version {number}: {reason}." + (f" Notes: {' '.join(result.notes)}" if result.notes else "")
            self.store.add_message(project_id, "director", message)
            self._say(emit, project_id, message)
        if getattr(result, "wants_render", None) is not None:
            render = render or bool(result.wants_render)
        if not render:
            # `regenerate`: shots the change asks new takes of ("re-roll shot 2"); pass it to render().
            return RenderResult(project_id=project_id, version=number, changed_shots=changed, regenerate=regenerate)
        request = RenderRequest(owner, emit, cancel, Path(out_dir) if out_dir else None, None, set(regenerate))
        return then(self.queues.request_render(project_id, request),
                    # What the person changed, and what the render had to make again because of it (a
                    # shot that continues a changed one starts from a new frame).
                    lambda out: out.model_copy(update={"changed_shots": sorted(set(changed) | set(out.changed_shots))}))

    # Fields a person may set on one shot by hand (the Edit form of the bots and the web page).
    EDITABLE_SHOT_FIELDS = ("subject", "action", "setting", "atmosphere", "lighting", "style", "technical", "camera",
                            "framing", "duration", "narration", "negative_prompt")

    def edit_shot(self, actor: str, project_id: str, shot_id: str, fields: dict, emit: Emit = noop,
                  author: str | None = None) -> RenderResult:
        """A new version with some of one shot's fields set by hand. Empty values leave a field as it is;
        a value the storyboard rejects raises BadInput naming it. Waits its turn behind the project's
        earlier messages, like feedback."""
        return self.queues.submit(project_id, lambda: self._edit_shot_step(actor, project_id, shot_id, fields, emit,
                                                                           author)).result()

    def _edit_shot_step(self, actor: str, project_id: str, shot_id: str, fields: dict, emit: Emit,
                        author: str | None) -> RenderResult:
        self._may_direct(actor, project_id)
        fields = {k: v for k, v in fields.items() if k in self.EDITABLE_SHOT_FIELDS and v not in (None, "")}
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            shot = self._shot(current.storyboard, shot_id, project_id)
            before = shot.model_dump(mode="json")
            changed_fields = [k for k, v in fields.items() if before.get(k) != v and str(before.get(k)) != str(v)]
            if not changed_fields:
                return RenderResult(project_id=project_id, version=current.number)
            data = current.storyboard.model_dump(mode="json")
            data["shots"] = [{**s, **fields} if s["id"] == shot_id else s for s in data["shots"]]
            try:
                new_sb = Storyboard.model_validate(data)
            except ValueError as err:  # pydantic's ValidationError: say which field, as bad input
                raise BadInput(f"shot {shot_id}: {err}", project_id=project_id) from None
            check_caps(new_sb, self.settings)
            reason = f"edited shot {shot_id}: {', '.join(changed_fields)}" + (f" (by {author})" if author else "")
            diff = diff_storyboards(current.storyboard, new_sb)
            number = self.store.add_version(project_id, new_sb, reason, parent=current.number)
            changed = sorted(diff.shots_to_regenerate)
            self._emit_storyboard(emit, project_id, self.store.get_version(project_id, number), changed)
            message = f"Version {number}: {reason}."
            self.store.add_message(project_id, "director", message)
            self._say(emit, project_id, message)
        return RenderResult(project_id=project_id, version=number, changed_shots=changed)

    def _takes_by_shot(self, project_id: str, storyboard: Storyboard) -> dict[str, int]:
        return {s.id: len(self.store.takes_for_shot(project_id, s.id)) for s in storyboard.shots}

    def approve_storyboard(self, owner: str, project_id: str, emit: Emit = noop) -> None:
        return self.approve_storyboard_async(owner, project_id, emit).result()

    def approve_storyboard_async(self, owner: str, project_id: str, emit: Emit = noop) -> Future:
        return self.queues.submit(project_id, lambda: self._approve(owner, project_id, emit))

    def _approve(self, owner: str, project_id: str, emit: Emit) -> None:
        self._may_direct(owner, project_id)
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

        self._may_direct(owner, project_id)
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
        self._may_direct(owner, project_id)
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
        return self.render_async(owner, project_id, emit, cancel, out_dir, backend, regenerate, budget_usd).result()

    def render_async(self, owner: str, project_id: str, emit: Emit = noop, cancel: threading.Event | None = None,
                     out_dir: Path | None = None, backend: str | None = None,
                     regenerate: list[str] | None = None, budget_usd: float | None = None) -> Future:
        """Queue a render behind the project's earlier messages and renders; returns at once."""
        request = RenderRequest(owner, emit, cancel, Path(out_dir) if out_dir else None, backend, set(regenerate or ()),
                                budget_usd=budget_usd)

        def step() -> Future:
            self._may_direct(owner, project_id)
            return self.queues.request_render(project_id, request)

        return self.queues.submit(project_id, step)

    def _render_batch(self, project_id: str, requests: list[RenderRequest]) -> RenderResult:
        """One render of the latest version for every request that waited for it (agent/queue.py)."""
        first = requests[0]
        regenerate = set().union(*(r.regenerate for r in requests))
        cancel: Any = first.cancel if len(requests) == 1 else AnyCancel([r.cancel for r in requests])
        budget = self.settings.budget_usd if first.budget_usd is None else first.budget_usd
        run = RenderRun(project_id, emit=first.emit, cancel=cancel or threading.Event(), budget_usd=budget)
        return self._render_locked(first.owner, run, first.out_dir, first.backend, regenerate)

    def _render_locked(self, owner: str, run: RenderRun, out_dir, backend, regenerate: set[str]) -> RenderResult:
        project_id = run.project_id
        self.store.audit(owner, "render.started", {"project_id": project_id})
        try:
            result = self._render_steps(owner, run, out_dir, backend, regenerate)
        except Cancelled:
            stopped = "render.interrupted" if self._interrupted.is_set() else "render.cancelled"
            self.store.audit(owner, stopped, {"project_id": project_id})
            raise
        except Exception as err:
            self.store.audit(owner, "render.failed", {"project_id": project_id, "error": str(err)[:500]})
            raise
        self.store.audit(owner, "render.finished", {"project_id": project_id, "cut_id": result.cut_id})
        return result

    def estimate(self, owner: str, project_id: str, backend: str | None = None) -> RenderEstimate:
        """What rendering the latest version would take (video, takes, time, money), without rendering."""
        self._may_direct(owner, project_id)
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

    def unfinished_renders(self) -> list[tuple[str, str]]:
        """(owner, project_id) of renders a previous process started and neither finished, failed nor
        saw cancelled by the person (a crash, or a shutdown that interrupted them)."""
        latest: dict[str, tuple[str, str]] = {}
        for entry in reversed(self.store.audit_log(limit=5000)):   # oldest first
            if entry.event.startswith("render.") and isinstance(entry.detail, dict) and entry.detail.get("project_id"):
                latest[entry.detail["project_id"]] = (entry.event, entry.actor)
        return [(actor, pid) for pid, (event, actor) in latest.items() if event in ("render.started", "render.interrupted")]

    def resume_unfinished(self, emit: Emit = noop, cancel: threading.Event | None = None) -> list[str]:
        """Render again what a previous process left unfinished; finished takes are reused."""
        resumed = []
        for owner, project_id in self.unfinished_renders():
            if cancel is not None and cancel.is_set():
                break
            self._say(emit, project_id, "Resuming the render that was interrupted.")
            try:
                self.render(owner, project_id, emit=emit, cancel=cancel)
                resumed.append(project_id)
            except Cancelled:
                break
            except Exception as err:  # one broken project must not stop the others
                emit(ErrorEvent(project_id=project_id, code="resume_failed", message=str(err)))
        return resumed

    def _render_steps(self, owner: str, run: RenderRun, out_dir, backend, regenerate: set[str]) -> RenderResult:
        project_id, emit = run.project_id, run.emit
        version = self.store.get_version(project_id)
        storyboard = version.storyboard
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
        outcomes: dict = {}
        for wave in continuity_waves(storyboard):
            # A shot that continues another starts from the last frame of that shot's take, made in an earlier wave.
            wave_plans = [plan for plan in plans if plan.shot in wave and not plan.shot.continue_from] + [
                self.producer.plan_shot(storyboard, shot, backend,
                                        start_frame=self.producer.last_frame(outcomes[shot.continue_from].take))
                for shot in wave if shot.continue_from]
            outcomes.update({o.shot_id: o for o in farm.run_shots(
                lambda plan: self.producer.produce_shot(run, plan, force_new=plan.shot.id in regenerate), wave_plans,
                lane_of=farm_lane, cancel=run.cancel, stop=run.stop)})
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
        self._may_direct(owner, project_id)
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
                number = self.store.add_version(project_id, restored, f"shot {shot_id}: back to take {take.attempt}",
                                                parent=current.number)
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
        project = self._may_direct(owner, project_id)
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

    def media_path(self, owner: str, project_id: str, filename: str) -> Path:
        self._may_direct(owner, project_id)
        root = self.workspace.project_dir(project_id).resolve()
        path = (root / filename).resolve()
        if root not in path.parents or not path.is_file():
            raise NotFound(f"no file '{filename}' in project '{project_id}'", project_id=project_id)
        return path
