"""An invisible watermark carrying a 32-bit id in every frame, robust to H.264 and to downscaling.

How it works (and why):
- Only the luma channel is marked. Video codecs keep luma at full resolution and spend most
  bits on it; chroma is subsampled 2x and quantised harder (which is why invisible-watermark's
  default chroma mode does not survive a re-encode here).
- The mark lives at a fixed *working resolution* (256 px short side, e.g. 448x256 for 16:9),
  whatever the frame size. Embedding computes a small residual there, upscales it and adds it
  to the full-resolution frame; detection resizes whatever it gets back to the same working
  size. So a 1280x720 master, its 640x360 re-upload and the 512x288 preview all look the same
  to the detector, and embedding at 720p costs one downscale, a few small transforms and one
  upscale-and-add.
- At the working resolution: one Haar DWT level, then 8x8 block DCTs of the LL band (each block
  covers ~45x45 px of a 720p frame). In every block, a few low-mid frequency coefficients are
  quantised onto one of two interleaved lattices (dithered QIM): lattice A means bit 0,
  lattice B bit 1. Low-mid frequencies of big blocks are what H.264 at CRF 28 and a 2x
  downscale leave alone; QIM ignores the host signal, so textured and flat frames decode alike.
- The 40 coded bits (32 payload + CRC-8) are spread over every block of the frame with a
  keyed permutation, ~20 copies each; the detector sums soft decisions over copies and over
  frames. The CRC rejects a wrong read; the agreement of the copies is the confidence, and an
  unmarked video scores ~0.5 (chance), so it is not mistaken for a marked one.

Crops and shifts move this grid, so a second, sync layer (`watermark_grid.py`: block means on
fixed pixels, found at any offset) tells where the made frame now sits; `find_placement` then
rebuilds it and the payload is read there. A read needs the CRC (one weak bit may be fixed: the
CRC of ATM headers lets no two-bit error through) and a held-out agreement of the copies.

This is a provenance aid, not DRM: it survives ordinary re-encoding, resizing, crops up to 20 %
and shifts, not a determined attacker who knows the key and the scheme.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pywt

from storyboards.schema import MAX_RESOLUTION
from tools.safety import watermark_grid

WORK_SHORT = 128               # working resolution, short side (multiple of 16); 128 survives even a 4x downscale of 720p
BLOCK = 8
# Coefficients (row, col) of each 8x8 DCT block that carry bits: low-mid frequencies.
COEFFS = ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0))
PAYLOAD_BITS = 32
CRC_BITS = 8
CODE_BITS = PAYLOAD_BITS + CRC_BITS
DEFAULT_STRENGTH = 1.0
BASE_STEP = 64.0               # QIM step (DCT-of-LL units) at strength 1.0: PSNR ~40.6 dB
KEY = 0x5EE1D12E               # public key of the keyed permutation and dither (not a secret)
MIN_CONFIDENCE = 0.68          # held-out slot agreement needed (chance 0.5; read at a wrong place: max 0.64 in 120 tries)
MIN_CONFIDENCE_CORRECTED = 0.72  # the same when one bit had to be fixed to match the CRC


@dataclass
class WatermarkReading:
    present: bool
    payload: int | None
    confidence: float           # fraction of copies agreeing with the bits the other copies decode (0.5 = chance)
    frames_checked: int
    crc_ok: bool = False

    @property
    def bit_accuracy(self) -> float:
        """Alias of `confidence`: how consistently the copies of each bit agree."""
        return self.confidence

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bit_accuracy"] = self.confidence
        return d


# ----------------------------------------------------------------------------- coding


def crc8(data: bytes, poly: int = 0x07) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def encode_payload(payload: int) -> np.ndarray:
    """32-bit payload -> 40 bits (payload MSB first, then CRC-8 of its 4 bytes)."""
    if not isinstance(payload, (int, np.integer)) or not (0 <= int(payload) < 2**32):
        raise ValueError(f"watermark payload {payload!r} must be an integer in 0..4294967295 (e.g. a cut id hash)")
    raw = int(payload).to_bytes(4, "big")
    word = (int(payload) << CRC_BITS) | crc8(raw)
    return np.array([(word >> (CODE_BITS - 1 - i)) & 1 for i in range(CODE_BITS)], np.uint8)


def decode_bits(bits: np.ndarray) -> tuple[int, bool]:
    word = 0
    for b in bits.astype(int):
        word = (word << 1) | int(b)
    payload, crc = word >> CRC_BITS, word & 0xFF
    return payload, crc8(payload.to_bytes(4, "big")) == crc


def _held_out_agreement(softs: np.ndarray, bit_of_slot: np.ndarray, weights: np.ndarray, shown: np.ndarray) -> float:
    """How often a copy agrees with the bit decoded from the *other* copies (0.5 = chance).

    Agreement with bits decoded from the same copies is biased upwards (a majority agrees with
    itself): on a frame read at a wrong place it scores 0.6-0.7, as much as a damaged real mark.
    So the copies are split in two halves; each half is checked against the other's decision."""
    half = (np.arange(len(bit_of_slot)) // len(COEFFS)) % 2 == 0      # alternate blocks
    agree, total = 0.0, 0.0
    for mine, other in ((half, ~half), (~half, half)):
        votes = np.stack([np.bincount(bit_of_slot[other], weights=s[other], minlength=CODE_BITS) for s in softs])
        decided = ((votes * weights[:, None]).sum(axis=0) < 0)[bit_of_slot]
        counted = mine & shown
        agree += float(((((softs < 0) == decided[None, :]) & counted[None, :]).sum(axis=1) * weights).sum())
        total += float((counted.sum() * weights).sum())
    return agree / total if total else 0.5


def _correct_one(bits: np.ndarray, votes: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """Fix one wrong bit, if flipping one of the three least certain makes the CRC match.

    CRC-8 with this polynomial (ATM's header check, made for exactly 32 + 8 bits) gives each
    single-bit error its own syndrome and lets no two-bit error through, so a one-bit fix never
    turns a twice-damaged word into another valid one; limiting it to the weakest votes keeps a
    random word from being "fixed" into a payload (4 in 256 instead of 41 in 256)."""
    for i in np.argsort(np.abs(votes))[:3]:
        trial = bits.copy()
        trial[i] ^= 1
        payload, ok = decode_bits(trial)
        if ok:
            return trial, payload, True
    payload, ok = decode_bits(bits)
    return bits, payload, ok


def payload_for(text: str) -> int:
    """A stable 32-bit payload for an id string (e.g. a cut id): the first 4 bytes of its SHA-256."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


# ----------------------------------------------------------------------------- geometry


def working_size(width: int, height: int) -> tuple[int, int]:
    """(w, h) of the working grid for a frame of this shape; depends on aspect ratio only."""
    short, long_ = min(width, height), max(width, height)
    long_work = max(16, int(round(WORK_SHORT * long_ / short / 16)) * 16)
    return (long_work, WORK_SHORT) if width >= height else (WORK_SHORT, long_work)


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    n = BLOCK
    m = np.zeros((n, n), np.float32)
    for k in range(n):
        a = np.sqrt(1 / n) if k == 0 else np.sqrt(2 / n)
        m[k] = a * np.cos(np.pi * (2 * np.arange(n) + 1) * k / (2 * n))
    return m


@lru_cache(maxsize=8)
def _layout(ll_h: int, ll_w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For an LL band of this size: which code bit each slot carries, and each slot's dither.

    Slots are (block, coefficient) pairs in block-major order. Bits are dealt round-robin over a
    keyed permutation of the slots, so every bit gets the same number of copies spread all over
    the frame (a dark corner or a clipped sky costs a few copies of every bit, not all of one)."""
    n_slots = (ll_h // BLOCK) * (ll_w // BLOCK) * len(COEFFS)
    rng = np.random.default_rng([KEY, ll_h, ll_w])
    order = rng.permutation(n_slots)
    bit_of_slot = np.empty(n_slots, np.int64)
    bit_of_slot[order] = np.arange(n_slots) % CODE_BITS
    dither = rng.random(n_slots).astype(np.float32)           # in units of the step
    return bit_of_slot, dither, order


def _luma_small(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """BT.601 luma of the frame at the working size, float32, area-averaged (anti-aliased).

    Halving with INTER_AREA hits OpenCV's fast integer-ratio path (~0.2 ms at 720p) where one
    5.7x area resize takes ~5 ms; colour is converted after shrinking (both steps are linear)."""
    small = frame
    while small.shape[1] >= 2 * size[0] and small.shape[0] >= 2 * size[1]:
        small = cv2.resize(small, (small.shape[1] // 2, small.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if (small.shape[1], small.shape[0]) != size:
        shrink = small.shape[1] > size[0] or small.shape[0] > size[1]
        small = cv2.resize(small, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return cv2.cvtColor(small.astype(np.float32), cv2.COLOR_RGB2GRAY)


def _block_coeffs(ll: np.ndarray) -> np.ndarray:
    """(by, bx, 8, 8) DCT of each 8x8 block of the LL band."""
    h, w = ll.shape
    d = _dct_matrix()
    blocks = ll.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).transpose(0, 2, 1, 3)
    return d @ blocks @ d.T


def _slot_values(coeffs: np.ndarray) -> np.ndarray:
    rows = np.array([c[0] for c in COEFFS])
    cols = np.array([c[1] for c in COEFFS])
    return coeffs[:, :, rows, cols].reshape(-1)


# ----------------------------------------------------------------------------- embed


def _residual(frame: np.ndarray, bits: np.ndarray, step: float) -> np.ndarray:
    """The luma change (at LL resolution, in pixel units) that moves every slot onto its lattice."""
    h, w = frame.shape[:2]
    size = working_size(w, h)
    y = _luma_small(frame, size)
    ll = pywt.dwt2(y, "haar")[0]                              # (h/2, w/2), = 2 x the 2x2 mean
    coeffs = _block_coeffs(ll)
    bit_of_slot, dither, _ = _layout(*ll.shape)
    c = _slot_values(coeffs)
    offset = (dither + 0.5 * bits[bit_of_slot]) * step
    target = np.round((c - offset) / step) * step + offset
    delta = np.zeros_like(coeffs)
    rows = np.array([r for r, _ in COEFFS])
    cols = np.array([q for _, q in COEFFS])
    delta[:, :, rows, cols] = (target - c).reshape(coeffs.shape[0], coeffs.shape[1], len(COEFFS))
    d = _dct_matrix()
    dll = (d.T @ delta @ d).transpose(0, 2, 1, 3).reshape(ll.shape)
    # An LL change of x spreads x/2 onto each of the 2x2 working pixels it covers.
    return dll * 0.5


def embed_frame(frame: np.ndarray, payload: int, strength: float = DEFAULT_STRENGTH) -> np.ndarray:
    return embed_frames(frame[None], payload, strength)[0]


def embed_frames(frames: np.ndarray, payload: int, strength: float = DEFAULT_STRENGTH,
                 inplace: bool = False) -> np.ndarray:
    """Return (N, H, W, 3) uint8 RGB frames with `payload` (32-bit int) marked in every frame.

    A copy by default; `inplace=True` writes into `frames` and skips allocating a second
    full-size buffer (at 720p the page faults of that buffer cost about as much as the mark)."""
    frames = _check_frames(frames)
    if not (0.25 <= strength <= 4.0):
        raise ValueError(f"watermark strength {strength} must be between 0.25 and 4 (1.0 is the default)")
    bits = encode_payload(payload)
    step = BASE_STEP * strength
    n, h, w, _ = frames.shape
    out = frames if inplace else np.empty_like(frames)
    up3 = np.empty((h, w, 3), np.int16)
    for i in range(n):
        res = _residual(frames[i], bits, step)
        # Add the same change to R, G and B: luma moves by exactly the residual, chroma not at
        # all. Upscale bilinear (smooth) in int16 and let cv2.add saturate to 0..255: ~2.5 ms
        # at 720p against ~4 ms in float32. Whole-level rounding costs the QIM nothing (its
        # tolerance is step/4, about 16). One channel is upscaled and then copied to three (into
        # a buffer reused by every frame): the same values as upscaling three, ~20% less CPU.
        up = cv2.resize(np.round(res).astype(np.int16), (w, h), interpolation=cv2.INTER_LINEAR)
        # The sync layer's block steps join the same change (its small per-block steps barely
        # touch the payload layer's big low-frequency coefficients).
        watermark_grid.add_block_steps(frames[i], up, strength)
        cv2.merge((up, up, up), dst=up3)
        cv2.add(frames[i], up3, dst=out[i], dtype=cv2.CV_8U)
    return out


# ----------------------------------------------------------------------------- detect


@dataclass(frozen=True)
class Placement:
    """Where the made frame sits in frames that were cropped, shifted or resized since: their size
    over the made size, the made frame's top-left corner in made pixels from theirs, and the made
    frame's size. The payload layer is read after resampling the frames back to it."""

    scale: float
    origin_y: float
    origin_x: float
    made_w: int
    made_h: int


def _working_luma(frame: np.ndarray, placement: Placement | None) -> np.ndarray:
    """Luma at the payload layer's working size: of the frame as it is, or of the made frame that
    `placement` says it was cut from (what fell outside is edge pixels repeated; those slots vote
    at chance and the copies elsewhere outvote them)."""
    h, w = frame.shape[:2]
    if placement is None:
        return _luma_small(frame, working_size(w, h))
    # Rebuild the made frame at full size first, then shrink it exactly as embedding did: the
    # payload layer's coefficients depend on that anti-aliasing, and shrinking the cropped frame
    # directly (other ratios, other filters) moves them by several levels on textured pictures.
    made = _to_made_frame(frame, placement, cv2.BORDER_REPLICATE)
    return _luma_small(made, working_size(placement.made_w, placement.made_h))


def _to_made_frame(image: np.ndarray, placement: Placement, border: int) -> np.ndarray:
    """`image` (a frame read, or a mask of it) resampled onto the made frame `placement` describes;
    what the frame does not show is filled by `border` (a cv2 border mode; constant is 0)."""
    s = placement.scale
    matrix = np.array([[s, 0, placement.origin_x * s], [0, s, placement.origin_y * s]], np.float32)
    return cv2.warpAffine(image, matrix, (placement.made_w, placement.made_h),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border, borderValue=0)


def picture_box(frames: np.ndarray, dark: int = 24) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside black bars (letterboxing, or the edge a
    shift uncovered): the outer rows and columns that stay near black in every frame are bars."""
    luma = frames[..., 1].max(axis=0)                         # green ~ luma; max over frames
    rows, cols = np.flatnonzero(luma.max(axis=1) > dark), np.flatnonzero(luma.max(axis=0) > dark)
    if not len(rows) or not len(cols):
        return 0, frames.shape[1], 0, frames.shape[2]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _soft_bits(frame: np.ndarray, step: float, placement: Placement | None = None,
               box: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-slot soft decisions in [-1, 1] (+1: bit 0, -1: bit 1; 0 for a slot the frame does not
    show, outside it or outside the picture `box` in it) and the slot -> bit map."""
    ll = pywt.dwt2(_working_luma(frame, placement), "haar")[0]
    coeffs = _block_coeffs(ll)
    c = _slot_values(coeffs)
    bit_of_slot, dither, _ = _layout(*ll.shape)
    phase = (c / step - dither) * (2 * np.pi)
    soft = np.cos(phase)
    if placement is not None:
        soft *= _shown_slots(frame.shape[0], frame.shape[1], placement, box or (0, frame.shape[0], 0, frame.shape[1]))
    return soft, bit_of_slot


@lru_cache(maxsize=16)
def _shown_slots(height: int, width: int, placement: Placement, box: tuple[int, int, int, int]) -> np.ndarray:
    """1 for the slots whose block lies inside the picture of the frames read, 0 for those a crop
    cut off, a shift pushed out or black bars cover (invented or black pixels vote at random)."""
    picture = np.zeros((height, width), np.float32)
    picture[box[0]:box[1], box[2]:box[3]] = 1
    inside = _to_made_frame(picture, placement, cv2.BORDER_CONSTANT)
    size = working_size(placement.made_w, placement.made_h)
    small = cv2.resize(inside, size, interpolation=cv2.INTER_AREA)
    ll_h, ll_w = size[1] // 2, size[0] // 2
    blocks = small.reshape(ll_h // BLOCK, 2 * BLOCK, ll_w // BLOCK, 2 * BLOCK).min(axis=(1, 3))
    return np.repeat((blocks > 0.99).reshape(-1), len(COEFFS)).astype(np.float32)


def detect_frames(frames: np.ndarray, strength: float = DEFAULT_STRENGTH, max_frames: int = 96,
                  placement: Placement | None = None, search: bool = True) -> WatermarkReading:
    """Read the payload back from decoded frames (any size, any number; at most `max_frames`, spread out),
    as they are, or resampled back to the made frame `placement` describes. When neither reads and
    `search` is on, the sync grid is looked for (`find_placement`: a crop, a shift, a resize) and
    the frames are read again where it says the made frame is."""
    frames = _check_frames(frames)
    frames = spread(frames, max_frames)
    reading = _read(frames, BASE_STEP * strength, placement)
    if reading.present or placement is not None or not search:
        return reading
    found = find_placement(frames, strength)
    return _read(frames, BASE_STEP * strength, found) if found is not None else reading


def _read(frames: np.ndarray, step: float, placement: Placement | None) -> WatermarkReading:
    """The payload layer's vote over these frames.

    Frames are weighted by how self-consistent their own copies are. After a re-encode the
    intra-coded frames keep the mark almost intact, while predicted frames of moving content
    inherit the previous frame's mark moved with the picture (noise to this detector); a frame
    whose ~20 copies of each bit agree is trusted, a frame of coin flips barely counts."""
    rows = []
    box = picture_box(frames) if placement is not None else None
    for f in frames:
        soft, bit_of_slot = _soft_bits(f, step, placement, box)
        rows.append(soft)
    softs = np.stack(rows)                                     # (frames, slots)
    shown = (softs != 0).any(axis=0)                           # slots a crop or shift left in view
    per_bit = np.stack([np.bincount(bit_of_slot, weights=s, minlength=CODE_BITS)
                        / np.maximum(np.bincount(bit_of_slot, weights=s != 0, minlength=CODE_BITS), 1) for s in softs])
    # Consistency of a frame: mean |average of a bit's copies|; ~0.8 intact, ~0.15 for chance.
    consistency = np.abs(per_bit).mean(axis=1)
    weights = np.clip(consistency - 0.2, 0.0, None) ** 2 + 1e-6
    votes = (per_bit * weights[:, None]).sum(axis=0)
    bits = (votes < 0).astype(np.uint8)
    payload, crc_ok = decode_bits(bits)
    needed = MIN_CONFIDENCE
    if not crc_ok:
        bits, payload, crc_ok = _correct_one(bits, votes)
        needed = MIN_CONFIDENCE_CORRECTED
    confidence = _held_out_agreement(softs, bit_of_slot, weights, shown)
    present = bool(crc_ok and confidence >= needed)
    return WatermarkReading(present=present, payload=payload if present else None,
                            confidence=round(confidence, 4), frames_checked=len(frames), crc_ok=crc_ok)


# Short sides the director renders at (`resolution`), tried as the made size when a crop hid it.
MADE_SHORT_SIDES = (MAX_RESOLUTION, 1440, 1080, 720, 576, 540, 480, 360, 288, 256, 240)


def find_placement(frames: np.ndarray, strength: float = DEFAULT_STRENGTH, max_frames: int = 16) -> Placement | None:
    """Where the made frame sits in frames that were cropped, shifted or resized, or None.

    The sync grid gives the scale and a tile corner; the made frame's corner is that corner or a
    whole tile away, and its size is what a centred crop implies, the frames' own, or a size the
    director renders at with that shape. Each candidate is read on the frames that show the grid
    best (the intra-coded ones), one at a time; the one whose payload reads with a matching CRC
    and the most agreement wins."""
    frames = _check_frames(frames)
    frames = spread(frames, max_frames)
    geometry = watermark_grid.locate(frames, strength)
    if geometry is None:
        return None
    # Read frame by frame: the frames may come from different shots, whose takes carry different
    # payloads, and a vote across them would match no CRC.
    clearest = [frames[i:i + 1] for i in np.argsort(geometry.frame_weights)[::-1][:3]]
    best: tuple[float, Placement] | None = None
    for candidate in _candidate_placements(frames.shape[1], frames.shape[2], geometry):
        for frame in clearest:
            reading = _read(frame, BASE_STEP * strength, candidate)
            if reading.present and (best is None or reading.confidence > best[0]):
                best = (reading.confidence, candidate)
    return best[1] if best else None


def _candidate_placements(height: int, width: int, geometry: watermark_grid.GridGeometry) -> list[Placement]:
    seen_h, seen_w = height / geometry.scale, width / geometry.scale
    period = watermark_grid.PERIOD

    def origins(corner: int, extent: float) -> list[int]:
        return [corner + k * period for k in range(-12, 13) if -extent / 2 <= corner + k * period < extent / 2]

    out: list[Placement] = []
    for oy in origins(geometry.corner_y, seen_h):
        for ox in origins(geometry.corner_x, seen_w):
            centred = (round(seen_w - 2 * min(ox, 0)), round(seen_h - 2 * min(oy, 0)))
            sizes = [centred, (round(seen_w), round(seen_h))]
            aspect = centred[0] / centred[1]
            for short in MADE_SHORT_SIDES:
                if 0.9 * min(seen_w, seen_h) <= short <= 1.7 * min(seen_w, seen_h):
                    sizes.append((short, round(short / aspect)) if aspect < 1 else (round(short * aspect), short))
            for made_w, made_h in dict.fromkeys(sizes):
                out.append(Placement(geometry.scale, oy, ox, made_w, made_h))
    return out


def frame_bit_accuracy(frame: np.ndarray, payload: int, strength: float = DEFAULT_STRENGTH) -> float:
    """Fraction of the 40 coded bits decoded right from this one frame alone (for benchmarks)."""
    soft, bit_of_slot = _soft_bits(_check_frames(frame[None])[0], BASE_STEP * strength)
    votes = np.bincount(bit_of_slot, weights=soft, minlength=CODE_BITS)
    return float(np.mean((votes < 0).astype(np.uint8) == encode_payload(payload)))


def detect_video(path: str | Path, strength: float = DEFAULT_STRENGTH, max_frames: int = 48) -> WatermarkReading:
    """Decode up to `max_frames` frames spread over the file and read the watermark."""
    from tools.safety._media import decode_frames

    frames = decode_frames(path, max_frames=max_frames)
    if len(frames) == 0:
        return WatermarkReading(present=False, payload=None, confidence=0.0, frames_checked=0)
    return detect_frames(frames, strength=strength, max_frames=max_frames)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def spread(frames: np.ndarray, most: int) -> np.ndarray:
    """At most `most` of the frames, evenly spread from the first to the last (all when fewer)."""
    if len(frames) <= most:
        return frames
    return frames[np.linspace(0, len(frames) - 1, most).round().astype(int)]


def _check_frames(frames: np.ndarray) -> np.ndarray:
    if not (isinstance(frames, np.ndarray) and frames.ndim == 4 and frames.shape[-1] == 3 and frames.dtype == np.uint8):
        raise ValueError(f"frames must be a (N, H, W, 3) uint8 RGB array, got {getattr(frames, 'shape', type(frames))}"
                         f" {getattr(frames, 'dtype', '')}")
    if min(frames.shape[1:3]) < 64:
        raise ValueError(f"frames of {frames.shape[2]}x{frames.shape[1]} are too small to carry a watermark (at least 64 px)")
    return frames
