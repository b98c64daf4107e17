"""Incremental finishing: the cut as separately encoded pieces, cached by what went into them.

A cut is laid out as pieces, in order: the title card, each shot's body (its frames outside any
transition), each transition (the blend of one shot's tail and the next one's head), the end card
or a held last frame. Every piece is encoded on its own with the same encoder settings, starting
with an IDR frame (x264 makes closed GOPs), so the pieces join by stream copy into one valid H.264
stream: the join costs milliseconds and no pixel is touched again.

A shot body or a transition is kept in a cache folder under the hash of everything that decides
its pixels: the take's content hash, the frame range used, the shot's grade tables, the transition
and both neighbours, the disclosure marking, the encoder settings, size and fps. Feedback that
changes one shot re-encodes that shot's body and the transitions next to it; a reorder re-encodes
the transitions whose neighbours changed (and any body whose overlap with a neighbour changed).

Watermark payloads (why a cached piece stays valid in every cut): a take is marked with its own
payload when it is generated, so an ungraded body passes its frames through untouched and carries
the take's payload. Frames the editor changes or makes from a take (a graded body, a transition)
are marked again with the payload of the take they come from (the outgoing take for a transition),
so they too depend on nothing but their inputs and can be reused by any later cut. Only the cards
(and a held last frame) are made for each cut and carry the cut's own payload. `director verify`
reads every payload in the film: the cut's resolves to the cut, a take's to the take and the newest
cut using it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import cards
from .grade import ShotGrade
from .timeline import MAX_OVERLAP_SECONDS, Segment
from .video_io import (
    EditError,
    VideoWriter,
    _fps_arg,
    concat_copy,
    ffmpeg_exe,
    i420_to_rgb,
    mp4_info,
    raw_input_args,
    rgb_to_i420,
    x264_args,
)

FinishFrames = Callable[[np.ndarray], np.ndarray]
CACHE_VERSION = 2          # bump when the way a piece is made changes (2: the label and watermark changed), so old entries are not reused
CHUNK = 24                 # frames per batch through Python


@dataclass(frozen=True)
class Marking:
    """How frames the editor changes are marked: `mark_with(payload)` returns the label-and-watermark
    hook for a payload; `key` names the operator's marking settings (label text, position, scale,
    watermark strength), part of every marked piece's cache key."""

    mark_with: Callable[[int], FinishFrames]
    key: str


@dataclass(frozen=True)
class Encoding:
    width: int
    height: int
    fps: float
    crf: int
    preset: str

    def key(self) -> dict:
        return {"w": self.width, "h": self.height, "fps": _fps_arg(self.fps), "crf": self.crf, "preset": self.preset}


@dataclass
class ShotSource:
    """One shot's take as the cut uses it: exactly `segment.frames` frames at the cut's size and fps."""

    segment: Segment
    info: dict                    # probe of the take file
    ident: str                    # the take's content hash (or the file's identity when it has none)
    grade: ShotGrade | None       # None: ungraded
    payload: int | None           # the take's watermark payload; None for a take without one (then the
                                  # frames made from it carry the cut's payload and are not cached)

    def key(self) -> dict:
        g = self.grade
        return {"take": self.ident, "frames": self.segment.frames, "payload": self.payload,
                "grade": None if g is None or g.luts is None else hashlib.sha256(g.luts.tobytes()).hexdigest()[:16]}


@dataclass
class Piece:
    kind: str                     # title | end | hold | body | transition
    start: int                    # first frame in the cut
    frames: int
    shot_id: str | None
    key: str | None               # cache key; None for pieces made for this cut only (cards)
    make: Callable[[Path], None] | None = field(default=None, repr=False)   # cards and transitions
    body: tuple[ShotSource, int, int, FinishFrames | None] | None = field(default=None, repr=False)  # src, first, stop, mark
    path: Path | None = None
    reused: bool = False


@dataclass(frozen=True)
class PieceRef:
    """Where a piece sits in the cut, and its cached file: a frame inside a keyed piece is the same
    picture in every cut made of it (its bytes are copied in, and it starts with an IDR frame)."""

    start: int                    # first frame in the cut
    frames: int
    key: str | None               # None: made for this cut alone (a card, a held frame)
    path: Path | None             # the cached piece; None for a piece made for this cut alone


