"""The production loop: generate -> critique -> regenerate -> pick a take, per shot; then the cut.

An unchanged shot (same spec: composed prompt, negative, size, frames, fps, backend, model, inputs)
reuses its selected take and is never generated again. Every take, good or bad, is recorded with its
critique; a failed generation never touches earlier takes. Files are written atomically and the
database is the record of truth.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.errors import Cancelled
from agent.estimate import SpeedBook, price_per_second
from agent.events import DirectorMessage, Emit, ShotProgress, TakeReady, noop
from agent.keyframes import png_bytes
from agent.prompts import compose_prompt
from agent.run import RenderRun
from agent.settings import AgentSettings
from storyboards.artifacts import atomic_path, atomic_write_bytes
from storyboards.hashing import request_key, spec_key
from storyboards.pixels import PIXEL_SHOT_FIELDS
from storyboards.schema import Critique, Shot, Storyboard, Take, TakeStatus
from storyboards.store import Store
from storyboards.takefiles import adopt_take_file, record_file, take_file_problem
from storyboards.workspace import Workspace
from tools.generate import (
    EXCLUSIVE,
    BackendCrash,
    BackendError,
    GenerationCancelled,
    GenerationError,
    GenerationRequest,
    concurrency_of,
    get_backend,
)

__all__ = ["Cancelled", "Emit", "noop", "Producer", "ShotPlan", "ShotOutcome"]


@dataclass
class ShotPlan:
    """Everything that determines one shot's pixels, before a seed is chosen."""

    shot: Shot
    request: GenerationRequest
    backend: str
    model: str
    spec_key: str
    spec_fields: dict[str, Any]
    target: tuple[int, int, int, int] = (0, 0, 0, 0)   # width, height, frames, fps of the delivered take
    position: int | str = ""                           # the shot's place in the film, as people name it ("shot 2")


@dataclass
class ShotOutcome:
    shot_id: str
    take: Take
    reused: bool
    new_takes: int = 0


# Words added to a shot when the critic names a cause the prompt can address.
REPAIRS: dict[str, tuple[str, str]] = {
    # metric name: (words for the prompt, words for the negative prompt)
    "frozen": ("continuous visible motion", "static frames, frozen video"),
    "flicker": ("stable consistent lighting", "flicker, flashing, unstable lighting"),
    "smoothness": ("smooth steady camera", "camera shake, jitter"),
    "shake": ("smooth steady camera", "camera shake, jitter"),
    "exposure": ("balanced exposure", "overexposed, underexposed, black frames"),
    "sharpness": ("sharp focus, crisp detail", "blurry, out of focus"),
    "noise": ("clean image", "noise, grain burst, artifacts"),
    "scene_cut": ("one continuous shot", "scene change, jump cut"),
    "consistency": ("consistent subject", "morphing, changing identity"),
    "identity": ("exactly as in the reference image", "different person, changed appearance"),
}


def repair_prompt(prompt: str, negative: str, critique: Critique | None) -> tuple[str, str, list[str]]:
    """Add words that address the critic's failing metrics; return what was added."""
    if critique is None:
        return prompt, negative, []
    added = []
    for name, metric in critique.metrics.items():
        if metric.passed is False:
            key = next((k for k in REPAIRS if name.startswith(k)), None)
            if key and REPAIRS[key][0] not in prompt:
                pos, neg = REPAIRS[key]
                prompt = f"{prompt}, {pos}" if prompt else pos
                negative = f"{negative}, {neg}" if negative else neg
                added.append(key)
    return prompt, negative, added


def shot_for_backend(storyboard: Storyboard, shot: Shot) -> dict[str, Any]:
    """The structured shot a backend reads, with the cast members it names described (the previz draws
    each the same way in every shot). Without a cast the dict is the shot's own, so earlier takes keep
    their keys."""
    data = shot.model_dump(exclude={"prompt"})
    # `index`: the member's place in the film's cast, so two members never share a colour in the previz;
    # `references`: their reference images, which the critic compares the take with.
    members = [{**m.model_dump(include={"id", "name", "description", "references"}), "index": i}
               for i, m in enumerate(storyboard.cast) if m.id in shot.cast]
    if members:
        data["cast_members"] = members
    return data


