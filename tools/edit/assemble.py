"""Assemble the cut: selected takes in order, transitions, title and end cards, narration, music, subtitles.

Three paths, chosen automatically (`CutResult.path_used` says which ran):

* ``stream_copy``: every transition is a cut, there are no cards, no burned subtitles, and every take
  is already H.264/yuv420p at the cut's size, fps and exact frame count. The takes are joined with
  ffmpeg's concat demuxer and `-c copy` (no pixel touched, ~50x faster); only the soundtrack is encoded.
* ``reencode``: one ffmpeg process decodes and normalises every take (scale, fps, exact frame
  count) into a raw yuv420p stream; Python passes untouched frames straight through and builds the
  frames the editor creates itself (cards, transition frames, a held last frame, frames with burned
  subtitles); a second ffmpeg process encodes H.264 and muxes the soundtrack. Every frame the
  editor creates goes through `finish_frames` (the disclosure label and watermark) first; takes
  arrive already marked. With `grade` on (the default), a shot whose colour strays from the film's
  look passes through per-plane lookup tables first (see `grade.py`); those frames are the
  editor's too, so they go through `finish_frames` as well. Grading any shot rules out stream copy.
* ``segments`` (when the caller gives a `segment_cache` folder and burns no subtitles): the same
  frames as ``reencode``, made as separately encoded pieces (cards, shot bodies, transitions) cached
  by the hash of their inputs and joined by stream copy; see `segments.py`. Feedback then re-encodes
  only the pieces whose inputs changed. The soundtrack is cached as an AAC track by the hash of the
  mix's inputs (`soundtrack.py`) and copied in; with a `segment_cache`, stream copy uses it too.

The output lands atomically: a half-written film never appears at `out_path`.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import cards
from .grade import STRENGTH, ShotGrade, plan_grade
from .narration import mix_soundtrack, place_lines, speak_shots
from .presets import reframe_or_refuse
from .segments import Encoding, Marking, PieceRef, ShotSource, file_identity, join_pieces, make_pieces, plan_pieces
from .soundtrack import Soundtrack
from .subtitles import SubtitleBurner, cues_from_timeline, write_subtitles
from .timeline import CutClip, Segment, build_timeline, total_frames
from .video_io import EditError, VideoWriter, _fps_arg, concat_copy, ffmpeg_exe, i420_to_rgb, probe

__all__ = ["CutClip", "CutResult", "Marking", "assemble_cut", "EditError"]

FinishFrames = Callable[[np.ndarray], np.ndarray]
Progress = Callable[[int, int], None]
CHUNK = 12     # frames per batch handed to finish_frames / the encoder


@dataclass
class CutResult:
    path: Path
    duration: float                 # seconds
    frames: int
    fps: float
    width: int
    height: int
    timeline: list[dict]            # per segment: kind, shot_id, start, end (seconds), frames, ...
    timeline_clips: list[Segment]   # the same, as objects (write_otio takes these)
    warnings: list[str] = field(default_factory=list)
    srt_path: Path | None = None
    vtt_path: Path | None = None
    audio: bool = False
    path_used: str = "reencode"     # "stream_copy" | "segments" | "reencode"
    graded_shots: dict[str, dict] = field(default_factory=dict)   # shot id -> ShotGrade.summary(), graded shots only
    pieces_reused: int = 0          # incremental finishing: pieces taken from the cache ...
    pieces_made: int = 0            # ... and pieces encoded for this cut
    pieces: list[PieceRef] = field(default_factory=list)   # incremental finishing: the cut's pieces in order
    soundtrack: str | None = None   # "reused" (cached, copied in), "mixed" (mixed and encoded for this cut), None: silent

    @property
    def shot_starts(self) -> dict[str, float]:
        return {s.shot_id: s.start_seconds for s in self.timeline_clips if s.kind == "shot"}


@dataclass
class SoundPlan:
    """What the cut says and when: the narration spoken and placed, and how long the end is held so
    the last line is not cut off. It depends on the shots' lengths, transitions, lines and voices and
    on the cards, never on the takes' pictures, so it can be made (and the soundtrack mixed and
    encoded) while the takes are still being generated."""

    key: tuple
    lines: list
    hold_seconds: float
    warnings: list[str]
    frames: int                 # the film's frames, the held end included: the soundtrack is exactly this long
    mixed_ahead: bool = False   # prepare_soundtrack mixed and encoded the track for this cut (not an earlier one's)


def sound_key(clips: list[CutClip], fps: float, title_seconds: float, end_seconds: float, narration: bool) -> tuple:
    """Everything a SoundPlan depends on: a plan is used for a cut only when this is equal."""
    return (tuple((c.shot_id, c.duration, c.transition, c.narration, c.voice) for c in clips),
            fps, title_seconds, end_seconds, narration)


def plan_sound(clips: list[CutClip], fps: float, *, title_seconds: float, end_seconds: float,
               narration: bool = True) -> SoundPlan:
    """Speak and place every shot's narration (`title_seconds` 0: no title card)."""
    warnings: list[str] = []
    segments = build_timeline(clips, fps, title_seconds=title_seconds, end_seconds=end_seconds)
    lines = speak_shots(segments, warnings) if narration else []
    place_lines(lines, warnings)
    film_end = total_frames(segments) / fps
    voice_end = max((line.end for line in lines), default=0.0)
    hold = 0.0
    if voice_end > film_end:
        hold = voice_end - film_end + 0.25
        where = "the end card is held" if end_seconds > 0 else "the last frame is held"
        warnings.append(f"narration runs {voice_end - film_end:.1f} s past the end of the film: {where} {hold:.1f} s longer")
        segments = build_timeline(clips, fps, title_seconds=title_seconds, end_seconds=end_seconds, hold_seconds=hold)
    return SoundPlan(sound_key(clips, fps, title_seconds, end_seconds, narration), lines, hold, warnings,
                     total_frames(segments))


