"""The critic on clips made here with numpy/cv2: clean camera moves pass, each kind of fault fails
and the reason names the frames a person would point at."""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest

from storyboards.schema import Critique
from tools.critique import CriticSettings, critique_frames, critique_video, style_consistency, write_critique_plot

W, H, N, FPS = 256, 144, 36, 24


def canvas(seed: int = 0, w: int = 3 * W, h: int = 3 * H) -> np.ndarray:
    """A textured scene: smooth noise at a few scales plus drawn shapes, like a landscape with objects."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    for scale, amp in ((64, 90), (16, 50), (4, 25), (2, 12)):
        small = rng.normal(0, 1, (h // scale + 2, w // scale + 2, 3)).astype(np.float32)
        img += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img + 120, 0, 255).astype(np.uint8)
    for _ in range(40):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.integers(4, 20)), c, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(6, 40)), y + int(rng.integers(6, 30))), c, -1)
    return img


def pan(n: int = N, speed: float = 3.0, seed: int = 0, jitter: float = 0.0) -> np.ndarray:
    """A camera panning right over the canvas, `speed` px per frame, optional random shake."""
    src = canvas(seed)
    rng = np.random.default_rng(seed + 1)
    out = []
    for i in range(n):
        dx, dy = W * 0.5 + speed * i, H * 1.0
        if jitter:
            dx += rng.uniform(-jitter, jitter)
            dy += rng.uniform(-jitter, jitter)
        m = np.float32([[1, 0, -dx], [0, 1, -dy]])
        out.append(cv2.warpAffine(src, m, (W, H), flags=cv2.INTER_LINEAR))
    return np.stack(out)


def zoom(n: int = N, rate: float = 0.012, seed: int = 2) -> np.ndarray:
    src = canvas(seed)
    cx, cy = src.shape[1] / 2, src.shape[0] / 2
    out = []
    for i in range(n):
        s = 1.0 + rate * i
        m = np.float32([[s, 0, W / 2 - s * cx], [0, s, H / 2 - s * cy]])
        out.append(cv2.warpAffine(src, m, (W, H), flags=cv2.INTER_LINEAR))
    return np.stack(out)


PAN_SHOT = {"camera": "pan_right", "action": "", "subject": "a harbour"}


def frame_range(reason: str) -> tuple[int, int]:
    """The first 'frames A–B' / 'frame A' a reason names."""
    m = re.search(r"frames? (\d+)(?:–(\d+))?", reason)
    assert m, f"no frame range in: {reason}"
    return int(m.group(1)), int(m.group(2) or m.group(1))


def failing(c: Critique) -> dict[str, str]:
    return {n: m.reason for n, m in c.metrics.items() if m.passed is False}


@pytest.fixture(scope="module")
def clean_pan() -> np.ndarray:
    return pan()


def test_clean_pan_and_zoom_pass(clean_pan):
    for frames, shot in ((clean_pan, PAN_SHOT), (zoom(), {"camera": "zoom_in"})):
        c = critique_frames(frames, FPS, shot=shot)
        assert c.verdict == "pass", c.reasons
        assert failing(c) == {}
        assert 0.5 <= c.score <= 1.0
        # Only the model-based metrics are missing, and the verdict says so.
        assert set(c.not_measured) == {"clip_score", "aesthetic"}
        assert all("not measured" in r for r in c.reasons)


def test_brightness_flicker_fails_naming_frames(clean_pan):
    f = clean_pan.astype(np.int16)
    f[12:19:2] += 30                      # frames 12, 14, 16, 18 flash brighter
    c = critique_frames(np.clip(f, 0, 255).astype(np.uint8), FPS, shot=PAN_SHOT)
    assert c.verdict == "fail"
    m = c.metrics["flicker"]
    assert m.passed is False
    assert "flicker" in m.reason and "brightness swings" in m.reason
    assert frame_range(m.reason) == (12, 18)
    assert any(r.startswith("flicker:") for r in c.reasons)
    assert c.score < 0.5


def test_frozen_frames_fail_a_panning_shot(clean_pan):
    f = clean_pan.copy()
    f[10:20] = clean_pan[10]
    c = critique_frames(f, FPS, shot=PAN_SHOT)
    m = c.metrics["frozen"]
    assert m.passed is False and "pan_right" in m.reason
    assert frame_range(m.reason) == (10, 19)
    # The same stillness is not a fault when the shot asks for none.
    still = critique_frames(f, FPS, shot={"camera": "static", "action": ""})
    assert still.metrics["frozen"].passed is None


def test_black_frames_fail_naming_them(clean_pan):
    f = clean_pan.copy()
    f[20:26] = 0
    c = critique_frames(f, FPS, shot=PAN_SHOT)
    m = c.metrics["exposure"]
    assert m.passed is False and "black" in m.reason
    assert frame_range(m.reason) == (20, 25)
    # Black frames are one finding, not also blur, noise or a cut.
    assert set(failing(c)) == {"exposure"}


def test_noise_burst_fails(clean_pan):
    f = clean_pan.astype(np.float32)
    f[15:18] += np.random.default_rng(5).normal(0, 20, f[15:18].shape)
    c = critique_frames(np.clip(f, 0, 255).astype(np.uint8), FPS, shot=PAN_SHOT)
    m = c.metrics["noise"]
    assert m.passed is False and "noise" in m.reason
    assert frame_range(m.reason) == (15, 17)


def test_jitter_fails_unless_the_shot_is_handheld():
    shaky = pan(jitter=6)
    c = critique_frames(shaky, FPS, shot=PAN_SHOT)
    assert c.verdict == "fail"
    assert c.metrics["shake"].passed is False and "shakes" in c.metrics["shake"].reason
    handheld = critique_frames(shaky, FPS, shot={"camera": "handheld"})
    assert handheld.metrics["shake"].passed is None
    assert "handheld" in handheld.metrics["shake"].reason
    assert handheld.verdict == "pass", handheld.reasons


def test_abrupt_cut_fails_at_the_cut(clean_pan):
    other = pan(seed=7)
    c = critique_frames(np.concatenate([clean_pan[:18], other[18:]]), FPS, shot=PAN_SHOT)
    m = c.metrics["scene_cut"]
    assert m.passed is False and "cut" in m.reason
    assert m.frames == [18]
    assert "frame 18" in m.reason


def test_blown_out_fails(clean_pan):
    f = clean_pan.astype(np.int16)
    f[24:30] += 235
    c = critique_frames(np.clip(f, 0, 255).astype(np.uint8), FPS, shot=PAN_SHOT)
    m = c.metrics["exposure"]
    assert m.passed is False and "blown out" in m.reason
    assert frame_range(m.reason) == (24, 29)


def test_blur_fails(clean_pan):
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 3) for f in clean_pan])
    c = critique_frames(blurred, FPS, shot=PAN_SHOT)
    assert c.metrics["sharpness"].passed is False
    assert "blurred" in c.metrics["sharpness"].reason


def test_best_take_scores_highest(clean_pan):
    good = critique_frames(clean_pan, FPS, shot=PAN_SHOT)
    bad = critique_frames(pan(jitter=6), FPS, shot=PAN_SHOT)
    assert good.score > 0.5 > bad.score


def test_backend_overrides_and_errors(clean_pan):
    f = clean_pan.copy()
    f[10:20] = clean_pan[10]
    lenient = CriticSettings(backends={"animatic": {"frozen_min_run": 20, "frozen_max_fraction": 0.5,
                                                    "shake_limit": 10.0}})
    c = critique_frames(f, FPS, shot=PAN_SHOT, backend="animatic", settings=lenient)
    assert c.metrics["frozen"].passed is True
    with pytest.raises(ValueError, match="unknown settings: nope"):
        critique_frames(f, FPS, backend="x", settings=CriticSettings(backends={"x": {"nope": 1}}))
    with pytest.raises(ValueError, match="uint8"):
        critique_frames(f.astype(np.float32), FPS)


def test_style_consistency_names_the_odd_shot(clean_pan):
    warm = np.clip(clean_pan.astype(np.int16) + np.array([60, 10, -50]), 0, 255).astype(np.uint8)
    ok = style_consistency([clean_pan, zoom(), pan(seed=3)])
    assert ok.passed is True
    odd = style_consistency({"opening": clean_pan, "harbour": zoom(), "sunset": warm, "close": pan(seed=3)})
    assert odd.passed is False and odd.frames == [2]
    assert "shot sunset" in odd.reason


@pytest.mark.slow
def test_video_file_and_plot(tmp_path, clean_pan):
    import imageio_ffmpeg

    f = clean_pan.copy()
    f[20:26] = 0
    path = tmp_path / "take.mp4"
    writer = imageio_ffmpeg.write_frames(str(path), (W, H), fps=FPS, quality=9, macro_block_size=16)
    writer.send(None)
    for frame in f:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    c = critique_video(path, shot=PAN_SHOT)
    assert c.verdict == "fail"
    assert frame_range(c.metrics["exposure"].reason) == (20, 25)
    json.loads(c.model_dump_json())         # what `director critique --json` prints
    png = write_critique_plot(c, tmp_path / "critique.png", frames=f, fps=FPS)
    assert png.stat().st_size > 10_000
    assert cv2.imread(str(png)) is not None


# ----------------------------------------------------------------------------- CLIP text alignment

PROMPT = "a small fishing boat leaving the harbour at dawn"


def tiny_clip(path, seed: int = 0) -> str:
    """A random-weight CLIP with a real (tiny) BPE tokenizer and processor, saved like a checkpoint."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    words = PROMPT.split() + ["a", "sea", "light", "misty"]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in sorted(set("".join(words))):
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    merges: list[tuple[str, str]] = []
    for w in words:
        pieces = list(w[:-1]) + [w[-1] + "</w>"]
        while len(pieces) > 1:
            merges.append((pieces[0], pieces[1]))
            pieces = [pieces[0] + pieces[1]] + pieces[2:]
            vocab.setdefault(pieces[0], len(vocab))
    tokenizer = CLIPTokenizer(vocab=vocab, merges=list(dict.fromkeys(merges)), model_max_length=77)
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                         pad_token_id=1),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=37,
                           num_hidden_layers=2, num_attention_heads=4),
        projection_dim=16,
    )
    CLIPModel(config).eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    # Only torchmetrics needs the processor; our metric builds pixels itself.
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(path)
    return str(path)


