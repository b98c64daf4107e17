"""Frame interpolation and upscaling on real images, judged against ground truth."""

import cv2
import numpy as np
import pytest

from tools.enhance import interpolate, retime, upscale


def _textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture: detail at several scales, like a real frame."""
    rng = np.random.default_rng(seed)
    base = rng.random((h // 8, w // 8, 3)).astype(np.float32)
    big = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip((0.7 * big + 0.6 * fine - 0.15) * 255, 0, 255).astype(np.uint8)


def _shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _err(a, b, margin=12):
    a = a[margin:-margin, margin:-margin].astype(np.float32)
    b = b[margin:-margin, margin:-margin].astype(np.float32)
    return float(np.abs(a - b).mean())


def test_interpolated_middle_frame_is_closer_to_truth_than_a_blend():
    scene = _textured(160, 224)
    frames = np.stack([_shifted(scene, 0, 0), _shifted(scene, 8, 3)])
    truth = _shifted(scene, 4, 1.5)

    out = interpolate(frames, 2)
    assert out.shape == (3, 160, 224, 3) and out.dtype == np.uint8
    assert np.array_equal(out[0], frames[0]) and np.array_equal(out[-1], frames[1])

    blend = ((frames[0].astype(np.float32) + frames[1]) / 2).round().astype(np.uint8)
    flow_err, blend_err = _err(out[1], truth), _err(blend, truth)
    assert flow_err < 0.5 * blend_err, (flow_err, blend_err)


def test_interpolate_factor_gives_the_promised_frame_count():
    scene = _textured(64, 96)
    frames = np.stack([_shifted(scene, 2 * k, 0) for k in range(5)])
    assert len(interpolate(frames, 3)) == (5 - 1) * 3 + 1
    assert len(interpolate(frames, 1)) == 5
    with pytest.raises(ValueError):
        interpolate(frames, 0)


def test_retime_8_fps_to_24_fps_keeps_speed_and_count():
    scene = _textured(64, 96)
    frames = np.stack([_shifted(scene, 3 * k, 0) for k in range(9)])   # 1 s at 8 fps
    out = retime(frames, 8, 24, 24)
    assert out.shape[0] == 24
    # frame 3 at 24 fps is 1/8 s: source frame 1 exactly
    assert np.array_equal(out[3], frames[1])
    stretched = retime(frames, 8, 24, 48, stretch=True)
    assert stretched.shape[0] == 48 and np.array_equal(stretched[-1], frames[-1])


def _laplacian_var(img):
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def test_upscale_makes_exact_size_and_is_sharper_than_plain_resize():
    small = np.stack([_textured(60, 80, seed=s) for s in range(3)])
    out = upscale(small, 320, 240)
    assert out.shape == (3, 240, 320, 3) and out.dtype == np.uint8

    plain = np.stack([cv2.resize(f, (320, 240), interpolation=cv2.INTER_LINEAR) for f in small])
    for a, b in zip(out, plain):
        assert _laplacian_var(a) > 1.3 * _laplacian_var(b)
    # the colours stay where they were: sharpening does not shift the picture
    assert abs(float(out.mean()) - float(plain.mean())) < 3


def test_upscale_without_configured_weights_does_not_use_a_neural_model(monkeypatch):
    from tools.enhance import upscale_method

    monkeypatch.delenv("DIRECTOR_UPSCALE_MODEL", raising=False)
    assert upscale_method().startswith("lanczos+unsharp")
    monkeypatch.setenv("DIRECTOR_UPSCALE_MODEL", "/nonexistent/esrgan.onnx")
    assert upscale_method() == "neural:esrgan.onnx"
    with pytest.raises(FileNotFoundError, match="DIRECTOR_UPSCALE_MODEL"):
        upscale(np.stack([_textured(32, 32)]), 64, 48)
