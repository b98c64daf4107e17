"""Every model x mode the README lists, rendered as a film through the Director at default farm settings.

Each model is a REAL diffusers pipeline with tiny random weights, saved to a folder once per session and
found the way a user's download is: DIRECTOR_DIFFUSERS_MODEL_PATHS, with the mode's default model set to
it. Random weights make noise, so the checks are what a user would notice whatever the pixels: a cut
with the right number of frames, and takes that say which model made them.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from tiny_pipelines import BUILDERS

from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard, TakeStatus
from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.edit.video_io import read_video

FPS, SECONDS = 8, 1.0

# (tiny model, mode): the README's list - LTX t2v/i2v, Wan t2v/i2v/v2v, CogVideoX t2v/i2v/v2v,
# AnimateDiff t2v/v2v, SVD i2v
CASES = [
    ("ltx", "t2v"), ("ltx", "i2v"),
    ("wan", "t2v"), ("wan_i2v", "i2v"), ("wan", "v2v"),
    ("cogvideox", "t2v"), ("cogvideox_i2v", "i2v"), ("cogvideox", "v2v"),
    ("animatediff", "t2v"), ("animatediff", "v2v"),
    ("svd", "i2v"),
]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def director_for(tmp_path, monkeypatch) -> Director:
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    workspace = Workspace(tmp_path / "home").ensure()
    # one take per shot: random weights never pass the critic, and retries are tested elsewhere; generated
    # at half size and upscaled (the "final" tier), because the tiny VAEs' decode is most of the time
    return Director(store=Store(workspace=workspace), workspace=workspace,
                    settings=AgentSettings(attempts_per_shot=1, generate_scale=0.5))


def inputs(tmp_path) -> tuple[str, str]:
    """A reference image and a source clip with visible structure (no faces: nothing for safety to hold)."""
    yy, xx = np.mgrid[:72, :128]
    image = np.stack([xx * 2, yy * 3, np.full_like(xx, 60)], -1).astype(np.uint8)
    ref = tmp_path / "reference.png"
    cv2.imwrite(str(ref), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    clip = tmp_path / "source.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (128, 72))
    for k in range(12):
        writer.write(cv2.cvtColor(np.roll(image, 4 * k, axis=1), cv2.COLOR_RGB2BGR))
    writer.release()
    return str(ref), str(clip)


def film(mode: str, ref: str, clip: str, subjects=("a small fishing boat", "a lighthouse")) -> Storyboard:
    extra = {"i2v": {"reference": ref}, "v2v": {"source": clip}}.get(mode, {})
    return Storyboard(title="Harbour", resolution=64, fps=FPS, shots=[
        Shot(id=f"shot{i + 1}", duration=SECONDS, mode=mode, subject=subject, setting="a stone harbour at dawn",
             backend="diffusers", **extra)
        for i, subject in enumerate(subjects)])


def frame_count(path) -> int:
    frames, _ = read_video(path)
    return len(frames)


@pytest.mark.slow
@pytest.mark.parametrize("name, mode", CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_each_model_and_mode_renders_a_film_through_the_director(tiny_models, tmp_path, monkeypatch, name, mode):
    tiny_models.env(monkeypatch, {mode: name})
    model_id = BUILDERS[name][1]
    director = director_for(tmp_path, monkeypatch)
    ref, clip = inputs(tmp_path)
    board = film(mode, ref, clip)
    project = director.start_project("ada", board, "test")

    result = director.render("ada", project, out_dir=tmp_path / "out")

    assert result["new_takes"] == 2
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert frame_count(tmp_path / "out" / "final.mp4") == manifest["frames"]
    shots = [seg for seg in manifest["timeline"] if seg["kind"] == "shot"]
    assert [seg["frames"] for seg in shots] == [round(SECONDS * FPS)] * 2
    for take in manifest["takes"]:
        assert take["backend"] == "diffusers" and take["model"] == model_id
        assert take["params"]["mode"] == mode and take["params"]["family"] in name
    for shot in board.shots:
        take = director.store.selected_take(project, shot.id)
        assert take.status != TakeStatus.error and take.model == model_id
        assert frame_count(director.workspace.resolve(take.file)) == round(SECONDS * FPS)
    assert manifest["farm"]["engine"] == "local"
