"""Faces in reference images and source clips (consent needed), and stripping uploads' metadata.

Face detection uses OpenCV's frontal-face Haar cascade (shipped by opencv-python-headless 4.x
in cv2.data.haarcascades): no model download, ~10 ms per image. It finds photographed faces,
which is what likeness consent is about; drawn cartoon faces generally do not trigger it.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tools.safety.policy import SafetyReport

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
VIDEO_EXTS = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"}


@lru_cache(maxsize=1)
def _cascade():
    data = getattr(cv2, "data", None)
    if data is None or not hasattr(cv2, "CascadeClassifier"):
        raise RuntimeError("this OpenCV build has no Haar cascades; install opencv-python-headless>=4.10,<5")
    clf = cv2.CascadeClassifier(os.path.join(data.haarcascades, "haarcascade_frontalface_default.xml"))
    if clf.empty():
        raise RuntimeError("could not load haarcascade_frontalface_default.xml from cv2.data.haarcascades")
    return clf


def detect_faces(rgb: np.ndarray, min_size: int = 40) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) boxes of frontal faces in one RGB uint8 image."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = 1.0
    if max(grey.shape) > 1024:  # bigger adds time, not faces
        scale = 1024 / max(grey.shape)
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    boxes = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=6,
                                         minSize=(max(16, int(min_size * scale)),) * 2)
    return [(int(x / scale), int(y / scale), int(w / scale), int(h / scale)) for x, y, w, h in (boxes if len(boxes) else [])]


def _load_image(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def _video_frames(path: Path, samples: int) -> np.ndarray:
    from tools.safety._media import decode_frames

    return decode_frames(path, max_frames=samples)


def check_image(path: str | Path, consents: list[str] | tuple[str, ...] = (), *, min_size: int = 40,
                video_samples: int = 8) -> SafetyReport:
    """needs_consent when a real face is in the image (or in sampled frames of a clip), unless a consent
    record is given. Consent records name a person; any record for an upload covers its faces."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no file at {path}")
    if path.suffix.lower() in VIDEO_EXTS:
        frames = _video_frames(path, video_samples)
        kind = "clip"
    else:
        frames = _load_image(path)[None]
        kind = "image"
    hits = [(i, b) for i, f in enumerate(frames) for b in detect_faces(f, min_size)]
    if not hits:
        return SafetyReport("allow", [f"no face found in the {kind}"], [], [])
    n = len({i for i, _ in hits}) if kind == "clip" else len(hits)
    what = f"{len(hits)} face(s)" if kind == "image" else f"faces in {n} of {len(frames)} sampled frames"
    spans = [(0, 0, "face", f"frame {i}: x={x} y={y} w={w} h={h}") for i, (x, y, w, h) in hits]
    if consents:
        return SafetyReport("allow", [f"{what} in the {kind}; consent on record from {', '.join(consents)}"],
                            spans, list(consents))
    return SafetyReport("needs_consent", [
        f"the {kind} shows {what} of a real person; using a real person's likeness needs their consent "
        "(add a consent record for them, or use a reference without real faces)"], spans, [])


def strip_metadata(src: str | Path, dst: str | Path) -> Path:
    """Copy an image or video without EXIF/GPS/XMP/any container metadata. Atomic; src may equal dst."""
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise FileNotFoundError(f"no file at {src}")
    tmp = dst.with_name(f".{dst.stem}.{os.getpid()}.strip{dst.suffix}")
    try:
        if src.suffix.lower() in VIDEO_EXTS:
            from tools.safety._media import ffmpeg_exe

            proc = subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(src), "-map", "0",
                                   "-map_metadata", "-1", "-map_chapters", "-1", "-c", "copy",
                                   "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
                                   str(tmp)], capture_output=True)
            if proc.returncode != 0:
                raise RuntimeError(f"ffmpeg could not strip {src}: {proc.stderr.decode(errors='replace')[-400:]}")
        else:
            from PIL import Image, ImageOps

            with Image.open(src) as im:
                fmt = im.format or "PNG"
                clean = ImageOps.exif_transpose(im)   # keep the look of the orientation tag, drop the tag
                # A fresh image from the pixels alone carries no info/EXIF/XMP/ICC text chunks.
                fresh = Image.new(clean.mode, clean.size)
                fresh.putdata(list(clean.getdata())) if clean.mode == "P" else fresh.paste(clean)
                palette = clean.getpalette() if clean.mode == "P" else None
                if palette:
                    fresh.putpalette(palette)
                params = {"quality": 95} if fmt.upper() in ("JPEG", "WEBP") else {}
                fresh.save(tmp, format=fmt, **params)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst
