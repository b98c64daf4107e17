"""The prompt composer: field order, camera words, negatives, token budgets and the truncation rule."""

from __future__ import annotations

import math

import pytest

from agent.prompts import TRUNCATION_ORDER, compose_prompt, estimate_tokens, with_prompts
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard

SETTINGS = AgentSettings()


def full_shot(**over) -> Shot:
    fields = dict(
        id="harbour",
        style="35mm film",
        subject="a small fishing boat",
        action="leaving the harbour",
        setting="a stone harbour at dawn, with gulls on the wall",
        atmosphere="calm, misty",
        lighting="soft dawn light",
        camera="dolly_in",
        framing="wide",
        technical="shallow depth of field",
        negative_prompt="camera shake, text",
    )
    fields.update(over)
    return Shot(**fields)


def test_fields_in_documented_order_after_the_style_guide():
    c = compose_prompt(full_shot(), "muted teal and amber palette", "animatic", settings=SETTINGS)
    assert c.prompt == (
        "muted teal and amber palette, 35mm film, a small fishing boat, leaving the harbour, "
        "a stone harbour at dawn, with gulls on the wall, calm, misty, soft dawn light, slow dolly in, "
        "wide shot, shallow depth of field"
    )
    assert not c.truncated and c.dropped == []


def test_empty_fields_are_skipped_without_stray_commas():
    shot = Shot(id="s1", subject="a red kite", camera="static", framing="close_up")
    c = compose_prompt(shot, "", "animatic", settings=SETTINGS)
    assert c.prompt == "a red kite, static camera, close-up"
    assert ", ," not in c.prompt and not c.prompt.startswith(",")


@pytest.mark.parametrize(
    "camera,framing,words",
    [
        ("dolly_in", "wide", ["slow dolly in", "wide shot"]),
        ("aerial", "extreme_wide", ["aerial drone shot", "extreme wide shot"]),
        ("orbit", "dutch_angle", ["orbits around the subject", "dutch angle"]),
        ("handheld", "extreme_close_up", ["handheld camera", "extreme close-up"]),
        ("pan_left", "low_angle", ["pans left", "low angle shot"]),
    ],
)
def test_camera_and_framing_are_written_as_video_model_words(camera, framing, words):
    c = compose_prompt(Shot(id="s1", subject="a dancer", camera=camera, framing=framing), "", "animatic", settings=SETTINGS)
    for w in words:
        assert w in c.prompt
    assert "_" not in c.prompt


def test_fast_technical_notes_speed_up_the_camera_words():
    c = compose_prompt(Shot(id="s1", subject="a car", camera="dolly_in", technical="fast camera movement"), "", "animatic", settings=SETTINGS)
    assert "fast dolly in" in c.prompt and "slow dolly in" not in c.prompt


def test_shot_style_repeating_the_style_guide_is_said_once():
    c = compose_prompt(Shot(id="s1", subject="a cat", style="cinematic, 35mm film"), "cinematic", "animatic", settings=SETTINGS)
    assert c.prompt.count("cinematic") == 1 and "35mm film" in c.prompt


def test_negative_prompt_merges_shot_and_film_negatives_without_duplicates():
    c = compose_prompt(full_shot(), "", "animatic", film_negative="Text, watermark, blurry", settings=SETTINGS)
    assert c.negative_prompt == "camera shake, text, watermark, blurry"


def test_film_negatives_default_from_settings(monkeypatch):
    monkeypatch.setenv("DIRECTOR_FILM_NEGATIVE_PROMPT", "watermark, logo")
    c = compose_prompt(full_shot(negative_prompt=""), "", "animatic", settings=AgentSettings())
    assert c.negative_prompt == "watermark, logo"


def test_token_estimate_rule():
    # 5 words -> ceil(6.5) = 7, plus one comma
    assert estimate_tokens("a red boat, at dawn") == 8
    assert estimate_tokens("") == 0
    assert estimate_tokens("close-up") == math.ceil(1.3 * 2) + 1


def test_animatic_is_unlimited():
    long = full_shot(technical=", ".join(["highly detailed"] * 60))
    c = compose_prompt(long, "cinematic", "animatic", settings=SETTINGS)
    assert not c.truncated and c.budget is None
    assert c.prompt.count("highly detailed") == 60