def prepare_soundtrack(clips: list[CutClip], fps: float, *, title_seconds: float, end_seconds: float,
                       narration: bool, music_path: str | os.PathLike | None, segment_cache: str | os.PathLike) -> SoundPlan:
    """Plan the cut's sound and mix and encode its soundtrack into `segment_cache`, where the
    `assemble_cut` given this plan and the same cache copies it in instead of mixing it again. The
    clips' paths are not read: a render calls this before its takes exist, so the mix and the AAC
    encode overlap the takes instead of following the last one."""
    sound = plan_sound(clips, fps, title_seconds=title_seconds, end_seconds=end_seconds, narration=narration)
    cache = Path(segment_cache)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".sound-") as tmp:
        music = Path(music_path) if music_path else None
        with Soundtrack.start(sound.lines, sound.frames / fps, music, cache / "audio", Path(tmp), []) as track:
            track.path()
            sound.mixed_ahead = not track.reused
    return sound


def _probe_takes(clips: list[CutClip]) -> list[dict]:
    def one(clip: CutClip) -> dict:
        if not clip.path.is_file():
            raise EditError(f"shot '{clip.shot_id}': its take file {clip.path} does not exist; "
                            f"generate the shot again or select another take")
        try:
            return probe(clip.path, count_frames=False)
        except EditError as err:
            raise EditError(f"shot '{clip.shot_id}': its take file {clip.path} cannot be read ({err}); "
                            f"generate the shot again or select another take") from None

    # sequential: an MP4 is probed from its boxes in about a millisecond, less than a thread costs
    return [one(clip) for clip in clips]


