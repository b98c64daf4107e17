"""Feedback scripts: which shots change (and which fields), and what changes no pixels at all."""

from __future__ import annotations

import pytest

from agent.feedback import apply_feedback
from agent.planner import plan_storyboard
from agent.planner.length import film_seconds
from agent.prompts import compose_storyboard
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard

SETTINGS = AgentSettings()


def harbour() -> Storyboard:
    def shot(i, **kw):
        base = dict(id=f"s{i}", duration=4.0, seed=100 + i, transition="cut")
        base.update(kw)
        return Shot(**base)

    return Storyboard(
        title="Harbour at dawn",
        style_guide="muted teal and amber palette",
        shots=[
            shot(1, subject="a fishing boat", action="leaves the harbour", setting="a stone harbour at dawn",
                 atmosphere="calm, misty", lighting="soft dawn light", camera="dolly_in", framing="wide"),
            shot(2, subject="a gull", action="circles the mast", setting="above the harbour",
                 atmosphere="calm", lighting="bright morning sun", camera="tracking", framing="medium",
                 narration="The gulls know first."),
            shot(3, subject="the fisherman", action="casts a net", setting="on the deck",
                 camera="static", framing="medium", negative_prompt="camera shake"),
            shot(4, subject="the lighthouse", action="", setting="on the headland", camera="dolly_out", framing="wide",
                 transition="fade"),
        ],
    )


def fields(sb: Storyboard, sid: str) -> dict:
    return sb.shot(sid).model_dump()


def changed_fields(before: Storyboard, after: Storyboard, sid: str) -> set[str]:
    a, b = fields(before, sid), fields(after, sid)
    return {k for k in a if a[k] != b[k]}


def feedback(sb: Storyboard, text: str, **kw):
    snapshot = sb.model_dump()
    r = apply_feedback(sb, text, settings=SETTINGS, **kw)
    assert sb.model_dump() == snapshot, "the input storyboard must not change"
    assert r.storyboard is not sb
    return r


def ids(sb: Storyboard) -> list[str]:
    return [s.id for s in sb.shots]


def test_darker_and_stormier_changes_one_shot_lighting_and_atmosphere():
    sb = harbour()
    r = feedback(sb, "make shot 2 darker and stormier")
    assert r.changed_shots == ["s2"]
    assert r.question is None
    assert changed_fields(sb, r.storyboard, "s2") == {"lighting", "atmosphere", "setting"}
    s2 = r.storyboard.shot("s2")
    assert "low-key" in s2.lighting and "bright" not in s2.lighting
    assert "storm" in s2.atmosphere and "calm" not in s2.atmosphere
    for sid in ("s1", "s3", "s4"):
        assert fields(r.storyboard, sid) == fields(sb, sid)
    # the composed prompt of the changed shot differs; the others are byte-identical
    before, after = compose_storyboard(sb, settings=SETTINGS), compose_storyboard(r.storyboard, settings=SETTINGS)
    assert before["s2"].prompt != after["s2"].prompt
    assert all(before[s].prompt == after[s].prompt for s in ("s1", "s3", "s4"))


@pytest.mark.parametrize(
    "text,target",
    [
        ("the second shot brighter", "s2"),
        ("make the last shot warmer", "s4"),
        ("the first shot colder", "s1"),
        ("shot s3 foggier", "s3"),
        ("shot 3 brighter", "s3"),
    ],
)
def test_shot_references(text, target):
    r = feedback(harbour(), text)
    assert r.changed_shots == [target]
    assert changed_fields(harbour(), r.storyboard, target) & {"lighting", "atmosphere"}


def test_brighter_removes_dark_words():
    sb = feedback(harbour(), "shot 1 darker").storyboard
    r = feedback(sb, "shot 1 brighter")
    assert "dim" not in r.storyboard.shot("s1").lighting and "bright" in r.storyboard.shot("s1").lighting


def test_slower_and_faster_shot():
    r = feedback(harbour(), "shot 3 slower")
    assert r.changed_shots == ["s3"]
    assert r.storyboard.shot("s3").duration == 5.0 and "slow" in r.storyboard.shot("s3").technical
    r = feedback(harbour(), "shot 3 faster")
    assert r.changed_shots == ["s3"]
    assert r.storyboard.shot("s3").duration < 4.0