def _digest(parts: dict) -> str:
    return hashlib.sha256(json.dumps({"v": CACHE_VERSION, **parts}, sort_keys=True).encode()).hexdigest()


# ----------------------------------------------------------------------------- decoding


def _decode(src: ShotSource, enc: Encoding, first: int, stop: int):
    """Frames [first, stop) of the shot's normalised take as raw yuv420p bytes, CHUNK frames at a time.

    The same filter chain as the whole-film decoder: scale and retime when the take differs from the
    cut, a short take holds its last frame, a long one is trimmed."""
    info, n = src.info, src.segment.frames
    chain = []
    if (info["width"], info["height"]) != (enc.width, enc.height):
        chain.append(f"scale={enc.width}:{enc.height}:flags=lanczos")
    chain.append("setsar=1")
    if abs(info["fps"] - enc.fps) > 1e-3:
        chain.append(f"fps={_fps_arg(enc.fps)}")
    chain += [f"tpad=stop_mode=clone:stop={n}", f"trim=start_frame={first}:end_frame={stop}", "setpts=PTS-STARTPTS",
              "format=yuv420p"]
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(src.segment.path),
           "-filter_complex", f"[0:v:0]{','.join(chain)}[out]", "-map", "[out]",
           "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    frame_bytes = enc.width * enc.height * 3 // 2
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log)
        try:
            left = stop - first
            while left > 0:
                want = min(CHUNK, left) * frame_bytes
                data = proc.stdout.read(want)
                if len(data) < want:
                    proc.wait()
                    log.seek(0)
                    said = log.read().decode(errors="replace").strip()[-300:]
                    raise EditError(f"shot '{src.segment.shot_id}' ({src.segment.path}): the take could not be decoded "
                                    f"to the end ({said or 'no message'}); generate the shot again or select another take")
                left -= want // frame_bytes
                yield src.grade.apply_i420(data, enc.width, enc.height) if src.grade is not None else data
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()


def _rgb(src: ShotSource, enc: Encoding, first: int, stop: int) -> np.ndarray:
    return np.concatenate([i420_to_rgb(d, enc.width, enc.height) for d in _decode(src, enc, first, stop)])


def _writer(path: Path, enc: Encoding) -> VideoWriter:
    # no faststart: a piece is only ever read by the joiner, and moving the index costs a rewrite
    return VideoWriter(path, enc.width, enc.height, enc.fps, crf=enc.crf, preset=enc.preset,
                       input_pix_fmt="yuv420p", faststart=False)


def _finish(frames: np.ndarray, mark: FinishFrames) -> np.ndarray:
    out = np.asarray(mark(np.ascontiguousarray(frames)))
    if out.shape != frames.shape:
        raise EditError(f"the marking hook returned shape {out.shape} for frames of shape {frames.shape}")
    return out.astype(np.uint8, copy=False)


# ----------------------------------------------------------------------------- the pieces


def _mark_for(src: ShotSource, marking: Marking | None, cut_mark: FinishFrames | None) -> FinishFrames | None:
    if src.payload is None or marking is None:
        return cut_mark
    return _Deferred(marking.mark_with, src.payload)


class _Deferred:
    """`mark_with(payload)`, made on first use: a cut whose pieces are all cached marks nothing, and
    building a marker (it reads the operator's settings) costs milliseconds per piece."""

    def __init__(self, mark_with: Callable[[int], FinishFrames], payload: int):
        self._mark_with, self._payload = mark_with, payload
        self._mark: FinishFrames | None = None
        self._lock = threading.Lock()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        with self._lock:
            if self._mark is None:
                self._mark = self._mark_with(self._payload)
        return self._mark(frames)