def assemble_cut(
    clips: list[CutClip],
    out_path: str | os.PathLike,
    *,
    width: int,
    height: int,
    fps: float,
    title: str | None = None,
    credits: str | list[str] | None = None,
    title_seconds: float = 2.0,
    end_seconds: float = 2.0,
    finish_frames: FinishFrames | None = None,
    narration: bool = True,
    music_path: str | os.PathLike | None = None,
    burn_subtitles: bool = False,
    progress: Progress | None = None,
    crf: int = 20,
    x264_preset: str = "veryfast",
    grade: float = STRENGTH,
    segment_cache: str | os.PathLike | None = None,
    marking: Marking | None = None,
    sound: SoundPlan | None = None,
) -> CutResult:
    """Assemble `clips` into an H.264/AAC MP4 at `out_path`, with `final.srt`/`.vtt` sidecars beside it
    (same stem as `out_path`).

    The title card shows when `title` is given and `title_seconds` > 0; the end card (credits and the
    AI disclosure line) whenever `end_seconds` > 0. `finish_frames` gets every frame the editor makes
    as an (N, H, W, 3) uint8 batch and returns the marked batch.

    `grade` (0..1, 0 = off) is how far each shot's colour moves toward the film's look; graded shots
    are listed in `CutResult.graded_shots` and their frames go through `finish_frames`.

    `segment_cache` (a folder) turns on incremental finishing (see `segments.py`): the cut is made of
    pieces cached there and joined by stream copy, so a later cut re-encodes only what changed.
    `marking` then marks the frames made from a take with that take's own payload (`CutClip.watermark`);
    `finish_frames` still marks the cards with the cut's.

    `sound` is the cut's narration as `plan_sound` placed it for these clips, when the caller made it
    ahead (with `prepare_soundtrack`, while the takes were made); it is made here otherwise, or when
    it was planned for other clips.
    """
    out_path = Path(out_path)
    if not clips:
        raise EditError("a cut needs at least one clip")
    if not 0 <= grade <= 1:
        raise EditError(f"grade {grade} must be between 0 (off) and 1 (every shot all the way to the film's look)")
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise EditError(f"the cut's size {width}x{height} must be positive and even (H.264 yuv420p)")
    warnings: list[str] = []
    infos = _probe_takes(clips)
    for clip, info in zip(clips, infos):
        try:
            reframe_or_refuse((info["width"], info["height"]), (width, height))
        except EditError as err:
            raise EditError(f"shot '{clip.shot_id}' ({clip.path.name}): {err}") from None

    title_seconds = title_seconds if title and title_seconds > 0 else 0.0
    if sound is None or sound.key != sound_key(clips, fps, title_seconds, end_seconds, narration):
        sound = plan_sound(clips, fps, title_seconds=title_seconds, end_seconds=end_seconds, narration=narration)
    warnings.extend(sound.warnings)
    segments = build_timeline(clips, fps, title_seconds=title_seconds, end_seconds=end_seconds, hold_seconds=sound.hold_seconds)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    shots = [s for s in segments if s.kind == "shot"]
    planned = plan_grade(shots, infos, width, height, fps, strength=grade)
    grades = {i: g for i, g in planned.items() if not g.identity}
    cues = cues_from_timeline(segments, {line.shot_id: (line.start, line.end) for line in sound.lines})
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".assemble-") as tmp:
        work = _CutWork(clips, infos, segments, sound.lines, Path(music_path) if music_path else None, width, height, fps,
                        out_path, Path(tmp), warnings, progress)
        if not grades and _can_stream_copy(segments, clips, infos, width, height, fps, burn_subtitles):
            joined = _join_takes(work, segment_cache)
        elif segment_cache is not None and not burn_subtitles:
            joined = _join_pieces(work, Path(segment_cache), grades, Encoding(width, height, fps, crf, x264_preset),
                                  marking, finish_frames, title, credits)
        else:
            # on 2 cores, mixing in a thread beside the render was measured no faster than mixing first
            audio = mix_soundtrack(work.lines, work.seconds, work.tmp / "soundtrack.wav", music_path=work.music,
                                   warnings=warnings)
            burner = SubtitleBurner(cues, width, height) if burn_subtitles and cues else None
            _reencode(segments, infos, out_path, width=width, height=height, fps=fps, audio=audio, title=title,
                      credits=credits, finish=finish_frames, burner=burner, progress=progress, crf=crf,
                      x264_preset=x264_preset, warnings=warnings, grades=grades)
            joined = _Joined("reencode", audio)
        # sidecars only once the film is there: a failed cut leaves nothing behind
        srt, vtt = write_subtitles(cues, out_path.with_suffix(".srt"), out_path.with_suffix(".vtt"))

    n_total = work.n_total
    return CutResult(
        path=out_path, duration=n_total / fps, frames=n_total, fps=fps, width=width, height=height,
        timeline=_timeline_record(segments, shots, grades), timeline_clips=segments, warnings=warnings,
        srt_path=srt, vtt_path=vtt, audio=joined.audio is not None, path_used=joined.path_used,
        graded_shots={g.shot_id: g.summary() for g in grades.values()},
        pieces_reused=joined.reused, pieces_made=joined.made, pieces=joined.pieces,
        soundtrack=None if joined.audio is None else "reused" if joined.track_reused and not sound.mixed_ahead else "mixed",
    )


