"""Pictures for chat: the storyboard as cards, and a shot's first frame as soon as its take is ready.

A shot with a valid take shows that take's first frame; a shot not rendered yet shows a one-frame
animatic previz (a few milliseconds on the CPU), so the very first storyboard already has pictures.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from storyboards.store import Store
from storyboards.workspace import Workspace

log = logging.getLogger("reel_director.previews")

THUMB_WIDTH = 320


def _first_frame(path: Path) -> np.ndarray | None:
    from tools.edit.video_io import read_video

    try:
        frames, _ = read_video(path, max_frames=1)
    except Exception as e:  # a missing or broken take file: the card says "no picture yet"
        log.warning("no first frame from %s: %s", path, e)
        return None
    return frames[0] if len(frames) else None


def _previz_still(plan) -> np.ndarray | None:
    from tools.generate.base import get_backend

    request = plan.request
    w = THUMB_WIDTH
    h = max(2, round(w * request.height / max(1, request.width) / 2) * 2)
    try:
        still = dataclasses.replace(request, frames=1, width=w, height=h, seed=request.seed or 1)
        return get_backend("animatic").generate(still).frames[0]
    except Exception as e:
        log.warning("no previz still for shot %s: %s", plan.shot.id, e)
        return None


def shot_thumbnail(store: Store, workspace: Workspace, producer, project_id: str, storyboard, shot) -> np.ndarray | None:
    plan = producer.plan_shot(storyboard, shot)
    take = store.selected_take(project_id, shot.id, spec_key=plan.spec_key)
    if take is not None and take.file:
        frame = _first_frame(workspace.resolve(take.file))
        if frame is not None:
            return frame
    return _previz_still(plan)


def storyboard_image(store: Store, workspace: Workspace, producer, project_id: str,
                     changed: list[str] | tuple[str, ...] = ()) -> Path:
    """`storyboard-v{N}.png` in the project's folder: the latest version as one card per shot."""
    from tools.edit.storyboard_sheet import ShotCard, storyboard_sheet

    version = store.get_version(project_id)
    sb = version.storyboard
    cards = []
    for i, shot in enumerate(sb.shots, 1):
        what = ", ".join(x for x in (shot.subject, shot.action, shot.setting) if x)
        how = " · ".join(x.replace("_", " ") for x in (shot.framing, shot.camera, shot.lighting) if x)
        lines = [what, how] + ([f"“{shot.narration}”"] if shot.narration else [])
        cards.append(ShotCard(i, shot.id, shot.duration, [x for x in lines if x],
                              shot_thumbnail(store, workspace, producer, project_id, sb, shot), shot.id in changed))
    subtitle = (f"version {version.number} · {len(sb.shots)} shots · {sb.duration:g} s · {sb.aspect_ratio} · "
                f"{sb.fps} fps · AI previz")
    aspect = sb.size[0] / sb.size[1]
    out = workspace.project_dir(project_id) / f"storyboard-v{version.number}.png"
    return storyboard_sheet(sb.title, subtitle, cards, out, aspect=aspect)


def first_frame_image(store: Store, workspace: Workspace, project_id: str, shot_id: str, take_id: str) -> Path | None:
    """`shot-{id}-{take}.png`: the first frame of a finished take (it already carries the label)."""
    from PIL import Image

    from tools.edit.video_io import atomic_output

    take = store.get_take(take_id)
    if not take.file:
        return None
    frame = _first_frame(workspace.resolve(take.file))
    if frame is None:
        return None
    out = workspace.project_dir(project_id) / f"shot-{shot_id}-{take_id}.png"
    with atomic_output(out) as tmp:
        Image.fromarray(frame).save(tmp, format="PNG")
    return out
