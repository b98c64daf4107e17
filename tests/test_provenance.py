"""Export-time disclosures: invisible watermark, visible label, C2PA manifest, and `verify` reading all three."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.watermark import crop_centre, half, shift
from tools.safety import c2pa_manifest, label, watermark
from tools.safety._media import decode_frames, encode_h264
from tools.safety.verify import verify_video

PAYLOAD = 0xC0FFEE42


def make_clip(seed: int, w: int = 640, h: int = 360, n: int = 24) -> np.ndarray:
    """Textured, moving content: a smooth colour texture panning, a moving disc and text."""
    rng = np.random.default_rng(seed)
    gh, gw = h // 8 + 20, w // 8 + 20
    tex = cv2.resize(rng.random((gh, gw, 3)).astype(np.float32), (gw * 8, gh * 8), interpolation=cv2.INTER_CUBIC)
    tex = np.clip(tex * 0.8 + rng.normal(0, 0.08 * rng.random(), tex.shape).astype(np.float32), 0, 1)
    vx, vy = rng.integers(-3, 4, 2)
    colour = tuple(int(v) for v in rng.integers(0, 255, 3))
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        f = np.ascontiguousarray((tex[80 + vy * i:80 + vy * i + h, 80 + vx * i:80 + vx * i + w] * 255).astype(np.uint8))
        cv2.circle(f, (int(w * 0.2 + i * w * 0.6 / n), int(h / 2 + 40 * np.sin(i / 4 + seed))), 30 + seed % 20, colour, -1)
        cv2.putText(f, f"take {seed}", (10, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
        out[i] = f
    return out


def _survival(seed: int, folder) -> tuple[float, float, float, float]:
    frames = make_clip(seed)
    marked = watermark.embed_frames(frames, PAYLOAD)
    quality = watermark.psnr(frames, marked)
    dec = decode_frames(encode_h264(marked, folder / f"crf28-{seed}.mp4", crf=28))
    r = watermark.detect_frames(dec)
    assert r.present and r.payload == PAYLOAD, f"clip {seed}: {r}"
    # the re-encoded file, downscaled to half and re-encoded again (a typical re-upload)
    half = decode_frames(encode_h264(dec, folder / f"half-{seed}.mp4", crf=28, size=(320, 180)))
    r2 = watermark.detect_frames(half)
    assert r2.present and r2.payload == PAYLOAD, f"clip {seed} at half size: {r2}"
    acc = np.mean([watermark.frame_bit_accuracy(f, PAYLOAD) for f in dec])
    half_acc = np.mean([watermark.frame_bit_accuracy(f, PAYLOAD) for f in half])
    return quality, acc, half_acc, r2.confidence


@pytest.mark.slow
def test_watermark_is_invisible_and_survives_crf28_and_half_downscale_on_20_clips(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    # ffmpeg runs in subprocesses and OpenCV releases the GIL: two clips at a time use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = np.array(list(pool.map(lambda s: _survival(s, tmp_path), range(20))))
    quality, accs, half_accs, half_conf = results.T
    assert quality.min() > 38
    print(f"\nPSNR {quality.mean():.1f} dB; per-frame bit accuracy after CRF 28: {accs.mean():.3f} "
          f"(min {accs.min():.3f}); after half downscale + CRF 28: {half_accs.mean():.3f} (min {half_accs.min():.3f}); "
          f"half-size clip confidence {half_conf.mean():.3f}; payload recovered 20/20 both ways")


@pytest.mark.slow
def test_unmarked_video_reads_as_no_watermark(tmp_path):
    for seed in (100, 101, 102):
        dec = decode_frames(encode_h264(make_clip(seed), tmp_path / "plain.mp4", crf=28))
        r = watermark.detect_frames(dec)
        assert not r.present and r.payload is None and r.confidence < watermark.MIN_CONFIDENCE


def test_watermark_rejects_payloads_that_do_not_fit():
    with pytest.raises(ValueError, match="0..4294967295"):
        watermark.embed_frames(make_clip(0, n=1), 2**32)


@pytest.mark.slow
@pytest.mark.parametrize("position, scale", [("bottom-right", 1.0), ("top-left", 1.5), ("bottom-left", 2.0)])
def test_label_is_found_after_reencode_and_half_downscale(tmp_path, position, scale):
    frames = label.burn_label(make_clip(3), position=position, scale=scale)
    full = decode_frames(encode_h264(frames, tmp_path / "l.mp4", crf=28))
    half = decode_frames(encode_h264(frames, tmp_path / "h.mp4", crf=28, size=(320, 180)))
    assert label.detect_label(full) and label.detect_label(half)
    assert label.label_reading(full)["position"] == position
    plain = decode_frames(encode_h264(make_clip(3), tmp_path / "p.mp4", crf=28))
    assert not label.detect_label(plain)


def test_label_changes_only_its_corner():
    frames = make_clip(5, n=2)
    out = label.burn_label(frames)
    changed = np.argwhere(np.any(out != frames, axis=(0, 3)))
    (y0, x0), (y1, x1) = changed.min(0), changed.max(0)
    assert y0 > 360 * 0.85 and x0 > 640 * 0.6 and y1 < 360 and x1 < 640


def _signed_clip(tmp_path, frames, keys):
    src = encode_h264(frames, tmp_path / "cut.mp4", crf=23)
    return c2pa_manifest.sign_video(src, tmp_path / "final.mp4", title="Harbour at dawn", project_id="p-1",
                                    cut_id="cut-7", version=3, models=["animatic", "ltx-video-0.9"],
                                    actions=["c2pa.edited", {"action": "c2pa.resized"}], keys_dir=keys)


def test_c2pa_sign_and_read_back(tmp_path):
    keys = tmp_path / "keys"
    signed = _signed_clip(tmp_path, make_clip(1, 320, 192, 12), keys)
    m = c2pa_manifest.read_manifest(signed, keys_dir=keys)
    assert m.present and m.valid and m.ai_generated
    assert m.trust == "self-signed (local identity)"
    assert m.issuer == "Reel Director local signer"
    assert m.actions[0] == "c2pa.created" and "c2pa.edited" in m.actions
    assert m.storyboard["project_id"] == "p-1" and m.storyboard["cut_id"] == "cut-7"
    assert m.storyboard["storyboard_version"] == "3" and "ltx-video-0.9" in m.storyboard["models"]
    assert (keys / "signer.key").stat().st_mode & 0o077 == 0
    # without the local root the same signature is valid but from an unknown issuer
    assert c2pa_manifest.read_manifest(signed).trust == "untrusted (unknown issuer)"


def test_c2pa_flipped_media_byte_reads_invalid(tmp_path):
    keys = tmp_path / "keys"
    signed = _signed_clip(tmp_path, make_clip(2, 320, 192, 12), keys)
    data = bytearray(signed.read_bytes())
    mdat = data.index(b"mdat")
    data[mdat + 500] ^= 0xFF
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    m = c2pa_manifest.read_manifest(broken, keys_dir=keys)
    assert m.present and not m.valid and m.trust == "invalid"
    assert any("changed after signing" in p for p in m.problems)


def test_unsigned_file_has_no_manifest(tmp_path):
    plain = encode_h264(make_clip(4, 320, 192, 6), tmp_path / "plain.mp4")
    assert not c2pa_manifest.read_manifest(plain).present


@pytest.mark.slow
def test_verify_reports_all_three_disclosures(tmp_path):
    keys = tmp_path / "keys"
    frames = label.burn_label(watermark.embed_frames(make_clip(6), PAYLOAD))
    signed = _signed_clip(tmp_path, frames, keys)
    lookup = {PAYLOAD: ("p-1", "cut-7")}
    v = verify_video(signed, keys_dir=keys, resolve_watermark=lookup.get)
    assert v["c2pa"]["present"] and v["c2pa"]["valid"] and v["c2pa"]["ai_generated"]
    assert v["c2pa"]["trust"] == "self-signed (local identity)"
    assert v["watermark"]["present"] and v["watermark"]["payload"] == PAYLOAD
    assert (v["watermark"]["project_id"], v["watermark"]["cut_id"]) == ("p-1", "cut-7")
    assert v["label"]["present"]
    assert v["verdict"].startswith("ai-generated (all three")

    # a platform re-encode at half size drops the manifest but not the watermark or label
    reup = encode_h264(decode_frames(signed), tmp_path / "reupload.mp4", crf=28, size=(320, 180))
    v2 = verify_video(reup, keys_dir=keys)
    assert not v2["c2pa"]["present"]
    assert v2["watermark"]["payload"] == PAYLOAD and v2["label"]["present"]
    assert v2["verdict"] == "ai-generated (partial disclosures)"


# ----------------------------------------------------------------------------- crops and shifts (issue 12)


# The attacks of bench/watermark.py, the same functions.
ATTACKS = {
    "crop 10 %": lambda f: crop_centre(f, 0.10),
    "crop 20 %": lambda f: crop_centre(f, 0.20),
    "shift 64 px": lambda f: shift(f, 64),
    "crop 10 % + shift 64 px + half": lambda f: half(shift(crop_centre(f, 0.10), 64)),
}


@pytest.mark.slow
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_watermark_survives_crops_and_shifts_after_crf28(tmp_path, attack):
    """A platform's crop-to-fill or a moved picture used to remove the mark ("no disclosures found")."""
    for seed in (21, 22):
        marked = watermark.embed_frames(make_clip(seed, 1280, 720, 12), PAYLOAD)
        dec = decode_frames(encode_h264(ATTACKS[attack](marked), tmp_path / "attacked.mp4", crf=28))
        assert watermark.detect_frames(dec, search=False).payload != PAYLOAD  # the frames as they are read nothing
        reading = watermark.detect_frames(dec)
        assert reading.present and reading.payload == PAYLOAD, f"{attack}, clip {seed}: {reading}"
        assert reading.confidence >= watermark.MIN_CONFIDENCE


