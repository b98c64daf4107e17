"""From selected takes to the delivered film: cut, disclosure, signature and the files beside it.

The files written into the output folder are a public contract (add, never rename):
final.mp4, storyboard.yaml, critique.json, manifest.json, contact_sheet.png, final.srt, final.vtt, final.otio.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from agent.events import CutReady, Emit, ShotProgress
from agent.planner.length import cards_on_screen
from agent.prompts import with_prompts
from agent.settings import AgentSettings
from storyboards.artifacts import atomic_write_text
from storyboards.schema import Cut, Storyboard, Take
from storyboards.store import Store
from storyboards.workspace import Workspace
from storyboards.yamlio import dump_storyboard

PACKAGES = ("reel-director", "numpy", "opencv-python-headless", "imageio-ffmpeg", "c2pa-python", "torch", "diffusers", "transformers")
OUTPUT_FILES = ("final.mp4", "storyboard.yaml", "critique.json", "manifest.json", "contact_sheet.png", "final.srt", "final.vtt", "final.otio")


def package_versions() -> dict[str, str]:
    return dict(_package_versions())


@cache
def _package_versions() -> dict[str, str]:
    # read once per process: the installed packages' metadata costs ~15 ms per cut to parse
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


@dataclass
class Delivery:
    """The delivered cut, as the session reports it."""

    cut: str          # path of final.mp4
    cut_id: str
    duration: float
    verdict: str      # the critic's, on the whole film
    warnings: list[str]
    reasons: list[str] = field(default_factory=list)   # why the film failed, and what the director did about it


def deliver_subtitles(cut, out_dir: Path, tmp: Path) -> None:
    """final.srt and final.vtt when the film has words on screen; a film with none offers no empty
    subtitle files (and loses the ones an earlier version of it had)."""
    srt = Path(cut.srt_path) if cut.srt_path else None
    has_words = srt is not None and srt.exists() and srt.read_text(encoding="utf-8").strip() != ""
    for name, src in (("final.srt", cut.srt_path), ("final.vtt", cut.vtt_path)):
        if has_words and src and Path(src).exists():
            shutil.move(str(src), tmp / f"staged-{name}")
            (tmp / f"staged-{name}").replace(out_dir / name)
        elif not has_words:
            (out_dir / name).unlink(missing_ok=True)


def mood_text(storyboard: Storyboard) -> str:
    """The film's own words about its look and feeling: what the music bed is matched to."""
    parts = [storyboard.title, storyboard.style_guide]
    for shot in storyboard.shots:
        parts += [shot.atmosphere, shot.lighting, shot.setting, shot.action]
    return " ".join(p for p in parts if p)


def music_for(storyboard: Storyboard, workspace: Workspace) -> tuple[Path | None, str | None]:
    """(the music bed's file, what it is): none when the storyboard says `music_bed: false`; the
    storyboard's own `music` file when it names one; else a bed made for this film (MusicGen when
    configured, the synthesiser otherwise), cached in the workspace by what made it."""
    from tools.edit.music import MusicBrief, film_music, musicgen_model
    from tools.edit.narration import write_wav

    if storyboard.music_bed is False:
        return None, None
    if storyboard.music:
        return Path(storyboard.music), f"music file {Path(storyboard.music).name}"
    text = mood_text(storyboard)
    # long enough for title and end cards and a held end; the assembler trims it and fades it out
    seconds = storyboard.duration + 12.0
    brief = MusicBrief.from_text(text, storyboard.title)
    key = hashlib.sha256(json.dumps([brief.__dict__, round(seconds), musicgen_model()], default=str).encode()).hexdigest()
    path = workspace.home / "music" / f"{key[:32]}.wav"
    note_path = path.with_suffix(".txt")
    if path.is_file() and note_path.is_file():
        return path, note_path.read_text()
    samples, note = film_music(seconds, text, storyboard.title)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    write_wav(tmp, samples)
    tmp.replace(path)
    atomic_write_text(note_path, note)
    return path, note


