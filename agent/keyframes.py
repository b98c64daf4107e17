"""Keyframes first: one still per shot to approve (or re-roll, or replace) before any video is made.

`make_keyframes` proposes a still per shot (tools/generate/stills.py: the animatic's first frame
offline, a text-to-image model when one is configured) and lays them out in `keyframes.png` in the
project's folder. The stills are files named by their content in the workspace's `stills/` folder;
the proposals for a project are `keyframes.json` beside its cut. `approve_keyframes` writes a new
storyboard version in which each approved shot is image-to-video from its still, so rendering then
animates exactly the picture the person approved, and going back a version brings back the shot as
it was. Replacing a still is an upload: the person's own image becomes the shot's reference.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from storyboards.artifacts import atomic_write_bytes, atomic_write_text
from storyboards.schema import Storyboard
from storyboards.workspace import Workspace


class Keyframe(BaseModel):
    shot_id: str
    still: str = Field(description="the still's file, relative to the workspace")
    seed: int
    backend: str
    model: str
    roll: int = Field(1, description="1 for the first still of this shot, 2 after one re-roll, ...")
    approved: bool = False


class KeyframeSet(BaseModel):
    """The proposed stills of one storyboard version, and the picture that shows them side by side."""

    project_id: str
    version: int
    keyframes: list[Keyframe] = Field(default_factory=list)
    sheet: str | None = Field(None, description="keyframes.png in the project's folder, relative to the workspace")

    def get(self, shot_id: str) -> Keyframe | None:
        return next((k for k in self.keyframes if k.shot_id == shot_id), None)


def proposals_path(workspace: Workspace, project_id: str) -> Path:
    return workspace.project_dir(project_id) / "keyframes.json"


def load_proposals(workspace: Workspace, project_id: str) -> KeyframeSet | None:
    try:
        return KeyframeSet.model_validate_json(proposals_path(workspace, project_id).read_text())
    except (OSError, ValueError):
        return None


def png_bytes(image: np.ndarray, compress_level: int = 6) -> bytes:
    """An RGB picture (H, W, 3) uint8 encoded as PNG (lossless at any `compress_level`, 0-9)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def save_still(workspace: Workspace, image: np.ndarray) -> Path:
    """A still as a PNG named by its content: the same picture is stored once, and never overwritten."""
    data = png_bytes(image)
    path = workspace.home / "stills" / f"{hashlib.sha256(data).hexdigest()[:32]}.png"
    if not path.exists():
        atomic_write_bytes(path, data)
    return path


def save_proposals(workspace: Workspace, proposals: KeyframeSet, storyboard: Storyboard) -> KeyframeSet:
    proposals.sheet = workspace.relative(write_sheet(workspace, proposals, storyboard))
    atomic_write_text(proposals_path(workspace, proposals.project_id), proposals.model_dump_json(indent=2))
    return proposals


def write_sheet(workspace: Workspace, proposals: KeyframeSet, storyboard: Storyboard) -> Path:
    """keyframes.png: the stills in shot order, each named and described, with the AI disclosure."""
    from PIL import Image, ImageDraw

    from tools.safety.label import burn_label

    stills = [(storyboard.shot(k.shot_id), np.asarray(Image.open(workspace.resolve(k.still)).convert("RGB")), k)
              for k in proposals.keyframes]
    thumb_w = 320
    rows = []
    for i, (shot, image, k) in enumerate(stills, 1):
        h = max(2, round(thumb_w * image.shape[0] / image.shape[1]))
        thumb = np.asarray(Image.fromarray(image).resize((thumb_w, h), Image.Resampling.LANCZOS))
        panel = Image.new("RGB", (thumb_w + 360, max(h, 90)), (24, 24, 28))
        panel.paste(Image.fromarray(thumb), (0, 0))
        draw = ImageDraw.Draw(panel)
        state = "approved" if k.approved else f"proposal {k.roll}"
        lines = [f"shot {i} ({shot.id}) - {state}", ", ".join(x for x in (shot.subject, shot.action) if x)[:48],
                 f"{shot.framing} · {shot.camera} · {round(shot.duration, 2):g} s", f"{k.backend}:{k.model} seed {k.seed}"[:48]]
        for j, line in enumerate(lines):
            draw.text((thumb_w + 12, 8 + 20 * j), line, fill=(235, 235, 235) if j == 0 else (170, 170, 180))
        rows.append(np.asarray(panel))
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows])
    sheet = burn_label(sheet[None])[0]   # a picture made by a model is disclosed as such, like every frame we deliver
    return atomic_write_bytes(workspace.project_dir(proposals.project_id) / "keyframes.png", png_bytes(sheet))


def approved_storyboard(storyboard: Storyboard, proposals: KeyframeSet, workspace: Workspace,
                        shots: list[str]) -> Storyboard:
    """The storyboard with each of `shots` made image-to-video from its approved still."""
    changed = []
    for shot in storyboard.shots:
        k = proposals.get(shot.id)
        if shot.id in shots and k is not None:
            changed.append(shot.model_copy(update={"mode": "i2v", "reference": str(workspace.resolve(k.still)),
                                                   "source": None}))
        else:
            changed.append(shot)
    return storyboard.model_copy(update={"shots": changed})


def describe(proposals: KeyframeSet) -> str:
    done = sum(k.approved for k in proposals.keyframes)
    return (f"{len(proposals.keyframes)} keyframes for version {proposals.version}"
            + (f", {done} approved" if done else "") + ": approve them to render each shot from its still, "
            "re-roll the ones you do not like, or give a shot your own image.")
