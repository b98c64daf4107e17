"""The offline rule-based planner: briefs of many kinds -> storyboards a person would recognise."""

from __future__ import annotations

import pytest

from agent.planner import plan_storyboard
from agent.planner.length import film_seconds
from agent.prompts import compose_storyboard, split_items
from agent.settings import AgentSettings
from storyboards.schema import Storyboard

SETTINGS = AgentSettings()


def plan(brief: str, max_shot_seconds: float | None = None, **kw):
    settings = AgentSettings(max_shot_seconds=max_shot_seconds) if max_shot_seconds else SETTINGS
    result = plan_storyboard(brief, settings=settings, **kw)
    # whatever the planner makes must survive the storyboard contract (YAML round trip included)
    Storyboard.parse(result.storyboard.model_dump())
    return result


def assert_style_everywhere(sb: Storyboard, *words: str) -> None:
    prompts = compose_storyboard(sb, "animatic", settings=SETTINGS)
    for shot in sb.shots:
        for w in words:
            assert w.lower() in prompts[shot.id].prompt.lower(), (shot.id, w, prompts[shot.id].prompt)


def assert_length(sb: Storyboard, seconds: float, max_shot: float = 8.0) -> None:
    # the delivered film (cards and transition overlaps counted) is as long as asked, to the frame
    assert abs(film_seconds(sb) - seconds) <= 1 / sb.fps, film_seconds(sb)
    assert all(s.duration <= max_shot + 1e-9 for s in sb.shots), [s.duration for s in sb.shots]


def test_tiktok_coffee_ad():
    r = plan("A 30-second vertical TikTok ad for a coffee brand: a barista pours latte art in a sunny cafe, "
             "then a close-up of the cup, end on the logo.")
    sb = r.storyboard
    assert r.question is None
    assert sb.aspect_ratio == "9:16"
    assert_length(sb, 30)
    assert "logo" in sb.shots[-1].subject.lower()
    assert sb.shots[0].subject == "a barista" and "pours latte art" in sb.shots[0].action
    assert sb.shots[0].setting == "a sunny cafe"
    assert any(s.framing == "close_up" and "cup" in s.subject for s in sb.shots)
    assert [s.id for s in sb.shots] == [f"s{i}" for i in range(1, len(sb.shots) + 1)]
    assert "coffee" in sb.title.lower()


def test_square_instagram_loop_is_one_seamless_shot():
    # issue 18: a loop is one seamless shot (its end meets its start), as long as a shot may be
    r = plan("A square Instagram loop of a cat sleeping on a windowsill, pastel colors.")
    sb = r.storyboard
    assert sb.aspect_ratio == "1:1"
    assert len(sb.shots) == 1 and sb.shots[0].camera == "static" and sb.shots[0].transition == "cut"
    assert_length(sb, 8)
    assert_style_everywhere(sb, "pastel")
    assert sb.shots[0].subject == "a cat" and sb.shots[0].setting == "a windowsill"
    assert any("loop is one seamless shot" in n for n in r.notes)


def test_a_longer_plain_film_of_one_beat_is_covered_not_repeated():
    r = plan("A square Instagram video of a cat sleeping on a windowsill, pastel colors.")
    sb = r.storyboard
    assert_length(sb, 15)
    assert 3 <= len(sb.shots) <= 5
    assert all("cat" in s.subject and s.setting == "a windowsill" for s in sb.shots)
    assert len({(s.subject, s.action) for s in sb.shots}) == len(sb.shots)
    assert any("15 s" in n and "didn't say" in n for n in r.notes)


def test_sixty_second_documentary_is_covered_by_short_shots():
    r = plan("A 60-second documentary about bees in a meadow.")
    sb = r.storyboard
    assert sb.aspect_ratio == "16:9"
    assert_length(sb, 60)
    assert len(sb.shots) >= 8
    assert_style_everywhere(sb, "documentary")
    assert all(("bees" in s.subject or "bees" in s.action) and s.setting == "a meadow" for s in sb.shots)
    assert len({(s.subject, s.action) for s in sb.shots}) == len(sb.shots)
    # coverage varies: not every shot the same framing
    assert len({s.framing for s in sb.shots}) >= 3


def test_three_shot_anime_sequence():
    r = plan("A three-shot anime sequence: a girl runs through a field of sunflowers. "
             "She looks up at the sky. A dragon flies overhead.")
    sb = r.storyboard
    assert len(sb.shots) == 3
    assert_style_everywhere(sb, "anime")
    assert sb.shots[1].subject == "the girl"  # "she" carries the previous subject, which a video model needs
    assert "dragon" in sb.shots[2].subject.lower()