def reference_for(storyboard: Storyboard, shot: Shot) -> Path | None:
    """The image an image-to-video shot starts from: its own reference, else the reference of the
    first cast member in it who has one (so the member looks like their picture)."""
    if shot.reference:
        return Path(shot.reference)
    if shot.mode == "i2v":
        for member in storyboard.cast:
            if member.id in shot.cast and member.references:
                return Path(member.references[0])
    return None


def frames_fingerprint(frames: np.ndarray) -> str:
    """XXH3-128 of the frames' pixels, as hex."""
    import xxhash

    return xxhash.xxh3_128_hexdigest(np.ascontiguousarray(frames).data)


def write_png(frame: np.ndarray, path: Path) -> Path:
    """One RGB frame as a PNG at `path`, written atomically. Fast compression: a take's last frame is
    read back only by the shot that continues it, and at 720p level 1 takes 44 ms against 117 ms for
    the default 6, for a file a quarter bigger."""
    return atomic_write_bytes(path, png_bytes(frame, compress_level=1))


def continuity_waves(storyboard: Storyboard) -> list[list[Shot]]:
    """The shots in the order continuity allows: first every shot that starts fresh, then each shot
    whose `continue_from` shot is already made (a chain a -> b -> c takes three waves). Shots in one
    wave run side by side on the farm."""
    done: set[str] = set()
    waves: list[list[Shot]] = []
    left = list(storyboard.shots)
    while left:
        wave = [s for s in left if s.continue_from is None or s.continue_from in done]
        if not wave:   # the schema refuses cycles (continue_from must name an earlier shot); be safe anyway
            wave = left
        waves.append(wave)
        done |= {s.id for s in wave}
        left = [s for s in left if s.id not in done]
    return waves


def derive_seed(*parts: Any) -> int:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def farm_lane(plan: ShotPlan) -> str | None:
    """The farm lane a shot must queue in: one per exclusive model (a loaded pipeline has one owner at a
    time), None for backends any number of takes can share."""
    if concurrency_of(get_backend(plan.backend)) == EXCLUSIVE:
        return f"{plan.backend}:{plan.model}"
    return None