@pytest.mark.slow
def test_clip_score_equals_torchmetrics(tmp_path):
    import torch
    from torchmetrics.multimodal.clip_score import CLIPScore

    from tools.critique.clip_score import clip_score, load_clip

    torch.set_num_threads(1)
    # torchmetrics picks its loader by name: the folder must contain "openai".
    path = tiny_clip(tmp_path / "openai-tiny-clip", seed=2)   # seed 2: scores ~17-21, not clamped to 0
    frames = pan(n=6)[:, :, :200]                   # not square: exercises resize + centre crop
    settings = CriticSettings(clip_model=path, clip_dtype="float32", clip_batch_size=4)
    ours = clip_score(frames, PROMPT, settings)
    assert load_clip(settings) is load_clip(settings)          # loaded once per process

    reference = CLIPScore(model_name_or_path=path)

    # torchmetrics 1.9 expects tensors from get_*_features; transformers 5 returns a model output.
    def tensor_out(fn):
        def wrapped(*args, **kwargs):
            out = fn(*args, **kwargs)
            return out if isinstance(out, torch.Tensor) else out.pooler_output
        return wrapped

    reference.model.get_image_features = tensor_out(reference.model.get_image_features)
    reference.model.get_text_features = tensor_out(reference.model.get_text_features)
    images = torch.from_numpy(frames).permute(0, 3, 1, 2)
    expected = float(reference(images, [PROMPT] * len(frames)).detach())
    assert expected > 0
    assert ours.value == pytest.approx(expected, abs=1e-3)
    for i in (0, 5):
        reference.reset()
        one = float(reference(images[i:i + 1], [PROMPT]).detach())
        assert ours.per_frame[i] == pytest.approx(one, abs=1e-3)
    assert ours.frames == list(range(6))

    # The same model inside the full critique.
    c = critique_frames(frames, FPS, prompt=PROMPT, shot=PAN_SHOT, settings=settings)
    assert c.metrics["clip_score"].value == pytest.approx(expected, abs=1e-3)
    assert "clip_score" not in c.not_measured


def test_missing_clip_weights_are_not_measured(tmp_path, clean_pan):
    missing = str(tmp_path / "no-such-clip")
    c = critique_frames(clean_pan, FPS, prompt=PROMPT, shot=PAN_SHOT,
                        settings=CriticSettings(clip_model=missing))
    m = c.metrics["clip_score"]
    assert m.value is None and m.passed is None
    assert m.reason == (f"not measured: CLIP weights '{missing}' not found "
                        f"(set DIRECTOR_CRITIC_CLIP_MODEL to a local path)")
    assert "clip_score" in c.not_measured
    assert any("CLIP weights" in r for r in c.reasons)
    assert c.verdict == "pass"            # not measured never fails a take, nor invents a number
