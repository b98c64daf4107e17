"""The animatic's camera: moves as per-layer transforms over time, and the fast per-frame compositor.

Private helper of `tools/generate/animatic.py`.

Why it is fast: every layer is painted once per shot on a canvas that already covers everything
the move will show (and is already rolled for a Dutch angle). A frame is then, per layer, one
slice copy (pans, tilts, tracking, handheld: the scale stays 1) or one `cv2.resize` of a crop
(zooms, dollies), plus a masked `cv2.copyTo`. Layers that move together (a zoom moves all of them
alike) are flattened into one canvas before the first frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from tools.generate.animatic_scene import Canvas, blend_patch, fit_text, text_image

LAYERS = ("far", "mid", "near")


def ease(t: np.ndarray) -> np.ndarray:
    """Ease in and out, like a grip would: no jolt at the start or the end of the move."""
    return t * t * (3.0 - 2.0 * t)


@dataclass
class LayerPath:
    cx: np.ndarray   # rolled-world x at the frame centre, per frame
    cy: np.ndarray
    s: np.ndarray    # scale (>1 = closer)
    sq: np.ndarray   # extra horizontal squash (orbit turns the subject)

    def same_as(self, other: "LayerPath") -> bool:
        return all(np.allclose(a, b, atol=1e-6) for a, b in ((self.cx, other.cx), (self.cy, other.cy), (self.s, other.s), (self.sq, other.sq)))


def camera_paths(camera: str, n: int, fps: float, W: int, H: int, focus: tuple[float, float], rng: np.random.Generator,
                 direction: int = 1, amount: float = 1.0) -> dict[str, LayerPath]:
    """Per-layer centre/scale over the shot. Near layers move more than far ones (parallax).

    `focus` is the subject's focus point (rolled world), the fixed point of zooms and dollies.
    `amount` scales the travel (1 = a normal move for a 4 s shot).
    """
    u = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = ease(u)
    fcx, fcy = W / 2.0, H / 2.0
    fx, fy = focus
    dur = n / max(fps, 1e-6)
    k = float(np.clip(dur / 4.0, 0.5, 2.0)) * amount   # longer shots travel further, within reason
    ones = np.ones(n)
    paths = {}

    def put(name, cx, cy, s=None, sq=None):
        paths[name] = LayerPath(np.asarray(cx, float) * ones, np.asarray(cy, float) * ones,
                                ones if s is None else np.asarray(s, float) * ones, ones if sq is None else np.asarray(sq, float) * ones)

    def about_focus(s):
        # keep the focus point fixed on screen while scaling: c = f - (f - fc) / s
        return fx - (fx - fcx) / s, fy - (fy - fcy) / s

    if camera in ("pan_left", "pan_right"):
        sign = 1.0 if camera == "pan_right" else -1.0   # pan right: the view moves right, content slides left
        for name, p in zip(LAYERS, (0.6, 0.8, 1.0)):
            put(name, fcx + sign * 0.24 * k * W * (e - 0.5) * p, fcy)
    elif camera in ("tilt_up", "tilt_down"):
        sign = -1.0 if camera == "tilt_up" else 1.0     # tilt up: the view rises, content slides down
        for name, p in zip(LAYERS, (0.7, 0.85, 1.0)):
            put(name, fcx, fcy + sign * 0.22 * k * H * (e - 0.5) * p)
    elif camera in ("dolly_in", "dolly_out"):
        d = min(0.45, 0.3 * k)
        t = e if camera == "dolly_in" else 1.0 - e
        # near things grow faster than far ones; the horizon, at infinity, does not grow at all
        for name, p in zip(LAYERS, (0.0, 0.3, 1.0)):
            s = 1.0 / (1.0 - t * d * p)
            cx, cy = about_focus(s)
            put(name, cx, cy, s)
    elif camera in ("zoom_in", "zoom_out"):
        t = e if camera == "zoom_in" else 1.0 - e
        s = 1.0 + min(0.8, 0.42 * k) * t             # a zoom magnifies every layer alike: no parallax
        cx, cy = about_focus(s)
        for name in LAYERS:
            put(name, cx, cy, s)
    elif camera == "tracking":
        # the camera travels beside the subject: it holds in frame, the world streams past
        for name, p in zip(LAYERS, (0.12, 0.5, 0.0)):
            put(name, fcx + direction * 0.7 * k * W * (u - 0.5) * p, fcy)
        steps = max(1.0, dur * 1.8)
        paths["near"].cy = fcy + 0.006 * H * np.abs(np.sin(math.pi * steps * u))
    elif camera == "orbit":
        # circling the subject: the background swings the other way, far things furthest
        for name, p in zip(LAYERS, (0.38, 0.22, 0.0)):
            put(name, fcx + direction * k * W * (e - 0.5) * p, fcy)
        paths["near"].sq = 1.0 - 0.2 * np.sin(math.pi * e)
    elif camera == "crane":
        # rising: the foreground sinks out of frame faster than the horizon
        for name, p in zip(LAYERS, (0.08, 0.35, 1.0)):
            put(name, fcx, fcy - 0.3 * k * H * (e - 0.5) * p, 1.0 - 0.06 * e * p if name != "far" else 1.0)
    elif camera == "handheld":
        t = np.arange(n) / max(fps, 1e-6)
        sx = np.zeros(n)
        sy = np.zeros(n)
        for _ in range(3):  # a few incommensurate wobbles: organic, and the seed decides them
            f1, f2 = rng.uniform(0.25, 1.6, 2)
            p1, p2 = rng.uniform(0, 2 * math.pi, 2)
            a = rng.uniform(0.5, 1.0)
            sx += a * np.sin(2 * math.pi * f1 * t + p1)
            sy += a * np.sin(2 * math.pi * f2 * t + p2)
        sx *= 0.0045 * W * amount
        sy *= 0.004 * H * amount
        for name in LAYERS:
            put(name, fcx + sx, fcy + sy, 1.03)
    elif camera == "aerial":
        for name, p, g in zip(LAYERS, (0.5, 0.8, 1.0), (0.0, 0.12, 0.2)):
            put(name, fcx + direction * 0.08 * k * W * (e - 0.5) * p, fcy, 1.0 + g * k * e)
    else:  # static
        for name in LAYERS:
            put(name, fcx, fcy)
    return paths


# ----------------------------------------------------------------------------- planned layers


@dataclass
class PlannedLayer:
    names: tuple[str, ...]    # depth layers painted onto this canvas
    path: LayerPath
    rect: tuple[float, float, float, float]   # rolled-world rectangle the canvas covers
    r: float                  # canvas pixels per world unit
    opaque: bool
    canvas: Canvas | None = None
    bbox: tuple[int, int, int, int] | None = None   # content box in canvas pixels


def plan_layers(paths: dict[str, LayerPath], W: int, H: int) -> list[PlannedLayer]:
    """Group depth layers that move alike, and size each canvas to cover everything its path shows."""
    groups: list[list[str]] = []
    for name in LAYERS:
        if groups and paths[groups[-1][0]].same_as(paths[name]):
            groups[-1].append(name)
        else:
            groups.append([name])
    planned = []
    for i, g in enumerate(groups):
        p = paths[g[0]]
        hw = W / 2.0 / (p.s * p.sq)
        hh = H / 2.0 / p.s
        m = 2.0
        rect = (float((p.cx - hw).min() - m), float((p.cy - hh).min() - m), float((p.cx + hw).max() + m), float((p.cy + hh).max() + m))
        r = float(np.clip(p.s.max(), 1.0, 2.0))
        planned.append(PlannedLayer(tuple(g), p, rect, r, opaque=(i == 0)))
    return planned


class Compositor:
    """Per-frame assembly of planned layers into an output frame (writes in place)."""

    def __init__(self, layers: list[PlannedLayer], W: int, H: int):
        self.layers, self.W, self.H = layers, W, H
        self.scratch = np.empty((H, W, 3), np.uint8)
        self.scratch_m = np.empty((H, W), np.uint8)
        for L in layers:
            cv = L.canvas
            if L.opaque or cv.mask is None:
                L.bbox = (0, 0, cv.w, cv.h)
            else:
                x, y, w, h = cv2.boundingRect(cv.mask)
                L.bbox = (x, y, x + w, y + h) if w and h else None

    def frame(self, k: int, out: np.ndarray) -> None:
        W, H = self.W, self.H
        for L in self.layers:
            if L.bbox is None:
                continue
            p, cv = L.path, L.canvas
            s, sq = p.s[k], p.sq[k]
            ax, ay = s * sq / L.r, s / L.r
            ox, oy = L.rect[0], L.rect[1]
            bx = W / 2.0 + s * sq * (ox - p.cx[k])
            by = H / 2.0 + s * (oy - p.cy[k])
            qx0, qy0, qx1, qy1 = L.bbox
            if abs(ax - 1.0) < 1e-9 and abs(ay - 1.0) < 1e-9:
                ix, iy = int(round(bx)), int(round(by))
                dx0, dy0 = max(0, qx0 + ix), max(0, qy0 + iy)
                dx1, dy1 = min(W, qx1 + ix), min(H, qy1 + iy)
                if dx1 <= dx0 or dy1 <= dy0:
                    continue
                src = cv.rgb[dy0 - iy:dy1 - iy, dx0 - ix:dx1 - ix]
                dst = out[dy0:dy1, dx0:dx1]
                if L.opaque:
                    np.copyto(dst, src)
                else:
                    cv2.copyTo(src, cv.mask[dy0 - iy:dy1 - iy, dx0 - ix:dx1 - ix], dst)
                continue
            dx0 = max(0, int(math.floor(ax * qx0 + bx)))
            dy0 = max(0, int(math.floor(ay * qy0 + by)))
            dx1 = min(W, int(math.ceil(ax * qx1 + bx)))
            dy1 = min(H, int(math.ceil(ay * qy1 + by)))
            if dx1 <= dx0 or dy1 <= dy0:
                continue
            sx0 = max(0, int(round((dx0 - bx) / ax)))
            sy0 = max(0, int(round((dy0 - by) / ay)))
            sx1 = min(cv.w, max(sx0 + 1, int(round((dx1 - bx) / ax))))
            sy1 = min(cv.h, max(sy0 + 1, int(round((dy1 - by) / ay))))
            if sx1 <= sx0 or sy1 <= sy0:
                continue
            size = (dx1 - dx0, dy1 - dy0)
            if L.opaque:
                cv2.resize(cv.rgb[sy0:sy1, sx0:sx1], size, dst=out[dy0:dy1, dx0:dx1], interpolation=cv2.INTER_LINEAR)
            else:
                tmp = self.scratch[:size[1], :size[0]]
                tm = self.scratch_m[:size[1], :size[0]]
                cv2.resize(cv.rgb[sy0:sy1, sx0:sx1], size, dst=tmp, interpolation=cv2.INTER_LINEAR)
                cv2.resize(cv.mask[sy0:sy1, sx0:sx1], size, dst=tm, interpolation=cv2.INTER_NEAREST)
                cv2.copyTo(tmp, tm, out[dy0:dy1, dx0:dx1])


# ----------------------------------------------------------------------------- weather: screen-space particles


class Particles:
    """Rain, snow or bubbles: a tile painted once, scrolled per frame (one masked copy)."""

    def __init__(self, kind: str, W: int, H: int, color, seed: int, fps: float):
        rng = np.random.default_rng([seed, 77])
        tile = np.zeros((H, W, 3), np.uint8)
        mask = np.zeros((H, W), np.uint8)
        tile[:] = color
        if kind == "rain":
            n = int(W * H / 2600)
            L = 0.05 * H
            for _ in range(n):
                x, y = rng.uniform(0, W), rng.uniform(0, H)
                for dy in (0, -H, H):  # wrap vertically so the tile scrolls seamlessly
                    cv2.line(mask, (int(x), int(y + dy)), (int(x - 0.12 * L), int(y + dy + L)), 255, max(1, H // 720), cv2.LINE_8)
            self.speed = 0.9 * H / max(fps, 1)            # pixels per frame, downward
        elif kind == "snow":
            for _ in range(int(W * H / 5000)):
                x, y = rng.uniform(0, W), rng.uniform(0, H)
                r = int(max(1, rng.uniform(0.8, 2.6) * H / 720))
                for dy in (0, -H, H):
                    cv2.circle(mask, (int(x), int(y + dy)), r, 255, -1, cv2.LINE_8)
            self.speed = 0.08 * H / max(fps, 1)
        else:  # bubbles rise
            for _ in range(int(W * H / 40000)):
                x, y = rng.uniform(0, W), rng.uniform(0, H)
                r = int(max(2, rng.uniform(2, 7) * H / 720))
                for dy in (0, -H, H):
                    cv2.circle(mask, (int(x), int(y + dy)), r, 255, max(1, H // 500), cv2.LINE_8)
            self.speed = -0.12 * H / max(fps, 1)
        self.rgb = np.concatenate([tile, tile])
        self.mask = np.concatenate([mask, mask])
        self.H = H

    def frame(self, k: int, out: np.ndarray) -> None:
        off = int(round(-k * self.speed)) % self.H
        cv2.copyTo(self.rgb[off:off + self.H], self.mask[off:off + self.H], out)


# ----------------------------------------------------------------------------- the slate: title strip, tag, timecode


class Slate:
    """Shot id, subject and action in a strip; camera and framing in a tag; a running timecode.

    Text is rendered once; a frame costs a darkening of two small regions and a few glyph copies.
    """

    def __init__(self, W: int, H: int, shot_id: str, subject: str, action: str, tag: str, fps: int, n: int):
        self.W, self.H, self.fps = W, H, max(1, int(fps))
        sh = max(14, int(round(0.066 * min(H, W * 9 / 16) if W >= H else 0.045 * H)))
        self.y0 = H - sh
        size = max(9, int(sh * 0.5))
        # left: shot badge, subject — action
        badge_rgb, badge_a = text_image(f" {shot_id.upper()} ", size, (20, 20, 24), bold=True)
        tc_w = text_image("00:00:00:00", max(8, int(size * 0.9)), mono=True)[1].shape[1]
        line = subject if not action else f"{subject} — {action}"
        room = max(40, W - badge_a.shape[1] - tc_w - int(sh * 1.6))
        txt_rgb, txt_a = fit_text(line, size, room, color=(245, 245, 240))
        self.text_rgb = np.zeros((sh, W, 3), np.uint8)
        self.text_m = np.zeros((sh, W), np.uint8)
        pad = int(sh * 0.3)
        bh, bw = badge_a.shape
        by = max(0, (sh - bh) // 2)
        box = np.full((min(bh, sh - by), bw + 4, 3), (250, 214, 72), np.uint8)
        self.text_rgb[by:by + box.shape[0], pad:pad + box.shape[1]] = box
        self.text_m[by:by + box.shape[0], pad:pad + box.shape[1]] = 255
        blend_patch(self.text_rgb, badge_rgb, badge_a, pad + 2, by, None)
        blend_patch(self.text_rgb, txt_rgb, txt_a, pad + bw + int(sh * 0.4), max(0, (sh - txt_a.shape[0]) // 2), self.text_m)
        # top-left tag: camera and framing
        tg_rgb, tg_a = fit_text(tag, max(8, int(size * 0.8)), int(W * 0.9), color=(255, 255, 255), bold=True)
        th, tw = tg_a.shape
        self.tag_box = (int(sh * 0.3), int(sh * 0.3), min(W, int(sh * 0.3) + tw + 2 * pad), min(H, int(sh * 0.3) + th + pad))
        x0, y0, x1, y1 = self.tag_box
        self.tag_rgb = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        self.tag_m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        blend_patch(self.tag_rgb, tg_rgb, tg_a, pad, pad // 2, self.tag_m)
        # timecode glyphs, monospace, one per character
        gsize = max(8, int(size * 0.9))
        self.glyphs = {}
        for ch in "0123456789:":
            rgb, a = text_image(ch, gsize, (255, 255, 255), mono=True)
            self.glyphs[ch] = (rgb, np.where(a > 90, 255, 0).astype(np.uint8))
        gw = max(g[1].shape[1] for g in self.glyphs.values())
        self.gw = max(1, gw - 2)
        gh = max(g[1].shape[0] for g in self.glyphs.values())
        self.tc_x = W - pad - 11 * self.gw
        self.tc_y = self.y0 + max(0, (sh - gh) // 2)
        self.total = n

    def timecode(self, k: int) -> str:
        s, f = divmod(k, self.fps)
        m, s = divmod(s, 60)
        h, m = divmod(m, 60)
        return f"{h:02d}:{m:02d}:{s:02d}:{f % 100:02d}"

    def draw(self, k: int, out: np.ndarray) -> None:
        strip = out[self.y0:]
        cv2.convertScaleAbs(strip, dst=strip, alpha=0.3, beta=6)   # a translucent dark band
        cv2.copyTo(self.text_rgb, self.text_m, strip)
        x0, y0, x1, y1 = self.tag_box
        tag = out[y0:y1, x0:x1]
        cv2.convertScaleAbs(tag, dst=tag, alpha=0.4, beta=4)
        cv2.copyTo(self.tag_rgb[:tag.shape[0], :tag.shape[1]], self.tag_m[:tag.shape[0], :tag.shape[1]], tag)
        x = self.tc_x
        for ch in self.timecode(k):
            rgb, m = self.glyphs[ch]
            h, w = m.shape
            y = self.tc_y
            if 0 <= x and x + w <= self.W and y + h <= self.H:
                cv2.copyTo(rgb, m, out[y:y + h, x:x + w])
            x += self.gw


# ----------------------------------------------------------------------------- i2v: a camera over a still


def ken_burns_matrices(camera: str, n: int, fps: float, iw: int, ih: int, W: int, H: int, rng: np.random.Generator,
                       amount: float = 1.0, parallax: float = 0.5) -> tuple[np.ndarray, dict]:
    """Per-frame 2x3 maps output -> image pixels that never leave the image (no borders, ever).

    The depth guess is the classic one for photos: the bottom of the frame is near, the top far.
    Lateral moves therefore shear a little (near rows travel further), which reads as parallax.
    """
    u = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = ease(u)
    cover = max(W / iw, H / ih)        # output px per image px when the whole image just covers the frame
    dur = n / max(fps, 1e-6)
    k = float(np.clip(dur / 4.0, 0.5, 2.0)) * amount
    z = np.ones(n)                     # zoom relative to cover
    px = np.zeros(n)                   # camera travel, fraction of the available slack (-1..1)
    py = np.zeros(n)
    lateral = np.zeros(n)              # signed lateral travel for the parallax shear
    shake = np.zeros((n, 2))
    if camera in ("zoom_in", "dolly_in"):
        z = 1.0 + min(0.6, 0.3 * k) * e
    elif camera in ("zoom_out", "dolly_out"):
        z = 1.0 + min(0.6, 0.3 * k) * (1.0 - e)
    elif camera in ("pan_left", "pan_right", "tracking", "orbit"):
        z[:] = 1.0 + min(0.35, 0.18 * k)
        sign = -1.0 if camera == "pan_left" else 1.0
        t = u if camera == "tracking" else e
        px = sign * (2 * t - 1) * min(1.0, 0.8 * k)
        lateral = px
        if camera == "orbit":
            z = z + 0.06 * np.sin(math.pi * e)
    elif camera in ("tilt_up", "tilt_down", "crane"):
        z[:] = 1.0 + min(0.35, 0.18 * k)
        sign = -1.0 if camera in ("tilt_up", "crane") else 1.0
        py = sign * (2 * e - 1) * min(1.0, 0.8 * k)
        if camera == "crane":
            z = z - 0.08 * e
    elif camera == "handheld":
        z[:] = 1.08
        t = np.arange(n) / max(fps, 1e-6)
        for _ in range(3):
            f1, f2 = rng.uniform(0.25, 1.6, 2)
            p1, p2 = rng.uniform(0, 2 * math.pi, 2)
            shake[:, 0] += np.sin(2 * math.pi * f1 * t + p1) * 0.004 * W * amount
            shake[:, 1] += np.sin(2 * math.pi * f2 * t + p2) * 0.0035 * H * amount
    elif camera == "aerial":
        z = 1.05 + 0.15 * k * e
        px = (2 * e - 1) * 0.4
        lateral = px
    else:  # static: a still shot still breathes a little; a frozen frame reads as a fault
        z = 1.0 + 0.03 * e
    shear_k = parallax * 0.25

    def build(zs):
        Ms = np.zeros((n, 2, 3))
        for i in range(n):
            sc = 1.0 / (cover * zs[i])                 # image px per output px
            vw, vh = W * sc, H * sc                    # the view in image pixels
            slack_x, slack_y = (iw - vw) / 2.0, (ih - vh) / 2.0
            travel_x = px[i] * slack_x * 0.8
            cx = iw / 2.0 + travel_x + shake[i, 0] * sc
            cy = ih / 2.0 + py[i] * slack_y * 0.8 + shake[i, 1] * sc
            # near rows (bottom) travel further sideways than far rows (top): a shear about the centre row
            sh = lateral[i] * slack_x * 0.8 * shear_k / (H / 2.0)
            Ms[i] = [[sc, sh, cx - sc * W / 2.0 - sh * H / 2.0],
                     [0.0, sc, cy - sc * H / 2.0]]
        return Ms

    def inside(Ms) -> bool:
        corners = np.array([[0, 0, 1], [W, 0, 1], [0, H, 1], [W, H, 1]], float)
        pts = np.einsum("nij,kj->nki", Ms, corners)
        return bool((pts[..., 0] >= -1e-6).all() and (pts[..., 0] <= iw - 1 + 1e-6).all() and (pts[..., 1] >= -1e-6).all() and (pts[..., 1] <= ih - 1 + 1e-6).all())

    zs = z.copy()
    Ms = build(zs)
    tries = 0
    while not inside(Ms) and tries < 60:
        zs = zs * 1.02
        Ms = build(zs)
        tries += 1
    return Ms, {"zoom_start": float(zs[0]), "zoom_end": float(zs[-1]), "parallax": "vertical-gradient shear" if np.any(lateral) else "none"}
