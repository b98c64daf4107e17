"""Frame plumbing shared by the generation backends: read a video, fit frames to an exact size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tools.enhance.upscale import upscale


def cover(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to cover width x height and centre-crop: no bars, no distortion."""
    h, w = img.shape[:2]
    if (w, h) == (width, height):
        return img
    s = max(width / w, height / h)
    nw, nh = max(width, round(w * s)), max(height, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LANCZOS4
    big = cv2.resize(img, (nw, nh), interpolation=interp)
    x, y = (nw - width) // 2, (nh - height) // 2
    return big[y:y + height, x:x + width]


def fit_size(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-crop to the target aspect, then resize (Lanczos + sharpening when enlarging)."""
    h, w = frames.shape[1:3]
    target = width / height
    if abs(w / h - target) > 1e-3:
        if w / h > target:
            cw = max(1, round(h * target))
            x = (w - cw) // 2
            frames = frames[:, :, x:x + cw]
        else:
            ch = max(1, round(w / target))
            y = (h - ch) // 2
            frames = frames[:, y:y + ch]
    h, w = frames.shape[1:3]
    if (w, h) == (width, height):
        return frames
    if width > w or height > h:
        return upscale(frames, width, height, amount=0.5)
    return np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames])


def read_video(path: Path) -> tuple[np.ndarray, float]:
    """All frames (N, H, W, 3) RGB uint8 and the frame rate of a video file."""
    if not path.is_file():
        raise FileNotFoundError(f"video {path} does not exist")
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 24.0
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise ValueError(f"could not read any frames from video {path}")
    return np.stack(frames), float(fps)


__all__ = ["cover", "fit_size", "read_video"]