@pytest.mark.slow
def test_cropped_unmarked_video_names_no_payload(tmp_path):
    """Searching for a moved mark must not invent one: no grid, no payload."""
    for seed in (31, 32):
        plain = crop_centre(make_clip(seed, 1280, 720, 12), 0.10)
        dec = decode_frames(encode_h264(plain, tmp_path / "plain.mp4", crf=28))
        assert watermark.find_placement(dec) is None
        reading = watermark.detect_frames(dec)
        assert not reading.present and reading.payload is None


def test_crc_fixes_one_weak_bit_and_never_a_random_word():
    bits = watermark.encode_payload(PAYLOAD)
    votes = np.where(bits == 0, 1.0, -1.0)
    damaged = bits.copy()
    damaged[7] ^= 1
    votes[7] = 0.01 * (1 if damaged[7] == 0 else -1)          # the wrong bit is the least certain
    fixed, payload, ok = watermark._correct_one(damaged, votes)
    assert ok and payload == PAYLOAD
    # Two wrong bits are never "fixed" into another valid word (CRC-8 of ATM: distance 4).
    twice = damaged.copy()
    twice[20] ^= 1
    votes[20] = 0.02
    assert not watermark._correct_one(twice, votes)[2]


@pytest.mark.slow
@pytest.mark.parametrize("position", ["bottom-right", "top-left"])
def test_label_survives_a_centred_crop_of_10_percent(tmp_path, position):
    """The label sits inside the action-safe area, so a platform's crop-to-fill keeps it."""
    frames = label.burn_label(make_clip(7, 1280, 720, 6), position=position)
    cropped = decode_frames(encode_h264(crop_centre(frames, 0.10), tmp_path / "c.mp4", crf=28))
    assert label.detect_label(cropped)
    plain = decode_frames(encode_h264(crop_centre(make_clip(7, 1280, 720, 6), 0.10), tmp_path / "p.mp4", crf=28))
    assert not label.detect_label(plain)