def speaker(shot) -> str | None:
    """Who speaks a shot's narration: its first cast member (None: the narrator)."""
    cast = getattr(shot, "cast", None) or []
    first = cast[0] if cast else None
    return getattr(first, "id", first)


def take_marking():
    """Marks frames the editor makes from a take with that take's own payload (see tools/edit/segments.py);
    the key names the operator's label and watermark settings, so changing them re-makes cached pieces."""
    from tools.edit.segments import Marking
    from tools.safety.disclosure import MARKS_VERSION, disclosure_marker
    from tools.safety.settings import SafetySettings

    s = SafetySettings()
    key = json.dumps([s.label_text, s.label_position, s.label_scale, s.watermark_strength, MARKS_VERSION])
    return Marking(mark_with=disclosure_marker, key=key)


def segment_cache(workspace: Workspace) -> Path:
    """Where the cut's cached pieces, soundtracks and kept style frames live (tools/edit/segments.py)."""
    return workspace.home / "segments"


def film_clips(storyboard: Storyboard, workspace: Workspace | None = None, outcomes: dict | None = None) -> list:
    """The cut's clips in storyboard order: each shot's selected take. Without `outcomes` (before the
    takes exist) they hold only what the sound depends on, and no file."""
    from tools.edit.narration import voice_for
    from tools.edit.timeline import CutClip

    clips = []
    for shot in storyboard.shots:
        take = outcomes[shot.id].take if outcomes else None
        clips.append(CutClip(path=workspace.resolve(take.file) if take and workspace else Path(),
                             shot_id=shot.id, duration=shot.duration,
                             transition=shot.transition, narration=shot.narration, caption=shot.caption,
                             content_hash=take.content_hash if take else None,
                             watermark=take.params.get("watermark_id") if take else None,
                             voice=voice_for(speaker(shot))))
    return clips


def start_soundtrack(storyboard: Storyboard, workspace: Workspace) -> Future:
    """Speak, mix and encode the film's soundtrack on a thread of its own while the takes are made
    (it needs the storyboard and the music, not the pictures): the cut then copies it in instead of
    mixing it after the last take. The future gives the SoundPlan for `finish_film`, or None when
    making it failed; the cut then makes it again itself and reports what is wrong."""
    from tools.edit.assemble import prepare_soundtrack

    def make():
        try:
            music, _ = music_for(storyboard, workspace)
            title_seconds, end_seconds = cards_on_screen(storyboard)
            return prepare_soundtrack(film_clips(storyboard), storyboard.fps, title_seconds=title_seconds,
                                      end_seconds=end_seconds, narration=True, music_path=music,
                                      segment_cache=segment_cache(workspace))
        except Exception:  # noqa: BLE001 - the cut makes the sound again and names the problem
            return None

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soundtrack")
    try:
        return pool.submit(make)
    finally:
        pool.shutdown(wait=False)