def test_noir_with_quoted_narration():
    r = plan('A film noir short with narration. A detective walks down a rainy street at night. '
             'He lights a cigarette under a flickering streetlight. "The city never sleeps."')
    sb = r.storyboard
    assert_style_everywhere(sb, "film noir", "black and white")
    spoken = [s for s in sb.shots if s.narration]
    assert [s.narration for s in spoken] == ["The city never sleeps."]
    assert "cigarette" in spoken[0].action  # the line is spoken over the picture it follows
    assert all(s.transition == "crossfade" for s in sb.shots[:-1])
    # "walks down a rainy street": the street is where the shot is
    assert sb.shots[0].setting == "a rainy street at night" and "rainy" in sb.shots[0].atmosphere


def test_voice_over_without_lines_writes_one_line_per_beat():
    r = plan("Open with a drone shot of the mountains. A hiker climbs a ridge. Then she reaches the summit "
             "at golden hour. Watercolor style, 20 seconds, with voice-over.")
    sb = r.storyboard
    assert_length(sb, 20)
    assert all(s.narration for s in sb.shots)
    assert sb.shots[0].camera == "aerial" and sb.shots[0].subject == "the mountains"
    assert "golden hour" in sb.shots[-1].lighting
    assert_style_everywhere(sb, "watercolor")


def test_no_camera_shake_and_no_text_go_into_every_negative_prompt():
    r = plan("An energetic video of a skateboarder in a park, no camera shake, no text.")
    sb = r.storyboard
    for shot in sb.shots:
        assert {"camera shake", "text"} <= set(split_items(shot.negative_prompt))
        assert shot.camera != "handheld"
    prompts = compose_storyboard(sb, "animatic", settings=SETTINGS)
    assert all("camera shake" in p.negative_prompt for p in prompts.values())
    assert all("shake" not in p.prompt for p in prompts.values())


def test_contradictory_aspect_asks_one_question():
    r = plan("A vertical 16:9 video of a dog on the beach.")
    assert r.question and "9:16" in r.question and "16:9" in r.question
    assert r.storyboard.aspect_ratio in {"9:16", "16:9"}
    assert r.storyboard.shots[0].subject == "a dog"


def test_contradictory_lengths_ask_one_question():
    r = plan("A 10 second clip, 8 shots of 5 seconds, of waves crashing on rocks.")
    assert r.question and "10 s" in r.question and "40 s" in r.question


def test_two_shot_counts_ask_which():
    r = plan("A three-shot sequence in 5 shots of a train crossing a bridge.")
    assert r.question and "3" in r.question and "5" in r.question


@pytest.mark.parametrize("brief", ["make a video", "", "   "])
def test_empty_brief_gets_stated_defaults_and_a_question(brief):
    r = plan(brief)
    sb = r.storyboard
    assert sb.aspect_ratio == "16:9" and sb.fps == 24
    assert_length(sb, 15)
    assert 3 <= len(sb.shots) <= 5
    text = " ".join(r.notes)
    assert "16:9" in text and "24 fps" in text and "15 s" in text and "cinematic" in text
    assert r.question and "What should the film show" in r.question


@pytest.mark.parametrize(
    "brief,seconds",
    [
        ("A half a minute film of a river flowing through a canyon.", 30),
        ("A 1 minute video of clouds over a mountain.", 60),
        ("A minute and a half film about a fox in a snowy forest.", 90),
        ("A 45 s clip of a city at night.", 45),
        ("A twenty-second clip of a kettle boiling.", 20),
    ],
)
def test_total_length_phrases(brief, seconds):
    sb = plan(brief).storyboard
    assert_length(sb, seconds)


@pytest.mark.parametrize(
    "brief,ratio",
    [
        ("A YouTube video of a chef chopping onions.", "16:9"),
        ("An Instagram Reels clip of a chef chopping onions.", "9:16"),
        ("A YouTube Shorts clip of a chef chopping onions.", "9:16"),
        ("A portrait video of a chef chopping onions.", "9:16"),
        ("A widescreen shot of a chef chopping onions.", "16:9"),
        ("A 1:1 clip of a chef chopping onions.", "1:1"),
        ("A portrait of my grandmother knitting by the fire.", "16:9"),  # a portrait *of* someone is not a format
    ],
)
def test_aspect_words(brief, ratio):
    r = plan(brief)
    assert r.storyboard.aspect_ratio == ratio
    assert r.question is None


def test_shot_count_and_fps():
    sb = plan("A 30 fps film in four shots: a kite rises over a beach.").storyboard
    assert sb.fps == 30 and len(sb.shots) == 4
    sb = plan("5 shots of a city waking up at dawn.").storyboard
    assert len(sb.shots) == 5


def test_ordering_cues_open_with_and_end_on():
    r = plan("A hiker climbs a ridge. Finally a close-up of the flag on the summit. Open with a drone shot of the valley.")
    sb = r.storyboard
    assert "valley" in sb.shots[0].subject and sb.shots[0].camera == "aerial"
    assert "flag" in sb.shots[-1].subject and sb.shots[-1].framing == "close_up"
    assert any("Reordered" in n for n in r.notes)


