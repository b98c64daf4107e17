"""The animatic's camera: moves as per-layer transforms over time, and the fast per-frame compositor.

Private helper of `tools/generate/animatic/backend.py`.

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

from tools.generate.animatic.scene import Canvas, blend_patch, fit_text, text_image

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

    def same_as(self, other: LayerPath) -> bool:
        return all(np.allclose(a, b, atol=1e-6) for a, b in ((self.cx, other.cx), (self.cy, other.cy), (self.s, other.s), (self.sq, other.sq)))


def camera_paths(camera: str, n: int, fps: float, W: int, H: int, focus: tuple[float, float], rng: np.random.Generator,
                 direction: int = 1, amount: float = 1.0, linear: float = 0.0, min_step: float = 0.0,
                 overhead: bool = False) -> dict[str, LayerPath]:
    """Per-layer centre/scale over the shot. Near layers move more than far ones (parallax).

    `focus` is the subject's focus point (rolled world), the fixed point of zooms and dollies.
    `amount` scales the travel (1 = a normal move for a 4 s shot). `linear` (0..1) blends the
    ease-in/out with constant speed: a fully eased move starts from rest, and its first and last
    frames barely differ, which reads as a held frame. `min_step` (output px per frame) is the
    least the handheld drift moves between frames. `overhead`: the camera looks down, so the
    ground is near too (there is no horizon at infinity to stay put in a dolly).
    """
    u = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = (1.0 - linear) * ease(u) + linear * u
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
        for name, p in zip(LAYERS, (0.5, 0.7, 1.0) if overhead else (0.0, 0.3, 1.0)):
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
        sx, sy = handheld_drift(n, fps, W, H, rng, amount, min_step)
        for name in LAYERS:
            put(name, fcx + sx, fcy + sy)
    elif camera == "aerial":
        for name, p, g in zip(LAYERS, (0.5, 0.8, 1.0), (0.0, 0.12, 0.2)):
            put(name, fcx + direction * 0.08 * k * W * (e - 0.5) * p, fcy, 1.0 + g * k * e)
    else:  # static
        for name in LAYERS:
            put(name, fcx, fcy)
    return paths


def handheld_drift(n: int, fps: float, W: int, H: int, rng: np.random.Generator, amount: float = 1.0,
                   min_step: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A hand-held camera's float path (px): a slow elliptical sway plus two smaller, quicker wobbles.

    The sway never stops (an ellipse has no turning point where x and y both rest) and the wobbles
    are too weak to cancel it, so the camera moves at least `min_step` px between any two frames: a
    real operator never holds perfectly still, and a take with repeated frames reads as frozen.
    """
    t = np.arange(n) / max(fps, 1e-6)
    f0 = rng.uniform(0.45, 0.75)
    p0 = rng.uniform(0, 2 * math.pi)
    w0 = 2 * math.pi * f0
    ax, ay = 0.008 * W * amount, 0.011 * H * amount
    sx = ax * np.cos(w0 * t + p0)
    sy = ay * np.sin(w0 * t + p0) * rng.choice([-1.0, 1.0])
    slow = w0 * min(ax, ay)                      # the sway's least speed, px/s
    for _ in range(2):
        f1, f2 = rng.uniform(1.1, 2.4, 2)
        p1, p2 = rng.uniform(0, 2 * math.pi, 2)
        # each wobble's top speed is at most a quarter of the sway's least speed
        sx += 0.25 * slow / (2 * math.pi * f1) * rng.uniform(0.5, 1.0) * np.sin(2 * math.pi * f1 * t + p1)
        sy += 0.25 * slow / (2 * math.pi * f2) * rng.uniform(0.5, 1.0) * np.sin(2 * math.pi * f2 * t + p2)
    if n > 1 and min_step > 0:
        step = float(np.hypot(np.diff(sx), np.diff(sy)).min())
        if 0 < step < min_step:   # small frames or a low amount: sway a little wider, at most 3x
            g = min(3.0, min_step / step)
            sx, sy = sx * g, sy * g
    return sx, sy


