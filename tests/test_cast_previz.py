"""A cast in the previz: each member drawn the same way (silhouette, colour, name) in every shot they
are in. The brief names two characters; the planner makes the cast; the Director renders the film;
then each shot is drawn again by the animatic without its cast, and what the cast added (the pixels
that differ) is measured: each member's colour is the same wherever they appear, and differs from
the other member's."""

from __future__ import annotations

import numpy as np
import pytest

from agent.production import shot_for_backend
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.generate import GenerationRequest
from tools.generate.animatic import AnimaticBackend

BRIEF = ("A 12-second film in three shots: an old fisherman and his dog wait out a storm on the pier, "
         "the fisherman mends a net, then the dog barks at the waves.")


def drawn(shot: dict) -> np.ndarray:
    request = GenerationRequest(prompt="", frames=2, fps=12, width=320, height=180, seed=3, shot=shot)
    return AnimaticBackend().generate(request).frames[0].astype(np.int16)


def cast_colour(shot: dict, member: dict) -> np.ndarray:
    """The colour `member` is drawn in: the shot drawn again with only that member recoloured (another
    place in the cast) changes exactly their silhouette; the median of those pixels is its colour."""
    recoloured = [{**m, "index": m["index"] + 3} if m["id"] == member["id"] else m for m in shot["cast_members"]]
    as_cast = drawn(shot)
    changed = np.abs(as_cast - drawn({**shot, "cast_members": recoloured})).max(axis=2) > 30
    assert changed.mean() > 0.002, f"{member['id']} is not drawn in shot {shot['id']}"
    return np.median(as_cast[changed], axis=0)


@pytest.mark.slow
def test_each_cast_member_looks_the_same_in_every_shot_they_are_in(tmp_path):
    workspace = Workspace(tmp_path)
    director = Director(store=Store(workspace=workspace), workspace=workspace, settings=AgentSettings(resolution=144))
    project = director.user_message("ada", BRIEF)
    board = director.store.get_version(project).storyboard
    assert [m.id for m in board.cast] == ["fisherman", "dog"], board.cast
    result = director.render("ada", project)
    assert result.cut and result.new_takes >= 3

    colours: dict[str, list[np.ndarray]] = {}
    for shot in board.shots:
        data = shot_for_backend(board, shot)
        assert [m["id"] for m in data["cast_members"]] == shot.cast
        for member in data["cast_members"]:
            colours.setdefault(member["id"], []).append(cast_colour(data, member))
    assert all(len(v) >= 2 for v in colours.values()), {k: len(v) for k, v in colours.items()}
    for member, seen in colours.items():
        spread = np.ptp(np.stack(seen), axis=0).max()
        assert spread < 40, f"{member} changes colour between shots: {np.stack(seen).round()}"
    fisherman, dog = (np.mean(colours[m], axis=0) for m in ("fisherman", "dog"))
    assert np.abs(fisherman - dog).max() > 40, "the two members are drawn alike"
