"""The diffusers backend running REAL diffusers pipelines built from tiny random-weight components.

The components follow diffusers' own fast tests (tests/pipelines/<model>/), with tokenizers built in
code so nothing is fetched. Random weights make noise, not pictures, so the tests check what a user
would notice regardless: the frame count, size and rate asked for; the same seed giving the same take;
the reference image / source clip actually steering the output; one load per model; clear errors.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from tiny_pipelines import (  # noqa: E402
    tiny_animatediff,
    tiny_cogvideox_v2v,
    tiny_ltx,
    tiny_svd,
    tiny_wan,
)

from tools.generate.base import BackendError, GenerationRequest  # noqa: E402
from tools.generate.diffusers_backend import DiffusersBackend, DiffusersSettings  # noqa: E402
from tools.generate.diffusers_models import MODELS  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # with the CPU shared, a tiny pipeline runs far slower on 2 threads than on 1
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)



# ---- helpers --------------------------------------------------------------------------------------------
FAST = DiffusersSettings(steps=2, guidance=3.0)
T5_LIMIT = {"max_prompt_tokens": 16}


def request(**kw) -> GenerationRequest:
    base = dict(prompt="a small fishing boat leaving a stone harbour at dawn", negative_prompt="blur", frames=12,
                fps=12, width=48, height=32, seed=1)
    base.update(kw)
    return GenerationRequest(**base)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def write_clip(path: Path, frames: np.ndarray, fps: int) -> Path:
    h, w = frames.shape[1:3]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        out.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    out.release()
    assert path.stat().st_size > 0
    return path


def gradient(h, w, flip=False):
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
    img = np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)),
                          np.full((h, w, 1), 40, np.float32)], -1)
    return (255 - img if flip else img).astype(np.uint8)


def checker(h, w, cell=4):
    yy, xx = np.mgrid[:h, :w]
    on = ((yy // cell + xx // cell) % 2).astype(np.uint8)
    return np.stack([on * 230, 20 + on * 0, 220 - on * 200], -1).astype(np.uint8)


def differ(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture(scope="module")
def ltx():
    return tiny_ltx()


# ---- LTX ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_ltx_t2v_exact_size_frames_and_seeded(ltx):
    backend = DiffusersBackend(FAST)
    backend.register_pipeline("tiny-ltx", ltx, **T5_LIMIT)
    seen = []
    r = request(model="tiny-ltx")
    a = backend.generate(r, progress=lambda done, total: seen.append((done, total)))

    assert a.frames.shape == (12, 32, 48, 3) and a.frames.dtype == np.uint8 and a.fps == 12
    assert a.backend == "diffusers" and a.model == "tiny-ltx"
    # LTX needs sizes in multiples of 32 and 8n+1 frames: made at 64x32 with 17 frames, then fitted
    assert a.params["generation_size"] == [64, 32] and a.params["segments"] == [17]
    assert any("64x32" in n and "multiples of 32" in n for n in a.notes)
    assert any("kept the first 12 of 17 frames" in n for n in a.notes)
    assert seen[-1] == (2, 2) and len(seen) >= 2   # a progress report per denoising step
    assert a.params["device"] == "cpu"

    again = backend.generate(r)
    other = backend.generate(request(model="tiny-ltx", seed=2))
    assert np.array_equal(a.frames, again.frames)
    assert differ(a.frames, other.frames) > 0.5


def test_ltx_i2v_follows_the_reference_image(ltx, tmp_path):
    backend = DiffusersBackend(FAST)
    backend.register_pipeline("tiny-ltx", ltx, **T5_LIMIT)   # the t2v pipeline: i2v shares its weights
    warm = write_png(tmp_path / "warm.png", gradient(64, 96))
    cold = write_png(tmp_path / "cold.png", checker(64, 96))
    r = request(model="tiny-ltx", mode="i2v", frames=9, fps=24, width=32, height=32)

    a = backend.generate(_with(r, reference_image=warm))
    b = backend.generate(_with(r, reference_image=cold))
    a2 = backend.generate(_with(r, reference_image=warm))
    assert a.frames.shape == (9, 32, 32, 3)
    assert a.params["pipeline"] == "LTXImageToVideoPipeline"
    assert np.array_equal(a.frames, a2.frames)
    assert differ(a.frames, b.frames) > 0.5


def _with(r: GenerationRequest, **kw) -> GenerationRequest:
    from dataclasses import replace

    return replace(r, **kw)


def test_pipeline_is_loaded_once_and_long_shots_continue_in_segments(ltx):
    calls = []

    def factory(model_id, spec, mode):
        calls.append((model_id, mode))
        return ltx

    backend = DiffusersBackend(FAST, pipeline_factory=factory)
    backend.register_model("tiny/ltx-video", "ltx", max_prompt_tokens=16, max_frames=9)
    # 2 s at 12 fps = 24 frames; the model makes at most 9 per call here, so three calls, each starting
    # on the last frame of the one before
    long_shot = backend.generate(request(model="tiny/ltx-video", frames=24, fps=12, width=32, height=32))
    short_shot = backend.generate(request(model="tiny/ltx-video", frames=8, fps=12, width=32, height=32, seed=5))

    assert calls == [("tiny/ltx-video", "t2v")]
    assert long_shot.frames.shape == (24, 32, 32, 3) and short_shot.frames.shape == (8, 32, 32, 3)
    assert long_shot.params["strategy"] == "segments" and long_shot.params["segments"] == [9, 9, 9]
    assert any("3 consecutive segments" in n and "last frame" in n for n in long_shot.notes)


# ---- Wan ------------------------------------------------------------------------------------------------
def test_wan_t2v_native_16fps_retimed_to_request():
    backend = DiffusersBackend(FAST)
    backend.register_pipeline("tiny-wan", tiny_wan(), **T5_LIMIT, max_frames=9)
    out = backend.generate(request(model="tiny-wan", frames=12, fps=24, width=16, height=16))
    # Wan renders at 16 fps with 4n+1 frames: 0.5 s -> 8 frames -> 9, resampled to 12 at 24 fps
    assert out.frames.shape == (12, 16, 16, 3)
    assert out.params["generation_fps"] == 16 and out.params["segments"] == [9]
    assert any("resampled 9 frames at 16 fps to 12 at 24 fps" in n for n in out.notes)

    # the text-to-video checkpoint cannot start from a frame, so a long shot is stretched, and says so
    long = backend.generate(request(model="tiny-wan", frames=24, fps=12, width=16, height=16))
    assert long.frames.shape == (24, 16, 16, 3) and long.params["strategy"] == "retimed"
    assert any(n.startswith("retimed") for n in long.notes)


# ---- CogVideoX ------------------------------------------------------------------------------------------
def test_cogvideox_v2v_follows_the_source_clip(tmp_path):
    backend = DiffusersBackend(FAST)
    backend.register_pipeline("tiny-cogvideox", tiny_cogvideox_v2v(), native_size=(16, 16), frame_counts=(9,))
    moving = np.stack([np.roll(gradient(32, 32), 2 * k, axis=1) for k in range(12)])
    clip_a = write_clip(tmp_path / "a.mp4", moving, 12)
    clip_b = write_clip(tmp_path / "b.mp4", np.stack([checker(32, 32)] * 12), 12)
    r = request(model="tiny-cogvideox", mode="v2v", frames=8, fps=8, width=24, height=16, strength=0.7,
                prompt="cinematic film " * 20)

    a = backend.generate(_with(r, source_video=clip_a))
    a2 = backend.generate(_with(r, source_video=clip_a))
    b = backend.generate(_with(r, source_video=clip_b))
    assert a.frames.shape == (8, 16, 24, 3)
    assert a.params["pipeline"] == "CogVideoXVideoToVideoPipeline" and a.params["strength"] == 0.7
    assert np.array_equal(a.frames, a2.frames)
    assert differ(a.frames, b.frames) > 0.5
    # the long prompt is cut to what the text encoder takes, and the take says so
    assert any("prompt shortened" in n for n in a.notes)
    assert any("works at 16x16 only" in n for n in a.notes)


def test_cogvideox_t2v_shares_the_v2v_weights():
    backend = DiffusersBackend(FAST)
    backend.register_pipeline("tiny-cogvideox", tiny_cogvideox_v2v(), native_size=(16, 16), frame_counts=(9,))
    out = backend.generate(request(model="tiny-cogvideox", frames=9, fps=8, width=16, height=16))
    assert out.frames.shape == (9, 16, 16, 3) and out.params["pipeline"] == "CogVideoXPipeline"
    assert out.params["generation_fps"] == 8


# ---- AnimateDiff ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_animatediff_t2v_and_v2v(tmp_path):
    pipe = tiny_animatediff()
    backend = DiffusersBackend(FAST, pipelines={"tiny-animatediff": pipe})
    out = backend.generate(request(model="tiny-animatediff", frames=8, fps=8, width=32, height=32))
    assert out.frames.shape == (8, 32, 32, 3)
    assert out.params["segments"] == [16]    # AnimateDiff makes 16 frames; the shot uses the first second
    assert out.params["pipeline"] == "AnimateDiffPipeline"
    assert any("kept the first 8 of 16 frames" in n for n in out.notes)

    short = DiffusersBackend(FAST)
    short.register_pipeline("tiny-animatediff", pipe, frame_counts=(4,))
    clip_a = write_clip(tmp_path / "a.mp4", np.stack([np.roll(gradient(32, 32), 3 * k, 1) for k in range(8)]), 8)
    clip_b = write_clip(tmp_path / "b.mp4", np.stack([checker(32, 32)] * 8), 8)
    r = request(model="tiny-animatediff", mode="v2v", frames=4, fps=8, width=32, height=32, strength=0.6)
    a = short.generate(_with(r, source_video=clip_a))
    b = short.generate(_with(r, source_video=clip_b))
    assert a.frames.shape == (4, 32, 32, 3) and a.params["pipeline"] == "AnimateDiffVideoToVideoPipeline"
    assert differ(a.frames, b.frames) > 0.5


def test_weights_load_from_a_local_folder_once(ltx, tmp_path):
    folder = tmp_path / "my-finetune"
    ltx.save_pretrained(folder)
    settings = DiffusersSettings(steps=2, model_paths={"studio/finetune-v1": folder}, default_t2v="studio/finetune-v1")
    backend = DiffusersBackend(settings)
    first = backend.generate(request(width=32, height=32, frames=9, fps=24))
    second = backend.generate(request(width=32, height=32, frames=9, fps=24, seed=9))
    # the family came from the folder's model_index.json; loaded once, placed for this machine
    assert first.params["family"] == "ltx" and first.params["device"] == "cpu" and first.params["dtype"] == "float32"
    assert backend.pipeline("studio/finetune-v1", "t2v") is backend.pipeline("studio/finetune-v1", "t2v")
    assert first.frames.shape == second.frames.shape == (9, 32, 32, 3)


# ---- Stable Video Diffusion -----------------------------------------------------------------------------
@pytest.mark.slow
def test_svd_i2v_follows_the_reference_image(tmp_path):
    backend = DiffusersBackend(FAST)
    backend.register_pipeline("tiny-svd", tiny_svd(), frame_counts=(4,), size_multiple=16)
    warm = write_png(tmp_path / "warm.png", gradient(32, 32))
    cold = write_png(tmp_path / "cold.png", checker(32, 32))
    r = request(model="tiny-svd", mode="i2v", frames=4, fps=7, width=32, height=32)
    a = backend.generate(_with(r, reference_image=warm))
    b = backend.generate(_with(r, reference_image=cold))
    assert a.frames.shape == (4, 32, 32, 3)
    assert differ(a.frames, b.frames) > 0.5
    assert any("prompt is not used" in n for n in a.notes)


# ---- the request builder on the real models' limits (nothing is loaded) ----------------------------------
def test_request_builder_applies_each_models_limits():
    backend = DiffusersBackend(DiffusersSettings())
    hd = dict(width=1280, height=720, fps=24)

    ltx = backend.plan(request(model="Lightricks/LTX-Video", frames=96, **hd))
    assert ltx.width % 32 == 0 and ltx.height % 32 == 0 and ltx.width * ltx.height <= 768 * 512
    assert ltx.segments == [97] and (97 - 1) % 8 == 0 and ltx.fps == 24

    wan = backend.plan(request(model="Wan-AI/Wan2.1-T2V-1.3B-Diffusers", frames=72, **hd))
    assert wan.fps == 16 and wan.segments == [49] and wan.width % 16 == 0 and wan.height % 16 == 0
    wan_long = backend.plan(request(model="Wan-AI/Wan2.1-T2V-1.3B-Diffusers", frames=240, **hd))
    assert wan_long.strategy == "retimed" and wan_long.segments == [81]
    wan_i2v = backend.plan(request(model="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", mode="i2v",
                                   reference_image=Path("ref.png"), frames=240, **hd))
    assert wan_i2v.strategy == "segments" and all((n - 1) % 4 == 0 and n <= 81 for n in wan_i2v.segments)
    assert wan_i2v.made_frames >= 160   # 10 s at 16 fps

    cog = backend.plan(request(model="THUDM/CogVideoX-2b", frames=96, **hd))
    assert (cog.width, cog.height, cog.fps, cog.segments) == (720, 480, 8, [49])
    assert MODELS["THUDM/CogVideoX-2b"].max_prompt_tokens == 226
    portrait = backend.plan(request(model="THUDM/CogVideoX-2b", frames=48, width=720, height=1280, fps=24))
    assert (portrait.width, portrait.height) == (480, 720)

    ad = backend.plan(request(model="guoyww/animatediff-motion-adapter-v1-5-2", frames=48, **hd))
    assert ad.segments == [16] and ad.fps == 8

    svd = backend.plan(request(model="stabilityai/stable-video-diffusion-img2vid", mode="i2v",
                               reference_image=Path("ref.png"), frames=24, **hd))
    assert svd.segments == [14] and svd.fps == 7
    svd_xt = backend.plan(request(model="stabilityai/stable-video-diffusion-img2vid-xt", mode="i2v",
                                  reference_image=Path("ref.png"), frames=24, **hd))
    assert svd_xt.segments == [25]

    with pytest.raises(BackendError, match="does not do t2v"):
        backend.plan(request(model="stabilityai/stable-video-diffusion-img2vid"))


def test_defaults_per_mode_come_from_settings(monkeypatch):
    monkeypatch.setenv("DIRECTOR_DIFFUSERS_DEFAULT_T2V", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    monkeypatch.setenv("DIRECTOR_DIFFUSERS_MODEL_PATHS", '{"THUDM/CogVideoX-2b": "/models/cogvideox-2b"}')
    backend = DiffusersBackend()
    assert backend.model_id(request()) == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    assert backend.model_id(request(mode="v2v")) == "THUDM/CogVideoX-2b"
    assert backend.settings.model_paths["THUDM/CogVideoX-2b"] == Path("/models/cogvideox-2b")


def test_missing_model_says_which_and_how_to_fetch_it(tmp_path):
    backend = DiffusersBackend(DiffusersSettings(cache_dir=tmp_path / "empty-cache"))
    with pytest.raises(BackendError) as err:
        backend.generate(request(model="Lightricks/LTX-Video"))
    text = str(err.value)
    assert "Lightricks/LTX-Video" in text and "huggingface-cli download Lightricks/LTX-Video" in text
    assert "DIRECTOR_DIFFUSERS_MODEL_PATHS" in text

    wrong = DiffusersBackend(DiffusersSettings(model_paths={"THUDM/CogVideoX-2b": tmp_path / "nope"}))
    with pytest.raises(BackendError, match="not a folder"):
        wrong.generate(request(model="THUDM/CogVideoX-2b"))

    with pytest.raises(BackendError, match="does not know model 'acme/mystery'"):
        backend.generate(request(model="acme/mystery"))


def test_importing_the_backend_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; import tools.generate.diffusers_backend, tools.generate.runway; "
            "print('torch' in sys.modules, 'diffusers' in sys.modules)")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True)
    assert out.stdout.split() == ["False", "False"], out.stderr
    assert time.perf_counter() - t0 < 10