def finish_film(
    store: Store,
    workspace: Workspace,
    project_id: str,
    version: int,
    storyboard: Storyboard,
    outcomes: dict,
    out_dir: Path,
    emit: Emit,
    settings: AgentSettings,
    safety_warnings: list[str] | None = None,
    backend: str | None = None,
    farm: dict | None = None,
    sound: Future | None = None,
) -> Delivery:
    """Assemble, mark, sign and document the cut. Nothing in `out_dir` is half-written: every file
    lands by rename, and final.mp4 only after it is signed. `sound` is `start_soundtrack`'s, when
    the render started it before its takes."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    job = FilmFinish(workspace=workspace, project_id=project_id, version=version, storyboard=storyboard,
                     outcomes=outcomes, out_dir=out_dir, emit=emit, settings=settings,
                     cut_id=f"c-{uuid.uuid4().hex[:10]}", watermark_id=store.new_watermark_id())
    music, music_note = music_for(storyboard, workspace)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".cut-") as tmp_name:
        tmp = Path(tmp_name)
        cut = job.assemble(tmp, music, sound.result() if sound else None)
        signed, style = job.sign_and_describe(cut, tmp)
        critique_doc = film_critique(storyboard, outcomes, style, previz=job.previz, grade=settings.grade)
        atomic_write_text(out_dir / "critique.json", json.dumps(critique_doc, indent=2, default=str))
        manifest = job.manifest(cut, music_note, safety_warnings, farm)
        atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2, default=str))
        atomic_write_text(out_dir / "storyboard.yaml", dump_storyboard(with_prompts(storyboard, backend, settings=settings)))
        signed.replace(out_dir / "final.mp4")

    width, height = storyboard.size
    record = Cut(id=job.cut_id, project_id=project_id, version=version, file=str(out_dir / "final.mp4"),
                 preset=f"{width}x{height}", take_ids=[t.id for t in job.takes], manifest=manifest)
    store.add_cut(record, job.watermark_id)
    emit(CutReady(project_id=project_id, version=version, cut_id=job.cut_id, url=f"/media/{project_id}/final.mp4",
                  duration=cut.duration, verdict=critique_doc["verdict"],
                  files={name: f"/media/{project_id}/{name}" for name in OUTPUT_FILES if (out_dir / name).exists()}))
    return Delivery(cut=str(out_dir / "final.mp4"), cut_id=job.cut_id, duration=cut.duration,
                    verdict=critique_doc["verdict"], warnings=list(cut.warnings), reasons=critique_doc["reasons"])


@dataclass
class FilmFinish:
    """One cut being finished: what it is made of and where it goes; its steps are finish_film's."""

    workspace: Workspace
    project_id: str
    version: int
    storyboard: Storyboard
    outcomes: dict
    out_dir: Path
    emit: Emit
    settings: AgentSettings
    cut_id: str
    watermark_id: int

    @property
    def takes(self) -> list[Take]:
        return [self.outcomes[s.id].take for s in self.storyboard.shots]

    @property
    def previz(self) -> bool:
        """An all-animatic film is a previz: its palettes are deliberate (no grade) and it is a draft."""
        return all(t.backend == "animatic" for t in self.takes)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.emit(ShotProgress(project_id=self.project_id, shot_id="*", stage=stage, done=done, total=total, attempt=0))

    def assemble(self, tmp: Path, music: Path | None, sound) -> Any:
        """The cut as tmp/final.mp4: takes, cards, transitions and soundtrack; every frame marked."""
        from tools.edit.assemble import assemble_cut
        from tools.safety.disclosure import disclosure_marker

        sb, settings = self.storyboard, self.settings
        width, height = sb.size
        title_seconds, end_seconds = cards_on_screen(sb)
        preset = ("ultrafast" if self.previz else "veryfast") if settings.cut_preset == "auto" else settings.cut_preset
        return assemble_cut(
            film_clips(sb, self.workspace, self.outcomes), tmp / "final.mp4", width=width, height=height, fps=sb.fps,
            title=sb.title if sb.title_card else None, credits=sb.credits,
            title_seconds=title_seconds, end_seconds=end_seconds,
            finish_frames=disclosure_marker(self.watermark_id), sound=sound,
            narration=True, music_path=music, progress=lambda done, total: self._progress("assemble", done, total),
            grade=0.0 if self.previz else settings.grade, x264_preset=preset,
            segment_cache=segment_cache(self.workspace), marking=take_marking(),
        )

    def sign_and_describe(self, cut, tmp: Path) -> tuple[Path, Any]:
        """Sign the cut into tmp/signed.mp4 and write its sidecars into the output folder; returns the
        signed file and the style check. The style check's frames are decoded from the cut (the video
        the signature leaves as it is) while it is signed and the sidecars are written."""
        from tools.critique.consistency import style_consistency
        from tools.edit.otio_export import write_otio
        from tools.safety.c2pa_manifest import sign_video

        sb, out_dir = self.storyboard, self.out_dir
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="style-frames") as pool:
            style_frames = pool.submit(cut_shot_frames, tmp / "final.mp4", cut.timeline, pieces=cut.pieces,
                                       cache_dir=segment_cache(self.workspace) / "frames")
            self._progress("sign", 0, 1)
            signed = tmp / "signed.mp4"
            sign_video(
                tmp / "final.mp4", signed, title=sb.title, project_id=self.project_id, cut_id=self.cut_id,
                version=self.version, models=sorted({f"{t.backend}:{t.model}" for t in self.takes}),
                actions=[{"action": "c2pa.edited", "parameters": {"description": "assembled from generated takes"}}],
                keys_dir=self.workspace.keys_dir,
            )
            # Sidecars first, the film last: a reader who sees final.mp4 sees a complete delivery.
            deliver_subtitles(cut, out_dir, tmp)
            write_otio(cut.timeline_clips, out_dir / "final.otio", sb.fps)
            write_contact_sheet(self.workspace, sb, self.outcomes, out_dir / "contact_sheet.png")
            # Judged on the cut itself, where the editor's grade has pulled the shots together.
            return signed, style_consistency(style_frames.result(), looks=[shot_look(s) for s in sb.shots])

    def manifest(self, cut, music_note: str | None, safety_warnings: list[str] | None, farm: dict | None) -> dict:
        """manifest.json: what the cut is, what made it, and how it discloses that it was generated."""
        width, height = self.storyboard.size
        return {
            "project_id": self.project_id,
            "cut_id": self.cut_id,
            "storyboard_version": self.version,
            "created_at": datetime.now(UTC).isoformat(),
            "watermark_id": self.watermark_id,
            "disclosure": {"label": True, "watermark": True, "c2pa": True},
            "size": [width, height],
            "fps": self.storyboard.fps,
            **cut_record(cut),
            "takes": [take_record(t) for t in self.takes],
            "safety_warnings": list(safety_warnings or []),
            "music": music_note,
            "packages": package_versions(),
            "farm": farm or {"engine": "local"},   # what ran the takes: engine, workers or cluster, nodes used
        }


