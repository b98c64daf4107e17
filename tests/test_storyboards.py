"""Storyboard files, diffs, content keys, atomic writes and the workspace layout."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from storyboards.artifacts import atomic_path, atomic_write_bytes, atomic_write_text
from storyboards.diff import diff_storyboards
from storyboards.examples import EXAMPLES_DIR, example_paths
from storyboards.hashing import file_sha256, request_key, spec_key
from storyboards.schema import Shot, Storyboard, StoryboardError
from storyboards.workspace import Workspace, WorkspaceSettings
from storyboards.yamlio import dump_storyboard, load_storyboard, storyboard_to_dict

EXAMPLES = {p.name: p for p in example_paths()}


# ----------------------------------------------------------------------------- examples


def test_the_three_examples_are_shipped():
    assert {"harbour_dawn.yaml", "product_teaser.yaml", "city_remix.yaml"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_loads_with_absolute_existing_inputs(name):
    sb = load_storyboard(EXAMPLES[name])
    assert sb.shots and sb.duration > 0
    for shot in sb.shots:
        for p in (shot.reference, shot.source):
            if p:
                assert os.path.isabs(p) and Path(p).is_file()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_round_trips_through_yaml_exactly(name, tmp_path):
    original = EXAMPLES[name]
    sb = load_storyboard(original)
    # Written beside the original, the file holds exactly the same data as the hand-written one.
    text = dump_storyboard(sb, relative_to=original.parent)
    assert yaml.safe_load(text) == yaml.safe_load(original.read_text())
    # Written elsewhere, paths are rewritten so it loads back to the same storyboard.
    copy = tmp_path / "sub" / "copy.yaml"
    dump_storyboard(sb, copy)
    again = load_storyboard(copy)
    assert again == sb
    assert dump_storyboard(again, relative_to=original.parent) == text


def test_example_contents_match_their_brief():
    harbour = load_storyboard(EXAMPLES["harbour_dawn.yaml"])
    assert {s.mode for s in harbour.shots} == {"t2v"} and 4 <= len(harbour.shots) <= 5
    assert 18 <= harbour.duration <= 22
    assert len({s.camera for s in harbour.shots}) >= 4 and any(s.narration for s in harbour.shots)
    teaser = load_storyboard(EXAMPLES["product_teaser.yaml"])
    assert teaser.aspect_ratio == "9:16" and teaser.size == (720, 1280)
    ref = next(s.reference for s in teaser.shots if s.mode == "i2v")
    assert ref.endswith(".png") and os.path.getsize(ref) < 200_000
    from PIL import Image

    assert Image.open(ref).size == (640, 640)
    city = load_storyboard(EXAMPLES["city_remix.yaml"])
    assert {"t2v", "v2v"} <= {s.mode for s in city.shots}
    clip = next(s.source for s in city.shots if s.mode == "v2v")
    assert clip.endswith(".mp4") and os.path.getsize(clip) < 300_000
    import cv2

    cap = cv2.VideoCapture(clip)
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (320, 180)
    assert cap.get(cv2.CAP_PROP_FPS) == 24 and cap.get(cv2.CAP_PROP_FRAME_COUNT) == 48


def test_dump_writes_keys_in_documented_order_and_quotes_the_ratio():
    sb = load_storyboard(EXAMPLES["harbour_dawn.yaml"])
    text = dump_storyboard(sb)
    assert 'aspect_ratio: "16:9"' in text
    top = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert top[:4] == ["title", "aspect_ratio", "fps", "resolution"] and top[-1] == "shots"
    keys = list(storyboard_to_dict(sb)["shots"][0])
    assert keys.index("id") == 0 and keys.index("mode") < keys.index("style") < keys.index("camera") < keys.index("narration")


def test_minimal_storyboard_round_trips_and_omits_empty_fields(tmp_path):
    sb = Storyboard(title="Tiny", shots=[Shot(id="one"), Shot(id="two", duration=2.5, caption="multi\nline")])
    path = tmp_path / "tiny.yaml"
    text = dump_storyboard(sb, path)
    assert "subject" not in text and "seed" not in text and "null" not in text
    assert load_storyboard(path) == sb


def test_prompts_are_written_for_people_but_ignored_on_load(tmp_path):
    sb = Storyboard(shots=[Shot(id="a", subject="a boat", prompt="stale composed prompt")])
    path = tmp_path / "s.yaml"
    assert "stale composed prompt" in dump_storyboard(sb, path)
    assert load_storyboard(path).shots[0].prompt is None
    assert load_storyboard(path, keep_prompts=True) == sb


def test_dump_is_atomic_and_leaves_no_temp_files(tmp_path):
    sb = load_storyboard(EXAMPLES["harbour_dawn.yaml"])
    dump_storyboard(sb, tmp_path / "out.yaml")
    assert os.listdir(tmp_path) == ["out.yaml"]


# ----------------------------------------------------------------------------- bad storyboards

GOOD_SHOT = "  - id: opening\n    duration: 4\n    subject: a boat\n"
HEAD = 'title: Bad\naspect_ratio: "16:9"\nshots:\n'

BAD = {
    "unknown key": (HEAD + GOOD_SHOT + "    camra: static\n", ["opening", "camra", "did you mean 'camera'"]),
    "bad camera": (HEAD + GOOD_SHOT + "    camera: dolly\n", ["opening", "camera", "dolly", "dolly_in"]),
    "bad framing": (HEAD + GOOD_SHOT + "    framing: closeup\n", ["opening", "framing", "close_up"]),
    "unquoted 16:9": ("title: Bad\naspect_ratio: 16:9\nshots:\n" + GOOD_SHOT, ["aspect_ratio", "969", '"16:9"']),
    "unquoted 9:16": ("title: Bad\naspect_ratio: 9:16\nshots:\n" + GOOD_SHOT, ["aspect_ratio", '"9:16"']),
    "bad aspect ratio": ('title: Bad\naspect_ratio: "4:3"\nshots:\n' + GOOD_SHOT, ["aspect_ratio", "4:3", "16:9"]),
    "negative duration": (HEAD + "  - id: opening\n    duration: -2\n", ["opening", "duration", "-2"]),
    "duplicate ids": (HEAD + GOOD_SHOT + GOOD_SHOT, ["shots", "'opening'", "twice"]),
    "i2v without reference": (HEAD + GOOD_SHOT + "    mode: i2v\n", ["opening", "i2v", "reference"]),
    "missing reference file": (HEAD + GOOD_SHOT + "    mode: i2v\n    reference: no_such.png\n", ["opening", "reference", "no_such.png", "not found"]),
    "v2v missing source file": (HEAD + GOOD_SHOT + "    mode: v2v\n    source: clips/gone.mp4\n", ["opening", "source", "gone.mp4"]),
    "bad transition": (HEAD + GOOD_SHOT + "    transition: dissolve\n", ["opening", "transition", "dissolve", "crossfade"]),
    "empty shots": (HEAD.replace("shots:\n", "shots: []\n"), ["shots", "at least one shot"]),
    "missing shots": ("title: Bad\n", ["'shots'", "required"]),
    "negative seed": (HEAD + GOOD_SHOT + "    seed: -1\n", ["opening", "seed", "-1"]),
    "text seed": (HEAD + GOOD_SHOT + "    seed: lucky\n", ["opening", "seed", "integer"]),
    "bad strength": (HEAD + GOOD_SHOT + "    mode: i2v\n    reference: x.png\n    strength: 3\n", ["opening", "strength"]),
    "bad id": (HEAD + "  - id: Opening Shot\n", ["id", "Opening Shot", "lowercase"]),
    "not a mapping": ("- id: opening\n- id: two\n", ["mapping", "list"]),
    "a bare string": ("just some words\n", ["mapping", "string"]),
    "yaml syntax error": (HEAD + GOOD_SHOT + "    subject: [unclosed\n    camera: static\n", ["YAML syntax error", "line"]),
    "bad indentation": (HEAD + "  - id: opening\n   duration: 4\n", ["YAML syntax error", "line 5"]),
    "duplicate yaml key": (HEAD + GOOD_SHOT + "    subject: a ship\n", ["subject", "twice", "line"]),
    "empty file": ("", ["empty"]),
    "bad fps": ("title: Bad\nfps: 500\nshots:\n" + GOOD_SHOT, ["fps", "500"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_storyboard_error_names_shot_and_field(case, tmp_path):
    text, expected = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(StoryboardError) as info:
        load_storyboard(path)
    message = str(info.value)
    for fragment in expected:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"
    assert str(path) in message  # says which file


def test_all_problems_are_reported_at_once(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + "  - id: a\n    camera: dolly\n  - id: b\n    framing: closeup\n")
    with pytest.raises(StoryboardError) as info:
        load_storyboard(path)
    assert len(info.value.problems) == 2
    assert "shot 'a'" in info.value.problems[0] and "shot 'b'" in info.value.problems[1]


def test_missing_storyboard_file_is_a_clear_error(tmp_path):
    with pytest.raises(StoryboardError, match="no storyboard file"):
        load_storyboard(tmp_path / "nope.yaml")


def test_reference_paths_resolve_relative_to_the_file_not_the_cwd(tmp_path, monkeypatch):
    (tmp_path / "media").mkdir()
    shutil.copy(EXAMPLES_DIR / "product_teaser_bottle.png", tmp_path / "media" / "bottle.png")
    (tmp_path / "boards").mkdir()
    path = tmp_path / "boards" / "s.yaml"
    path.write_text(HEAD + "  - id: hero\n    mode: i2v\n    reference: ../media/bottle.png\n")
    monkeypatch.chdir("/")
    sb = load_storyboard(path)
    assert sb.shots[0].reference == str(tmp_path / "media" / "bottle.png")


# ----------------------------------------------------------------------------- diffs


@pytest.fixture
def harbour():
    return load_storyboard(EXAMPLES["harbour_dawn.yaml"])


def _edit(sb: Storyboard, shot_id: str, **changes) -> Storyboard:
    new = sb.model_copy(deep=True)
    for k, v in changes.items():
        setattr(new.shot(shot_id), k, v)
    return new


def test_identical_storyboards_have_no_diff(harbour):
    d = diff_storyboards(harbour, harbour.model_copy(deep=True))
    assert not d and d.summary() == "no changes" and d.shots_to_regenerate == []


def test_changing_a_subject_regenerates_only_that_shot(harbour):
    d = diff_storyboards(harbour, _edit(harbour, "hands", subject="young hands", seed=99))
    assert list(d.changed) == ["hands"]
    assert {c.field for c in d.changed["hands"]} == {"subject", "seed"}
    change = next(c for c in d.changed["hands"] if c.field == "subject")
    assert (change.old, change.new) == ("calloused hands", "young hands")
    assert d.shots_to_regenerate == ["hands"]
    assert "shot 'hands': subject 'calloused hands' -> 'young hands'" in d.summary().splitlines()


@pytest.mark.parametrize("field,value", [("narration", "New words."), ("transition", "wipe"), ("caption", "Hi"), ("prompt", "x")])
def test_edit_only_changes_need_no_new_pixels(harbour, field, value):
    d = diff_storyboards(harbour, _edit(harbour, "fisherman", **{field: value}))
    assert d.changed["fisherman"][0].field == field
    assert d.shots_to_regenerate == [] and d.touched_shots == ["fisherman"]


def test_added_removed_and_moved_shots(harbour):
    new = harbour.model_copy(deep=True)
    new.shots = [new.shot("opening"), Shot(id="gulls", subject="gulls"), new.shot("hands"), new.shot("fisherman"), new.shot("horizon")]
    d = diff_storyboards(harbour, new)
    assert d.added == ["gulls"] and d.removed == ["departure"]
    assert len(d.moved) == 1 and d.moved[0] in ("hands", "fisherman")
    assert d.changed == {}
    assert d.shots_to_regenerate == ["gulls"]
    lines = d.summary().splitlines()
    assert len(lines) == 3
    assert "shot 'gulls': added at position 2" in lines and "shot 'departure': removed" in lines


def test_inserting_a_shot_does_not_move_the_others(harbour):
    new = harbour.model_copy(deep=True)
    new.shots = [Shot(id="title-card")] + list(new.shots)
    d = diff_storyboards(harbour, new)
    assert d.added == ["title-card"] and d.moved == []


@pytest.mark.parametrize("setting,value,regenerate_all", [
    ("aspect_ratio", "9:16", True), ("resolution", 480, True), ("fps", 30, True),
    ("style_guide", "black and white", True), ("title", "Another", False),
])
def test_global_settings(harbour, setting, value, regenerate_all):
    new = harbour.model_copy(deep=True)
    setattr(new, setting, value)
    d = diff_storyboards(harbour, new)
    assert [c.field for c in d.settings] == [setting]
    assert d.shots_to_regenerate == ([s.id for s in harbour.shots] if regenerate_all else [])
    assert d.summary().startswith(f"{setting}: ")
    assert d.to_dict()["settings"][0]["new"] == value


# ----------------------------------------------------------------------------- content keys

BASE = {
    "prompt": "a boat leaving the harbour", "negative_prompt": "text", "seed": 7, "backend": "animatic",
    "model": "animatic-1", "width": 512, "height": 288, "frames": 48, "fps": 24, "mode": "t2v", "strength": None,
}


def test_same_request_same_key_regardless_of_order_or_number_spelling():
    shuffled = dict(reversed(list(BASE.items())))
    assert request_key(BASE) == request_key(shuffled)
    assert request_key(BASE) == request_key({**BASE, "width": 512.0})
    assert request_key(BASE) == request_key({k: v for k, v in BASE.items() if v is not None})
    assert request_key(BASE) == request_key({**{k: v for k, v in BASE.items() if k != "negative_prompt"}, "negative": "text"})
    assert len(request_key(BASE)) == 64 and int(request_key(BASE), 16) >= 0


@pytest.mark.parametrize("field,value", [
    ("prompt", "a boat entering the harbour"), ("seed", 8), ("width", 640), ("height", 360), ("frames", 49),
    ("fps", 25), ("model", "ltx"), ("backend", "diffusers"), ("mode", "i2v"), ("strength", 0.5), ("negative_prompt", ""),
])
def test_any_pixel_change_gives_a_new_key(field, value):
    assert request_key({**BASE, field: value}) != request_key(BASE)


def test_spec_key_ignores_the_seed_only():
    assert spec_key(BASE) == spec_key({**BASE, "seed": 123})
    assert spec_key(BASE) != spec_key({**BASE, "prompt": "other"})
    assert spec_key(BASE) != request_key(BASE)


def test_reference_files_count_by_content_not_path(tmp_path, monkeypatch):
    png = EXAMPLES_DIR / "product_teaser_bottle.png"
    a = tmp_path / "a.png"
    b = tmp_path / "elsewhere" / "renamed.png"
    b.parent.mkdir()
    shutil.copy(png, a)
    shutil.copy(png, b)
    req = {**BASE, "mode": "i2v"}
    key = request_key({**req, "reference": str(a)})
    assert key == request_key({**req, "reference": b})
    monkeypatch.chdir(tmp_path)
    assert key == request_key({**req, "reference_image": Path("elsewhere/../a.png")})
    data = bytearray(a.read_bytes())
    data[-20] ^= 0xFF
    a.write_bytes(bytes(data))
    os.utime(a, ns=(1, 1))  # a new mtime, so the cache cannot answer
    assert request_key({**req, "reference": a}) != key
    assert file_sha256(a) != file_sha256(b)


def test_hashing_a_missing_reference_says_which_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.png"):
        request_key({**BASE, "reference": tmp_path / "gone.png"})


# ----------------------------------------------------------------------------- atomic writes


def test_atomic_path_renames_into_place_on_success(tmp_path):
    target = tmp_path / "out" / "final.mp4"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".mp4" and tmp != target
        tmp.write_bytes(b"movie")
        assert not target.exists()
    assert target.read_bytes() == b"movie"
    assert os.listdir(target.parent) == ["final.mp4"]


def test_atomic_path_leaves_no_partial_file_when_the_block_raises(tmp_path):
    target = tmp_path / "final.mp4"
    target.write_bytes(b"previous cut")
    with pytest.raises(RuntimeError, match="encoder crashed"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a mov")
            raise RuntimeError("encoder crashed")
    assert target.read_bytes() == b"previous cut"
    assert os.listdir(tmp_path) == ["final.mp4"]
    fresh = tmp_path / "new.mp4"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(fresh) as tmp:
            tmp.write_bytes(b"x")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["final.mp4"]


def test_atomic_path_refuses_a_block_that_wrote_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="must write to"):
        with atomic_path(tmp_path / "x.png"):
            pass
    assert os.listdir(tmp_path) == []


def test_atomic_write_bytes_and_text(tmp_path):
    p = atomic_write_bytes(tmp_path / "a" / "b.bin", b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    atomic_write_text(p, "replaced ✓")
    assert p.read_text(encoding="utf-8") == "replaced ✓"
    assert os.stat(p).st_mode & 0o044  # readable by others like a normal file, not mkstemp's 0600
    assert sorted(os.listdir(p.parent)) == ["b.bin"]


# ----------------------------------------------------------------------------- workspace


def test_workspace_layout_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "ws"))
    monkeypatch.delenv("DIRECTOR_DATABASE_URL", raising=False)
    ws = Workspace().ensure()
    assert ws.home == tmp_path / "ws"
    assert ws.database_url == f"sqlite:///{tmp_path / 'ws' / 'director.db'}"
    key = request_key(BASE)
    assert ws.take_path(key) == tmp_path / "ws" / "takes" / key[:2] / f"{key}.mp4"
    assert ws.project_dir("p-1a2b3c4d") == tmp_path / "ws" / "projects" / "p-1a2b3c4d"
    assert ws.keys_dir.is_dir() and ws.uploads_dir.is_dir()
    assert ws.relative(ws.take_path(key)) == f"takes/{key[:2]}/{key}.mp4"
    assert ws.resolve(ws.relative(ws.take_path(key))) == ws.take_path(key)
    with pytest.raises(ValueError, match="project id"):
        ws.project_dir("../../etc")
    monkeypatch.setenv("DIRECTOR_DATABASE_URL", "postgresql://u@db/director")
    assert Workspace().database_url == "postgresql://u@db/director"


def test_workspace_default_home(monkeypatch, tmp_path):
    monkeypatch.delenv("DIRECTOR_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert WorkspaceSettings().home == Path("./director-workspace")
    assert Workspace().home == tmp_path / "director-workspace"


# ----------------------------------------------------------------------------- property: any storyboard round-trips

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from storyboards.schema import CAMERA_MOVES, FRAMINGS, TRANSITIONS  # noqa: E402

# Text people paste into prompts, including what YAML likes to reinterpret.
_tricky = st.sampled_from(["yes", "no", "null", "~", "1:30", "16:9", "0x1F", "- dash", "# hash", "a: b", "'q'", '"dq"', "1e3", "", " lead", "trail ", "multi\nline", "ünïcødé ✓", "nel\x85x", "cr\r\nlf", "ls\u2028x", "tab\there", "sp \nnl"])
_text = st.one_of(_tricky, st.text(max_size=30))


@st.composite
def storyboards(draw):
    n = draw(st.integers(1, 3))
    shots = [
        Shot(
            id=f"s{i}", duration=draw(st.sampled_from([0.5, 1, 2.25, 4, 60])), subject=draw(_text), narration=draw(st.none() | _text),
            camera=draw(st.sampled_from(CAMERA_MOVES)), framing=draw(st.sampled_from(FRAMINGS)),
            transition=draw(st.sampled_from(TRANSITIONS)), seed=draw(st.none() | st.integers(0, 2**32 - 1)),
            negative_prompt=draw(_text), backend=draw(st.none() | st.sampled_from(["animatic", "diffusers"])),
        )
        for i in range(n)
    ]
    return Storyboard(title=draw(_text), style_guide=draw(_text), aspect_ratio=draw(st.sampled_from(["16:9", "9:16", "1:1"])),
                      fps=draw(st.integers(1, 60)), credits=draw(st.none() | _text), shots=shots)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sb=storyboards())
def test_any_storyboard_round_trips_through_yaml(sb, tmp_path):
    path = tmp_path / "rt.yaml"
    dump_storyboard(sb, path)
    assert load_storyboard(path) == sb



def test_music_path_resolves_and_a_missing_one_is_named(tmp_path):
    (tmp_path / "bed.mp3").write_bytes(b"ID3")
    path = tmp_path / "s.yaml"
    path.write_text("music: bed.mp3\n" + HEAD + GOOD_SHOT)
    sb = load_storyboard(path)
    assert sb.music == str(tmp_path / "bed.mp3")
    assert "music: bed.mp3" in dump_storyboard(sb, tmp_path / "again.yaml")
    path.write_text("music: gone.mp3\n" + HEAD + GOOD_SHOT)
    with pytest.raises(StoryboardError, match="music: file not found: .*gone.mp3"):
        load_storyboard(path)