def _bodies(run: list[Piece], enc: Encoding, tmp: Path) -> None:
    """Encode contiguous body pieces of one shot in one pass: one decoder, one encoder whose output
    the segment muxer splits at each piece's first frame (a forced key frame, an IDR: x264's GOPs
    are closed). Two processes per shot instead of two per piece."""
    src, first, _, mark = run[0].body
    stop = run[-1].body[2]
    splits = [p.body[1] - first for p in run[1:]]
    remark = src.grade is not None and mark is not None
    out_dir = Path(tempfile.mkdtemp(prefix="run-", dir=tmp))
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *raw_input_args(enc.width, enc.height, enc.fps),
           *x264_args(enc.preset, enc.crf)]
    if splits:
        cmd += ["-force_key_frames", "expr:" + "+".join(f"eq(n,{k})" for k in splits)]
    cmd += ["-f", "segment", "-segment_format", "mp4", "-reset_timestamps", "1",
            "-segment_frames", ",".join(map(str, splits)) or str(stop - first + 1), str(out_dir / "%04d.mp4")]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=log)
        try:
            for data in _decode(src, enc, first, stop):
                # graded frames are the editor's: label and watermark them again (with the take's payload)
                proc.stdin.write(rgb_to_i420(_finish(i420_to_rgb(data, enc.width, enc.height), mark)) if remark else data)
            proc.stdin.close()
            rc = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if rc != 0:
            log.seek(0)
            raise EditError(f"ffmpeg failed encoding shot '{src.segment.shot_id}': {log.read().decode(errors='replace')[-500:]}")
    files = sorted(out_dir.glob("*.mp4"))
    if len(files) != len(run):
        raise EditError(f"internal: encoding shot '{src.segment.shot_id}' gave {len(files)} pieces where {len(run)} were due")
    for p, f in zip(run, files):
        got = mp4_info(f)
        if got is None or got["frames"] != p.frames:
            raise EditError(f"internal: a piece of shot '{src.segment.shot_id}' has {got and got['frames']} frames "
                            f"where {p.frames} were due")
        os.chmod(f, 0o644)
        os.replace(f, p.path)


