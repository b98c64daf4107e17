"""The cast as data: schema, YAML, prompts and the storyboard diff."""

from __future__ import annotations

import pytest

from agent.feedback import changed_shot_ids
from agent.prompts import compose_prompt, compose_storyboard
from agent.settings import AgentSettings
from storyboards.diff import diff_storyboards
from storyboards.schema import Storyboard, StoryboardError
from storyboards.yamlio import dump_storyboard, load_storyboard

SETTINGS = AgentSettings(max_shot_seconds=8.0)

MARA = "a weathered woman in her sixties, yellow oilskin coat, grey braid"


def film(**over) -> dict:
    data = {
        "title": "Harbour",
        "cast": [{"id": "mara", "name": "the captain", "description": MARA}],
        "shots": [
            {"id": "s1", "subject": "the captain", "action": "unties the boat", "cast": ["mara"]},
            {"id": "s2", "subject": "gulls", "action": "circle the mast"},
            {"id": "s3", "subject": "the captain", "action": "steers out to sea", "cast": ["mara"], "continue_from": "s1"},
        ],
    }
    data.update(over)
    return data


def test_cast_and_continue_from_validate_with_messages_naming_the_fix():
    Storyboard.parse(film())
    bad = film()
    bad["shots"][1]["cast"] = ["tom"]
    with pytest.raises(StoryboardError, match="shot 's2': cast 'tom' is not in the film's cast; the cast is: mara"):
        Storyboard.parse(bad)
    later = film()
    later["shots"][0]["continue_from"] = "s3"
    with pytest.raises(StoryboardError, match="continue_from 's3' must name an earlier shot; it is the first shot"):
        Storyboard.parse(later)
    with pytest.raises(StoryboardError, match="cast id 'mara' is used twice"):
        Storyboard.parse(film(cast=[{"id": "mara"}, {"id": "mara"}]))


def test_cast_round_trips_through_yaml_with_reference_paths_relative(tmp_path):
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "mara.png").write_bytes(b"\x89PNG")
    data = film(cast=[{"id": "mara", "name": "the captain", "description": MARA, "references": ["uploads/mara.png"]}])
    path = tmp_path / "film.yaml"
    path.write_text(dump_storyboard(Storyboard.parse(data)))
    loaded = load_storyboard(path)
    assert loaded.cast[0].references == [str(tmp_path / "uploads" / "mara.png")]
    text = dump_storyboard(loaded, path)
    assert "uploads/mara.png" in text and str(tmp_path) not in text
    assert "cast: []" not in text                         # empty lists stay out of the file


def test_the_description_is_in_every_shot_with_the_member_even_on_a_tight_budget():
    sb = Storyboard.parse(film(style_guide="muted teal and amber palette, 35mm film grain"))
    prompts = compose_storyboard(sb, "animatic", settings=SETTINGS)
    assert MARA in prompts["s1"].prompt and MARA in prompts["s3"].prompt
    assert MARA not in prompts["s2"].prompt
    tight = compose_prompt(sb.shot("s1"), sb.style_guide, "animatediff", cast=sb.cast, settings=SETTINGS)   # CLIP: 77 tokens
    assert MARA in tight.prompt


def test_changing_a_member_changes_every_shot_they_are_in():
    old = Storyboard.parse(film())
    data = film()
    data["cast"][0]["description"] = "a young woman in a red raincoat"
    new = Storyboard.parse(data)
    assert changed_shot_ids(old, new) == ["s1", "s3"]
    assert diff_storyboards(old, new).shots_to_regenerate == ["s1", "s3"]