@dataclass
class _CutWork:
    """What every way of joining a cut works from."""

    clips: list[CutClip]
    infos: list[dict]
    segments: list[Segment]
    lines: list
    music: Path | None
    width: int
    height: int
    fps: float
    out_path: Path
    tmp: Path
    warnings: list[str]
    progress: Progress | None

    @property
    def n_total(self) -> int:
        return total_frames(self.segments)

    @property
    def seconds(self) -> float:
        return self.n_total / self.fps

    @property
    def shots(self) -> list[Segment]:
        return [s for s in self.segments if s.kind == "shot"]

    def soundtrack(self, segment_cache: Path) -> Soundtrack:
        return Soundtrack.start(self.lines, self.seconds, self.music, segment_cache / "audio", self.tmp, self.warnings)


@dataclass
class _Joined:
    """How the cut was joined, and from what."""

    path_used: str                  # "stream_copy" | "segments" | "reencode"
    audio: Path | None
    track_reused: bool = False      # the soundtrack was taken from the cache
    pieces: list[PieceRef] = field(default_factory=list)
    reused: int = 0
    made: int = 0


def _join_takes(work: _CutWork, segment_cache: str | os.PathLike | None) -> _Joined:
    """The takes as they are, by stream copy, with the soundtrack."""
    shots, n_total = work.shots, work.n_total
    if segment_cache is None:
        audio = mix_soundtrack(work.lines, work.seconds, work.tmp / "soundtrack.wav", music_path=work.music,
                               warnings=work.warnings)
        _stream_copy(work.segments, work.out_path, audio, work.tmp, n_total)
        joined = _Joined("stream_copy", audio)
    else:
        with work.soundtrack(Path(segment_cache)) as track:
            audio = track.path()
            concat_copy([s.path for s in shots], work.out_path, audio, work.tmp / "concat.txt", what="the takes",
                        expect_frames=n_total, copy_audio=True)
        # each take's bytes are the cut's: a frame of it is the same picture in any cut that copies it
        joined = _Joined("stream_copy", audio, track.reused,
                         [PieceRef(s.start, s.frames, clip.content_hash, s.path if clip.content_hash else None)
                          for s, clip in zip(shots, work.clips)])
    if work.progress:
        work.progress(n_total, n_total)
    return joined