def write_contact_sheet(workspace: Workspace, storyboard: Storyboard, outcomes: dict, path: Path) -> None:
    """One row per shot: sample frames of its take, its camera, framing and length, and the critic's word."""
    from tools.edit.contact_sheet import ShotRow, contact_sheet, take_samples

    rows: list[ShotRow] = []
    for shot in storyboard.shots:
        take = outcomes[shot.id].take
        c = take.critique
        lines = [f"{shot.camera} · {shot.framing} · {round(shot.duration, 2):g} s", f"{c.verdict} score {c.score:.2f}" if c else ""]
        rows.append((shot.id, take_samples(workspace, take), lines, (c.verdict == "pass") if c else True))
    contact_sheet(rows, path, fps=storyboard.fps)


def cut_record(cut) -> dict:
    """What the manifest says about the assembled cut."""
    return {"duration": cut.duration, "frames": cut.frames, "timeline": cut.timeline,
            "edit_path": getattr(cut, "path_used", None), "pieces": {"reused": cut.pieces_reused, "made": cut.pieces_made, "soundtrack": getattr(cut, "soundtrack", None)},
            "edit_warnings": list(cut.warnings)}


def take_record(t: Take) -> dict:
    """What the manifest says about one take: enough to make it again."""
    return {"shot_id": t.shot_id, "take_id": t.id, "prompt": t.prompt, "negative_prompt": t.negative_prompt,
            "seed": t.seed, "backend": t.backend, "model": t.model, "key": t.key, "content_hash": t.content_hash,
            "params": t.params, "status": t.status.value}


KEPT_FRAMES_VERSION = 1   # bump when the way cut_shot_frames decodes or scales changes: kept frames are then made again


