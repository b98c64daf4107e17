"""Keyframes first: a still per shot to approve (or re-roll) before rendering; the render then animates
exactly the approved stills. Offline the still is the animatic's first frame; with a text-to-image
model configured (a tiny random Stable Diffusion pipeline saved to a folder here) it comes from that."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.session import Director
from agent.settings import AgentSettings
from storyboards.store import Store
from storyboards.workspace import Workspace
from tests.test_continuity import centre
from tools.edit.video_io import read_video

ROOT = Path(__file__).resolve().parents[1]
BRIEF = "A 6-second film in two shots: a red kite rises over a green hill, then a girl waves at it."


def director(home: Path) -> Director:
    workspace = Workspace(home)
    return Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings(resolution=144))


def keyframes(home: Path, project: str, *extra: str) -> dict:
    env = {**os.environ, "DIRECTOR_HOME": str(home), "DIRECTOR_USER": "ada", "DIRECTOR_RESOLUTION": "144"}
    proc = subprocess.run([sys.executable, "-m", "server.cli", "keyframes", project, "--json", *extra],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_stills_are_approved_rerolled_and_then_animated(tmp_path):
    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    first = keyframes(tmp_path, project)
    assert [k["shot_id"] for k in first["keyframes"]] == ["s1", "s2"]
    assert Path(first["sheet"]).is_file() and all(Path(p).is_file() for p in first["stills"].values())
    width, height = d.store.get_version(project).storyboard.size
    assert Image.open(first["stills"]["s1"]).size == (width, height)

    again = keyframes(tmp_path, project)                       # nothing asked: the same stills
    assert again["stills"] == first["stills"]
    rolled = keyframes(tmp_path, project, "--reroll", "--shots", "s2")
    assert rolled["stills"]["s1"] == first["stills"]["s1"] and rolled["stills"]["s2"] != first["stills"]["s2"]

    approved = keyframes(tmp_path, project, "--approve")
    assert all(k["approved"] for k in approved["keyframes"])
    latest = d.store.get_version(project)
    assert latest.number == 2 and "keyframes approved" in latest.reason
    for shot in latest.storyboard.shots:
        assert shot.mode == "i2v" and Path(shot.reference) == Path(rolled["stills"][shot.id])

    d.render("ada", project)
    for shot in latest.storyboard.shots:
        take = d.store.selected_take(project, shot.id)
        frames, _ = read_video(d.workspace.resolve(take.file))
        own = np.asarray(Image.open(rolled["stills"][shot.id]).convert("RGB"))
        other = np.asarray(Image.open(rolled["stills"]["s2" if shot.id == "s1" else "s1"]).convert("RGB"))
        near, far = (np.abs(centre(frames[0]) - centre(img)).mean() for img in (own, other))
        assert near < far / 2, f"shot {shot.id} does not open on its approved still ({near:.1f} vs {far:.1f})"


@pytest.mark.slow
def test_keyframes_need_a_project_and_approval_needs_keyframes(tmp_path):
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path), "DIRECTOR_USER": "ada"}
    missing = subprocess.run([sys.executable, "-m", "server.cli", "keyframes", "p-nope"], capture_output=True, text=True,
                             cwd=ROOT, env=env, timeout=120)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    d = director(tmp_path)
    project = d.user_message("ada", BRIEF)
    early = subprocess.run([sys.executable, "-m", "server.cli", "keyframes", project, "--approve"], capture_output=True,
                           text=True, cwd=ROOT, env=env, timeout=120)
    assert early.returncode == 2 and "make them first" in early.stderr


def tiny_stable_diffusion(folder: Path) -> Path:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    from tests.tiny_pipelines import clip_text

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=2)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, norm_num_groups=2)
    tokenizer, text_encoder = clip_text()
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   scheduler=DDIMScheduler(), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_a_configured_text_to_image_model_makes_the_stills(tmp_path, monkeypatch):
    import torch

    torch.set_num_threads(1)
    model = tiny_stable_diffusion(tmp_path / "tiny-sd")
    monkeypatch.setenv("DIRECTOR_DIFFUSERS_DEFAULT_T2I", str(model))
    monkeypatch.setenv("DIRECTOR_DIFFUSERS_STEPS", "2")
    d = director(tmp_path / "home")
    project = d.user_message("ada", BRIEF)
    made = d.keyframes("ada", project)
    width, height = d.store.get_version(project).storyboard.size
    for k in made.keyframes:
        assert k.backend == "diffusers" and k.model == str(model)
        image = np.asarray(Image.open(d.workspace.resolve(k.still)).convert("RGB"))
        assert image.shape == (height, width, 3) and image.std() > 1   # a real (random-weight) picture, not blank
    assert len({k.still for k in made.keyframes}) == 2                  # each shot its own seed and prompt