def _join_pieces(work: _CutWork, segment_cache: Path, grades: dict, enc: Encoding, marking: Marking | None,
                 finish_frames: FinishFrames | None, title: str | None, credits) -> _Joined:
    """Separately encoded pieces, cached by their inputs (segments.py), joined by stream copy."""
    sources = [ShotSource(segment=s, info=info, grade=grades.get(i),
                          ident=clip.content_hash or file_identity(clip.path), payload=clip.watermark)
               for i, (s, info, clip) in enumerate(zip(work.shots, work.infos, work.clips))]
    pieces = plan_pieces(work.segments, sources, enc, marking, finish_frames, title=title, credits=credits, blend=_blend)
    # the soundtrack (cached, or mixed and encoded in the background) while the pieces are made
    with work.soundtrack(segment_cache) as track:
        make_pieces(pieces, enc, segment_cache, work.tmp, work.progress)
        audio = track.path()
        join_pieces(pieces, work.out_path, audio, work.tmp, work.n_total)
    reused = sum(p.reused for p in pieces)
    return _Joined("segments", audio, track.reused, [PieceRef(p.start, p.frames, p.key, p.path if p.key else None)
                                                       for p in pieces], reused, len(pieces) - reused)


def _timeline_record(segments: list[Segment], shots: list[Segment], grades: dict[int, ShotGrade]) -> list[dict]:
    """The cut's timeline as the manifest lists it: each segment, and each shot's grade."""
    by_segment = {id(shots[i]): g for i, g in grades.items()}
    timeline = []
    for s in segments:
        d = s.as_dict()
        if s.kind == "shot":
            g = by_segment.get(id(s))
            d["grade"] = g.summary() if g else None
        timeline.append(d)
    return timeline


# ----------------------------------------------------------------------------- stream copy


def _can_stream_copy(segments, clips, infos, width, height, fps, burn_subtitles) -> bool:
    """Whether the takes can be joined untouched (the caller also checks that no shot is graded)."""
    if burn_subtitles or any(s.kind != "shot" or s.overlap_out for s in segments):
        return False
    for info in infos:
        if (info["codec"] != "h264" or info["pix_fmt"] != "yuv420p" or (info["width"], info["height"]) != (width, height)
                or abs(info["fps"] - fps) > 1e-3):
            return False
    # one MP4 holds one set of decoder parameters (avcC): takes encoded differently cannot share it
    if infos[0].get("extradata") is None or any(i.get("extradata") != infos[0]["extradata"] for i in infos):
        return False
    shots = [s for s in segments if s.kind == "shot"]
    return all(info["frames"] == s.frames for info, s in zip(infos, shots))


def _stream_copy(segments: list[Segment], out_path: Path, audio: Path | None, tmp: Path, n_total: int) -> None:
    concat_copy([s.path for s in segments], out_path, audio, tmp / "concat.txt", what="the takes", expect_frames=n_total)


# ----------------------------------------------------------------------------- re-encode


