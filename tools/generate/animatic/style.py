"""v2v looks for the animatic: a colour grade from the light words, a stylisation from the style words.

Private helper of `tools/generate/animatic/backend.py`. Each look is a handful of OpenCV operations on
uint8 frames (heavy filters run at a quarter or half of the frame size), so a 720p clip restyles
at well over real time on two cores.
"""

from __future__ import annotations

import cv2
import numpy as np

from tools.generate.animatic.scene import Palette, find_keyword

STYLE_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("noir", ("film noir", "noir", "black and white", "black-and-white", "monochrome", "b&w", "grayscale", "greyscale")),
    ("sketch", ("sketch", "pencil", "charcoal", "line drawing", "drawing", "graphite")),
    ("watercolor", ("watercolor", "watercolour", "aquarelle", "painterly", "gouache", "ink wash")),
    ("cartoon", ("cartoon", "anime", "cel shaded", "cel-shaded", "comic", "toon", "animated")),
    ("vintage", ("vintage", "sepia", "old film", "super 8", "super8", "8mm", "16mm", "retro", "archival", "1920s", "silent film")),
    ("neon", ("neon", "cyberpunk", "synthwave", "vaporwave")),
]


def find_style(texts: list[str]) -> str | None:
    for t in texts:
        if t:
            hit = find_keyword(t, STYLE_KEYWORDS)
            if hit:
                return hit
    return None


def _lut(fn) -> np.ndarray:
    x = np.arange(256, dtype=np.float32) / 255.0
    return np.clip(np.round(fn(x) * 255.0), 0, 255).astype(np.uint8)


def grade_lut(palette: Palette | None, neutral: bool) -> np.ndarray | None:
    """A (1, 256, 3) LUT: white balance toward the key light, shadows toward the shadow colour, exposure by the light."""
    if palette is None or neutral:
        return None
    key = np.array(palette.key, np.float32) / 255.0
    shadow = np.array(palette.shadow, np.float32) / 255.0
    bright = float(np.mean(palette.sky_horizon) + np.mean(palette.ground_far)) / (2 * 255.0)
    exposure = float(np.clip(0.55 + 0.6 * bright, 0.6, 1.1))
    bal = key / max(1e-3, float(key.mean()))
    bal = 1.0 + (bal - 1.0) * 0.35
    x = np.arange(256, dtype=np.float32) / 255.0
    cols = []
    for c in range(3):
        y = x * exposure * bal[c]
        y = y + (1.0 - x) ** 3 * shadow[c] * 0.25     # tinted lift in the shadows
        cols.append(np.clip(np.round(y * 255), 0, 255).astype(np.uint8))
    return np.stack(cols, 1).reshape(1, 256, 3)