def least_step(paths: dict[str, LayerPath], W: int, H: int) -> float:
    """The least, over frames, of how far the set (the far or mid layer, whichever moves more) travels on screen (px).

    The subject is left out: it may be a small figure, and the frame reads as held when the world
    around it stands still.
    """
    n = len(next(iter(paths.values())).cx)
    if n < 2:
        return float("inf")
    best = np.zeros(n - 1)
    for name in ("far", "mid"):
        p = paths[name]
        for X, Y in ((0.0, 0.0), (W, 0.0), (0.0, H), (W, H), (W / 2.0, H / 2.0)):
            # the world point under screen (X, Y) at frame k, and where frame k+1 shows it
            x = p.cx[:-1] + (X - W / 2.0) / (p.s[:-1] * p.sq[:-1])
            y = p.cy[:-1] + (Y - H / 2.0) / p.s[:-1]
            X1 = W / 2.0 + p.s[1:] * p.sq[1:] * (x - p.cx[1:])
            Y1 = H / 2.0 + p.s[1:] * (y - p.cy[1:])
            best = np.maximum(best, np.hypot(X1 - X, Y1 - Y))
    return float(best.min())


def min_step(W: int, H: int) -> float:
    """The least on-screen travel per frame (px) that reads as motion, not a held frame.

    A viewer (and the critic, which looks at a copy about 180 px high) stops seeing a move once a
    frame shifts less than about a quarter of a thumbnail pixel from the one before.
    """
    return max(0.5, min(W, H) / 400.0)


# ----------------------------------------------------------------------------- the subject performs its action

ACTION_KINDS: list[tuple[str, tuple[str, ...]]] = [
    ("run", ("run", "runs", "running", "races", "racing", "sprints", "sprinting", "flees", "fleeing", "chases", "chasing",
             "drives", "driving", "speeds", "flies", "flying", "gallops", "galloping")),
    ("walk", ("walk", "walks", "walking", "strolls", "strolling", "wanders", "wandering", "marches", "marching", "crosses",
              "crossing", "leaves", "leaving", "arrives", "arriving", "approaches", "approaching", "enters", "entering",
              "exits", "exiting", "sails", "sailing", "swims", "swimming", "rides", "riding", "paddles", "rolls", "drifts",
              "limps", "steps", "jogs", "jogging", "hurries", "glides", "gliding", "moves", "travels")),
    ("turn", ("turns", "turning", "looks", "looking", "glances", "glancing", "spins", "spinning", "twists", "rotates",
              "rotating", "searches", "scans", "peers", "peering", "watches", "watching")),
    ("pulse", ("glows", "glowing", "pulses", "pulsing", "breathes", "breathing", "beats", "shines", "shining", "flickers",
               "flickering", "blinks", "blinking", "sparkles", "burns", "burning", "shimmers", "hums", "vibrates", "floats")),
    ("idle", ("waits", "waiting", "stands", "standing", "sits", "sitting", "rests", "resting", "sleeps", "sleeping",
              "pauses", "lingers", "poses", "posing", "listens", "listening", "thinks", "thinking", "stares", "staring",
              "hides", "hiding", "leans", "leaning", "lies", "lying", "idles", "hovers", "hovering")),
    ("gesture", ("waves", "waving", "points", "pointing", "raises", "raising", "lifts", "lifting", "lights", "lighting",
                 "nods", "nodding", "dances", "dancing", "jumps", "jumping", "talks", "talking", "speaks", "speaking",
                 "laughs", "shouts", "sings", "singing", "plays", "playing", "reaches", "pulls", "pushes", "throws",
                 "catches", "opens", "closes", "writes", "reads", "eats", "drinks", "cooks", "types", "fights", "swings",
                 "climbs", "climbing", "kneels", "bows", "salutes", "cheers", "claps", "holds", "hands", "picks", "pours",
                 "fixes", "repairs", "hammers", "digs", "paints", "draws", "rows", "rowing", "casts", "hauls")),
]


@dataclass
class Performance:
    """The subject's own motion on screen, on top of the camera: offsets (px), scale and squash."""

    kind: str
    dx: np.ndarray
    dy: np.ndarray
    g: np.ndarray     # scale about the subject (a pulse)
    q: np.ndarray     # horizontal squash (a turn)

    def apply(self, p: LayerPath, focus: tuple[float, float], W: int, H: int) -> LayerPath:
        """The near layer's path with this performance added, the focus point landing where it is sent."""
        fx, fy = focus
        s, sq = p.s * self.g, p.sq * self.q
        X = W / 2.0 + p.s * p.sq * (fx - p.cx) + self.dx
        Y = H / 2.0 + p.s * (fy - p.cy) + self.dy
        return LayerPath(fx - (X - W / 2.0) / (s * sq), fy - (Y - H / 2.0) / s, s, sq)