class _RawFrames:
    """Reads the decoder's raw yuv420p stream on a thread, so decoding runs while Python and x264 work."""

    def __init__(self, cmd: list[str], frame_bytes: int, expected: int, shots: list[Segment]):
        self.frame_bytes = frame_bytes
        self.shots = shots
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, bufsize=0)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._pending: list[bytes] = []      # chunks from the pump not yet handed out
        self._have = 0
        self._thread = threading.Thread(target=self._pump, args=(expected,), daemon=True)
        self._thread.start()

    def _pump(self, expected: int) -> None:
        remaining = expected * self.frame_bytes
        step = self.frame_bytes * CHUNK
        try:
            while remaining > 0:
                data = self._proc.stdout.read(min(step, remaining))
                if not data:
                    break
                remaining -= len(data)
                self._queue.put(data)
        finally:
            self._queue.put(None)

    def read(self, n: int, segment: Segment) -> bytes:
        want = n * self.frame_bytes
        while self._have < want:
            data = self._queue.get()
            if data is None:
                self._queue.put(None)
                said = self.error()
                # the decoder runs ahead of us, so ffmpeg's input index says which take broke, not our position
                bad = self.shots_named_in(said) or [segment]
                names = ", ".join(f"shot '{s.shot_id}' ({s.path})" for s in bad)
                raise EditError(f"{names}: the take could not be decoded to the end ({_first_problem(said)}); "
                                f"generate the shot again or select another take")
            self._pending.append(data)
            self._have += len(data)
        joined = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        out, rest = joined[:want], joined[want:]
        self._pending = [rest] if rest else []
        self._have = len(rest)
        return out

    def error(self) -> str:
        self._proc.wait()
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip() or f"exit code {self._proc.returncode}"

    def shots_named_in(self, said: str) -> list[Segment]:
        """ffmpeg names inputs by index ("in#1", "vist#1:0", "input 1:0"): turn those back into shots."""
        found = sorted({int(i) for i in re.findall(r"(?:\bin#|\bvist#|\bist#|\binput )(\d+)", said)
                        if int(i) < len(self.shots)})
        return [self.shots[i] for i in found]

    def messages(self) -> str:
        """What ffmpeg said while decoding (at -loglevel error: only problems, e.g. a truncated take)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip()

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        # the pump may be blocked on a full queue after an error: drain it so the thread can finish
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._proc.stdout.close()
        self._log.close()


def _first_problem(said: str) -> str:
    """The most telling line of ffmpeg's complaint: the first that names a problem, without the noise."""
    lines = [ln for ln in said.splitlines() if ln.strip()]
    for ln in lines:
        if re.search(r"partial file|Invalid|corrupt|error", ln, re.I):
            return re.sub(r"\[[^\]]*@ 0x[0-9a-f]+\] ?", "", ln).strip()[:200]
    return (lines[-1] if lines else "no message")[:200]


def _decoder_cmd(shots: list[Segment], infos: list[dict], width: int, height: int, fps: float) -> list[str]:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin"]
    for s in shots:
        cmd += ["-i", str(s.path)]
    parts = []
    for i, (s, info) in enumerate(zip(shots, infos)):
        chain = []
        if (info["width"], info["height"]) != (width, height):
            chain.append(f"scale={width}:{height}:flags=lanczos")
        chain.append("setsar=1")
        if abs(info["fps"] - fps) > 1e-3:
            chain.append(f"fps={_fps_arg(fps)}")
        # exactly `frames` frames: a short take holds its last frame, a long one is trimmed
        chain += [f"tpad=stop_mode=clone:stop={s.frames}", f"trim=end_frame={s.frames}", "setpts=PTS-STARTPTS"]
        parts.append(f"[{i}:v:0]{','.join(chain)}[v{i}]")
    joined = "".join(f"[v{i}]" for i in range(len(shots)))
    parts.append(f"{joined}concat=n={len(shots)}:v=1:a=0,format=yuv420p[out]")
    return cmd + ["-filter_complex", ";".join(parts), "-map", "[out]", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]