def test_camera_and_framing_words_per_sentence():
    sb = plan("A dancer spins on a rooftop, slow push in. Handheld shot of the crowd cheering. "
              "Orbit around the dancer. Dutch angle of the city lights. Pan across the skyline.").storyboard
    assert [s.camera for s in sb.shots][:5] == ["dolly_in", "handheld", "orbit", sb.shots[3].camera, "pan_right"]
    assert sb.shots[3].framing == "dutch_angle"


def test_default_coverage_establishes_then_moves_closer():
    sb = plan("A 16-second film: a fishing boat leaves a harbour. A gull circles the mast. The fisherman casts a net. "
              "A storm gathers over the sea.").storyboard
    assert (sb.shots[0].framing, sb.shots[0].camera) == ("wide", "dolly_in")
    assert sb.shots[-1].framing == "wide"
    assert {"medium", "close_up"} & {s.framing for s in sb.shots[1:-1]}
    assert len({s.camera for s in sb.shots}) >= 3


def test_energetic_cuts_and_calm_crossfades():
    hype = plan("A fast-paced, energetic sneaker ad: a runner sprints across a bridge, close-up of the shoes, "
                "end with the logo.").storyboard
    calm = plan("A slow, peaceful film: a lake at dawn, a heron wades in the reeds, mist drifts over the water.").storyboard
    assert all(s.transition == "cut" for s in hype.shots)
    assert all(s.transition == "crossfade" for s in calm.shots[:-1])
    assert sum(s.camera == "static" for s in hype.shots) <= 1


def test_lighthouse_demo_brief():
    r = plan("A 12-second film: a lighthouse keeper at dusk watches a storm roll in over the sea, then lights the lamp. "
             "Moody, cinematic.")
    sb = r.storyboard
    assert_length(sb, 12)
    assert_style_everywhere(sb, "moody", "cinematic")
    lamp = [s for s in sb.shots if "lamp" in s.action]
    assert lamp and lamp[0].subject == "the lighthouse keeper"
    assert sb.shots[0].setting == "at dusk" and "storm" in sb.shots[0].atmosphere


def test_caption_after_the_word_tagline():
    sb = plan("A sneaker ad: a runner sprints across a bridge, end with the logo and the tagline 'Run further'.").storyboard
    assert sb.shots[-1].caption == "Run further"
    assert "logo" in sb.shots[-1].subject
    assert all(s.narration is None for s in sb.shots)


def test_long_beats_are_split_when_shots_would_be_too_long():
    r = plan("A 3-shot, 60-second film of a glacier calving into the sea.")
    sb = r.storyboard
    assert_length(sb, 60)
    assert len(sb.shots) == 8
    assert any("8 shots" in n for n in r.notes)
    r = plan("A 20 second film of a candle burning down.", max_shot_seconds=4)
    assert len(r.storyboard.shots) >= 5 and all(s.duration <= 4 for s in r.storyboard.shots)


def test_deterministic_and_seeded_from_the_brief():
    brief = "A square video of a paper boat drifting down a gutter in the rain, then sinking."
    a, b = plan(brief).storyboard, plan(brief).storyboard
    assert a.model_dump() == b.model_dump()
    seeds = [s.seed for s in a.shots]
    assert len(set(seeds)) == len(seeds) and all(s is not None for s in seeds)
    other = plan(brief + " Moody.").storyboard
    assert [s.seed for s in other.shots] != seeds


def test_overrides_win_over_the_brief_and_defaults_fill_silence():
    r = plan("A vertical clip of a fox.", overrides={"aspect_ratio": "16:9", "seconds": 8})
    assert r.storyboard.aspect_ratio == "16:9" and abs(r.storyboard.duration - 8) < 0.05
    assert any("outside the brief" in n for n in r.notes)
    r = plan("A clip of a fox.", defaults={"aspect_ratio": "1:1", "fps": 12})
    assert r.storyboard.aspect_ratio == "1:1" and r.storyboard.fps == 12


def test_style_words_build_the_style_guide():
    sb = plan("A vintage 35mm neon-lit night drive through Tokyo.").storyboard
    assert "vintage" in sb.style_guide and "35mm" in sb.style_guide
    assert_style_everywhere(sb, "vintage", "35mm")
    assert "neon light" in sb.shots[0].lighting


def test_decades_are_not_seconds():
    sb = plan("A clip of a roller disco in an 80s style, 12 seconds.").storyboard
    assert_length(sb, 12)


@pytest.mark.parametrize(
    "brief",
    [
        "Shot 1: a boat leaves the harbour at dawn. Shot 2: a gull circles the mast. Shot 3: close-up of the fisherman's hands.",
        "1. A boat leaves the harbour at dawn\n2. A gull circles the mast\n3. Close-up of the fisherman's hands",
        "- a boat leaves the harbour at dawn\n- a gull circles the mast\n- close-up of the fisherman's hands",
    ],
)
def test_numbered_and_bulleted_shot_lists(brief):
    sb = plan(brief).storyboard
    assert [s.subject.lower() for s in sb.shots] == ["a boat", "a gull", "the fisherman's hands"]
    assert sb.shots[0].setting == "at dawn" and sb.shots[2].framing == "close_up"