def cut_shot_frames(path: Path, timeline: list[dict], per_shot: int = 3, width: int = 160,
                    pieces: list | None = None, cache_dir: Path | None = None) -> list[np.ndarray]:
    """A few small frames from the middle of each shot of a cut.

    With the cut's `pieces` (incremental finishing, tools/edit/segments.PieceRef) and a `cache_dir`, a
    frame inside a cached piece is kept under the piece's key and its place in it: the piece's bytes
    are copied into every cut that uses it and it starts with an IDR frame, so it is the same picture
    in all of them. A frame not kept yet is decoded from its piece's own file (a few dozen frames, not
    the whole cut; a first cut's pieces are its takes), a decoder per file, two or more side by side;
    a reordered or re-finished cut of unchanged shots decodes nothing."""
    from tools.edit.video_io import probe

    shots = [seg for seg in timeline if seg["kind"] == "shot"]
    picks = _shot_picks(shots, per_shot)
    info = probe(path)
    height = _thumb_height(info["width"], info["height"], width)
    wanted = sorted({f for _, f in picks})
    home = {f: _piece_of(pieces or [], f) if cache_dir is not None else None for f in wanted}
    kept = {f: None if piece is None or cache_dir is None else _kept_path(cache_dir, piece.key, f - piece.start, width, height)
            for f, piece in home.items()}
    got: dict[int, np.ndarray] = {f: np.load(where) for f, where in kept.items() if where is not None and where.is_file()}
    # what is not kept: from each piece's own file when it is there, the rest in one pass over the cut
    by_file: dict[Path, list[tuple[int, int]]] = {}
    for f in wanted:
        piece = home[f]
        if f in got:
            continue
        if piece is not None and piece.path is not None and piece.path.is_file():
            by_file.setdefault(piece.path, []).append((f, f - piece.start))
        else:
            by_file.setdefault(path, []).append((f, f))
    # A decoder per file, side by side: each stops after its last pick, and two of them finish a first
    # cut's takes in about half the time of one pass over the whole cut.
    with ThreadPoolExecutor(max_workers=max(1, min(len(by_file), os.cpu_count() or 1))) as pool:
        decoded = pool.map(lambda item: _decode_frames(item[0], [k for _, k in item[1]], width, height), by_file.items())
        for frames, got_frames in zip(by_file.values(), decoded):
            for (f, _), frame in zip(frames, got_frames):
                got[f] = frame
                where = kept[f]
                if where is not None:
                    _keep(where, frame)
    return [np.stack(mine) if (mine := [got[f] for o, f in picks if o == i and f in got])
            else np.empty((0, height, width, 3), np.uint8) for i in range(len(shots))]


def _thumb_height(film_width: int, film_height: int, width: int) -> int:
    return max(2, round(width * film_height / film_width / 2) * 2)


def _kept_path(cache_dir: Path, key: str, offset: int, width: int, height: int) -> Path:
    """Where the frame `offset` frames into the piece `key` is kept, at width x height."""
    return cache_dir / key[:2] / f"{key}-{offset}-{width}x{height}-v{KEPT_FRAMES_VERSION}.npy"


def takes_join_as_they_are(storyboard: Storyboard) -> bool:
    """Will the cut most likely be the takes joined by stream copy (no cards, only hard cuts)? Then
    each take is a piece of it, whole. (A shot the editor grades still rules that out; then
    keeping its frames early was wasted, a few dozen frames' decoding.)"""
    return cards_on_screen(storyboard) == (0.0, 0.0) and all(s.transition == "cut" for s in storyboard.shots)


def keep_take_frames(workspace: Workspace, storyboard: Storyboard, shot, take: Take, per_shot: int = 3,
                     width: int = 160) -> None:
    """Decode the style check's frames of a take as soon as it is made, for a cut that will join the
    takes as they are: the farm is still making other takes, and `cut_shot_frames` then finds them
    kept instead of decoding after the last take (0.6 s of a 30 s film's render, all of it waiting)."""
    from tools.edit.timeline import shot_frames

    if not takes_join_as_they_are(storyboard) or not take.content_hash or not take.file:
        return
    n = shot_frames(shot.duration, storyboard.fps)
    if take.frames != n or (take.width, take.height) != storyboard.size:
        return
    height = _thumb_height(take.width, take.height, width)
    cache_dir = segment_cache(workspace) / "frames"
    offsets = sorted({f for _, f in _shot_picks([{"start_frame": 0, "frames": n}], per_shot)})
    missing = [k for k in offsets if not _kept_path(cache_dir, take.content_hash, k, width, height).is_file()]
    try:
        for k, frame in zip(missing, _decode_frames(workspace.resolve(take.file), missing, width, height)):
            _keep(_kept_path(cache_dir, take.content_hash, k, width, height), frame)
    except Exception:  # noqa: BLE001 - only a head start: the cut decodes what is missing and names a broken file
        return