@pytest.mark.parametrize(
    "text,order",
    [
        ("swap shots 1 and 3", ["s3", "s2", "s1", "s4"]),
        ("swap 1 and 3", ["s3", "s2", "s1", "s4"]),
        ("swap the first and last shots", ["s4", "s2", "s3", "s1"]),
        ("move shot 4 to the start", ["s4", "s1", "s2", "s3"]),
        ("put shot 1 after shot 3", ["s2", "s3", "s1", "s4"]),
        ("open with shot 3", ["s3", "s1", "s2", "s4"]),
        ("cut the last shot", ["s1", "s2", "s3"]),
        ("remove shot 2", ["s1", "s3", "s4"]),
        ("drop the opening", ["s2", "s3", "s4"]),
    ],
)
def test_reorders_and_removals_change_no_pixels(text, order):
    sb = harbour()
    r = feedback(sb, text)
    assert ids(r.storyboard) == order
    assert r.changed_shots == []
    for sid in order:
        assert {k: v for k, v in fields(r.storyboard, sid).items() if k != "transition"} == \
               {k: v for k, v in fields(sb, sid).items() if k != "transition"}


@pytest.mark.parametrize("text,ratio", [("make it vertical for TikTok", "9:16"), ("make it square", "1:1"), ("9:16 please", "9:16")])
def test_aspect_change_rerenders_every_shot(text, ratio):
    r = feedback(harbour(), text)
    assert r.storyboard.aspect_ratio == ratio
    assert r.changed_shots == ["s1", "s2", "s3", "s4"]


def test_asking_for_the_current_aspect_changes_nothing():
    r = feedback(harbour(), "widescreen")
    assert r.storyboard.aspect_ratio == "16:9" and r.changed_shots == [] and r.question is None


def test_shorter_scales_durations_and_says_shots_render_again():
    r = feedback(harbour(), "shorter")
    assert [s.duration for s in r.storyboard.shots] == [3.0, 3.0, 3.0, 3.0]
    assert r.changed_shots == ["s1", "s2", "s3", "s4"]
    assert any("frame count" in n for n in r.notes)


def test_make_it_20_seconds():
    r = feedback(harbour(), "make it 20 seconds")
    # the delivered film, title and end cards included (not the sum of the shots)
    assert abs(film_seconds(r.storyboard) - 20) <= 1 / r.storyboard.fps + 1e-9
    assert r.changed_shots == ["s1", "s2", "s3", "s4"]


def test_slower_film_lengthens_and_slows_the_camera():
    r = feedback(harbour(), "slower")
    assert all(s.duration == 5.0 and "slow" in s.technical for s in r.storyboard.shots)
    assert all(s.transition == "crossfade" for s in r.storyboard.shots[:-1])


def test_more_energetic_shortens_cuts_and_moves_the_camera():
    r = feedback(harbour(), "more energetic")
    sb = r.storyboard
    assert all(s.duration == 3.0 for s in sb.shots)
    assert all(s.transition == "cut" for s in sb.shots[:-1])
    assert not any(s.camera in {"static", "dolly_in", "dolly_out"} for s in sb.shots)
    # shot 3 asked for no camera shake, so nothing goes handheld there
    assert sb.shot("s3").camera != "handheld"
    assert r.changed_shots == ["s1", "s2", "s3", "s4"]


def test_select_take_changes_no_pixels():
    sb = harbour()
    r = feedback(sb, "use the second take of shot 4", takes_by_shot={"s4": ["t1", "t2", "t3"]})
    assert r.select_take == ("s4", 1)
    assert r.changed_shots == []
    assert r.storyboard.model_dump() == sb.model_dump()
    r = feedback(sb, "use the last take of shot 4", takes_by_shot={"s4": 3})
    assert r.select_take == ("s4", 2)
    r = feedback(sb, "use take 5 of shot 4", takes_by_shot={"s4": 3})
    assert r.select_take is None and "3 takes" in r.question


def test_undo():
    r = feedback(harbour(), "undo")
    assert r.undo and r.changed_shots == [] and r.question is None


def test_add_a_shot_at_the_end():
    sb = harbour()
    r = feedback(sb, "add a shot of the logo at the end")
    assert ids(r.storyboard) == ["s1", "s2", "s3", "s4", "s5"]
    assert r.changed_shots == ["s5"]
    new = r.storyboard.shot("s5")
    assert "logo" in new.subject and new.seed is not None
    assert new.transition == "fade" and r.storyboard.shot("s4").transition != "fade"


def test_add_a_close_up_after_a_shot():
    r = feedback(harbour(), "add a close-up of the net after shot 3")
    assert ids(r.storyboard) == ["s1", "s2", "s3", "s5", "s4"]
    assert r.storyboard.shot("s5").framing == "close_up" and r.storyboard.shot("s5").subject == "the net"
    assert r.changed_shots == ["s5"]


