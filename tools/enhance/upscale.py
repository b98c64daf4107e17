"""Upscaling: Lanczos resampling plus unsharp-mask sharpening, with an optional neural upscaler.

Lanczos alone leaves an upscaled frame soft; an unsharp mask (add back a share of the difference
between the frame and a blurred copy) restores edge contrast without inventing detail.

A neural super-resolution model is used only when one is configured: an ONNX model (e.g. a
Real-ESRGAN or EDSR export, input and output NCHW RGB in 0..1) given as `model_path=` or in the
environment variable DIRECTOR_UPSCALE_MODEL. No weights ship with Reel Director, so by default the
neural path is not used; `upscale_method()` says which path a call would take (for result notes).

Frames are numpy uint8 (N, H, W, 3) RGB.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np


@lru_cache(maxsize=2)
def _net(path: str):
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"upscaler model {path} does not exist; set DIRECTOR_UPSCALE_MODEL to an ONNX super-resolution "
            "model file, or unset it to use Lanczos + sharpening"
        )
    return cv2.dnn.readNet(path)


def _neural(frame: np.ndarray, path: str) -> np.ndarray:
    net = _net(path)
    blob = cv2.dnn.blobFromImage(frame, scalefactor=1 / 255.0)   # RGB stays RGB (swapRB False)
    net.setInput(blob)
    out = net.forward()[0].transpose(1, 2, 0)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def sharpen(frame: np.ndarray, amount: float = 0.8, sigma: float = 1.0) -> np.ndarray:
    blurred = cv2.GaussianBlur(frame, (0, 0), sigma)
    return cv2.addWeighted(frame, 1.0 + amount, blurred, -amount, 0)


def upscale(frames: np.ndarray, width: int, height: int, *, amount: float = 0.8, sigma: float | None = None,
            model_path: str | os.PathLike | None = None) -> np.ndarray:
    """Frames resized to exactly width x height (no crop: the aspect follows the target).

    amount: unsharp-mask strength (0 = plain Lanczos). sigma: blur radius of the mask, by default
    scaled with the enlargement so the halo matches the softness Lanczos introduced.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (N, H, W, 3) RGB; got {frames.dtype} {frames.shape}")
    h0, w0 = frames.shape[1:3]
    model = model_path or os.environ.get("DIRECTOR_UPSCALE_MODEL") or None
    scale = max(width / w0, height / h0)
    if sigma is None:
        sigma = max(0.6, 0.5 * scale)
    out = np.empty((len(frames), height, width, 3), np.uint8)
    for k, f in enumerate(frames):
        if model and scale > 1.0:
            f = _neural(f, str(model))
        shrink = f.shape[1] > width
        f = cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)
        out[k] = sharpen(f, amount, sigma) if amount > 0 and scale > 1.0 and not model else f
    return out


def upscale_method(model_path: str | os.PathLike | None = None) -> str:
    """'neural:<file>' when an upscaler model is configured, else 'lanczos+unsharp (no neural upscaler configured)'."""
    model = model_path or os.environ.get("DIRECTOR_UPSCALE_MODEL") or None
    return f"neural:{Path(str(model)).name}" if model else "lanczos+unsharp (no neural upscaler configured)"


__all__ = ["upscale", "upscale_method", "sharpen"]
