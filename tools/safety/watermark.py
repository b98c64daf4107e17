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

This is a provenance aid, not DRM: it survives ordinary re-encoding and resizing, not a
determined attacker who knows the key and the scheme.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pywt

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
MIN_CONFIDENCE = 0.62          # slot agreement needed (chance is 0.5) besides a matching CRC


@dataclass
class WatermarkReading:
    present: bool
    payload: int | None
    confidence: float           # fraction of the spread copies agreeing with the decoded bits (0.5 = chance)
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
        cv2.merge((up, up, up), dst=up3)
        cv2.add(frames[i], up3, dst=out[i], dtype=cv2.CV_8U)
    return out


# ----------------------------------------------------------------------------- detect


def _soft_bits(frame: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-slot soft decisions in [-1, 1] (+1: bit 0, -1: bit 1) and the slot -> bit map."""
    h, w = frame.shape[:2]
    size = working_size(w, h)
    ll = pywt.dwt2(_luma_small(frame, size), "haar")[0]
    c = _slot_values(_block_coeffs(ll))
    bit_of_slot, dither, _ = _layout(*ll.shape)
    phase = (c / step - dither) * (2 * np.pi)
    return np.cos(phase), bit_of_slot


def detect_frames(frames: np.ndarray, strength: float = DEFAULT_STRENGTH, max_frames: int = 96) -> WatermarkReading:
    """Read the payload back from decoded frames (any size, any number; at most `max_frames`, spread out).

    Frames are weighted by how self-consistent their own copies are. After a re-encode the
    intra-coded frames keep the mark almost intact, while predicted frames of moving content
    inherit the previous frame's mark moved with the picture (noise to this detector); a frame
    whose ~20 copies of each bit agree is trusted, a frame of coin flips barely counts."""
    frames = _check_frames(frames)
    if len(frames) > max_frames:
        frames = frames[np.linspace(0, len(frames) - 1, max_frames).round().astype(int)]
    step = BASE_STEP * strength
    rows = []
    for f in frames:
        soft, bit_of_slot = _soft_bits(f, step)
        rows.append(soft)
    softs = np.stack(rows)                                     # (frames, slots)
    copies = np.bincount(bit_of_slot, minlength=CODE_BITS)
    per_bit = np.stack([np.bincount(bit_of_slot, weights=s, minlength=CODE_BITS) for s in softs]) / copies
    # Consistency of a frame: mean |average of a bit's copies|; ~0.8 intact, ~0.15 for chance.
    consistency = np.abs(per_bit).mean(axis=1)
    weights = np.clip(consistency - 0.2, 0.0, None) ** 2 + 1e-6
    votes = (per_bit * weights[:, None]).sum(axis=0)
    bits = (votes < 0).astype(np.uint8)
    payload, crc_ok = decode_bits(bits)
    # Confidence: the weighted share of single-slot decisions that agree with the decoded bits.
    agree = ((softs < 0) == bits[bit_of_slot][None, :]).mean(axis=1)
    confidence = float((agree * weights).sum() / weights.sum())
    present = bool(crc_ok and confidence >= MIN_CONFIDENCE)
    return WatermarkReading(present=present, payload=payload if present else None,
                            confidence=round(confidence, 4), frames_checked=len(frames), crc_ok=crc_ok)


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


def _check_frames(frames: np.ndarray) -> np.ndarray:
    if not (isinstance(frames, np.ndarray) and frames.ndim == 4 and frames.shape[-1] == 3 and frames.dtype == np.uint8):
        raise ValueError(f"frames must be a (N, H, W, 3) uint8 RGB array, got {getattr(frames, 'shape', type(frames))}"
                         f" {getattr(frames, 'dtype', '')}")
    if min(frames.shape[1:3]) < 64:
        raise ValueError(f"frames of {frames.shape[2]}x{frames.shape[1]} are too small to carry a watermark (at least 64 px)")
    return frames
