"""A contact sheet: one row per shot, a few frames across its duration, its id, notes and scores,
framed green when the critic passed it and red when it failed. A PNG a person can skim in seconds."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from storyboards.schema import Take
from storyboards.workspace import Workspace

from .cards import font
from .video_io import EditError, atomic_output, ffmpeg_exe, probe


@dataclass
class Samples:
    """A few small frames of a take, kept beside it so a contact sheet or a colour check never decodes it again."""

    frames: np.ndarray     # (k, h, THUMB_WIDTH, 3)
    indices: list[int]     # where in the take they come from
    total: int             # frames in the take

    def save(self, path: str | os.PathLike) -> Path:
        from storyboards.artifacts import atomic_path

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, frames=self.frames, indices=np.asarray(self.indices), total=np.asarray(self.total))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Samples:
        with np.load(path) as data:
            return cls(data["frames"], [int(i) for i in data["indices"]], int(data["total"]))


def sample_take(frames: np.ndarray, k: int = 4, thumb_width: int = None) -> Samples:
    thumbs, idx, n = _thumbs_from_frames(frames, k, thumb_width or THUMB_WIDTH)
    return Samples(np.stack(thumbs), idx, n)


ShotRow = tuple[str, np.ndarray | Samples | str | os.PathLike, Sequence[str], bool]

THUMB_WIDTH = 240
LABEL_WIDTH = 300
BORDER = 6
GAP = 8
PASS, FAIL = (46, 160, 67), (200, 40, 40)
PAPER, INK, MUTED = (24, 26, 30), (236, 236, 236), (170, 174, 182)


def _pick(n: int, k: int) -> list[int]:
    """k frame indices spread across n frames, avoiding the very first and last (often transitions)."""
    k = max(1, min(k, n))
    return sorted({min(n - 1, int((i + 0.5) * n / k)) for i in range(k)})


def _thumbs_from_frames(frames: np.ndarray, k: int, tw: int) -> tuple[list[np.ndarray], list[int], int]:
    idx = _pick(len(frames), k)
    h, w = frames.shape[1:3]
    th = max(2, round(tw * h / w))
    thumbs = [np.asarray(Image.fromarray(frames[i]).resize((tw, th), Image.BILINEAR)) for i in idx]
    return thumbs, idx, len(frames)


def _thumbs_from_file(path: Path, k: int, tw: int) -> tuple[list[np.ndarray], list[int], int]:
    """Decode only the chosen frames, already scaled down: a 1080p take never sits whole in memory."""
    info = probe(path)
    n = max(1, info["frames"])
    idx = _pick(n, k)
    th = max(2, round(tw * info["height"] / max(1, info["width"])) // 2 * 2)
    select = "+".join(f"eq(n\\,{i})" for i in idx)
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:v:0",
                          "-vf", f"select='{select}',scale={tw}:{th}", "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True)
    if out.returncode != 0:
        raise EditError(f"could not read frames from {path}: {out.stderr.decode(errors='replace').strip()[-300:]}")
    got = len(out.stdout) // (tw * th * 3)
    arr = np.frombuffer(out.stdout, np.uint8, count=got * tw * th * 3).reshape(got, th, tw, 3)
    return list(arr), idx[:got], n


def contact_sheet(shots: list[ShotRow], path: str | os.PathLike, *, frames_per_shot: int = 4,
                  fps: float | None = None, thumb_width: int = THUMB_WIDTH) -> Path:
    """Write a PNG grid: for each (shot_id, frames or video path, caption lines, passed) a row of
    `frames_per_shot` frames (3-4 reads well) with the id and lines (camera, framing, scores) beside it."""
    if not shots:
        raise EditError("a contact sheet needs at least one shot")
    rows = []
    for shot_id, source, lines, passed in shots:
        if isinstance(source, Samples):
            thumbs, idx, n = list(source.frames), source.indices, source.total
            rate = fps
        elif isinstance(source, np.ndarray):
            if source.ndim != 4 or len(source) == 0:
                raise EditError(f"shot '{shot_id}': frames must be (N, H, W, 3) with N > 0, got {source.shape}")
            thumbs, idx, n = _thumbs_from_frames(source, frames_per_shot, thumb_width)
            rate = fps
        else:
            p = Path(source)
            if not p.is_file():
                raise EditError(f"shot '{shot_id}': take file {p} does not exist")
            thumbs, idx, n = _thumbs_from_file(p, frames_per_shot, thumb_width)
            rate = fps or probe(p)["fps"]
        rows.append((shot_id, thumbs, idx, n, rate, [str(x) for x in lines if x], bool(passed)))

    th = max(t[0].shape[0] for _, t, *_ in rows if t) if any(r[1] for r in rows) else thumb_width * 9 // 16
    stamp_h = 18
    row_h = max(th + stamp_h, 110) + 2 * BORDER
    width = LABEL_WIDTH + frames_per_shot * (thumb_width + GAP) + 2 * BORDER + GAP
    height = len(rows) * (row_h + GAP) + GAP
    sheet = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    f_id, f_line, f_small = font(20, bold=True), font(14), font(12)
    for r, (shot_id, thumbs, idx, n, rate, lines, passed) in enumerate(rows):
        y0 = GAP + r * (row_h + GAP)
        colour = PASS if passed else FAIL
        draw.rectangle([GAP // 2, y0, width - GAP // 2 - 1, y0 + row_h - 1], outline=colour, width=BORDER)
        x, y = GAP // 2 + BORDER + 8, y0 + BORDER + 6
        draw.text((x, y), shot_id, font=f_id, fill=INK)
        y += 26
        draw.text((x, y), "PASS" if passed else "FAIL", font=f_line, fill=colour)
        y += 20
        for line in lines:
            if y > y0 + row_h - BORDER - 16:
                break
            text = line if draw.textlength(line, font=f_line) <= LABEL_WIDTH - 24 else line[: int(len(line) * (LABEL_WIDTH - 24) / draw.textlength(line, font=f_line)) - 1] + "…"
            draw.text((x, y), text, font=f_line, fill=MUTED)
            y += 18
        for c, (thumb, i) in enumerate(zip(thumbs, idx)):
            tx = GAP // 2 + BORDER + LABEL_WIDTH + c * (thumb_width + GAP)
            ty = y0 + BORDER + (row_h - 2 * BORDER - stamp_h - thumb.shape[0]) // 2
            sheet.paste(Image.fromarray(thumb), (tx, ty))
            label = f"frame {i + 1}/{n}" + (f" · {i / rate:.1f}s" if rate else "")
            draw.text((tx, ty + thumb.shape[0] + 2), label, font=f_small, fill=MUTED)
    path = Path(path)
    with atomic_output(path) as tmp:
        sheet.save(tmp, format="PNG", compress_level=1)  # level 6 took ~0.4 s, 10x longer
    return path


def samples_path(workspace: Workspace, key: str) -> Path:
    """Where a take's sample frames are kept, beside the take itself."""
    return workspace.take_path(key, ".samples.npz")


def take_samples(workspace: Workspace, take: Take) -> Samples:
    """The take's saved sample frames; decoded from its file (and saved) when an older take has none."""
    from .video_io import read_video

    path = samples_path(workspace, take.key)
    if path.is_file():
        return Samples.load(path)
    frames, _ = read_video(workspace.resolve(take.file))
    samples = sample_take(frames)
    samples.save(path)
    return samples