def _blend(transition: str, outgoing: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    """Transition frames from the outgoing shot's tail and the incoming shot's head (same length)."""
    import cv2

    n, h, w, _ = outgoing.shape
    out = np.empty_like(outgoing)
    for k in range(n):
        p = (k + 1) / (n + 1)                     # the incoming shot's share, 0 < p < 1
        a, b = outgoing[k], incoming[k]
        if transition == "crossfade":
            out[k] = cv2.addWeighted(a, 1 - p, b, p, 0)
        elif transition == "fade":
            # dip to black: the outgoing shot fades out over the first half, the incoming fades in over the second
            out[k] = cv2.convertScaleAbs(a, alpha=1 - 2 * p) if p < 0.5 else cv2.convertScaleAbs(b, alpha=2 * p - 1)
        elif transition == "wipe":
            edge = int(p * w)                     # the incoming shot sweeps in from the left
            out[k, :, :edge], out[k, :, edge:] = b[:, :edge], a[:, edge:]
        else:
            raise EditError(f"unknown transition '{transition}'")
    return out


def _finish(frames: np.ndarray, finish: FinishFrames | None) -> np.ndarray:
    if finish is None:
        return frames
    out = np.asarray(finish(frames))
    if out.shape != frames.shape:
        raise EditError(f"finish_frames returned shape {out.shape} for frames of shape {frames.shape}")
    return out.astype(np.uint8, copy=False)


def _reencode(segments: list[Segment], infos: list[dict], out_path: Path, *, width: int, height: int, fps: float,
              audio: Path | None, title: str | None, credits, finish: FinishFrames | None,
              burner: SubtitleBurner | None, progress: Progress | None, crf: int, x264_preset: str,
              warnings: list[str], grades: dict[int, ShotGrade] | None = None) -> None:
    shots = [s for s in segments if s.kind == "shot"]
    for s, info in zip(shots, infos):
        # estimated from the header; the decoder pads or trims to the exact count either way
        if info["frames"] < s.frames - 1:
            warnings.append(f"shot '{s.shot_id}': the take is {info['duration']:.2f} s, the shot {s.duration_seconds:.2f} s: "
                            f"its last frame is held")
    # frames travel as yuv420p: half the bytes of RGB, and a take's pixels are never colour-converted;
    # only the frames the editor makes or changes are turned into RGB and back
    frame_bytes = width * height * 3 // 2
    source = _RawFrames(_decoder_cmd(shots, infos, width, height, fps), frame_bytes, sum(s.frames for s in shots), shots)
    writer = VideoWriter(out_path, width, height, fps, crf=crf, preset=x264_preset, audio_path=audio,
                         input_pix_fmt="yuv420p")
    grade_of = {id(shots[i]): g for i, g in (grades or {}).items()}
    job = _Reencoder(source, writer, width, height, fps, total_frames(segments), finish, burner, progress, grade_of)
    try:
        job.run(segments, title, credits)
        writer.close()
        source._proc.wait()
        said = source.messages()
        if said:
            named = [s.shot_id for s in source.shots_named_in(said)]
            which = f"shot(s) {', '.join(repr(x) for x in named)}" if named else "the takes"
            warnings.append(f"ffmpeg reported problems decoding {which}; damaged frames may show as held or broken "
                            f"(generate again if so): {_first_problem(said)}")
    except BaseException:
        writer.abort()
        raise
    finally:
        source.close()


class _Reencoder:
    """One pass over the timeline: takes' frames from the decoder straight to the encoder, and the
    frames the editor makes (cards, transitions, graded or subtitled frames) marked on the way."""

    def __init__(self, source: _RawFrames, writer: VideoWriter, width: int, height: int, fps: float, n_total: int,
                 finish: FinishFrames | None, burner: SubtitleBurner | None, progress: Progress | None,
                 grade_of: dict[int, ShotGrade]):
        self.source, self.writer = source, writer
        self.width, self.height, self.fps, self.n_total = width, height, fps, n_total
        self.finish, self.burner, self.progress, self.grade_of = finish, burner, progress, grade_of
        self.frame_bytes = width * height * 3 // 2
        self.done = 0
        self.tail: np.ndarray | None = None      # the outgoing shot's frames that overlap the next shot
        self.last: np.ndarray | None = None      # the last frame written from a take (a hold repeats it)
        self.previous: Segment | None = None     # the segment before this one (its transition blends into this)

    def run(self, segments: list[Segment], title: str | None, credits) -> None:
        for seg in segments:
            if seg.kind == "title":
                self.emit_card(cards.title_card(self.width, self.height, title or ""), seg)
            elif seg.kind == "end":
                self.emit_card(cards.end_card(self.width, self.height, credits, title=title), seg)
            elif seg.kind == "hold":
                assert self.last is not None, "a hold follows a shot"
                self.emit_card(self.last, seg)
            else:
                self.shot(seg)
                self.previous = seg
        if self.done != self.n_total:
            raise EditError(f"internal: wrote {self.done} frames where the timeline has {self.n_total}")

    def emit(self, frames: np.ndarray | bytes | memoryview, first: int) -> None:
        self.writer.write(frames)
        n = len(frames) // self.frame_bytes if isinstance(frames, (bytes, bytearray, memoryview)) else len(frames)
        self.done = first + n
        if self.progress:
            self.progress(self.done, self.n_total)

    def as_frames(self, data: bytes | memoryview) -> np.ndarray:
        return i420_to_rgb(data, self.width, self.height)

    def take_frames(self, n: int, seg: Segment) -> bytes | memoryview:
        """The next `n` frames of `seg`'s take, raw, through its grade if it has one."""
        data = self.source.read(n, seg)
        g = self.grade_of.get(id(seg))
        return g.apply_i420(data, self.width, self.height) if g is not None else data

    def cues_in(self, first: int, n: int) -> list[tuple[int, Any]]:
        if self.burner is None:
            return []
        hits = [(k, self.burner.cue_at((first + k) / self.fps)) for k in range(n)]
        return [(k, c) for k, c in hits if c is not None]

    def burned(self, frames: np.ndarray, first: int) -> np.ndarray:
        """Burn subtitles into the frames showing a cue."""
        hits = self.cues_in(first, len(frames))
        if not hits or self.burner is None:
            return frames
        frames = frames.copy()
        for k, c in hits:
            self.burner.burn(frames[k], c)
        return frames

    def emit_made(self, frames: np.ndarray, first: int) -> None:
        """Frames the editor made: burn subtitles, then the label and watermark, in CHUNK batches."""
        for k in range(0, len(frames), CHUNK):
            part = self.burned(frames[k:k + CHUNK], first + k)
            self.emit(_finish(np.ascontiguousarray(part), self.finish), first + k)

    def emit_card(self, frame: np.ndarray, seg: Segment) -> None:
        if not self.cues_in(seg.start, seg.frames):
            # A still card: label and watermark one frame, then repeat it (identical frames, a tenth of the work).
            marked = _finish(np.ascontiguousarray(frame[None]), self.finish)
            for k in range(0, seg.frames, CHUNK):
                self.emit(np.repeat(marked, min(CHUNK, seg.frames - k), axis=0), seg.start + k)
            return
        for k in range(0, seg.frames, CHUNK):
            n = min(CHUNK, seg.frames - k)
            self.emit_made(np.repeat(frame[None], n, axis=0), seg.start + k)

    def shot(self, seg: Segment) -> None:
        """A shot: the blend in from the previous shot, its body, and the frames that blend out."""
        t = seg.start
        if seg.overlap_in:
            head = self.as_frames(self.take_frames(seg.overlap_in, seg))
            assert self.previous is not None and self.tail is not None, "an overlap follows a shot"
            self.emit_made(_blend(self.previous.transition_out, self.tail, head), t)
            t += seg.overlap_in
        # graded frames are the editor's: every one is marked again (without a hook they stay yuv)
        remark = id(seg) in self.grade_of and self.finish is not None
        body = seg.frames - seg.overlap_in - seg.overlap_out
        k = 0
        while k < body:
            n = min(CHUNK * 2, body - k)
            data = self.take_frames(n, seg)
            hits = self.cues_in(t + k, n)
            if remark:
                self.emit_made(self.as_frames(data), t + k)      # subtitles, label and watermark, in batches
            elif hits:
                # frames with a burned subtitle are the editor's now: mark those again
                frames = self.burned(self.as_frames(data), t + k)
                changed = [j for j, _ in hits]
                frames[changed] = _finish(np.ascontiguousarray(frames[changed]), self.finish)
                self.emit(frames, t + k)
            else:
                self.emit(data, t + k)
            if k + n == body:
                self.last = self.as_frames(data[-self.frame_bytes:])[0]
            k += n
        if seg.overlap_out:
            self.tail = self.as_frames(self.take_frames(seg.overlap_out, seg))
            self.last = self.tail[-1].copy()
