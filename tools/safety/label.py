"""The visible disclosure label ("AI-generated") burned into every exported frame, and finding it again.

The label is a semi-opaque dark pill with white text in a corner. Its size is relative to the
frame height (4.5% of it at scale 1.0), so a 1280x720 master, its 640x360 copy and a 720x1280
vertical cut all carry the same-looking label. It is rendered once per size (a small RGBA
patch) and alpha-blended into the patch region of all frames in one numpy operation, so
labelling a 30 s 720p cut costs milliseconds.

There is deliberately no way to switch the label off: position, text and scale are operator
settings (tools/safety/settings.py); nothing a brief or an LLM writes reaches them.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left")
DEFAULT_TEXT = "AI-generated"
HEIGHT_FRACTION = 0.045        # pill height / frame height at scale 1.0
MARGIN_FRACTION = 0.06         # gap to each edge / that side's length: a centred crop of 10 % keeps the label whole
PILL_ALPHA = 0.62              # opacity of the dark pill
PILL_RGB = (18, 18, 22)
MASTER_HEIGHT = 96             # the pill is drawn once at this height, then resized: one look at every size
DETECT_HEIGHT = 360            # frames are brought to this height before template matching
DETECT_THRESHOLD = 0.55        # normalised correlation a label scores at least (unlabelled corners ~0.1-0.35)


@lru_cache(maxsize=16)
def _master(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(rgb, alpha) of the label at MASTER_HEIGHT px: pill and antialiased text."""
    if not text.strip():
        raise ValueError("the disclosure label text cannot be empty (the default is 'AI-generated')")
    h = MASTER_HEIGHT
    font, thick = cv2.FONT_HERSHEY_DUPLEX, 3
    font_scale = cv2.getFontScaleFromHeight(font, int(h * 0.42), thick)
    (tw, th), base = cv2.getTextSize(text, font, font_scale, thick)
    pad = h // 2
    w = tw + 2 * pad
    # Coverage masks drawn at 2x then averaged down: smooth edges without PIL fonts.
    big = np.zeros((2 * h, 2 * w), np.uint8)
    r = h
    cv2.rectangle(big, (r, 0), (2 * w - r, 2 * h - 1), 255, -1)
    cv2.circle(big, (r, r), r, 255, -1, cv2.LINE_AA)
    cv2.circle(big, (2 * w - r, r), r, 255, -1, cv2.LINE_AA)
    txt = np.zeros_like(big)
    org = (2 * pad, h + th)
    cv2.putText(txt, text, org, font, font_scale * 2, 255, thick * 2, cv2.LINE_AA)
    pill = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    ink = cv2.resize(txt, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    alpha = np.maximum(pill * PILL_ALPHA, ink)
    # Colour where alpha > 0: white over the dark pill, by ink coverage.
    rgb = np.empty((h, w, 3), np.float32)
    dark = np.array(PILL_RGB, np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        mix = np.where(alpha > 0, ink / np.maximum(alpha, 1e-6), 0.0)
    rgb[:] = dark * (1 - mix[..., None]) + 255.0 * mix[..., None]
    return rgb, alpha


# Below this the words cannot be read (nor found again by `detect_label`): small frames get a label
# that is relatively larger rather than one nobody can read.
MIN_LABEL_PX = 16


@lru_cache(maxsize=32)
def render_patch(text: str, frame_height: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(premultiplied rgb float32 (h, w, 3), alpha float32 (h, w, 1)) for a frame this tall."""
    rgb, alpha = _master(text)
    ph = max(min(MIN_LABEL_PX, frame_height // 3), int(round(frame_height * HEIGHT_FRACTION * scale)))
    pw = max(8, int(round(rgb.shape[1] * ph / rgb.shape[0])))
    interp = cv2.INTER_AREA if ph < MASTER_HEIGHT else cv2.INTER_LINEAR
    rgb_s = cv2.resize(rgb, (pw, ph), interpolation=interp)
    a_s = cv2.resize(alpha, (pw, ph), interpolation=interp)[..., None]
    return rgb_s * a_s, a_s


def label_fits(text: str, width: int, height: int, scale: float = 1.0) -> bool:
    """Does the label, at the smallest size that can be read, fit a frame of width x height?"""
    ph, pw = render_patch(text, height, float(scale))[1].shape[:2]
    return pw + 4 <= width and ph + 4 <= height


def _origin(position: str, frame_w: int, frame_h: int, pw: int, ph: int) -> tuple[int, int]:
    if position not in POSITIONS:
        raise ValueError(f"label position '{position}' is not one of: {', '.join(POSITIONS)}")
    # Inside the action-safe area rather than against the edge: platforms crop to fill (a 16:9
    # film in a slightly taller player loses ~5 % a side), and a label at the edge went with it.
    mx, my = max(2, int(round(frame_w * MARGIN_FRACTION))), max(2, int(round(frame_h * MARGIN_FRACTION)))
    x = frame_w - pw - mx if position.endswith("right") else mx
    y = frame_h - ph - my if position.startswith("bottom") else my
    return x, y


def burn_label(frames: np.ndarray, text: str = DEFAULT_TEXT, position: str = "bottom-right",
               scale: float = 1.0, inplace: bool = False) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB frames with the disclosure label in every frame: a copy, or `frames`
    itself with `inplace=True` (a full copy costs ~4 ms a 720p frame, far more than the label)."""
    if not (isinstance(frames, np.ndarray) and frames.ndim == 4 and frames.dtype == np.uint8 and frames.shape[-1] == 3):
        raise ValueError(f"frames must be a (N, H, W, 3) uint8 RGB array, got {getattr(frames, 'shape', type(frames))}")
    if not (1.0 <= scale <= 3.0):
        raise ValueError(f"label scale {scale} must be between 1 and 3 (1.0 = 4.5% of the frame height; "
                         "smaller would not be readable, so it is not offered)")
    n, h, w, _ = frames.shape
    pre, alpha = render_patch(text, h, float(scale))
    ph, pw = alpha.shape[:2]
    if not label_fits(text, w, h, scale):
        raise ValueError(f"the label '{text}' at scale {scale} ({pw}x{ph} px) does not fit a {w}x{h} frame; "
                         "use a shorter text or a smaller scale")
    x, y = _origin(position, w, h, pw, ph)
    out = frames if inplace else frames.copy()
    roi = out[:, y:y + ph, x:x + pw].astype(np.float32)
    roi *= 1.0 - alpha
    roi += pre
    out[:, y:y + ph, x:x + pw] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)
    return out


@lru_cache(maxsize=32)
def _template(text: str, scale: float) -> np.ndarray:
    """The label as it looks over mid-grey at DETECT_HEIGHT, grey levels (float32)."""
    pre, alpha = render_patch(text, DETECT_HEIGHT, scale)
    over_grey = pre + 128.0 * (1.0 - alpha)
    return cv2.cvtColor(over_grey.astype(np.float32), cv2.COLOR_RGB2GRAY)


def label_score(frame: np.ndarray, text: str = DEFAULT_TEXT,
                scales: tuple[float, ...] = (1.0, 1.12, 1.25, 1.5, 2.0, 2.5, 3.0),
                positions: tuple[str, ...] = POSITIONS) -> tuple[float, str | None, float | None]:
    """Best normalised correlation of the label template in the frame's corners: (score, position, scale)."""
    h, w = frame.shape[:2]
    floor = MIN_LABEL_PX / (h * HEIGHT_FRACTION)   # the scale a small frame's label was burned at
    if floor > min(scales):
        scales = tuple(sorted({*scales, round(floor, 3), round(floor * 1.25, 3)}))
    dw = max(1, int(round(w * DETECT_HEIGHT / h)))
    grey = cv2.cvtColor(cv2.resize(frame, (dw, DETECT_HEIGHT), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    grey = grey.astype(np.float32)
    best: tuple[float, str | None, float | None] = (0.0, None, None)
    for scale in scales:
        tpl = _template(text, scale)
        th, tw = tpl.shape
        if tw + 4 > dw or th + 4 > DETECT_HEIGHT:
            continue
        x, y_ = 0, 0
        for pos in positions:
            x, y_ = _origin(pos, dw, DETECT_HEIGHT, tw, th)
            # Search a window around the expected place (rounding and resizing shift it a few px)
            # that reaches the corner's edges: after a crop the label sits nearer them.
            pad = max(4, th // 2)
            x0, y0 = (max(0, x - pad) if pos.endswith("right") else 0), (max(0, y_ - pad) if pos.startswith("bottom") else 0)
            x1 = dw if pos.endswith("right") else min(dw, x + tw + pad)
            y1 = DETECT_HEIGHT if pos.startswith("bottom") else min(DETECT_HEIGHT, y_ + th + pad)
            region = grey[y0:y1, x0:x1]
            if region.shape[0] < th or region.shape[1] < tw:
                continue
            score = float(cv2.matchTemplate(region, tpl, cv2.TM_CCOEFF_NORMED).max())
            if score > best[0]:
                best = (score, pos, scale)
    return best


def detect_label(frames: np.ndarray, text: str = DEFAULT_TEXT, threshold: float = DETECT_THRESHOLD,
                 max_frames: int = 8) -> bool:
    """True when the disclosure label is found in most of up to `max_frames` frames spread over the clip."""
    return label_reading(frames, text=text, threshold=threshold, max_frames=max_frames)["present"]


def label_reading(frames: np.ndarray, text: str = DEFAULT_TEXT, threshold: float = DETECT_THRESHOLD,
                  max_frames: int = 8) -> dict:
    """{present, score, position, scale, frames_checked}: the evidence behind `detect_label`."""
    if len(frames) == 0:
        return {"present": False, "score": 0.0, "position": None, "scale": None, "frames_checked": 0}
    idx = np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int)
    results = [label_score(frames[i], text) for i in idx]
    scores = np.array([r[0] for r in results])
    hits = scores >= threshold
    top = results[int(np.argmax(scores))]
    return {"present": bool(hits.mean() >= 0.5), "score": round(float(np.median(scores)), 3),
            "position": top[1], "scale": top[2], "frames_checked": int(len(idx))}


def detect_label_video(path, text: str = DEFAULT_TEXT, max_frames: int = 8) -> dict:
    from tools.safety._media import decode_frames

    return label_reading(decode_frames(path, max_frames=max_frames), text=text, max_frames=max_frames)
