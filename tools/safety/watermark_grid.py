"""The sync layer of the watermark: a grid of block means on fixed pixels, found again wherever a crop
or a shift moved the picture, so the payload layer can be read where it now sits.

Why a second layer: the payload layer (`watermark.py`) lives on a grid made from the frame's own
size, which is what lets it survive any downscale, but a crop or a shift moves and rescales that
grid and it reads nothing; once the crop and the offset are known, resampling the frames back to
where they were reads the payload again (measured 0.99). This layer only says where that is:
- Absolute pixels. Blocks of BLOCK x BLOCK px from the frame's top-left corner: a crop or a
  shift only *translates* them, and a resize scales them by a factor tried from a short list.
- Host-proof. Each block's mean luma is quantised onto a lattice with a keyed offset per block
  (dithered QIM). What the picture shows does not matter, only where its block means sit against
  the lattice. An additive template of the same strength drowns in textured pictures (measured
  z 3-6 against noise peaks of 3-5 on the bench's clips); this reads z > 20 after CRF 28.
- A tile of TILE x TILE blocks repeats from the frame's corner. The detector box-filters the
  luma once (the block means at every pixel offset at once), turns them into unit phasors
  against the lattice, folds them over the tiles, and correlates with the tile's dithers for
  every offset and tile phase. A re-encode turns every phasor by one common angle (it moves all
  luma by a level or so), so the evidence is the magnitude. Frames add as energies: after a
  re-encode the intra-coded frame keeps the lattice and predicted frames of moving content lose
  it, so one good frame must not be averaged away by eleven bad ones.
- The made frame's corner is a tile corner, so it is found modulo one tile (TILE * BLOCK px);
  the payload layer's CRC decides between the few candidates.

This is a provenance aid, not DRM: a determined attacker who knows the scheme can remove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from storyboards.schema import MAX_RESOLUTION

BLOCK = 32                      # px at the size the film was made; a crop keeps it, a resize scales it
TILE = 8                        # the dither tile is TILE x TILE blocks (256 px)
PERIOD = BLOCK * TILE
STEP = 4.0                      # lattice step of the block means (luma levels) at strength 1: RMS change ~1.2
SEARCH_STEP = 2                 # px between the block offsets tried first (then refined to 1 px)
KEY = 0x7A11ED                  # public key of the dithers (not a secret)
SCALES = (1.0, 0.75, 2 / 3, 0.5, 1 / 3)   # resizes tried (attacked size / made size)
MIN_SYNC_Z = 12.0               # a frame's peak over its median, as amplitudes (unmarked frames reach ~5)
MARGIN = 3.0                    # block means this close to black or white cannot move both ways
LUT_SIZE = 256


@dataclass(frozen=True)
class GridGeometry:
    """Where the made frame's grid sits in the frames read: `scale` is their size over the made
    size; (`corner_y`, `corner_x`) is a tile corner, in made pixels from the read frame's top-left
    (the made frame's own corner is there or a whole number of PERIODs away)."""

    scale: float
    corner_y: int
    corner_x: int
    z: float
    frame_weights: tuple[float, ...]   # how strongly each frame shows the grid (the intra-coded ones)


@lru_cache(maxsize=1)
def _dither() -> np.ndarray:
    return np.random.default_rng(KEY).random((TILE, TILE))


# ----------------------------------------------------------------------------- embed


@lru_cache(maxsize=8)
def _offset_field(rows: int, cols: int) -> np.ndarray:
    return np.tile(_dither(), (-(-rows // TILE), -(-cols // TILE)))[:rows, :cols].astype(np.float32)


def add_block_steps(frame: np.ndarray, change: np.ndarray, strength: float) -> None:
    """Add to `change` (int16, the frame's size: what the payload layer is about to add) the steps
    that move every whole block's mean luma of `frame + change` onto its lattice point.

    One pass shared with the payload layer: its change is already in the block means this
    quantises, and the two go into the frame in a single saturating add (a second full-frame
    add cost more than the rest of this layer)."""
    h, w = frame.shape[:2]
    rows, cols = h // BLOCK, w // BLOCK
    if rows < 1 or cols < 1:
        return
    bh, bw = rows * BLOCK, cols * BLOCK
    luma = cv2.cvtColor(frame[:bh, :bw], cv2.COLOR_RGB2GRAY).astype(np.float32)
    luma += change[:bh, :bw]
    while luma.shape[0] > rows:                          # BLOCK is a power of two: exact halvings
        luma = cv2.resize(luma, (luma.shape[1] // 2, luma.shape[0] // 2), interpolation=cv2.INTER_AREA)
    step = STEP * strength
    offsets = _offset_field(rows, cols)
    target = (np.round(luma / step - offsets) + offsets) * step
    # Past black or white a target cannot be reached by adding to R, G and B: use the lattice
    # point one step the other way.
    target = np.where(target < MARGIN, target + step, np.where(target > 255 - MARGIN, target - step, target))
    steps = np.round(target - luma).astype(np.int16)
    change[:bh, :bw] += cv2.resize(steps, (bw, bh), interpolation=cv2.INTER_NEAREST)


# ----------------------------------------------------------------------------- detect


@lru_cache(maxsize=4)
def _phasor_lut(step: float) -> tuple[np.ndarray, float]:
    """exp(2 pi i m / step) by table: m * scale indexes it (the exp of a 720p frame costs ~25 ms)."""
    return np.exp(2j * np.pi * np.arange(LUT_SIZE) / LUT_SIZE).astype(np.complex64), LUT_SIZE / step


@lru_cache(maxsize=1)
def _sync_templates() -> np.ndarray:
    """(TILE*TILE phases, TILE, TILE): for phase p, the conjugate phasor expected at read cell c,
    that of tile cell c + p."""
    template = np.exp(-2j * np.pi * _dither()).astype(np.complex64)
    return np.stack([np.roll(template, (-py, -px), axis=(0, 1)) for py in range(TILE) for px in range(TILE)])


def _canonical_luma(frame: np.ndarray, scale: float) -> np.ndarray:
    """Luma resized back to the made size (blocks BLOCK px again), float32."""
    luma = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if abs(scale - 1.0) < 1e-6:
        return luma
    h, w = luma.shape
    return cv2.resize(luma, (int(round(w / scale)), int(round(h / scale))), interpolation=cv2.INTER_CUBIC)


def _folded(luma: np.ndarray, step: float, ys: slice, xs: slice) -> np.ndarray:
    """Phasors of the blocks starting at every offset, folded over the tiles:
    (TILE, n offsets, TILE, n offsets) complex, indexed [cell row, dy, cell col, dx]."""
    h, w = luma.shape
    means = cv2.boxFilter(luma, -1, (BLOCK, BLOCK), anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
    rows, cols = (h - BLOCK) // BLOCK, (w - BLOCK) // BLOCK
    field = means[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK)[:, ys, :, xs]
    lut, per_level = _phasor_lut(step)
    phasor = lut[(field * per_level).astype(np.int64) % LUT_SIZE]
    phasor[(field <= MARGIN) | (field >= 255 - MARGIN)] = 0
    ty, tx = -(-rows // TILE) * TILE, -(-cols // TILE) * TILE
    padded = np.zeros((ty, phasor.shape[1], tx, phasor.shape[3]), np.complex64)
    padded[:rows, :, :cols] = phasor
    return padded.reshape(ty // TILE, TILE, phasor.shape[1], tx // TILE, TILE, phasor.shape[3]).sum(axis=(0, 3))


def _frame_scores(frames: np.ndarray, scale: float, step: float, ys: slice, xs: slice) -> np.ndarray:
    """Per frame, the sync correlation for every (dy, dx, tile phase): (frames, dy, dx, phases) complex."""
    templates = _sync_templates()
    return np.stack([np.einsum("yaxb,pyx->abp", _folded(_canonical_luma(f, scale), step, ys, xs), templates,
                               optimize=True) for f in frames])


def _usable_scales(frames: np.ndarray) -> list[float]:
    """The resizes worth trying: the made frame holds more than one tile, and is no bigger than the
    director makes (a 1080p file is not searched as a third of a 3240p film: 9x the pixels for nothing)."""
    h, w = frames.shape[1:3]
    return [s for s in SCALES if PERIOD + BLOCK <= min(h, w) / s <= MAX_RESOLUTION * 1.02 and min(h, w) >= 4 * BLOCK * s]


def locate(frames: np.ndarray, strength: float = 1.0) -> GridGeometry | None:
    """The scale, block offset and tile phase at which one frame's block means sit best on the
    lattice, or None when nothing stands out of the noise (an unmarked video, or one too small or
    too degraded). Scales are tried in order and the first clear peak wins."""
    step = STEP * strength
    coarse = slice(0, BLOCK, SEARCH_STEP)
    for scale in _usable_scales(frames):
        energy = np.abs(_frame_scores(frames, scale, step, coarse, coarse)) ** 2     # (frames, dy, dx, phase)
        flat = energy.reshape(len(frames), -1)
        peaks = flat.max(axis=1)
        heights = np.sqrt(peaks / (np.median(flat, axis=1) + 1e-9))
        best = int(np.argmax(heights))
        if heights[best] < MIN_SYNC_Z:
            continue
        # One frame decides: after a re-encode the intra-coded frame holds the grid where it was
        # made, while predicted frames of moving content carry it moved with the picture.
        coarse_y, coarse_x, found_phase = np.unravel_index(int(np.argmax(flat[best])), energy.shape[1:])
        phase = int(found_phase)
        dy, dx = _refine(frames[best:best + 1], scale, step, int(coarse_y) * SEARCH_STEP, int(coarse_x) * SEARCH_STEP, phase)
        per_frame = np.abs(_frame_scores(frames, scale, step, slice(dy, dy + 1), slice(dx, dx + 1))[:, 0, 0, phase])
        py, px = divmod(phase, TILE)
        # The read grid's block (0, 0) starts at (dy, dx) and is tile cell (py, px): the tile's
        # corner is that many blocks before it.
        return GridGeometry(scale, dy - py * BLOCK, dx - px * BLOCK, round(float(heights[best]), 2),
                            tuple(float(v) for v in per_frame / (per_frame.max() + 1e-9)))
    return None


def _refine(frames: np.ndarray, scale: float, step: float, dy: int, dx: int, phase: int) -> tuple[int, int]:
    """The 1-px offset around the coarse one with the most sync energy (within the same block, so
    the tile phase still holds)."""
    energy = (np.abs(_frame_scores(frames, scale, step, slice(0, BLOCK), slice(0, BLOCK))[..., phase]) ** 2).sum(axis=0)
    near = [k for k in range(1 - SEARCH_STEP, SEARCH_STEP)]
    ys = sorted({min(max(dy + k, 0), BLOCK - 1) for k in near})
    xs = sorted({min(max(dx + k, 0), BLOCK - 1) for k in near})
    sub = energy[np.ix_(ys, xs)]
    y, x = np.unravel_index(int(np.argmax(sub)), sub.shape)
    return ys[int(y)], xs[int(x)]
