"""The animatic: Reel Director's offline CPU backend, a previz a director can read at a glance.

- t2v paints the shot: palette and light from its words (golden hour, neon night, storm, studio
  white, underwater ...), the setting as depth layers (sky and horizon, the set, the subject as a
  labelled silhouette), then performs the camera move (pans, tilts, dollies with parallax, zooms
  without it, tracking, orbit, crane, handheld shake, aerial) and the framing (subject scale,
  horizon height for low/high angles, the Dutch roll, overhead), with a slate strip: shot id,
  subject, action, camera tag and a running timecode.
- i2v moves a camera over the reference image (Ken Burns with a cheap depth-guess parallax),
  always cropping inside the image.
- v2v restyles the source clip: a grade from the light words, a look from the style words
  (watercolour, sketch, noir, cartoon, vintage, neon), retimed to the requested frames and fps.

Speed is a feature: layers are painted once per shot and frames are slice copies or single
resizes, so a 720p film renders far faster than real time (see bench/animatic.py). No torch.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from storyboards.schema import CAMERA_MOVES, FRAMINGS
from tools.generate.animatic.camera import (
    Compositor,
    Particles,
    Slate,
    camera_paths,
    ken_burns_matrices,
    least_step,
    min_step,
    perform_action,
    plan_layers,
)
from tools.generate.animatic.scene import Canvas, Painter, _mix, block_shot, read_shot
from tools.generate.animatic.style import Stylist, cover_resize, find_style, grade_lut
from tools.generate.base import SHARED, BackendError, GenerationRequest, GenerationResult, Timer

MODEL_ID = "animatic-v1"
MIN_SIDE, MAX_SIDE = 16, 4096
MAX_FRAMES = 7200                 # two minutes at 60 fps: far beyond any shot
MAX_BYTES = 6 * 1024 ** 3         # the frames live in memory; refuse what would not fit


class AnimaticBackend:
    name: ClassVar[str] = "animatic"
    modes: ClassVar[tuple[str, ...]] = ("t2v", "i2v", "v2v")
    concurrency: ClassVar[str] = SHARED   # pure functions of the request: any number at once

    def model_id(self, request: GenerationRequest) -> str:
        return MODEL_ID

    def generate(self, request: GenerationRequest, progress=None) -> GenerationResult:
        _check_request(request)
        timings: dict[str, float] = {}
        with Timer(timings, "total"):
            if request.mode == "t2v":
                frames, params, notes = _text_to_video(request, progress, timings)
            elif request.mode == "i2v":
                frames, params, notes = _image_to_video(request, progress, timings)
            else:
                frames, params, notes = _video_to_video(request, progress, timings)
        return GenerationResult(frames=frames, fps=request.fps, backend=self.name, model=MODEL_ID,
                                params=params, timings=timings, notes=notes)


# ----------------------------------------------------------------------------- checks


def _check_request(req: GenerationRequest) -> None:
    if req.mode not in AnimaticBackend.modes:
        raise BackendError(f"animatic: mode '{req.mode}' is not one of {', '.join(AnimaticBackend.modes)}")
    for label, v in (("width", req.width), ("height", req.height)):
        if not isinstance(v, (int, np.integer)) or not (MIN_SIDE <= v <= MAX_SIDE):
            raise BackendError(f"animatic: {label} {v!r} must be a whole number of pixels from {MIN_SIDE} to {MAX_SIDE} (e.g. 1280x720)")
    if not isinstance(req.frames, (int, np.integer)) or not (1 <= req.frames <= MAX_FRAMES):
        raise BackendError(f"animatic: frames {req.frames!r} must be a whole number from 1 to {MAX_FRAMES}; split longer shots")
    if not isinstance(req.fps, (int, float, np.integer, np.floating)) or not (1 <= req.fps <= 240):
        raise BackendError(f"animatic: fps {req.fps!r} must be between 1 and 240")
    need = int(req.frames) * int(req.width) * int(req.height) * 3
    if need > MAX_BYTES:
        raise BackendError(f"animatic: {req.frames} frames at {req.width}x{req.height} need {need / 1024 ** 3:.1f} GiB in memory "
                           f"(limit {MAX_BYTES / 1024 ** 3:.0f} GiB); render a shorter shot or a smaller size")
    if req.strength is not None and not (0.0 <= float(req.strength) <= 1.0):
        raise BackendError(f"animatic: strength {req.strength} must be between 0 and 1")


def _tick(progress, done: int, total: int) -> None:
    if progress is not None and (done == total or done % max(1, total // 20) == 0):
        progress(done, total)


# ----------------------------------------------------------------------------- t2v


def _text_to_video(req: GenerationRequest, progress, timings) -> tuple[np.ndarray, dict, list[str]]:
    W, H, N = int(req.width), int(req.height), int(req.frames)
    with Timer(timings, "prepare"):
        look = read_shot(req.shot or {}, req.prompt or "", CAMERA_MOVES, FRAMINGS)
        seed = int(req.seed) & 0xFFFFFFFF
        block = block_shot(look, W, H, np.random.default_rng([seed, 1]))
        painter = Painter(look, block, seed)
        # the subject's focus point in rolled coordinates: zooms and dollies close in on it
        th = math.radians(block.roll)
        fx, fy = block.subj_x - W / 2, block.subj_focus_y - H / 2
        focus = (W / 2 + math.cos(th) * fx - math.sin(th) * fy, H / 2 + math.sin(th) * fx + math.cos(th) * fy)
        focus = (focus[0], float(np.clip(focus[1], 0.15 * H, 0.85 * H)))
        direction = 1 if (seed >> 3) % 2 == 0 else -1
        step = min_step(W, H)
        # Blend the ease with constant speed until the slowest frame of the move still moves: shots
        # are cut into a move already under way, and a held first or last second reads as a freeze.
        for linear in (0.3, 0.45, 0.6, 0.8, 1.0):
            paths = camera_paths(look.camera, N, float(req.fps), W, H, focus, np.random.default_rng([seed, 2]), direction,
                                 linear=linear, min_step=step, overhead=block.overhead)
            camera_moves_enough = look.camera in ("handheld", "tracking") or (look.camera != "static" and least_step(paths, W, H) >= step)
            if camera_moves_enough:
                break
        # where the camera alone does not change every frame (a still camera, a slow drift) the subject's action must
        performance = perform_action(look.action, look.subject_kind, N, float(req.fps), W, H, block, np.random.default_rng([seed, 4]),
                                     0.0 if camera_moves_enough else step)
        if performance is not None:
            paths["near"] = performance.apply(paths["near"], focus, W, H)
        planned = plan_layers(paths, W, H)
        behind = painter.c["sky_horizon"]
        for L in planned:
            L.canvas = Canvas(L.rect, L.r, block.roll, (W / 2, H / 2), masked=not L.opaque, fill=None if L.opaque else behind)
            for name in L.names:
                if name == "far":
                    painter.paint_far(L.canvas)
                elif name == "mid":
                    painter.paint_mid(L.canvas)
                else:
                    painter.paint_subject(L.canvas)
        comp = Compositor(planned, W, H, step)
        weather = look.palette.weather
        particles = None
        if weather:
            col = {"rain": _mix(painter.c["sky_horizon"], (230, 235, 245), 0.5), "snow": (246, 248, 252),
                   "bubbles": _mix(painter.c["key"], (255, 255, 255), 0.5)}[weather]
            particles = Particles(weather, W, H, col, seed, float(req.fps))
        tag = f"{look.camera.replace('_', ' ').upper()}  ·  {look.framing.replace('_', ' ').upper()}  ·  {look.palette_name.replace('_', ' ').upper()}"
        slate = Slate(W, H, look.shot_id, look.subject, look.action, tag, int(round(req.fps)), N)
    out = np.empty((N, H, W, 3), np.uint8)
    with Timer(timings, "frames"):
        for k in range(N):
            f = out[k]
            comp.frame(k, f)
            if particles is not None:
                particles.frame(k, f)
            slate.draw(k, f)
            _tick(progress, k + 1, N)
    params = {
        "camera": look.camera, "framing": look.framing, "palette": look.palette_name, "setting": look.env,
        "subject_kind": look.subject_kind, "seed": seed, "roll_degrees": round(block.roll, 2), "weather": weather,
        "layers": [list(L.names) for L in planned], "modifiers": look.modifiers,
        "action_motion": performance.kind if performance is not None else None,
    }
    return out, params, []


# ----------------------------------------------------------------------------- i2v


def _read_image(path: Path | None) -> np.ndarray:
    if path is None:
        raise BackendError("animatic i2v needs a reference image: set the shot's `reference: path/to/image.png` "
                           "(GenerationRequest.reference_image)")
    p = Path(path)
    if not p.is_file():
        raise BackendError(f"animatic i2v: reference image not found: {p}")
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None:
        try:  # formats cv2 lacks (e.g. some GIFs) may still open in Pillow
            from PIL import Image

            with Image.open(p) as im:
                return np.ascontiguousarray(np.asarray(im.convert("RGB")))
        except Exception as err:  # noqa: BLE001 - any decoder failure means the same to the user
            raise BackendError(f"animatic i2v: could not read the reference image {p} ({err}); use a PNG or JPEG") from None
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise BackendError(f"animatic i2v: the reference image {p} is only {img.shape[1]}x{img.shape[0]} pixels")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


I2V_FRAMING_ZOOM = {"close_up": 1.2, "extreme_close_up": 1.45, "medium": 1.05}


def _image_to_video(req: GenerationRequest, progress, timings) -> tuple[np.ndarray, dict, list[str]]:
    W, H, N = int(req.width), int(req.height), int(req.frames)
    with Timer(timings, "prepare"):
        img = _read_image(req.reference_image)
        look = read_shot(req.shot or {}, req.prompt or "", CAMERA_MOVES, FRAMINGS)
        ih0, iw0 = img.shape[:2]
        # work at about the output's resolution: per-frame sampling then never skips pixels
        cover = max(W / iw0, H / ih0)
        if cover < 0.95:
            f = cover * 1.12
            img = cv2.resize(img, (max(2, int(round(iw0 * f))), max(2, int(round(ih0 * f)))), interpolation=cv2.INTER_AREA)
        ih, iw = img.shape[:2]
        amount = 1.0 if req.strength is None else float(req.strength)
        rng = np.random.default_rng([int(req.seed) & 0xFFFFFFFF, 3])
        Ms, info = ken_burns_matrices(look.camera, N, float(req.fps), iw, ih, W, H, rng, amount=amount)
        zf = I2V_FRAMING_ZOOM.get(look.framing, 1.0)
        roll = 8.0 if look.framing == "dutch_angle" else 0.0
        if zf != 1.0 or roll:
            Ms = _reframe(Ms, zf, roll, W, H, iw, ih)
    out = np.empty((N, H, W, 3), np.uint8)
    with Timer(timings, "frames"):
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        for k in range(N):
            # BORDER_REFLECT only guards rounding at the very edge; the maps stay inside the image
            cv2.warpAffine(img, Ms[k], (W, H), dst=out[k], flags=flags, borderMode=cv2.BORDER_REFLECT_101)
            _tick(progress, k + 1, N)
    params = {"camera": look.camera, "framing": look.framing, "reference_size": [iw0, ih0], "amount": amount, **info}
    notes = [] if look.camera != "static" else ["static i2v shot: a slow 3% push keeps the still alive"]
    return out, params, notes


def _reframe(Ms: np.ndarray, zoom: float, roll_deg: float, W: int, H: int, iw: int, ih: int) -> np.ndarray:
    """Tighter framing / a Dutch roll on top of the move, zooming further in until no corner leaves the image."""
    th = math.radians(roll_deg)
    c, s = math.cos(th), math.sin(th)
    corners = np.array([[0, 0, 1], [W, 0, 1], [0, H, 1], [W, H, 1]], float)
    z = zoom
    for _ in range(80):
        # output -> (scaled, rotated about the frame centre) output -> image
        A = np.array([[c / z, -s / z, 0], [s / z, c / z, 0], [0, 0, 1]], float)
        T1 = np.array([[1, 0, -W / 2], [0, 1, -H / 2], [0, 0, 1]], float)
        T2 = np.array([[1, 0, W / 2], [0, 1, H / 2], [0, 0, 1]], float)
        pre = T2 @ A @ T1
        out = np.einsum("nij,jk->nik", Ms, pre)
        pts = np.einsum("nij,kj->nki", out, corners)
        if (pts[..., 0] >= 0).all() and (pts[..., 0] <= iw - 1).all() and (pts[..., 1] >= 0).all() and (pts[..., 1] <= ih - 1).all():
            return out
        z *= 1.03
    return out


# ----------------------------------------------------------------------------- v2v


def _read_clip(path: Path | None, W: int, H: int, need_seconds: float) -> tuple[list[np.ndarray], float, int]:
    """Decode the clip (only as far as needed), each frame cover-resized to W x H. Returns frames, fps, frames in file read."""
    if path is None:
        raise BackendError("animatic v2v needs a source clip: set the shot's `source: path/to/clip.mp4` (GenerationRequest.source_video)")
    p = Path(path)
    if not p.is_file():
        raise BackendError(f"animatic v2v: source clip not found: {p}")
    import imageio_ffmpeg

    frames: list[np.ndarray] = []
    try:
        gen = imageio_ffmpeg.read_frames(str(p))
        meta = next(gen)
        sw, sh = meta["size"]
        fps = float(meta.get("fps") or 24.0)
        if not (fps > 0 and math.isfinite(fps)):
            fps = 24.0
        limit = int(math.ceil(need_seconds * fps)) + 1
        for raw in gen:
            f = np.frombuffer(raw, np.uint8).reshape(sh, sw, 3)
            frames.append(np.ascontiguousarray(cover_resize(f, W, H)))
            if len(frames) >= limit:
                break
        gen.close()
    except BackendError:
        raise
    except Exception as err:  # noqa: BLE001 - ffmpeg's failures all mean "not a clip we can read"
        msg = str(err).strip().splitlines()
        raise BackendError(f"animatic v2v: could not read the source clip {p} ({msg[-1] if msg else type(err).__name__}); "
                           "use a video ffmpeg can decode (mp4, mov, webm)") from None
    if not frames:
        raise BackendError(f"animatic v2v: the source clip {p} has no video frames")
    return frames, fps, len(frames)


def _video_to_video(req: GenerationRequest, progress, timings) -> tuple[np.ndarray, dict, list[str]]:
    W, H, N = int(req.width), int(req.height), int(req.frames)
    fps = float(req.fps)
    notes: list[str] = []
    with Timer(timings, "decode"):
        src, src_fps, n_src = _read_clip(req.source_video, W, H, N / fps)
    with Timer(timings, "prepare"):
        shot = req.shot or {}
        look = read_shot(shot, req.prompt or "", CAMERA_MOVES, FRAMINGS)
        style = find_style([str(shot.get("style") or ""), str(shot.get("atmosphere") or ""), str(shot.get("lighting") or ""), req.prompt or ""])
        light_words = " ".join(str(shot.get(k) or "") for k in ("lighting", "atmosphere", "setting")) + " " + (req.prompt or "")
        from tools.generate.animatic.scene import PALETTE_KEYWORDS, find_keyword

        named = find_keyword(light_words, PALETTE_KEYWORDS)
        grade = grade_lut(look.palette, neutral=named is None or style == "noir")
        strength = 0.85 if req.strength is None else float(req.strength)
        stylist = Stylist(style, W, H, int(req.seed) & 0xFFFFFFFF, grade)
        # time map: real speed while the clip lasts; a clip too short is stretched (slow motion), not looped
        t_out = np.arange(N) / fps
        if n_src / src_fps + 1e-6 >= N / fps:
            idx = np.minimum((t_out * src_fps + 1e-6).astype(int), n_src - 1)
        else:
            idx = np.minimum((np.arange(N) * n_src / N).astype(int), n_src - 1)
            notes.append(f"source clip is {n_src / src_fps:.2f} s, shot is {N / fps:.2f} s: slowed to fit")
        if abs(src_fps - fps) > 1e-3 or n_src != N:
            notes.append(f"retimed {n_src} frames at {src_fps:g} fps to {N} at {fps:g} fps")
    out = np.empty((N, H, W, 3), np.uint8)
    with Timer(timings, "frames"):
        for k in range(N):
            orig = src[idx[k]]
            styled = stylist.apply(orig, k)
            if strength >= 1.0:
                np.copyto(out[k], styled)
            elif strength <= 0.0:
                np.copyto(out[k], orig)
            else:
                cv2.addWeighted(orig, 1.0 - strength, styled, strength, 0, dst=out[k])
            _tick(progress, k + 1, N)
    params = {"style": style, "grade": named if grade is not None else None, "strength": strength,
              "source_fps": src_fps, "source_frames_read": n_src}
    return out, params, notes


def describe(request: GenerationRequest) -> dict[str, Any]:
    """What the animatic would read from a request, without rendering (for `plan --json` and debugging)."""
    look = read_shot(request.shot or {}, request.prompt or "", CAMERA_MOVES, FRAMINGS)
    return {"camera": look.camera, "framing": look.framing, "palette": look.palette_name, "setting": look.env,
            "subject": look.subject, "subject_kind": look.subject_kind, "modifiers": look.modifiers}
