"""The briefs of issue 18, read as a director would: look sentences go to the style guide, pronouns and
elided subjects resolve, settings carry forward until changed, explicit framing wins, coverage is real."""

from __future__ import annotations

from agent.planner import plan_storyboard
from agent.prompts import compose_storyboard
from agent.settings import AgentSettings
from storyboards.schema import Storyboard

SETTINGS = AgentSettings(max_shot_seconds=8.0)


def plan(brief: str):
    r = plan_storyboard(brief, settings=SETTINGS)
    Storyboard.parse(r.storyboard.model_dump())
    return r


def beats(sb: Storyboard) -> list[tuple[str, str]]:
    return [(s.subject.lower(), s.action.lower()) for s in sb.shots]


def assert_no_repeated_beat(sb: Storyboard) -> None:
    seen = beats(sb)
    assert len(set(seen)) == len(seen), seen


def test_wolf_teaser_look_sentence_goes_to_every_shot_not_a_shot():
    r = plan("A 15 second teaser: a wolf howling on a ridge, a hunter lighting a fire below, the wolf turns away. "
             "Cold, bleak, shot on 16mm.")
    sb = r.storyboard
    assert not any("cold" in s.subject.lower() or "shot on" in s.subject.lower() for s in sb.shots)
    prompts = compose_storyboard(sb, "animatic", settings=SETTINGS)
    for s in sb.shots:
        for word in ("cold", "bleak", "16mm"):
            assert word in prompts[s.id].prompt.lower(), prompts[s.id].prompt
    hunter = next(s for s in sb.shots if "hunter" in s.subject)
    assert hunter.subject == "a hunter" and hunter.action.startswith("lighting a fire"), (hunter.subject, hunter.action)
    assert any(s.subject == "the wolf" and s.action == "turns away" for s in sb.shots)
    assert_no_repeated_beat(sb)
    assert {m.id for m in sb.cast} >= {"wolf", "hunter"}


def test_kite_pronoun_resolves_to_the_kite():
    sb = plan("a kite caught in a tree, then a boy climbing up to reach it").storyboard
    boy = [s for s in sb.shots if "boy" in s.subject]
    assert boy and all("reach the kite" in s.action for s in boy if "reach" in s.action), [s.action for s in boy]
    assert not any(s.action.endswith(" it") or " it " in f" {s.action} " for s in sb.shots), beats(sb)
    assert sb.shots[0].subject == "a kite"
    assert_no_repeated_beat(sb)


def test_city_shot_does_not_inherit_the_window():
    sb = plan("close-up of raindrops on a window, then a wide shot of the rainy city").storyboard
    city = [s for s in sb.shots if "city" in s.subject]
    assert city and all("window" not in s.setting for s in city), [(s.subject, s.setting) for s in city]
    assert sb.shots[0].framing == "close_up"
    assert any(s.framing == "wide" for s in city)


def test_fox_keeps_its_subject_forest_and_snow_when_looking_at_the_camera():
    sb = plan("a fox crossing a snowy forest at dawn, then looking at the camera").storyboard
    last = sb.shots[-1]
    assert "fox" in last.subject and "looking at the camera" in last.action, (last.subject, last.action)
    assert "camera" not in last.setting
    assert all("forest" in s.setting and "dawn" in s.setting for s in sb.shots), [s.setting for s in sb.shots]
    assert all("snowy" in s.atmosphere or "snowy" in s.setting for s in sb.shots)


def test_coverage_is_real_coverage_not_a_repeated_beat():
    r = plan("a lighthouse keeper watches a storm roll in, then lights the lamp")
    sb = r.storyboard
    assert len(sb.shots) >= 3
    assert_no_repeated_beat(sb)
    assert len({s.framing for s in sb.shots}) >= 3


def test_valley_does_not_sit_on_a_reed():
    sb = plan("a mountain lake at dawn, a close-up of a dragonfly on a reed, then an aerial view of the valley").storyboard
    valley = sb.shots[-1]
    assert "valley" in valley.subject and "reed" not in valley.setting
    assert valley.camera == "aerial"
    dragonfly = next(s for s in sb.shots if "dragonfly" in s.subject)
    assert dragonfly.framing == "close_up"


def test_market_hands_stay_close_and_are_not_repeated_as_a_wide_shot():
    sb = plan("a busy market street, then a close-up of a vendor's hands weighing spices").storyboard
    hands = [s for s in sb.shots if "hands" in s.subject]
    assert hands and all(s.framing in ("close_up", "extreme_close_up", "medium") for s in hands), [s.framing for s in hands]
    assert_no_repeated_beat(sb)
    assert all("market" in s.setting or "market" in s.subject for s in sb.shots), [(s.subject, s.setting) for s in sb.shots]


def test_fisherman_and_dog_become_a_cast_described_once_in_every_shot():
    sb = plan("an old fisherman and his dog wait out a storm").storyboard
    cast = {m.id: m for m in sb.cast}
    assert set(cast) == {"fisherman", "dog"}
    assert cast["fisherman"].description == "an old fisherman"
    prompts = compose_storyboard(sb, "animatic", settings=SETTINGS)
    for s in sb.shots:
        if "fisherman" in s.cast:
            assert "an old fisherman" in prompts[s.id].prompt
    assert all("fisherman" in s.cast for s in sb.shots)
    assert_no_repeated_beat(sb)