class Stylist:
    """Prepared once per clip (noise, paper, vignette, LUTs); `apply(frame, k)` per frame."""

    def __init__(self, style: str | None, W: int, H: int, seed: int, grade: np.ndarray | None):
        self.style, self.W, self.H, self.grade = style, W, H, grade
        rng = np.random.default_rng([seed, 5])
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        d = np.sqrt(((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2) / np.sqrt(2)
        self.vignette = np.clip(255 * (1.0 - 0.55 * d ** 2.2), 0, 255).astype(np.uint8)
        self.vignette3 = cv2.merge([self.vignette] * 3)
        # grain: a few noise fields cycled by frame; positive and negative halves for saturating adds
        self.grain = []
        for _ in range(4):
            g = rng.normal(0, 9 if style != "vintage" else 14, (H, W)).astype(np.float32)
            self.grain.append((np.clip(g, 0, 255).astype(np.uint8), np.clip(-g, 0, 255).astype(np.uint8)))
        paper = rng.normal(0, 1, (max(1, H // 4), max(1, W // 4))).astype(np.float32)
        paper = cv2.resize(cv2.GaussianBlur(paper, (0, 0), 1.2), (W, H), interpolation=cv2.INTER_LINEAR)
        self.paper = np.clip(242 + paper * 10, 200, 255).astype(np.uint8)
        self.paper3 = cv2.merge([self.paper] * 3)
        self.curve = _lut(lambda x: np.clip((x - 0.5) * 1.35 + 0.5, 0, 1) ** 1.05)          # noir contrast
        self.fade = _lut(lambda x: 0.08 + x * 0.84)                                          # vintage milky blacks
        self.poster = np.clip((np.arange(256) // 48) * 48 + 24, 0, 255).astype(np.uint8)      # cartoon bands
        self.neon = np.stack([_lut(lambda x: np.clip(x * 1.15 - 0.05, 0, 1) ** 1.1),
                              _lut(lambda x: np.clip(x * 0.8, 0, 1) ** 1.3),
                              _lut(lambda x: np.clip(x * 0.9 + 0.12, 0, 1) ** 0.9)], 1).reshape(1, 256, 3)
        self.sepia = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)
        self.scratches = []
        for _ in range(6):
            m = np.zeros((H, W), np.uint8)
            for _ in range(int(rng.integers(0, 3))):
                x = int(rng.integers(0, W))
                cv2.line(m, (x, 0), (x + int(rng.integers(-6, 6)), H), 70, 1)
            self.scratches.append(m)

    def _add_grain(self, img: np.ndarray, k: int) -> None:
        pos, neg = self.grain[k % len(self.grain)]
        if img.ndim == 3:
            pos, neg = cv2.merge([pos] * 3), cv2.merge([neg] * 3)
        cv2.add(img, pos, dst=img)
        cv2.subtract(img, neg, dst=img)

    def apply(self, frame: np.ndarray, k: int) -> np.ndarray:
        img = frame if self.grade is None else cv2.LUT(frame, self.grade)
        st = self.style
        if st is None:
            return img if img is not frame else frame.copy()
        W, H = self.W, self.H
        if st == "noir":
            g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            g = cv2.LUT(g, self.curve)
            g = cv2.multiply(g, self.vignette, scale=1 / 255.0)
            self._add_grain(g, k)
            return cv2.cvtColor(g, cv2.COLOR_GRAY2RGB)
        if st == "sketch":
            g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            small = cv2.resize(255 - g, (max(1, W // 2), max(1, H // 2)), interpolation=cv2.INTER_AREA)
            blur = cv2.resize(cv2.GaussianBlur(small, (0, 0), 3.0), (W, H), interpolation=cv2.INTER_LINEAR)
            dodge = cv2.divide(g, 255 - blur, scale=256)          # the classic pencil dodge
            dodge = cv2.multiply(dodge, self.paper, scale=1 / 255.0)
            out = cv2.cvtColor(dodge, cv2.COLOR_GRAY2RGB)
            return cv2.multiply(out, (1.0, 0.98, 0.93, 0.0))  # warm paper
        if st == "watercolor":
            sw, shh = max(1, W // 4), max(1, H // 4)
            small = cv2.resize(img, (sw, shh), interpolation=cv2.INTER_AREA)
            small = cv2.bilateralFilter(small, 7, 50, 5)
            wash = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
            gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
            edges = cv2.resize(cv2.convertScaleAbs(cv2.Laplacian(gray, cv2.CV_16S, ksize=3), alpha=0.6), (W, H), interpolation=cv2.INTER_LINEAR)
            wash = cv2.convertScaleAbs(wash, alpha=0.82, beta=44)   # airy, paper shows through
            wash = cv2.subtract(wash, cv2.merge([edges] * 3))        # pigment pools at the edges
            return cv2.multiply(wash, self.paper3, scale=1 / 255.0)
        if st == "cartoon":
            sw, shh = max(1, W // 2), max(1, H // 2)
            small = cv2.resize(img, (sw, shh), interpolation=cv2.INTER_AREA)
            small = cv2.bilateralFilter(small, 5, 60, 5)
            small = cv2.LUT(small, self.poster)
            gray = cv2.medianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), 5)
            lines = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
            col = cv2.resize(small, (W, H), interpolation=cv2.INTER_NEAREST)
            lines = cv2.resize(lines, (W, H), interpolation=cv2.INTER_NEAREST)
            return cv2.bitwise_and(col, col, mask=lines)
        if st == "vintage":
            out = cv2.transform(img, self.sepia)
            out = cv2.LUT(out, self.fade)
            out = cv2.multiply(out, self.vignette3, scale=1 / 255.0)
            self._add_grain(out, k)
            sc = self.scratches[(k * 7) % len(self.scratches)]
            return cv2.add(out, cv2.merge([sc] * 3))
        if st == "neon":
            out = cv2.LUT(img, self.neon)
            sw, shh = max(1, W // 4), max(1, H // 4)
            small = cv2.resize(out, (sw, shh), interpolation=cv2.INTER_AREA)
            glow = cv2.GaussianBlur(cv2.threshold(small, 150, 255, cv2.THRESH_TOZERO)[1], (0, 0), 4)
            return cv2.add(out, cv2.resize(glow, (W, H), interpolation=cv2.INTER_LINEAR))
        return img


def cover_resize(frame: np.ndarray, W: int, H: int) -> np.ndarray:
    """Scale to cover W x H, then centre-crop: the request size exactly, no borders, no squash."""
    h, w = frame.shape[:2]
    s = max(W / w, H / h)
    nw, nh = max(W, int(round(w * s))), max(H, int(round(h * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    big = cv2.resize(frame, (nw, nh), interpolation=interp) if (nw, nh) != (w, h) else frame
    x0, y0 = (nw - W) // 2, (nh - H) // 2
    return big[y0:y0 + H, x0:x0 + W]