def _shot_picks(shots: list[dict], per_shot: int) -> list[tuple[int, int]]:
    """(shot index, frame of the cut): `per_shot` frames spread over each shot's middle, clear of transitions."""
    picks: list[tuple[int, int]] = []
    for i, seg in enumerate(shots):
        start, n = int(seg["start_frame"]), int(seg["frames"])
        lo, hi = start + n // 5, start + max(n // 5 + 1, 4 * n // 5)
        for k in range(per_shot):
            picks.append((i, lo + (hi - lo) * (2 * k + 1) // (2 * per_shot)))
    return picks


def _piece_of(pieces: list, frame: int):
    """The keyed piece `frame` lies in; None when it is in a piece made for this cut alone (a card)."""
    for piece in pieces:
        if piece.start <= frame < piece.start + piece.frames:
            return piece if piece.key is not None else None
    return None


def _keep(where: Path, frame: np.ndarray) -> None:
    where.parent.mkdir(parents=True, exist_ok=True)
    part = where.with_name(f".{where.stem}.{uuid.uuid4().hex[:8]}.npy")
    np.save(part, frame)
    part.replace(where)


def _decode_frames(path: Path, frames: list[int], width: int, height: int) -> list[np.ndarray]:
    """The given frames of a video (ascending), scaled to width x height, in one ffmpeg pass that stops
    after the last of them."""
    import subprocess

    from tools.edit.video_io import ffmpeg_exe

    if not frames:
        return []
    select = "+".join(f"eq(n\\,{f})" for f in frames)
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:v:0",
                           "-vf", f"select='{select}',scale={width}:{height}", "-fps_mode", "passthrough",
                           "-frames:v", str(len(frames)), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          capture_output=True, check=True)
    return list(np.frombuffer(proc.stdout, np.uint8).reshape(-1, height, width, 3))


def shot_look(shot) -> str:
    """The words of a shot that ask for a look (night, storm, haze...), for the film-level critic."""
    return " ".join(str(v) for v in (shot.lighting, shot.atmosphere, shot.setting) if v)


def style_failure_note(style, previz: bool, grade: float) -> str:
    """Why the director did not pull an outlier shot back to the film's look, in words."""
    shots = ", ".join(str(i + 1) for i in style.frames) or "the outlier"
    if previz:
        return ("Not regraded: an animatic previz keeps each shot's palette as planned; footage from a video model is "
                "graded toward one look.")
    if grade <= 0:
        return "Not regraded: grading is off (DIRECTOR_GRADE=0); set it above 0 to pull the shots toward one look."
    return (f"The grade (strength {grade:g}) did not bring shot {shots} close enough: say \"another take of shot {shots}\" "
            f"or describe its look (\"make shot {shots} match the others\").")


def film_critique(storyboard: Storyboard, outcomes: dict, style, previz: bool = False, grade: float = 0.5) -> dict:
    shots = {}
    failed = []
    for shot in storyboard.shots:
        take = outcomes[shot.id].take
        c = take.critique
        entry = {"take_id": take.id, "attempt": take.attempt, "status": take.status.value, "reused": outcomes[shot.id].reused}
        if c:
            entry.update(verdict=c.verdict, score=c.score, reasons=c.reasons, not_measured=c.not_measured,
                         metrics={k: {"value": m.value, "threshold": m.threshold, "passed": m.passed, "reason": m.reason}
                                  for k, m in c.metrics.items()})
            if c.verdict != "pass":
                failed.append(shot.id)
        shots[shot.id] = entry
    verdict = "pass" if not failed and style.passed is not False else "fail"
    reasons = [f"shot '{sid}' kept its best take, which still fails: {'; '.join(shots[sid].get('reasons', []))}" for sid in failed]
    if style.passed is False:
        reasons.append(f"{style.reason}. {style_failure_note(style, previz, grade)}")
    return {"verdict": verdict, "reasons": reasons, "failed_shots": failed, "shots": shots,
            "style_consistency": style.model_dump()}
