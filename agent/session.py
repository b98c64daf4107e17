"""The director session: one transport-agnostic API behind the CLI, the websocket and the bots.

Every method is synchronous (front doors run long ones in a thread) and reports what happens as
protocol events through `emit`. The store is the record of truth, so a session resumes after a
restart: nothing lives only in this object.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.editing import ShotEdit, apply_edits, fields_for_upload, upload_folder, upload_path
from agent.errors import BadInput, Cancelled, Conflict, DirectorError, NeedsAnswer, NotFound, Refused, value_problem
from agent.estimate import PlannedShot, RenderEstimate, estimate_render
from agent.events import (
    DirectorMessage,
    Emit,
    ErrorEvent,
    Estimate,
    KeyframesEvent,
    KeyframeView,
    SafetyNotice,
    StoryboardEvent,
    noop,
)
from agent.film import finish_film, keep_take_frames, start_soundtrack
from agent.keyframes import Keyframe, KeyframeSet, approved_storyboard, describe, load_proposals, save_proposals, save_still
from agent.limits import check_caps, check_inputs, check_label_fits
from agent.live import LiveJobs
from agent.planner.length import film_seconds
from agent.production import Producer
from agent.prompts import with_prompts
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
        self.live = LiveJobs()   # what each project's render is doing now (for a reloaded page)

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
                               duration=film_seconds(sb), size=list(sb.size))

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
                     cancel: threading.Event | None = None, upload: str | None = None) -> str:
        return self.user_message_async(owner, text, project_id, emit, cancel, upload).result()

    def user_message_async(self, owner: str, text: str, project_id: str | None = None, emit: Emit = noop,
                           cancel: threading.Event | None = None, upload: str | None = None) -> Future:
        """Queue a chat line (in arrival order, per project); the future gets the project id once it is
        applied and, when it re-renders, once the render is done. Returns at once. `upload` (an id
        from POST /api/uploads) goes to the shots the text names ("use this for shot 2"): an image
        makes them image-to-video, a clip video-to-video."""
        if upload is not None:
            if project_id is None:
                raise BadInput("attach a file to a film you have: start with a brief, then send the file for a shot")

            def attach() -> str:
                self.attach_upload(owner, project_id, upload, text, emit=emit)
                return project_id

            return self.queues.submit(project_id, attach)
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
        # the film's length as delivered (cards and transition overlaps counted), not the sum of the shots
        lines = [f"Here is “{sb.title}”: {len(sb.shots)} shots, {round(film_seconds(sb), 2):g} s at {sb.aspect_ratio}, {sb.fps} fps."]
        lines += [f"- {n}" for n in plan.notes]
        lines.append("Say what to change (\"shot 2 darker\", \"make it vertical\"), or render it.")
        return "\n".join(lines)

    def feedback(self, owner: str, project_id: str, text: str, shots: list[str] | None = None, emit: Emit = noop,
                 render: bool = True, cancel: threading.Event | None = None, out_dir: Path | None = None,
                 author: str | None = None) -> RenderResult:
        """`owner` is who acts (the project's owner or a member); `author`, when given, is the name the
        version history shows for the change (a member's display name in a chat thread)."""
        cancel = cancel or threading.Event()
        return self._wait(self.feedback_async(owner, project_id, text, shots, emit, render, cancel, out_dir, author), cancel)

    def feedback_async(self, owner: str, project_id: str, text: str, shots: list[str] | None = None,
                       emit: Emit = noop, render: bool = True, cancel: threading.Event | None = None,
                       out_dir: Path | None = None, author: str | None = None) -> Future:
        """Queue feedback behind the project's earlier messages; returns at once (see agent/queue.py)."""
        return self.queues.submit(project_id, lambda: self._feedback_step(owner, project_id, text, shots, emit, render,
                                                                          cancel, out_dir, author))

    def _feedback_step(self, owner, project_id, text, shots, emit, render, cancel, out_dir,
                       author: str | None = None) -> RenderResult | Future:
        """Apply feedback now (a new version); a render it needs is queued and returned as a Future.

        The new version names the version it was made from. When another process stored a version
        first (the store's compare-and-set refuses ours), the text is applied again on the new latest
        version, a few times at most, so no one's change is lost."""
        self._may_direct(owner, project_id)
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            said = f"{author}: {text}" if author else text
            unknown = [sid for sid in shots or [] if sid not in {s.id for s in current.storyboard.shots}]
            if unknown:
                refusal = (f"There is no shot '{unknown[0]}' in this storyboard; shots are: "
                           f"{', '.join(s.id for s in current.storyboard.shots)}. Nothing was changed.")
                self.store.add_message(project_id, "user", said)    # the transcript keeps it, with its refusal
                self.store.add_message(project_id, "director", refusal)
                raise NotFound(refusal, project_id=project_id)
            self.store.add_message(project_id, "user", said)
            for attempt in range(1, FEEDBACK_ATTEMPTS + 1):
                revision = self._revise(project_id, current, text, shots, emit)
                if isinstance(revision, RenderResult):   # a question or a refusal: no new version
                    return revision
                if author:
                    revision.reason = f"{revision.reason} (by {author})"
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
            assert isinstance(revision, _Revision)   # a reply returned above
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
            # `regenerate`: shots the change asks new takes of ("re-roll shot 2"); pass it to render().
            return RenderResult(project_id=project_id, version=number, changed_shots=changed, regenerate=regenerate)
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

        try:
            result = self._brain().revise(current.storyboard, text, takes_by_shot=self._takes_by_shot(project_id, current.storyboard),
                                          shots=shots)
        except DirectorError:
            raise
        except ValueError as err:   # the change asks for a value a storyboard cannot hold ("90 fps")
            refusal = f"I couldn't apply “{text}”: {value_problem(err)}. Nothing was changed; try saying it another way."
            self.store.add_message(project_id, "director", refusal)
            raise BadInput(refusal, project_id=project_id) from None
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
            if not takes:
                return reply(f"Shot {shot_id} has no takes yet: render the film first, then choose a take.")
            if not (0 <= index < len(takes)):
                return reply(f"Shot {shot_id} has {len(takes)} takes; pick one from 1 to {len(takes)}.")
            self.store.select_take(project_id, takes[index].id)
        check_caps(new_sb, self.settings)
        return _Revision(new_sb, reason, result)

    # ------------------------------------------------------------------ manual edits (the page's cards)
    def edit_storyboard(self, owner: str, project_id: str, edits: list[ShotEdit], emit: Emit = noop,
                        reason: str | None = None, author: str | None = None) -> dict:
        """Apply card edits as one new storyboard version (the same record as chat feedback). No render:
        the person renders when ready, and only the shots whose pixels changed are made again.
        `author`: the name the history shows for the change (a member's, in a chat thread)."""
        self._may_direct(owner, project_id)
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            new_sb, said = apply_edits(current.storyboard, edits)
            return self._write_version(project_id, current, new_sb,
                                       (reason or said) + (f" (by {author})" if author else ""), emit)

    def edit_shot(self, owner: str, project_id: str, shot_id: str, fields: dict, emit: Emit = noop,
                  author: str | None = None) -> dict:
        return self.edit_storyboard(owner, project_id, [ShotEdit("edit", shot_id, dict(fields))], emit=emit, author=author)

    def restore_version(self, owner: str, project_id: str, number: int, emit: Emit = noop) -> dict:
        """Go back to version `number`: its storyboard becomes a new version (history is never rewritten)."""
        self._owned(owner, project_id)
        with self._lock(project_id):
            current = self.store.get_version(project_id)
            try:
                old = self.store.get_version(project_id, number)
            except (KeyError, ValueError):
                raise NotFound(f"no version {number}: this film has versions 1 to {current.number}", project_id=project_id) from None
            return self._write_version(project_id, current, old.storyboard, f"back to version {number}", emit)

    def attach_upload(self, owner: str, project_id: str, upload: str, text: str = "", shots: list[str] | None = None,
                      emit: Emit = noop) -> dict:
        """Use an uploaded image (or clip) for the shots `shots`, or those `text` names ("use this for shot 2")."""
        from agent.feedback import _find_refs

        self._owned(owner, project_id)
        path = upload_path(self.workspace.uploads_dir, upload_folder(owner), upload)
        order = [s.id for s in self.store.get_version(project_id).storyboard.shots]
        if not shots:
            refs = _find_refs(text or "", order, bare_numbers=True)
            if refs.bad:
                raise BadInput(f"there is no shot {', '.join(refs.bad)}: this film has shots 1 to {len(order)}")
            shots = refs.ids
        if not shots:
            question = f"Which shot should use this file? Say \"use this for shot 2\" (shots 1 to {len(order)})."
            self.store.add_message(project_id, "director", question)
            self._say(emit, project_id, question)
            return {"project_id": project_id, "question": question, "changed_shots": []}
        if text:
            self.store.add_message(project_id, "user", text)
        fields = fields_for_upload(path)
        kind = "image" if fields["mode"] == "i2v" else "clip"
        numbers = ", ".join(str(order.index(s) + 1) for s in shots if s in order)
        return self.edit_storyboard(owner, project_id, [ShotEdit("edit", sid, fields) for sid in shots], emit=emit,
                                    reason=f"shot {numbers}: made from your {kind}")

    def accept_take(self, owner: str, project_id: str, shot_id: str, emit: Emit = noop) -> dict:
        """Keep a shot's take although the critic failed it (recorded, and shown as accepted)."""
        self._owned(owner, project_id)
        take = self.store.selected_take(project_id, shot_id)
        if take is None:
            raise NotFound(f"shot '{shot_id}' has no take yet: render first", project_id=project_id)
        self.store.audit(owner, "take.accepted", {"project_id": project_id, "shot_id": shot_id, "take_id": take.id})
        order = [s.id for s in self.store.get_version(project_id).storyboard.shots]
        number = order.index(shot_id) + 1 if shot_id in order else shot_id
        text = f"Shot {number}: take {take.attempt} accepted as it is."
        self.store.add_message(project_id, "director", text)
        self._say(emit, project_id, text)
        return {"project_id": project_id, "shot_id": shot_id, "take_id": take.id}

    def _write_version(self, project_id: str, current, new_sb: Storyboard, reason: str, emit: Emit) -> dict:
        diff = diff_storyboards(current.storyboard, new_sb)
        if not diff:
            text = f"That changes nothing: the storyboard stays at version {current.number}."
            self._say(emit, project_id, text)
            return {"project_id": project_id, "version": current.number, "changed_shots": []}
        number = self.store.add_version(project_id, new_sb, reason, parent=current.number)
        changed = diff.shots_to_regenerate
        event = self._storyboard_event(project_id, self.store.get_version(project_id, number), changed)
        # Changed shots that already have a take for their new look (going back to a version): the page
        # shows that take rather than an empty card, and the next render reuses it.
        event.reusable_takes = self._reusable_takes(project_id, new_sb, changed)
        emit(event)
        message = f"Version {number}: {reason}." + (" Render to see it." if changed else "")
        self.store.add_message(project_id, "director", message)
        self._say(emit, project_id, message)
        return {"project_id": project_id, "version": number, "changed_shots": changed}

    def _reusable_takes(self, project_id: str, storyboard: Storyboard, shot_ids: list[str]) -> dict[str, dict]:
        from agent.production import take_public

        found = {}
        for sid in shot_ids:
            try:
                plan = self.producer.plan_shot(storyboard, storyboard.shot(sid))
            except Exception:   # a backend that cannot plan this shot: nothing to reuse, the render will say why
                continue
            # The take the next render would reuse (the producer's own rule, its file checked).
            take = self.producer.existing_take(project_id, plan)
            if take is not None:
                found[sid] = {**take_public(take, project_id), "thumbnail": f"/media/{project_id}/thumbs/{take.id}.jpg"}
        return found

    def history(self, owner: str, project_id: str) -> list[dict]:
        """Every version, oldest first: number, parent, reason, when, which shots it changed (and how), its
        storyboard (with composed prompts) and its cut."""
        self._owned(owner, project_id)
        versions = self.store.list_versions(project_id)
        by_number = {v.number: v for v in versions}
        cuts = {c.version: c for c in self.store.list_cuts(project_id)}
        out = []
        for v in versions:
            parent = by_number.get(v.parent) if v.parent is not None else None
            diff = diff_storyboards(parent.storyboard, v.storyboard) if parent else None
            order = [s.id for s in v.storyboard.shots]
            cut = cuts.get(v.number)
            kept = cut is not None and (self.workspace.project_dir(project_id) / "cuts" / f"{cut.id}.mp4").is_file()
            out.append({"number": v.number, "parent": v.parent, "reason": v.reason, "created_at": str(v.created_at),
                        "shots": len(order), "changed_shots": diff.touched_shots if diff else order,
                        "regenerated_shots": diff.shots_to_regenerate if diff else order,
                        "removed_shots": diff.removed if diff else [],
                        "changes": diff.lines() if diff else ["first version"],
                        "storyboard": with_prompts(v.storyboard, settings=self.settings).model_dump(mode="json", exclude_none=True),
                        "cut": f"/media/{project_id}/cuts/{cut.id}.mp4" if kept and cut is not None else None})
        return out

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
        emit(self.keyframes_event(proposals))
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
        emit(self.keyframes_event(proposals))
        self._say(emit, project_id, f"Keyframes approved for shot {positions}: rendering animates each from its still.")
        return proposals

    @staticmethod
    def keyframes_event(proposals: KeyframeSet) -> KeyframesEvent:
        """The stills as a client sees them: URLs under the project's media route."""
        pid = proposals.project_id
        return KeyframesEvent(project_id=pid, version=proposals.version, sheet=f"/media/{pid}/keyframes.png",
                              keyframes=[KeyframeView(shot_id=k.shot_id, url=f"/media/{pid}/stills/{Path(k.still).name}",
                                                      approved=k.approved, roll=k.roll) for k in proposals.keyframes])

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
            self._may_direct(owner, project_id)
            return self.queues.request_render(project_id, request)

        return self.queues.submit(project_id, step)

    def _render_batch(self, project_id: str, requests: list[RenderRequest]) -> RenderResult:
        """One render of the latest version for every request that waited for it (agent/queue.py)."""
        first = requests[0]
        regenerate = set().union(*(r.regenerate for r in requests))
        cancel: Any = first.cancel if len(requests) == 1 else AnyCancel([r.cancel for r in requests])
        budget = self.settings.budget_usd if first.budget_usd is None else first.budget_usd
        # The render is a row in the store, written before work starts, so `resume` can finish it if this
        # process dies.
        version = self.store.get_version(project_id)
        render_job = self.store.renders.create(
            project_id, first.owner, version.number, [s.id for s in version.storyboard.shots],
            out_dir=str(Path(first.out_dir).absolute()) if first.out_dir else None, backend=first.backend,
            regenerate=sorted(regenerate))
        return self._render_job(render_job, first.emit, cancel, budget)

    def _render_job(self, render_job: RenderJob, emit: Emit, cancel: Any, budget_usd: float | None = None) -> RenderResult:
        """Run a render job (new, or resumed: its finished shots are reused and only the rest is made)."""
        project_id = render_job.project_id
        budget = self.settings.budget_usd if budget_usd is None else budget_usd
        job = self.live.start(project_id, "render")
        try:
            run = RenderRun(project_id, emit=self.live.track(job, emit), cancel=cancel or threading.Event(),
                            budget_usd=budget)
            out_dir = Path(render_job.out_dir) if render_job.out_dir else None
            regenerate = set(render_job.regenerate) - set(render_job.done_shots)
            return self._render_locked(render_job.owner, run, out_dir, render_job.backend, regenerate, job, render_job.id)
        finally:
            self.live.finish(project_id, job)

    def _render_locked(self, owner: str, run: RenderRun, out_dir, backend, regenerate: set[str], job, render_id: str) -> RenderResult:
        project_id, renders = run.project_id, self.store.renders
        self.store.audit(owner, "render.started", {"project_id": project_id, "render_id": render_id})
        try:
            result = self._render_steps(owner, run, out_dir, backend, regenerate, job, render_id)
        except Cancelled:
            stopped = "interrupted" if self._interrupted.is_set() else "cancelled"
            renders.finish(render_id, "interrupted" if stopped == "interrupted" else "cancelled")
            self.store.audit(owner, f"render.{stopped}", {"project_id": project_id, "render_id": render_id})
            raise
        except KeyboardInterrupt:   # Ctrl-C: the person can resume it
            renders.finish(render_id, "interrupted")
            raise
        except Exception as err:
            renders.finish(render_id, "failed", error=str(err))
            self.store.audit(owner, "render.failed", {"project_id": project_id, "render_id": render_id, "error": str(err)[:500]})
            raise
        renders.finish(render_id, "done", cut_id=result.cut_id)
        renders.supersede(project_id, by=render_id)
        self.store.audit(owner, "render.finished", {"project_id": project_id, "render_id": render_id, "cut_id": result.cut_id})
        result.render_id = render_id
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

    def _render_steps(self, owner: str, run: RenderRun, out_dir, backend, regenerate: set[str], job,
                      render_id: str) -> RenderResult:
        project_id, emit = run.project_id, run.emit
        version = self.store.get_version(project_id)
        storyboard = version.storyboard
        renders = self.store.renders
        renders.start(render_id, version=version.number, shot_ids=[s.id for s in storyboard.shots])
        # Before any take: a music file that is not audio must not cost a whole render first.
        check_caps(storyboard, self.settings)
        check_label_fits(storyboard)
        check_inputs(storyboard, max_pixels=self.settings.max_input_pixels)
        report = check_storyboard(storyboard, self.store, actor=owner, project_id=project_id)
        if report.verdict in ("block", "needs_consent"):
            emit(SafetyNotice(project_id=project_id, verdict=report.verdict, reasons=report.reasons))
            raise SafetyRefusal(report)
        if report.reasons:
            emit(SafetyNotice(project_id=project_id, verdict=report.verdict, reasons=report.reasons))

        plans = [self.producer.plan_shot(storyboard, shot, backend) for shot in storyboard.shots]
        run.retries_left = self.settings.attempts_for_film(len(storyboard.shots)) - len(storyboard.shots)
        estimate = self._estimate(project_id, storyboard, plans, regenerate, run.retries_left, run.budget_usd)
        # Per shot too: the page resets what will be made, and counts down each shot's time.
        per_shot = {e.shot_id: {"reused": e.reused, "seconds": round(e.wall_seconds, 2)} for e in estimate.shots}
        if job is not None:
            job.estimates = {sid: e["seconds"] for sid, e in per_shot.items()}
            job.stage = "rendering shots"
        emit(Estimate(project_id=project_id, video_seconds=estimate.video_seconds, takes=estimate.takes_budgeted,
                      wall_seconds=estimate.wall_seconds, cost_usd=estimate.cost_usd, text=estimate.text(),
                      version=version.number, shots=per_shot))
        if estimate.over_budget:
            raise NeedsAnswer(
                f"This render is estimated at ${estimate.cost_usd:.2f}, over the budget of ${estimate.budget_usd:.2f}. "
                f"To go ahead, allow it: --budget {estimate.cost_usd_max or estimate.cost_usd:.2f} on the command line "
                f"(or DIRECTOR_BUDGET_USD), or render with fewer or shorter hosted shots.")
        run.spent_usd = estimate.cost_usd or 0.0   # every shot's first take is booked before any retry
        farm = self.producer._farm()
        sound = start_soundtrack(storyboard, self.workspace)   # mixed and encoded while the takes are made
        try:
            return self._produce_and_finish(run, out_dir, backend, regenerate, version, plans, report, farm, sound,
                                            render_id)
        finally:
            wait([sound])   # stopped or not, nothing of this render is still being written after it

    def _produce_and_finish(self, run: RenderRun, out_dir, backend, regenerate: set[str], version, plans: list,
                            report, farm, sound: Future, render_id: str) -> RenderResult:
        """The takes, wave by wave on the farm, then the cut."""
        from agent.production import continuity_waves, farm_lane

        project_id, emit, storyboard, renders = run.project_id, run.emit, version.storyboard, self.store.renders

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
            if not run.stopping:
                keep_take_frames(self.workspace, storyboard, plan.shot, outcome.take)   # the cut's style check, early
            return outcome

        outcomes: dict = {}
        for wave in continuity_waves(storyboard):
            # A shot that continues another starts from the last frame of that shot's take, made in an earlier wave.
            wave_plans = [plan for plan in plans if plan.shot in wave and not plan.shot.continue_from] + [
                self.producer.plan_shot(storyboard, shot, backend,
                                        start_frame=self.producer.last_frame(outcomes[shot.continue_from].take))
                for shot in wave if shot.continue_from]
            made = farm.run_shots(one, wave_plans, lane_of=farm_lane, cancel=run.cancel, stop=run.stop)
            # stopped: the shots the farm dropped before they started have no outcome
            run.stop_if_cancelled()
            outcomes.update({o.shot_id: o for o in made})
        outcomes = {s.id: outcomes[s.id] for s in storyboard.shots}   # storyboard order, as before
        target = Path(out_dir) if out_dir else self.workspace.project_dir(project_id)
        film = finish_film(self.store, self.workspace, project_id, version.number, storyboard, outcomes, target, emit,
                           settings=self.settings, safety_warnings=report.reasons, backend=backend,
                           farm=farm.describe(), sound=sound)
        self._keep_cut(project_id, film)
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

    def _keep_cut(self, project_id: str, film) -> None:
        """A copy of each cut by id (final.mp4 is rewritten by the next render), for comparing versions."""
        import os
        import shutil

        src = Path(film.cut)
        dst = self.workspace.project_dir(project_id) / "cuts" / f"{film.cut_id}.mp4"
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_suffix(".tmp")
            try:
                os.link(src, tmp)   # the same bytes: a hard link costs nothing
            except OSError:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        except OSError:
            pass   # comparing versions is a convenience; the delivered cut is already safe

    def select_take(self, owner: str, project_id: str, shot_id: str, take_id: str, emit: Emit = noop,
                    render: bool = True, cancel: threading.Event | None = None) -> RenderResult:
        return self.select_take_async(owner, project_id, shot_id, take_id, emit, render, cancel).result()

    def select_take_async(self, owner: str, project_id: str, shot_id: str, take_id: str, emit: Emit = noop,
                          render: bool = True, cancel: threading.Event | None = None) -> Future:
        return self.queues.submit(project_id,
                                  lambda: self._select_step(owner, project_id, shot_id, take_id, emit, render, cancel))

    def _select_step(self, owner, project_id, shot_id, take_id, emit, render, cancel=None) -> RenderResult | Future:
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
                try:
                    number = self.store.add_version(project_id, restored, f"shot {shot_id}: back to take {take.attempt}",
                                                    parent=current.number)
                except VersionConflict as conflict:
                    raise Conflict(f"{conflict}; choose the take again on the latest version", project_id=project_id) from None
                self._emit_storyboard(emit, project_id, self.store.get_version(project_id, number), [shot_id])
            self.store.select_take(project_id, take_id)
        order = [s.id for s in self.store.get_version(project_id).storyboard.shots]
        name = f"Shot {order.index(shot_id) + 1}" if shot_id in order else f"Shot {shot_id}"
        self._say(emit, project_id, f"{name} now uses take {take.attempt}.")
        if not render:
            return RenderResult(project_id=project_id, version=self.store.get_version(project_id).number,
                                changed_shots=[shot_id])
        return self.queues.request_render(project_id, RenderRequest(owner, emit, cancel))

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
            "duration": film_seconds(latest.storyboard),   # seconds of film: cards counted, overlaps not twice
            "takes": takes,
            "cuts": [c.model_dump(mode="json") for c in self.store.list_cuts(project_id)],
            "messages": [m if isinstance(m, dict) else m.model_dump(mode="json") for m in self.store.messages(project_id)],
            "history": self.history(owner, project_id),
            "critique": self._film_critique(project_id),   # the latest cut's verdict and reasons (critique.json)
            "files": self._delivered_files(project_id),    # the latest cut's files that exist, by name -> URL
            "job": self.live.get(project_id),        # the render running now, per shot (None when idle)
            "accepted": self._accepted(project_id),  # shot id -> take id kept although the critic failed it
            "keyframes": self._latest_keyframes(project_id, latest.number),  # the `keyframes` event, or None
        }

    def _latest_keyframes(self, project_id: str, version: int) -> dict | None:
        """The latest version's stills as the `keyframes` event says them (a reloaded page shows them)."""
        proposals = load_proposals(self.workspace, project_id)
        if proposals is None or proposals.version != version:
            return None
        return self.keyframes_event(proposals).to_wire()

    def _delivered_files(self, project_id: str) -> dict[str, str]:
        from agent.film import OUTPUT_FILES

        folder = self.workspace.project_dir(project_id)
        return {name: f"/media/{project_id}/{name}" for name in OUTPUT_FILES if (folder / name).is_file()}

    def _film_critique(self, project_id: str) -> dict | None:
        import json

        path = self.workspace.project_dir(project_id) / "critique.json"
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return {k: doc.get(k) for k in ("verdict", "reasons", "failed_shots")}

    def _accepted(self, project_id: str) -> dict[str, str]:
        accepted: dict[str, str] = {}
        for entry in reversed(self.store.audit_log(limit=2000, event="take.accepted")):
            detail = entry.detail if isinstance(entry.detail, dict) else {}
            if detail.get("project_id") == project_id:
                accepted[detail["shot_id"]] = detail["take_id"]
        return accepted

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
        self._may_direct(owner, project_id)
        special = self._take_media(project_id, filename) or self._still_media(project_id, filename)
        if special is not None:
            return special
        root = self.workspace.project_dir(project_id).resolve()
        path = (root / filename).resolve()
        if root not in path.parents or not path.is_file():
            raise NotFound(f"no file '{filename}' in project '{project_id}'", project_id=project_id)
        return path

    def _still_media(self, project_id: str, filename: str) -> Path | None:
        """stills/<name>.png: a keyframe still, which lives in the workspace's stills/ folder (shared,
        named by content), served only when this project's keyframes.json lists it. None for other names."""
        import re

        if not re.fullmatch(r"stills/[0-9a-f]{8,64}\.png", filename):
            return None
        proposals = load_proposals(self.workspace, project_id)
        k = next((k for k in (proposals.keyframes if proposals else []) if Path(k.still).name == filename[7:]), None)
        path = self.workspace.resolve(k.still) if k else None
        if path is None or not path.is_file():
            raise NotFound(f"no file '{filename}' in project '{project_id}'", project_id=project_id)
        return path

    def _take_media(self, project_id: str, filename: str) -> Path | None:
        """takes/<take id>.mp4: a take's video (to play it); plots/<take id>.png: its critique plot,
        drawn on first request. None for any other name."""
        import re

        m = re.fullmatch(r"(takes|plots)/(t-[0-9a-f]{6,32})\.(mp4|png)", filename)
        if not m or (m.group(1), m.group(3)) not in (("takes", "mp4"), ("plots", "png")):
            return None
        try:
            take = self.store.get_take(m.group(2))
        except KeyError:
            take = None
        if take is None or self.store.take_project(take.id) != project_id or not take.file:
            raise NotFound(f"no file '{filename}' in project '{project_id}'", project_id=project_id)
        if m.group(1) == "takes":
            return self.workspace.resolve(take.file)
        plot = self.workspace.project_dir(project_id) / "plots" / f"{take.id}.png"
        if not plot.is_file():
            if take.critique is None:
                raise NotFound(f"take '{take.id}' has no critique to plot", project_id=project_id)
            from tools.critique.plot import write_critique_plot

            plot.parent.mkdir(parents=True, exist_ok=True)
            write_critique_plot(take.critique, plot, fps=take.fps)
        return plot
