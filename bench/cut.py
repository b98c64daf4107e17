"""Benchmark the editor against plain ffmpeg doing the same job, in the same run.

    .venv/bin/python bench/cut.py [--repeat 3] [--size 512x288]

1. Re-encode: a 6-shot, 30 s cut with crossfade, fade, wipe and cut transitions. Ours
   (`assemble_cut`, no cards, no narration, so the work is the same) against one ffmpeg filter
   graph (xfade for the transitions, concat for the cuts). Goal: ratio <= 1.5.
2. Stream copy: the same six takes joined with cuts only. Ours against `ffmpeg -f concat -c copy`.
   Goal: ratio <= 1.2.
Also printed, for information: the full cut with title and end cards and a finish_frames hook, and
what the colour grade adds to that cut (the takes here differ in colour, so every shot is graded):
its statistics pass alone (uncached) and the whole cut with `grade=0.5` against `grade=0`. The
ffmpeg comparisons above run with `grade=0`: plain ffmpeg does no grading.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.edit import grade as grading  # noqa: E402
from tools.edit.assemble import CutClip, assemble_cut  # noqa: E402
from tools.edit.timeline import build_timeline  # noqa: E402
from tools.edit.video_io import count_video_frames, ffmpeg_exe, probe, write_video  # noqa: E402

FPS = 24
SHOTS = 6
SECONDS = 5.0
TRANSITIONS = ["crossfade", "fade", "wipe", "cut", "crossfade", "cut"]
XFADE = {"crossfade": "fade", "fade": "fadeblack", "wipe": "wipeleft"}


def make_take(path: Path, index: int, width: int, height: int) -> None:
    """A moving gradient with a travelling block and grain: enough detail that x264 has real work."""
    n = int(SECONDS * FPS)
    rng = np.random.default_rng(index)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // width), (y * 255 // height), np.full_like(x, 40 * index % 255)], -1).astype(np.int16)
    frames = np.empty((n, height, width, 3), np.uint8)
    grain = rng.integers(-4, 5, (8, height, width, 1), dtype=np.int16)
    for i in range(n):
        f = np.roll(base, i * 3, axis=1) + grain[i % 8]
        bx = (i * 5) % (width - 60)
        f[height // 3: height // 3 + 60, bx: bx + 60] = (255 - 30 * index, 200, 60 * index % 255)
        frames[i] = np.clip(f, 0, 255)
    write_video(frames, FPS, path)


def overlap(a: int, b: int) -> int:
    return min(round(0.5 * FPS), min(a, b) // 4)


def ffmpeg_filter_graph(takes: list[Path], transitions: list[str], out: Path) -> None:
    n = int(SECONDS * FPS)
    parts = [f"[{i}:v]fps={FPS},settb=AVTB,setpts=PTS-STARTPTS,format=yuv420p[s{i}]" for i in range(len(takes))]
    acc, length = "s0", n
    for i in range(1, len(takes)):
        t = transitions[i - 1]
        label = f"j{i}"
        if t == "cut":
            parts.append(f"[{acc}][s{i}]concat=n=2:v=1:a=0[{label}]")
            length += n
        else:
            o = overlap(n, n)
            parts.append(f"[{acc}][s{i}]xfade=transition={XFADE[t]}:duration={o / FPS}:offset={(length - o) / FPS}[{label}]")
            length += n - o
        acc = label
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    for p in takes:
        cmd += ["-i", str(p)]
    cmd += ["-filter_complex", ";".join(parts), "-map", f"[{acc}]", "-c:v", "libx264", "-preset", "veryfast",
            "-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)]
    subprocess.run(cmd, check=True)


def ffmpeg_concat_copy(takes: list[Path], out: Path, work: Path) -> None:
    listing = work / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in takes))
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
                    "-i", str(listing), "-c", "copy", "-movflags", "+faststart", str(out)], check=True)


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def compare(ours, reference, repeat: int) -> tuple[float, float, float, float]:
    """Median wall and CPU seconds of each, runs interleaved so a busy machine slows both alike."""
    wall = {0: [], 1: []}
    cpu = {0: [], 1: []}
    for r in range(repeat):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for which in order:
            fn = ours if which == 0 else reference
            w0, c0 = time.perf_counter(), _cpu()
            fn()
            wall[which].append(time.perf_counter() - w0)
            cpu[which].append(_cpu() - c0)
    med = statistics.median
    return med(wall[0]), med(wall[1]), med(cpu[0]), med(cpu[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size", default="512x288")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    with tempfile.TemporaryDirectory(prefix="bench-cut-") as tmp:
        work = Path(tmp)
        takes = [work / f"take{i}.mp4" for i in range(SHOTS)]
        t0 = time.perf_counter()
        for i, p in enumerate(takes):
            make_take(p, i, width, height)
        print(f"made {SHOTS} takes of {SECONDS:g} s at {width}x{height} in {time.perf_counter() - t0:.1f} s")

        clips = [CutClip(p, f"shot-{i}", SECONDS, TRANSITIONS[i]) for i, p in enumerate(takes)]
        ours_out, ref_out = work / "ours.mp4", work / "ffmpeg.mp4"

        def ours():
            return assemble_cut(clips, ours_out, width=width, height=height, fps=FPS, title=None, end_seconds=0,
                                narration=False, grade=0)

        result = ours()
        ffmpeg_filter_graph(takes, TRANSITIONS, ref_out)
        ours_frames, ref_frames = count_video_frames(ours_out), count_video_frames(ref_out)
        t_ours, t_ref, c_ours, c_ref = compare(ours, lambda: ffmpeg_filter_graph(takes, TRANSITIONS, ref_out), args.repeat)
        print(f"re-encode   ours {t_ours:.2f} s ({ours_frames} frames, path {result.path_used})  "
              f"ffmpeg xfade graph {t_ref:.2f} s ({ref_frames} frames)  ratio {t_ours / t_ref:.2f}  (goal <= 1.5)  "
              f"CPU {c_ours:.2f} s vs {c_ref:.2f} s, ratio {c_ours / c_ref:.2f}")

        def ours_full(grade: float = 0.0):
            return assemble_cut(clips, ours_out, width=width, height=height, fps=FPS, title="Benchmark",
                                credits="Reel Director", narration=False, finish_frames=lambda f: f, grade=grade)

        t_full, _, c_full, _ = compare(ours_full, lambda: None, args.repeat)
        print(f"full cut    ours with title + end cards and a finish_frames hook: {t_full:.2f} s "
              f"(CPU {c_full:.2f} s, {ours_full().frames} frames)")

        infos = [probe(p, count_frames=False) for p in takes]
        shots = [s for s in build_timeline(clips, FPS) if s.kind == "shot"]

        def statistics_pass():
            grading._cache.clear()        # what a first cut pays; a re-cut of the same takes finds them cached
            return grading.plan_grade(shots, infos, width, height, FPS)

        t_stats, t_graded, c_stats, c_graded = compare(statistics_pass, lambda: ours_full(0.5), args.repeat)
        graded = ours_full(0.5)
        print(f"grade       statistics pass {t_stats:.2f} s (CPU {c_stats:.2f} s, uncached);  full cut with grade=0.5 "
              f"{t_graded:.2f} s (CPU {c_graded:.2f} s, {len(graded.graded_shots)} of {SHOTS} shots graded) vs "
              f"{t_full:.2f} s without: +{t_graded - t_full:.2f} s, {1000 * (t_graded - t_full) / graded.frames:.1f} ms "
              f"per frame of the film")

        cut_clips = [CutClip(p, f"shot-{i}", SECONDS, "cut") for i, p in enumerate(takes)]
        copy_out, ref_copy = work / "ours-copy.mp4", work / "ffmpeg-copy.mp4"

        def ours_copy():
            return assemble_cut(cut_clips, copy_out, width=width, height=height, fps=FPS, title=None, end_seconds=0,
                                narration=False, grade=0)

        result = ours_copy()
        ffmpeg_concat_copy(takes, ref_copy, work)
        t_copy, t_ref_copy, c_copy, c_ref_copy = compare(ours_copy, lambda: ffmpeg_concat_copy(takes, ref_copy, work),
                                                         max(args.repeat, 5))
        print(f"stream copy ours {t_copy:.3f} s ({count_video_frames(copy_out)} frames, path {result.path_used})  "
              f"ffmpeg concat -c copy {t_ref_copy:.3f} s ({count_video_frames(ref_copy)} frames)  "
              f"ratio {t_copy / t_ref_copy:.2f}  (goal <= 1.2)  CPU {c_copy:.3f} s vs {c_ref_copy:.3f} s")


if __name__ == "__main__":
    main()