def test_camera_and_framing_changes():
    sb = harbour()
    r = feedback(sb, "change the camera on shot 2 to an orbit")
    assert r.changed_shots == ["s2"] and changed_fields(sb, r.storyboard, "s2") == {"camera"}
    assert r.storyboard.shot("s2").camera == "orbit"
    r = feedback(sb, "close-up on shot 3")
    assert r.changed_shots == ["s3"] and r.storyboard.shot("s3").framing == "close_up"
    r = feedback(sb, "shot 1 tighter")
    assert r.storyboard.shot("s1").framing == "medium"


def test_narration_changes_no_pixels():
    sb = harbour()
    r = feedback(sb, "no narration")
    assert all(s.narration is None for s in r.storyboard.shots) and r.changed_shots == []
    r = feedback(sb, "add narration: 'The sea keeps its secrets.'")
    assert r.changed_shots == []
    assert "The sea keeps its secrets." in [s.narration for s in r.storyboard.shots]
    r = feedback(sb, "narration on shot 4: 'Home.'")
    assert r.storyboard.shot("s4").narration == "Home." and r.changed_shots == []


def test_film_style_change_rerenders_all_shots():
    r = feedback(harbour(), "make it look like film noir")
    assert "noir" in r.storyboard.style_guide and "teal" not in r.storyboard.style_guide
    assert r.changed_shots == ["s1", "s2", "s3", "s4"]
    r = feedback(harbour(), "more 35mm film grain")
    assert "teal" in r.storyboard.style_guide and "35mm" in r.storyboard.style_guide


def test_unknown_shot_number_asks_and_changes_nothing():
    sb = harbour()
    r = feedback(sb, "make shot 7 darker")
    assert r.question and "7" in r.question and "1 (s1)" in r.question and "4 (s4)" in r.question
    assert r.changed_shots == [] and r.storyboard.model_dump() == sb.model_dump()


def test_unrecognised_feedback_asks_to_rephrase():
    sb = harbour()
    r = feedback(sb, "blorp the wibble")
    assert r.question and "rephrase" in r.question and "swap shots 1 and 3" in r.question
    assert r.changed_shots == [] and r.storyboard.model_dump() == sb.model_dump()


def test_several_instructions_in_one_message():
    sb = harbour()
    r = feedback(sb, "shot 2 darker and swap 1 and 3")
    assert ids(r.storyboard) == ["s3", "s2", "s1", "s4"]
    assert r.changed_shots == ["s2"]
    r = feedback(sb, "make shot 2 darker, cut the last shot and make it vertical")
    assert ids(r.storyboard) == ["s1", "s2", "s3"] and r.storyboard.aspect_ratio == "9:16"
    assert "darker" in r.reason.lower() and "9:16" in r.reason


def test_redo_gives_a_new_seed_and_replace_swaps_words():
    sb = harbour()
    r = feedback(sb, "redo shot 2")
    assert r.changed_shots == ["s2"] and changed_fields(sb, r.storyboard, "s2") == {"seed"}
    r = feedback(sb, "replace the gull with a pelican")
    assert r.changed_shots == ["s2"] and r.storyboard.shot("s2").subject == "a pelican"


def test_feedback_on_a_planned_storyboard():
    planned = plan_storyboard("A 20-second vertical film: a barista pours latte art, then a close-up of the cup, "
                              "end on the logo.", settings=SETTINGS).storyboard
    r = feedback(planned, "make the second shot warmer and use crossfades")
    assert r.changed_shots == [planned.shots[1].id]
    assert all(s.transition == "crossfade" for s in r.storyboard.shots[:-1])


def test_named_ids_and_shots_picked_in_the_interface():
    sb = Storyboard(title="t", shots=[Shot(id="opening", subject="a harbour"), Shot(id="gulls", subject="gulls"),
                                      Shot(id="lamp", subject="a lamp")])
    r = feedback(sb, "make the gulls shot darker")
    assert r.changed_shots == ["gulls"]
    r = feedback(sb, "darker, at night", shots=["gulls"])
    assert r.changed_shots == ["gulls"]
    r = feedback(sb, "make it vertical", shots=["gulls"])
    assert r.storyboard.aspect_ratio == "9:16" and r.changed_shots == ["opening", "gulls", "lamp"]
    r = feedback(sb, "shot 2 warmer")
    assert r.changed_shots == ["gulls"]


def test_time_of_day():
    sb = harbour()
    r = feedback(sb, "shot 1 at night")
    s1 = r.storyboard.shot("s1")
    assert s1.setting == "a stone harbour at night" and "night" in s1.lighting and "dawn" not in s1.lighting
    assert r.changed_shots == ["s1"]