def _action_kind(action: str) -> str:
    words = action.lower().replace(",", " ").split()
    for kind, verbs in ACTION_KINDS:
        if any(w in verbs for w in words):
            return kind
    return "drift"


def perform_action(action: str, subject_kind: str, n: int, fps: float, W: int, H: int, block, rng: np.random.Generator,
                   step: float) -> Performance | None:
    """How the subject acts out its action over the shot; None when there is no action.

    Walking and running actions carry it across the frame (along the ground, so a Dutch angle's too);
    the others sway it on a small ellipse (never at rest, so no two frames are alike) with a quicker
    beat of their own: a gesture bobs, a turn narrows and widens the silhouette, a pulse swells it,
    waiting breathes. An action of no known kind also drifts slowly sideways. Every frame moves by at least `step` px.
    """
    action = (action or "").strip()
    if not action:
        return None
    kind = _action_kind(action)
    t = np.arange(n) / max(fps, 1e-6)
    dur = max(n / max(fps, 1e-6), 1e-6)
    u = t / dur
    h = block.subj_h
    ones = np.ones(n)
    dx, dy = np.zeros(n), np.zeros(n)
    g, q = ones.copy(), ones.copy()
    th = math.radians(block.roll)
    if kind in ("walk", "run"):
        # the subject enters from the side it faces away from: toward the frame centre
        side = -1.0 if block.subj_x > W / 2.0 else 1.0
        pace = (0.05 if kind == "walk" else 0.13) * W        # px per second
        if subject_kind in ("car", "plane", "boat", "bird"):
            pace *= 1.6
        dist = min(pace * dur, 0.6 * W)
        words = action.lower()
        if any(w in words for w in ("arrive", "approach", "enter")):
            along = side * dist * (u - 1.0)        # comes in, ends on its mark
        elif any(w in words for w in ("leave", "leaving", "exit")):
            along = side * dist * u                # starts on its mark, walks off
        else:
            along = side * dist * (u - 0.5)        # crosses its mark mid-shot
        dx, dy = along * math.cos(th), along * math.sin(th)
        if subject_kind in ("person", "robot", "group", "animal"):
            steps = 2.0 if kind == "walk" else 3.2   # footfalls per second: the body rises and falls
            dy = dy - 0.012 * h * np.abs(np.sin(math.pi * steps * t))
    else:
        f0 = {"gesture": 0.5, "turn": 0.3, "pulse": 0.4, "idle": 0.35, "drift": 0.2}[kind]
        p0 = rng.uniform(0, 2 * math.pi)
        a = max(0.012 * h, 1.0)
        # idling shifts its weight round and round (a circle never slows down); the rest sway wider than they bob
        ax, ay = (a, a) if kind == "idle" else (a, 0.6 * a)
        dx = ax * np.cos(2 * math.pi * f0 * t + p0)
        dy = ay * np.sin(2 * math.pi * f0 * t + p0)
        if kind == "gesture":
            beat = rng.uniform(1.2, 1.8)    # a repeated action: reaching, striking, waving
            dy = dy - 0.02 * h * (0.5 - 0.5 * np.cos(2 * math.pi * beat * t))
        elif kind == "turn":
            q = 1.0 - 0.22 * (0.5 - 0.5 * np.cos(2 * math.pi * 0.35 * t))
        elif kind == "pulse":
            g = 1.0 + 0.04 * (0.5 - 0.5 * np.cos(2 * math.pi * 0.8 * t))
        elif kind == "drift":
            along = 0.03 * W * (u - 0.5) * (1 if rng.random() < 0.5 else -1)
            dx = dx + along * math.cos(th)
            dy = dy + along * math.sin(th)
        if n > 1:
            # at least `step` px a frame: a wider ellipse for a small subject or a slow beat
            least = float(np.hypot(np.diff(dx), np.diff(dy)).min())
            if 0 < least < step:
                boost = min(6.0, step / least)
                dx, dy = dx * boost, dy * boost
    return Performance(kind, dx, dy, g, q)


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

    # Sub-pixel steps for layers that only translate: each such layer keeps up to Q x Q copies of
    # itself shifted by fractions of a pixel (made on first use), so a slow pan still moves every
    # frame and a frame is still one slice copy. A per-frame warpAffine would cost ~10x more.
    Q = 4
    PHASE_BYTES = 320 * 1024 ** 2   # memory for shifted copies, per layer; larger canvases get fewer phases

    def __init__(self, layers: list[PlannedLayer], W: int, H: int, min_step: float = 0.5):
        self.layers, self.W, self.H = layers, W, H
        # fewer phases when every frame moves several pixels anyway (large frames): still at least half pixels
        q_max = int(min(self.Q, max(2, math.ceil(2.0 * math.sqrt(2.0) / max(min_step, 1e-6)))))
        self.scratch = np.empty((H, W, 3), np.uint8)
        self.scratch_m = np.empty((H, W), np.uint8)
        self.phases: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray | None]] = {}
        self.q: dict[int, tuple[int, int]] = {}
        for i, L in enumerate(layers):
            cv = L.canvas
            if L.opaque or cv.mask is None:
                L.bbox = (0, 0, cv.w, cv.h)
            else:
                x, y, w, h = cv2.boundingRect(cv.mask)
                # one pixel more on the far sides: a sub-pixel shift spreads the edge that far
                L.bbox = (x, y, min(cv.w, x + w + 1), min(cv.h, y + h + 1)) if w and h else None
            p = L.path
            fx, fy = (p.cx * p.s * p.sq) % 1.0, (p.cy * p.s) % 1.0
            qx = q_max if np.ptp(fx) > 1e-6 else 1
            qy = q_max if np.ptp(fy) > 1e-6 else 1
            size = cv.rgb.nbytes + (0 if cv.mask is None else cv.mask.nbytes)
            while qx * qy * size > self.PHASE_BYTES and max(qx, qy) > 1:
                qx, qy = max(1, qx // 2), max(1, qy // 2)
            self.q[i] = (qx, qy)

    def _phase(self, i: int, L: PlannedLayer, px: int, py: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Layer i's content box shifted right by px/qx and down by py/qy pixels (bilinear, edges replicated)."""
        cv = L.canvas
        x0, y0, x1, y1 = L.bbox
        rgb, mask = cv.rgb[y0:y1, x0:x1], (None if cv.mask is None else cv.mask[y0:y1, x0:x1])
        if px == 0 and py == 0:
            return rgb, mask
        key = (i, px, py)
        got = self.phases.get(key)
        if got is None:
            qx, qy = self.q[i]
            rgb = _subpixel(rgb, px / qx, py / qy)
            if mask is not None:
                mask = _subpixel(mask, px / qx, py / qy)
                cv2.threshold(mask, 127, 255, cv2.THRESH_BINARY, dst=mask)
            got = self.phases[key] = (rgb, mask)
        return got

    def frame(self, k: int, out: np.ndarray) -> None:
        W, H = self.W, self.H
        for i, L in enumerate(self.layers):
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
                qx, qy = self.q[i]
                ix, iy = math.floor(bx), math.floor(by)
                px, py = int(round((bx - ix) * qx)), int(round((by - iy) * qy))
                if px == qx:
                    ix, px = ix + 1, 0
                if py == qy:
                    iy, py = iy + 1, 0
                dx0, dy0 = max(0, qx0 + ix), max(0, qy0 + iy)
                dx1, dy1 = min(W, qx1 + ix), min(H, qy1 + iy)
                if dx1 <= dx0 or dy1 <= dy0:
                    continue
                rgb, mask = self._phase(i, L, px, py)   # the content box only: offsets are relative to it
                sx, sy = dx0 - ix - qx0, dy0 - iy - qy0
                src = rgb[sy:sy + dy1 - dy0, sx:sx + dx1 - dx0]
                dst = out[dy0:dy1, dx0:dx1]
                if L.opaque:
                    np.copyto(dst, src)
                else:
                    cv2.copyTo(src, mask[sy:sy + dy1 - dy0, sx:sx + dx1 - dx0], dst)
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


def _subpixel(img: np.ndarray, fx: float, fy: float) -> np.ndarray:
    """img shifted right by fx and down by fy pixels (0..1), bilinear; the first row and column repeat.

    Two weighted sums of offset slices: several times cheaper than cv2.warpAffine for a pure shift.
    """
    out = img.copy()
    if fx:
        cv2.addWeighted(img[:, 1:], 1.0 - fx, img[:, :-1], fx, 0.0, dst=out[:, 1:])
    if fy:
        src = out.copy() if fx else img
        cv2.addWeighted(src[1:], 1.0 - fy, src[:-1], fy, 0.0, dst=out[1:])
    return out


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
        pad = int(sh * 0.3)
        badge_rgb, badge_a = text_image(f" {shot_id.upper()} ", size, (20, 20, 24), bold=True)
        bh, bw = badge_a.shape
        text_x = pad + bw + int(sh * 0.4)
        # timecode glyphs, monospace, one per character
        gsize = max(8, int(size * 0.9))
        self.glyphs = {}
        for ch in "0123456789:":
            rgb, a = text_image(ch, gsize, (255, 255, 255), mono=True)
            self.glyphs[ch] = (rgb, np.where(a > 90, 255, 0).astype(np.uint8))
        gw = max(g[1].shape[1] for g in self.glyphs.values())
        self.gw = max(1, gw - 2)
        gh = max(g[1].shape[0] for g in self.glyphs.values())
        tc_w = 11 * self.gw
        # Keep the bottom-right corner clear: the disclosure label is burned there by default
        # (about 6x as wide as its 4.5%-of-height, at least 16 px, pill).
        label_room = int(max(16, 0.045 * H) * 6.5) + pad
        self.tc_x = max(W // 2, W - label_room - tc_w)
        caption_room = self.tc_x - text_x - int(sh * 0.4)
        # On vertical (9:16) or cramped frames the strip cannot hold the caption, the timecode and the label
        # side by side: the timecode moves to the top-right corner, so it never prints over the caption.
        self.tc_top = W < H or caption_room < 0.25 * W
        if self.tc_top:
            self.tc_x = max(0, W - tc_w - pad)
            self.tc_y = pad
            self.tc_box = (max(0, self.tc_x - pad // 2), max(0, pad - pad // 2), W, min(H, pad + gh + pad // 2))
            caption_room = W - text_x - label_room
        else:
            self.tc_y = self.y0 + max(0, (sh - gh) // 2)
            self.tc_box = None
        # left: shot badge, subject — action, within the room left of the timecode (or the label)
        line = subject if not action else f"{subject} — {action}"
        txt_rgb, txt_a = fit_text(line, size, max(40, caption_room), color=(245, 245, 240))
        self.text_rgb = np.zeros((sh, W, 3), np.uint8)
        self.text_m = np.zeros((sh, W), np.uint8)
        by = max(0, (sh - bh) // 2)
        box = np.full((min(bh, sh - by), bw + 4, 3), (250, 214, 72), np.uint8)
        self.text_rgb[by:by + box.shape[0], pad:pad + box.shape[1]] = box
        self.text_m[by:by + box.shape[0], pad:pad + box.shape[1]] = 255
        blend_patch(self.text_rgb, badge_rgb, badge_a, pad + 2, by, None)
        blend_patch(self.text_rgb, txt_rgb, txt_a, text_x, max(0, (sh - txt_a.shape[0]) // 2), self.text_m)
        # top-left tag: camera and framing (left of a top-right timecode)
        tag_room = int(W * 0.9) - (tc_w + 2 * pad if self.tc_top else 0)
        tg_rgb, tg_a = fit_text(tag, max(8, int(size * 0.8)), max(40, tag_room), color=(255, 255, 255), bold=True)
        th, tw = tg_a.shape
        self.tag_box = (int(sh * 0.3), int(sh * 0.3), min(W, int(sh * 0.3) + tw + 2 * pad), min(H, int(sh * 0.3) + th + pad))
        x0, y0, x1, y1 = self.tag_box
        self.tag_rgb = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        self.tag_m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        blend_patch(self.tag_rgb, tg_rgb, tg_a, pad, pad // 2, self.tag_m)
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
        if self.tc_box is not None:
            x0, y0, x1, y1 = self.tc_box
            corner = out[y0:y1, x0:x1]
            cv2.convertScaleAbs(corner, dst=corner, alpha=0.4, beta=4)
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
