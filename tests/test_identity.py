"""A cast member's reference picture: it starts their image-to-video shots, the critic checks the take
still looks like it (a colour signature without CLIP weights, and says so), and a reference showing a
real face needs consent like any other reference."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from agent.errors import Refused
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import CastMember, Shot, Storyboard
from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.critique import critique_frames

DATA = Path(__file__).parent / "data" / "safety"


def figure(coat: tuple[int, int, int], size=(256, 144)) -> np.ndarray:
    w, h = size
    img = np.full((h, w, 3), (70, 90, 80), np.uint8)
    cv2.rectangle(img, (w // 2 - 30, h // 3), (w // 2 + 30, h - 10), coat, -1)
    cv2.circle(img, (w // 2, h // 3 - 16), 16, (230, 200, 180), -1)
    return img


def reference(tmp_path: Path, coat=(200, 30, 30)) -> Path:
    path = tmp_path / "mara.png"
    Image.fromarray(figure(coat)).save(path)
    return path


def test_the_critic_fails_a_take_whose_cast_member_no_longer_looks_like_the_reference(tmp_path):
    ref = reference(tmp_path)
    shot = {"camera": "static", "action": "stands", "mode": "i2v",
            "cast_members": [{"id": "mara", "name": "Mara", "references": [str(ref)]}]}
    same = np.stack([figure((200, 30, 30))] * 24)
    drifted = np.stack([figure((200, 30, 30))] * 12 + [figure((30, 60, 210))] * 12)
    ok = critique_frames(same, 12, shot=shot, backend="diffusers").metrics["identity"]
    assert ok.passed is True and "colour signature" in ok.reason
    bad = critique_frames(drifted, 12, shot=shot, backend="diffusers").metrics["identity"]
    assert bad.passed is False and "no longer looks like the reference" in bad.reason and "Mara" in bad.reason
    # The previz draws a member as a silhouette: reported, not judged.
    drawn = critique_frames(drifted, 12, shot={**shot, "mode": "t2v"}, backend="animatic").metrics["identity"]
    assert drawn.passed is None and "not judged" in drawn.reason
    assert "identity" not in critique_frames(same, 12, shot={"camera": "static"}).metrics


@pytest.mark.slow
def test_an_image_to_video_shot_starts_from_its_cast_members_reference(tmp_path):
    ref = reference(tmp_path)
    board = Storyboard(title="Mara", resolution=144, fps=12,
                       cast=[CastMember(id="mara", name="Mara", description="a woman in a red coat", references=[str(ref)])],
                       shots=[Shot(id="door", duration=2, mode="i2v", cast=["mara"], subject="Mara", action="waits",
                                   camera="dolly_in", framing="wide")])
    workspace = Workspace(tmp_path / "home")
    director = Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings())
    project = director.start_project("ada", board, "test")
    director.render("ada", project)
    take = director.store.selected_take(project, "door")
    assert take.critique.metrics["identity"].passed is True, take.critique.metrics["identity"].reason


def test_a_cast_reference_with_a_real_face_needs_consent(tmp_path):
    board = Storyboard(title="Portrait", resolution=144, fps=12,
                       cast=[CastMember(id="ann", name="Ann", references=[str(DATA / "astronaut.jpg")])],
                       shots=[Shot(id="s1", duration=2, cast=["ann"], subject="Ann", action="smiles", camera="static")])
    workspace = Workspace(tmp_path)
    director = Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings())
    project = director.start_project("ada", board, "test")
    with pytest.raises(Refused) as refused:
        director.render("ada", project)
    assert any("cast 'ann' reference" in r for r in refused.value.reasons)
    assert director.store.takes_for_shot(project, "s1") == []