class Producer:
    """Makes and judges takes for the shots of one storyboard version."""

    def __init__(self, store: Store, workspace: Workspace, settings: AgentSettings):
        self.store = store
        self.workspace = workspace
        self.settings = settings
        self.farm = None   # None: tools.farm.current_farm(), chosen by DIRECTOR_FARM
        self.speeds = SpeedBook(workspace.home / "speeds.json")

    def _farm(self):
        if self.farm is None:
            from tools.farm import current_farm

            return current_farm()
        return self.farm

    def last_frame(self, take: Take) -> Path:
        """The unmarked last frame of a take, as a PNG beside it (decoded from the take for takes made
        before these were kept)."""
        if not take.file:
            raise BackendError(f"take {take.id} of shot '{take.shot_id}' has no file to continue from")
        path = self.workspace.take_path(take.key, suffix=".last.png")
        if not path.exists():
            from tools.edit.video_io import read_video

            frames, _ = read_video(self.workspace.resolve(take.file))
            write_png(frames[-1], path)
        return path

    def existing_take(self, project_id: str, plan: ShotPlan, run: RenderRun | None = None) -> Take | None:
        """A take already made with this shot's exact spec whose file is still what was written (size and
        mtime, else the sha256; storyboards/takefiles.py), or None: make one. Within a render (`run`), a
        take whose file changed is set aside (status error) and the person is told."""
        selected = self.store.selected_take(project_id, plan.shot.id, spec_key=plan.spec_key)
        # The same pixels may have been made for an earlier version of the shot.
        others = [t for t in self.store.find_takes(project_id, spec_key=plan.spec_key)
                  if t.status != TakeStatus.error and (selected is None or t.id != selected.id)]
        for candidate in ([selected] if selected else []) + others:
            problem = take_file_problem(self.workspace, candidate)
            if problem is None:
                return candidate
            if run is not None:
                candidate.status, candidate.selected, candidate.error = TakeStatus.error, False, f"not reused: {problem}"
                self.store.update_take(project_id, candidate)
                run.emit(DirectorMessage(project_id=project_id, text=(
                    f"Shot {plan.shot.id}: take {candidate.attempt} was not reused because {problem}; making it again.")))
        return None

    def take_price(self, plan: ShotPlan) -> float | None:
        """USD one take of this shot costs on a hosted backend; None for our own machines."""
        per_second = price_per_second(self.settings.hosted_prices, plan.backend, plan.model)
        return None if per_second is None else per_second * plan.shot.duration

    # ------------------------------------------------------------------ planning requests
    def plan_shot(self, storyboard: Storyboard, shot: Shot, backend_override: str | None = None,
                  start_frame: Path | None = None) -> ShotPlan:
        """`start_frame`: for a shot that continues another (`continue_from`), the last frame of that
        shot's take; the shot is then made image-to-video from it, so the action carries across the cut."""
        backend_name = backend_override or shot.backend or self.settings.default_backend
        composed = compose_prompt(shot, storyboard.style_guide, backend=backend_name, settings=self.settings,
                                  cast=storyboard.cast)
        width, height = storyboard.size
        # The final tier: a smaller, slower draft that tools/enhance upscales and interpolates.
        gen_w, gen_h = (max(2, round(width * self.settings.generate_scale / 2) * 2),
                        max(2, round(height * self.settings.generate_scale / 2) * 2))
        gen_fps = min(self.settings.generate_fps or storyboard.fps, storyboard.fps)
        request = GenerationRequest(
            prompt=composed.prompt,
            negative_prompt=composed.negative_prompt,
            frames=max(1, round(shot.duration * gen_fps)),
            fps=gen_fps,
            width=gen_w,
            height=gen_h,
            seed=0,
            mode="i2v" if start_frame else shot.mode,
            reference_image=start_frame or reference_for(storyboard, shot),
            source_video=Path(shot.source) if shot.source else None,
            strength=shot.strength,
            shot=shot_for_backend(storyboard, shot),
        )
        backend = get_backend(backend_name)
        model = backend.model_id(request)
        fields = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "backend": backend_name,
            "model": model,
            "width": width,
            "height": height,
            "frames": storyboard.frames_for(shot),
            "fps": storyboard.fps,
            "generated_at": [gen_w, gen_h, gen_fps] if (gen_w, gen_h, gen_fps) != (width, height, storyboard.fps) else None,
            "mode": request.mode,
            "strength": request.strength,
            "reference": str(request.reference_image) if request.reference_image else None,
            "source": str(request.source_video) if request.source_video else None,
            # The storyboard's seed is the shot's identity ("another take" changes it); the seed of each
            # retry derives from it, so it lives in the spec while the retry seeds do not.
            "shot_seed": shot.seed,
        }
        if backend_name == "animatic":
            # The animatic draws the structured shot (camera, framing, its id as a label), so its pixel
            # fields are in the spec; seed, reference and source are in it already, above.
            drawn = (set(PIXEL_SHOT_FIELDS) | {"id"}) - {"seed", "reference", "source"}
            fields["shot"] = {k: v for k, v in request.shot.items() if k in drawn}
        return ShotPlan(shot, request, backend_name, model, spec_key(fields), fields,
                        target=(width, height, storyboard.frames_for(shot), storyboard.fps),
                        position=_position(storyboard, shot.id))

    # ------------------------------------------------------------------ one shot
    def produce_shot(self, run: RenderRun, plan: ShotPlan, force_new: bool = False) -> ShotOutcome:
        """The shot's take: its existing one when the spec is unchanged (and not `force_new`), else new
        takes until one passes the critic or the shot's and the film's retries run out."""
        shot, project_id, emit = plan.shot, run.project_id, run.emit
        if not force_new:
            existing = self.existing_take(project_id, plan, run)
            if existing is not None:
                if not existing.selected:
                    self.store.select_take(project_id, existing.id)
                    existing.selected = True
                emit(ShotProgress(project_id=project_id, shot_id=shot.id, stage="reused", done=1, total=1, attempt=0))
                return ShotOutcome(shot.id, existing, reused=True)

        attempts_allowed = max(1, self.settings.attempts_per_shot)
        best: Take | None = None
        prompt, negative = plan.request.prompt, plan.request.negative_prompt
        made = 0
        previous_takes = self.store.takes_for_shot(project_id, shot.id)
        base_attempt = len(previous_takes)
        price = self.take_price(plan)
        take: Take | None = None   # the last take made
        for attempt in range(1, attempts_allowed + 1):
            run.stop_if_cancelled()
            if attempt > 1 and not run.take_retry():
                break
            failed = take if take is not None and take.status == TakeStatus.error else None   # the backend failed, not the take
            resuming = failed is not None and bool(failed.params.get("resume_token"))
            # First takes were booked with the estimate; a retry must fit what is left of the budget
            # (picking up work already paid for costs nothing more).
            if attempt > 1 and not resuming and not run.spend(price):
                emit(DirectorMessage(project_id=project_id, text=(
                    f"Shot {shot.id}: not regenerating, another take (${price:.2f}) would pass the budget of "
                    f"${run.budget_usd:.2f} (${run.spent_usd:.2f} spent). Keeping the best take so far.")))
                break
            resume_token = None
            if failed is not None:
                # The backend failed, not the take: ask again for the same take (same seed), picking up
                # any work it already paid for (a finished Runway task whose download broke).
                seed, resume_token = failed.seed, failed.params.get("resume_token")
            elif shot.seed is not None and attempt == 1 and base_attempt == 0:
                seed = shot.seed
            else:
                seed = derive_seed(project_id, shot.id, plan.spec_key, base_attempt + attempt)
            request = GenerationRequest(**{**plan.request.__dict__, "seed": seed, "prompt": prompt, "negative_prompt": negative,
                                           "resume_token": resume_token})
            take = self._generate_take(run, plan, request, base_attempt + attempt)
            made += 1
            if take.status != TakeStatus.error and (best is None or (take.critique and best.critique and take.critique.score > best.critique.score)):
                best = take
            if take.status == TakeStatus.ok:
                break
            # Repair the prompt where the critique says why, then try again with a new seed.
            prompt, negative, added = repair_prompt(prompt, negative, take.critique)
            if added:
                why = "; ".join(take.critique.reasons[:2]) if take.critique else take.error
                emit(DirectorMessage(project_id=project_id,
                                     text=f"Shot {plan.position} take {take.attempt} failed ({why}). "
                                          f"Trying again with: {', '.join(added)}."))
        if best is None:
            raise BackendError(f"shot '{shot.id}': every attempt failed to generate; see the takes' errors (last: {take.error if take else 'none made'})")
        self.store.select_take(project_id, best.id)
        best.selected = True
        emit(TakeReady(project_id=project_id, shot_id=shot.id, take=take_public(best, project_id),
                       critique=best.critique.model_dump() if best.critique else None, selected=True,
                       thumbnail=f"/media/{project_id}/thumbs/{best.id}.jpg"))
        return ShotOutcome(shot.id, best, reused=False, new_takes=made)

    def _generate_take(self, run: RenderRun, plan: ShotPlan, request: GenerationRequest, attempt: int) -> Take:
        """Generate, critique, mark and encode one take; record it whatever happens."""
        from tools.critique import critique_frames

        shot, project_id, emit = plan.shot, run.project_id, run.emit
        key = request_key({**plan.spec_fields, "prompt": request.prompt, "negative_prompt": request.negative_prompt, "seed": request.seed})
        take = Take(
            id=f"t-{uuid.uuid4().hex[:10]}", shot_id=shot.id, key=key, spec_key=plan.spec_key,
            backend=plan.backend, model=plan.model, prompt=request.prompt, negative_prompt=request.negative_prompt,
            seed=request.seed, width=plan.target[0], height=plan.target[1], frames=plan.target[2], fps=plan.target[3],
            attempt=attempt,
        )
        timings: dict[str, float] = {}

        def progress(done: int, total: int) -> None:
            if run.stopping:
                raise GenerationCancelled()   # out of the backend, after the step it just finished
            emit(ShotProgress(project_id=project_id, shot_id=shot.id, stage="generate", done=done, total=total,
                              attempt=attempt))

        stage = "generating"
        try:
            t0 = time.perf_counter()
            result = self._farm().generate(plan.backend, request, progress=progress, stop=run.stop)
            timings["generate"] = time.perf_counter() - t0
            stage = "finishing"
            frames = result.frames
            if frames.shape[0] != request.frames or frames.shape[1:3] != (request.height, request.width):
                raise BackendError(
                    f"backend {plan.backend} returned {frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]}; "
                    f"the shot needs {request.frames} of {request.width}x{request.height}"
                )
            # the generated pixels' own fingerprint (the file's hash differs: each take carries its own
            # watermark id); the same request on any farm, local or Ray, must give the same value.
            # XXH3-128: 9 ms for a 720p take's 250 MB where SHA-256 took 140 ms, and a fingerprint
            # that tells runs apart needs no resistance to forgery.
            take.params = {**result.params, "notes": result.notes, "frames_xxh3": frames_fingerprint(frames)}
            frames = self._finish_tier(frames, request, plan, take, timings)
            if run.stopping:   # between steps (critique, marks, encode): stop here when the render is stopping
                raise GenerationCancelled()
            emit(ShotProgress(project_id=project_id, shot_id=shot.id, stage="critique", done=0, total=1, attempt=attempt))
            t0 = time.perf_counter()
            take.critique = critique_frames(frames, take.fps, prompt=request.prompt, shot=request.shot, backend=plan.backend)
            timings["critique"] = time.perf_counter() - t0
            take.status = TakeStatus.ok if take.critique.verdict == "pass" else TakeStatus.failed
            if run.stopping:
                raise GenerationCancelled()
            emit(ShotProgress(project_id=project_id, shot_id=shot.id, stage="encode", done=0, total=1, attempt=attempt))
            marked = self._mark_and_encode(run, take, frames, timings)
            self._write_thumbnail(project_id, take.id, marked[len(marked) // 2])
            take.timings = timings
            self.speeds.record(plan.backend, plan.model, sum(timings.values()), request.width, request.height, request.frames)
        except GenerationCancelled:
            raise Cancelled() from None
        except BackendCrash:
            raise
        except BackendError as err:   # the backend says this take failed: an error take, and maybe a retry
            take.status, take.error, take.timings = TakeStatus.error, str(err), timings
            if isinstance(err, GenerationError) and err.resume_token:
                take.params["resume_token"] = err.resume_token
        except Exception as err:   # a programming error: retrying cannot help, so stop the render
            if run.stopping:   # Ctrl-C also reaches our ffmpeg children: their errors are the stop, not a bug
                raise Cancelled() from None
            take.status, take.timings = TakeStatus.error, timings
            where = f"backend {plan.backend}" if stage == "generating" else "the take's critique/encode"
            take.error = f"{where} crashed: {type(err).__name__}: {err}"
            self.store.add_take(project_id, take.model_copy())
            raise BackendCrash(
                f"shot '{shot.id}': {where} crashed with {type(err).__name__}: {err}. This is a bug, not a weak take, "
                "so the render stopped (finished takes are kept). Report it with this message; a "
                "DIRECTOR_DEFAULT_BACKEND or per-shot backend other than this one avoids it meanwhile."
            ) from err
        self.store.add_take(project_id, take.model_copy())
        return take

    def _mark_and_encode(self, run: RenderRun, take: Take, frames: np.ndarray, timings: dict[str, float]) -> np.ndarray:
        """Label and watermark the take's frames with a payload of its own, encode them into its file,
        and keep its samples and last frame; returns the marked frames."""
        from tools.edit.contact_sheet import sample_take, samples_path
        from tools.edit.video_io import write_video

        t0 = time.perf_counter()
        watermark_id = self.store.new_watermark_id()
        take.params["watermark_id"] = watermark_id
        # The last frame as generated, before the marks: a shot that continues this one starts from
        # it (a label burned into a start frame would be carried along by the next shot's camera).
        last_frame = frames[-1].copy()
        marked = run.mark(frames, watermark_id)
        timings["mark"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # Encoded under the take's own temporary name, then named by its content (takefiles.py).
        staging = self.workspace.takes_dir / "incoming" / f"{take.id}.mp4"
        # Takes are masters the cut is encoded from again: ultrafast is ~3x quicker than veryfast here,
        # at the cost of larger files, which the quality-tuned encode of the cut does not inherit.
        write_video(marked, take.fps, staging, crf=17, preset="ultrafast")
        record_file(take, self.workspace, adopt_take_file(self.workspace, staging))
        sample_take(marked).save(samples_path(self.workspace, take.key))
        write_png(last_frame, self.workspace.take_path(take.key, suffix=".last.png"))
        timings["encode"] = time.perf_counter() - t0
        return marked

    @staticmethod
    def _finish_tier(frames: np.ndarray, request: GenerationRequest, plan: ShotPlan, take: Take, timings: dict) -> np.ndarray:
        """Upscale and interpolate a draft-tier generation to the film's size and frame rate."""
        width, height, count, fps = plan.target
        if (request.width, request.height, request.frames, request.fps) == (width, height, count, fps):
            return frames
        t0 = time.perf_counter()
        from tools.enhance import retime, upscale, upscale_method

        notes = take.params.setdefault("notes", [])
        if (request.width, request.height) != (width, height):
            frames = upscale(frames, width, height)
            notes.append(f"upscaled {request.width}x{request.height} to {width}x{height} ({upscale_method()})")
        if (request.frames, request.fps) != (count, fps):
            frames = retime(frames, request.fps, fps, count)
            notes.append(f"interpolated {request.frames} frames at {request.fps} fps to {count} at {fps} fps (optical flow)")
        timings["enhance"] = time.perf_counter() - t0
        return frames

    def _write_thumbnail(self, project_id: str, take_id: str, frame: np.ndarray) -> None:
        import cv2

        h, w = frame.shape[:2]
        scale = 320 / max(w, h)
        small = cv2.resize(frame, (max(2, int(w * scale)), max(2, int(h * scale))), interpolation=cv2.INTER_AREA)
        ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            path = self.workspace.project_dir(project_id) / "thumbs" / f"{take_id}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                Path(tmp).write_bytes(jpg.tobytes())


def _position(storyboard: Storyboard, shot_id: str) -> int | str:
    """A shot as people name it: its position in the film ("shot 2")."""
    return next((i for i, s in enumerate(storyboard.shots, 1) if s.id == shot_id), shot_id)


def take_public(take: Take, project_id: str) -> dict:
    data = take.model_dump(mode="json")
    data.pop("file", None)  # workspace-internal path
    return data