def _transition(kind: str, a: ShotSource, b: ShotSource, n: int, enc: Encoding, mark: FinishFrames | None,
                blend: Callable[[str, np.ndarray, np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        tail = _rgb(a, enc, a.segment.frames - n, a.segment.frames)
        head = _rgb(b, enc, 0, n)
        frames = blend(kind, tail, head)
        if mark is not None:
            frames = _finish(frames, mark)
        with _writer(path, enc) as w:
            w.write(frames)
    return make


def _still(frame_of: Callable[[], np.ndarray], frames: int, enc: Encoding, mark: FinishFrames | None) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        still = frame_of()[None]
        if mark is not None:
            still = _finish(still, mark)    # one frame marked, then repeated: identical frames
        with _writer(path, enc) as w:
            for k in range(0, frames, CHUNK):
                w.write(np.repeat(still, min(CHUNK, frames - k), axis=0))
    return make


def body_ranges(seg: Segment) -> list[tuple[int, int]]:
    """The frame ranges of a shot shown outside its transitions, split so that its core never depends
    on its neighbours: the core is [E, N-E), E being the largest overlap any neighbour could have
    (timeline.overlap_frames); what a particular neighbour leaves of the edges is a small piece of
    its own. A reorder then re-encodes transitions and edges, never a shot's core."""
    n = seg.frames
    edge = min(round(MAX_OVERLAP_SECONDS * seg.fps), n // 4)
    ranges = [(seg.overlap_in, edge), (edge, n - edge), (n - edge, n - seg.overlap_out)]
    return [(a, b) for a, b in ranges if b > a]


def plan_pieces(segments: list[Segment], sources: list[ShotSource], enc: Encoding, marking: Marking | None,
                cut_mark: FinishFrames | None, *, title: str | None, credits,
                blend: Callable[[str, np.ndarray, np.ndarray], np.ndarray]) -> list[Piece]:
    """The cut's pieces in order, each with its cache key (None for cards) and the recipe making it."""
    by_shot = {id(s.segment): s for s in sources}
    mark_key = marking.key if marking is not None else None

    def own_marks(src: ShotSource) -> bool:
        """Whether frames the editor makes from this take are marked independently of the cut."""
        return cut_mark is None or (marking is not None and src.payload is not None)
    pieces: list[Piece] = []
    previous: ShotSource | None = None
    for seg in segments:
        if seg.kind == "title":
            pieces.append(Piece("title", seg.start, seg.frames, None, None,
                                _still(lambda: cards.title_card(enc.width, enc.height, title or ""), seg.frames, enc, cut_mark)))
        elif seg.kind == "end":
            pieces.append(Piece("end", seg.start, seg.frames, None, None,
                                _still(lambda: cards.end_card(enc.width, enc.height, credits, title=title), seg.frames, enc, cut_mark)))
        elif seg.kind == "hold":
            last = previous
            pieces.append(Piece("hold", seg.start, seg.frames, seg.shot_id, None,
                                _still(lambda last=last: _rgb(last, enc, last.segment.frames - 1, last.segment.frames)[0],
                                       seg.frames, enc, cut_mark)))
        else:
            src = by_shot[id(seg)]
            t = seg.start
            if seg.overlap_in:
                # a piece marked with the cut's payload (a take without its own) belongs to this cut alone
                key = None if not own_marks(previous) else _digest({
                    "kind": "transition", "how": previous.segment.transition_out, "n": seg.overlap_in,
                    "a": previous.key(), "b": src.key(), "enc": enc.key(), "mark": mark_key})
                pieces.append(Piece("transition", t, seg.overlap_in, seg.shot_id, key,
                                    _transition(previous.segment.transition_out, previous, src, seg.overlap_in, enc,
                                                _mark_for(previous, marking, cut_mark), blend)))
                t += seg.overlap_in
            graded = src.grade is not None
            for first, stop in body_ranges(seg):
                key = None if (graded and not own_marks(src)) else _digest({
                    "kind": "body", "src": src.key(), "range": [first, stop], "enc": enc.key(),
                    "mark": mark_key if graded else None})
                pieces.append(Piece("body", t, stop - first, seg.shot_id, key,
                                    body=(src, first, stop, _mark_for(src, marking, cut_mark))))
                t += stop - first
            previous = src
    return pieces


# ----------------------------------------------------------------------------- making and joining


def make_pieces(pieces: list[Piece], enc: Encoding, cache_dir: Path, tmp: Path,
                progress: Callable[[int, int], None] | None = None, workers: int = 2) -> None:
    """Reuse every cached piece; make the others (two at a time: each is a decoder, Python and an
    encoder, which on 2 cores overlap well). Cached pieces land atomically, so a crash leaves none half-written."""
    total = sum(p.frames for p in pieces)
    done = 0
    lock = threading.Lock()

    def report(n: int) -> None:
        nonlocal done
        with lock:
            done += n
            if progress:
                progress(done, total)

    todo = []
    for i, p in enumerate(pieces):
        if p.key is not None:
            p.path = cache_dir / p.key[:2] / f"{p.key}.mp4"
            if p.path.is_file() and mp4_info(p.path) is not None and mp4_info(p.path)["frames"] == p.frames:
                p.reused = True
                report(p.frames)
                continue
            p.path.parent.mkdir(parents=True, exist_ok=True)
        else:
            p.path = tmp / f"piece-{i:04d}-{p.kind}.mp4"
        todo.append(p)

    # contiguous body pieces of one shot are made together; cards and transitions one by one
    jobs: list[list[Piece]] = []
    for p in todo:
        last = jobs[-1][-1] if jobs else None
        if (p.body is not None and last is not None and last.body is not None and last.body[0] is p.body[0]
                and last.body[2] == p.body[1]):
            jobs[-1].append(p)
        else:
            jobs.append([p])

    def one(job: list[Piece]) -> None:
        if job[0].body is not None:
            _bodies(job, enc, tmp)
        else:
            job[0].make(job[0].path)
        report(sum(p.frames for p in job))

    if jobs:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
            for f in [pool.submit(one, job) for job in jobs]:
                f.result()


def join_pieces(pieces: list[Piece], out_path: Path, audio: Path | None, tmp: Path, n_total: int) -> None:
    """Stream-copy the pieces and the encoded soundtrack (soundtrack.py) into one MP4; exact frame count checked."""
    infos = [mp4_info(p.path) for p in pieces]
    if any(i is None or i.get("extradata") is None for i in infos) or len({i["extradata"] for i in infos}) != 1:
        raise EditError("internal: the cut's pieces were encoded with different decoder settings and cannot be joined")
    concat_copy([p.path for p in pieces], out_path, audio, tmp / "pieces.txt", what="the cut's pieces",
                expect_frames=n_total, copy_audio=True)


def file_identity(path: Path) -> str:
    """A take file's identity when its content hash is not known: path, size and modification time."""
    st = os.stat(path)
    return f"file:{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}"