def _long_shot() -> Shot:
    return full_shot(
        technical="shallow depth of field, anamorphic lens, 4k, highly detailed, subtle film grain, soft bloom, " * 3,
        atmosphere="calm, misty, quiet, nostalgic, still water, drifting fog banks over the breakwater, " * 2,
        lighting="soft dawn light, pale golden rim light on the hull, long shadows on the water, " * 4,
        setting="a stone harbour at dawn, with gulls on the wall and nets drying on the quay, fishermen mending lines, "
        "stacked lobster pots, a red lifebuoy, wet cobbles, a chapel on the hill above the painted cottages",
    )


def test_over_budget_drops_least_important_fields_first_and_keeps_subject_and_action():
    c = compose_prompt(_long_shot(), "muted teal and amber palette, 35mm film grain", "ltx", settings=SETTINGS)
    assert c.budget == 128
    assert c.truncated
    assert estimate_tokens(c.prompt) <= 128
    # the documented order, as a prefix of TRUNCATION_ORDER
    assert c.dropped == list(TRUNCATION_ORDER[: len(c.dropped)])
    assert c.dropped[:3] == ["technical", "atmosphere", "lighting"]
    assert "a small fishing boat" in c.prompt and "leaving the harbour" in c.prompt
    assert "anamorphic" not in c.prompt and "drifting fog" not in c.prompt
    # the camera move survives a 128-token budget
    assert "slow dolly in" in c.prompt


def test_clip_budget_shortens_setting_and_style_guide_before_losing_camera():
    c = compose_prompt(_long_shot(), "muted teal and amber palette, 35mm film grain", "animatediff", settings=SETTINGS)
    assert c.budget == 77
    assert estimate_tokens(c.prompt) <= 77
    assert "setting details" in c.dropped
    assert "a stone harbour at dawn" in c.prompt and "fishermen" not in c.prompt
    assert c.prompt.startswith("muted teal and amber palette")


def test_subject_and_action_are_never_cut_even_over_budget():
    subject = "an old lighthouse keeper with a grey beard and a yellow oilskin coat " * 6
    c = compose_prompt(Shot(id="s1", subject=subject.strip(), action="climbs the spiral stairs"), "noir", "animatediff", settings=SETTINGS)
    assert c.over_budget and c.truncated
    assert subject.strip() in c.prompt and "climbs the spiral stairs" in c.prompt
    assert "noir" not in c.prompt  # everything droppable was dropped


def test_budgets_come_from_settings_and_model_ids(monkeypatch):
    s = AgentSettings()
    assert s.token_budget("cogvideox") == 226
    assert s.token_budget("wan") == 512
    assert s.token_budget("diffusers", "THUDM/CogVideoX-2b") == 226
    assert s.token_budget("diffusers", "Lightricks/LTX-Video") == 128
    assert s.token_budget("animatic") is None
    assert s.token_budget("somebody-elses-backend") is None
    monkeypatch.setenv("DIRECTOR_TOKEN_BUDGETS", '{"ltx": 40}')
    c = compose_prompt(full_shot(), "cinematic", "ltx", settings=AgentSettings())
    assert c.budget == 40 and estimate_tokens(c.prompt) <= 40


def test_with_prompts_fills_each_shot_and_leaves_the_input_alone():
    sb = Storyboard(title="t", style_guide="watercolor", shots=[full_shot(id="a"), full_shot(id="b", subject="a gull")])
    out = with_prompts(sb, settings=SETTINGS)
    assert [s.prompt for s in sb.shots] == [None, None]
    assert all(s.prompt.startswith("watercolor, ") for s in out.shots)
    assert "a gull" in out.shots[1].prompt


def test_descriptive_words_are_not_repeated():
    shot = Shot(id="s1", subject="a keeper", atmosphere="moody, stormy", lighting="Moody, dusk light")
    c = compose_prompt(shot, "moody, cinematic", "animatic", settings=SETTINGS)
    assert c.prompt.lower().count("moody") == 1
    assert c.prompt == "moody, cinematic, a keeper, stormy, dusk light, static camera, medium shot"
