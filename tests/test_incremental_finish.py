"""Finishing a cut after feedback redoes only what changed, and what a person gets is the same (issue 17.1).

Through `Director` on a real workspace: real animatic takes, real ffmpeg encodes, the real segment
cache. A reorder of hard cuts re-encodes no shot piece, mixes and encodes no soundtrack, and decodes
no frame of the cut for the style check; the film still decodes to exactly the storyboard's frames
with a soundtrack of exactly the film's length, carries a valid C2PA manifest, the label and the
watermark, and its critique says what a fresh check of the delivered file says.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from agent.film import cut_shot_frames, shot_look
from agent.session import Director
from storyboards.schema import Shot, Storyboard
from tools.critique.consistency import style_consistency
from tools.edit.narration import RATE, SpokenLine
from tools.edit.soundtrack import Soundtrack
from tools.edit.video_io import ffmpeg_exe, mp4_info

FPS = 24
CARDS = 2 * 2 * FPS            # the 2 s title card and the 2 s end card


def storyboard(narrated: bool = False) -> Storyboard:
    looks = [("a fishing boat", "dawn light"), ("a gull", "bright morning sun"), ("the nets", "overcast"),
             ("the lighthouse", "dusk")]
    shots = [Shot(id=f"s{i + 1}", duration=1.5, subject=subject, lighting=lighting, setting="a harbour",
                  transition="crossfade" if i == 0 else "cut", seed=10 + i,
                  narration=f"Line {i + 1}." if narrated else None)
             for i, (subject, lighting) in enumerate(looks)]
    # a narrated film here has no music bed: the bed follows the film's mood, which "darker" changes
    return Storyboard(title="Harbour pieces", fps=FPS, resolution=288, shots=shots, music_bed=False if narrated else None)


def expected_frames(sb: Storyboard) -> int:
    """From the storyboard alone: cards, every shot's frames, minus what a crossfade shares (min(0.5 s, shot / 4))."""
    counts = [round(s.duration * FPS) for s in sb.shots]
    shared = sum(min(round(0.5 * FPS), min(counts[i], counts[i + 1]) // 4)
                 for i, s in enumerate(sb.shots[:-1]) if s.transition != "cut")
    return CARDS + sum(counts) - shared


def decoded_frames(path: Path) -> int:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-500:]
    return int(re.findall(r"frame=\s*(\d+)", out.stderr)[-1])


def decoded_audio(path: Path) -> np.ndarray:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a:0",
                          "-f", "s16le", "-ac", "2", "-ar", str(RATE), "-"], capture_output=True)
    assert out.returncode == 0, out.stderr[-500:]
    return np.frombuffer(out.stdout, "<i2").reshape(-1, 2)


def cache_files(home: Path, pattern: str) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in (home / "segments").rglob(pattern)}


def assert_style_as_fresh(cut: Path, sb: Storyboard) -> None:
    """The critique's style check (from kept frames) is what decoding the delivered file afresh gives."""
    critique = json.loads((cut.parent / "critique.json").read_text())
    timeline = json.loads((cut.parent / "manifest.json").read_text())["timeline"]
    fresh = style_consistency(cut_shot_frames(cut, timeline), looks=[shot_look(s) for s in sb.shots])
    assert critique["style_consistency"] == json.loads(json.dumps(fresh.model_dump(), default=str))


@pytest.fixture
def director(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    return Director(), tmp_path / "home"


@pytest.mark.slow
def test_a_reorder_of_hard_cuts_re_encodes_no_shot_and_the_film_keeps_every_disclosure(director):
    from tools.safety.verify import verify_video

    director, home = director
    sb = storyboard()
    project = director.start_project("ann", sb, "test")
    first = director.render("ann", project)
    assert decoded_frames(Path(first.cut)) == expected_frames(sb)
    assert_style_as_fresh(Path(first.cut), sb)
    shot_pieces, kept_frames = cache_files(home, "*.mp4"), cache_files(home, "*.npy")
    tracks = cache_files(home, "*.m4a")
    assert shot_pieces and kept_frames and len(tracks) == 1

    swapped = director.feedback("ann", project, "swap shots 3 and 4")
    assert swapped.new_takes == 0
    cut = Path(swapped.cut)
    manifest = json.loads((cut.parent / "manifest.json").read_text())
    assert [s["shot_id"] for s in manifest["timeline"] if s["kind"] == "shot"] == ["s1", "s2", "s4", "s3"]
    # only the title and end cards are made again (they carry this cut's own watermark payload)
    assert manifest["pieces"]["made"] == 2 and manifest["pieces"]["soundtrack"] == "reused"
    # no shot piece, soundtrack or kept style frame was written again, and none was added
    assert cache_files(home, "*.mp4") == shot_pieces
    assert cache_files(home, "*.m4a") == tracks
    assert cache_files(home, "*.npy") == kept_frames

    # what a person gets: every frame of the storyboard, a soundtrack exactly as long as the film ...
    reordered = sb.model_copy(update={"shots": [sb.shots[i] for i in (0, 1, 3, 2)]})
    frames = expected_frames(reordered)
    assert decoded_frames(cut) == frames == mp4_info(cut)["frames"]
    assert len(decoded_audio(cut)) == round(frames / FPS * RATE)
    # ... the style check a fresh decode of the delivered file gives ...
    assert_style_as_fresh(cut, reordered)
    # ... and all three disclosures on the new file
    report = verify_video(cut, keys_dir=home / "keys", resolve_watermark=director.store.resolve_watermark)
    assert report["c2pa"]["present"] and report["c2pa"]["valid"] and report["c2pa"]["ai_generated"]
    assert report["label"]["present"] and report["watermark"]["present"]
    assert report["watermark"]["project_id"] == project


@pytest.mark.slow
def test_one_shot_feedback_keeps_the_narrated_soundtrack_as_it_was(director):
    director, home = director
    sb = storyboard(narrated=True)
    project = director.start_project("ann", sb, "test")
    first = director.render("ann", project)
    before = decoded_audio(Path(first.cut))

    darker = director.feedback("ann", project, "make shot 2 darker")
    assert darker.changed_shots == ["s2"] and darker.new_takes == 1
    cut = Path(darker.cut)
    manifest = json.loads((cut.parent / "manifest.json").read_text())
    # the words and the music are where they were: the same track, copied in, sample for sample
    assert manifest["pieces"]["soundtrack"] == "reused"
    after = decoded_audio(cut)
    assert len(after) == round(expected_frames(sb) / FPS * RATE)
    assert np.array_equal(after, before)
    assert decoded_frames(cut) == expected_frames(sb)
    # the new shot's frames for the style check came from its new piece: the same as a fresh decode
    assert_style_as_fresh(cut, darker_storyboard(director, project))


def darker_storyboard(director: Director, project: str) -> Storyboard:
    return director.store.get_version(project).storyboard


def test_the_soundtrack_is_mixed_again_exactly_when_what_is_heard_changes(tmp_path):
    """A moved line or a different music bed makes a new track; the same inputs reuse the kept one."""
    from tools.edit.narration import write_wav

    music = write_wav(tmp_path / "bed.wav", (0.1 * np.sin(np.arange(RATE * 3) * 0.05)).astype(np.float32))
    voice = (0.3 * np.sin(np.arange(RATE // 2) * 0.2)).astype(np.float32)

    def track(start: float, bed: Path) -> tuple[str | None, Path | None]:
        line = SpokenLine("s1", "Hello.", start, voice, start, 1.0)
        work = tmp_path / f"work-{start}-{bed.stem}"
        work.mkdir(exist_ok=True)
        warnings: list[str] = []
        with Soundtrack.start([line], 2.5, bed, tmp_path / "cache", work, warnings) as made:
            return ("reused" if made.reused else "mixed"), made.path()

    how, first = track(0.5, music)
    assert how == "mixed" and first is not None
    # exactly the film's length when decoded
    assert len(decoded_audio(first)) == round(2.5 * RATE)
    assert track(0.5, music) == ("reused", first)
    how, moved = track(1.0, music)
    assert how == "mixed" and moved != first
    other = write_wav(tmp_path / "other.wav", (0.1 * np.sin(np.arange(RATE * 3) * 0.07)).astype(np.float32))
    how, rebedded = track(0.5, other)
    assert how == "mixed" and rebedded not in (first, moved)


@pytest.mark.slow
def test_a_film_of_untouched_takes_is_joined_with_its_kept_soundtrack(director):
    """No cards, no transitions: the takes are joined as they are (stream copy), and a reorder copies the
    kept soundtrack in as well; the film still has every frame and a soundtrack exactly its length."""
    director, home = director
    sb = storyboard().model_copy(update={"title_card": False, "end_card": False})
    sb = sb.model_copy(update={"shots": [s.model_copy(update={"transition": "cut"}) for s in sb.shots]})
    project = director.start_project("ann", sb, "test")
    first = Path(director.render("ann", project).cut)
    made = json.loads((first.parent / "manifest.json").read_text())
    assert made["edit_path"] == "stream_copy" and made["pieces"]["soundtrack"] == "mixed"
    # the style check's frames were decoded from each take while the others were made (3 a shot, kept
    # under the take's hash), and judge what a fresh decode of the delivered film judges
    for take in made["takes"]:
        assert len(list((home / "segments" / "frames").rglob(f"{take['content_hash']}-*.npy"))) == 3
    assert_style_as_fresh(first, sb)

    cut = Path(director.feedback("ann", project, "swap shots 1 and 2").cut)
    manifest = json.loads((cut.parent / "manifest.json").read_text())
    assert manifest["edit_path"] == "stream_copy" and manifest["pieces"]["soundtrack"] == "reused"
    frames = sum(round(s.duration * FPS) for s in sb.shots)
    assert decoded_frames(cut) == frames
    assert len(decoded_audio(cut)) == round(frames / FPS * RATE)


def test_a_soundtrack_planned_for_other_shots_is_never_used(tmp_path):
    """The render mixes the soundtrack before its takes exist; the cut takes that mix only when it was
    planned for exactly its shots. A plan for other lines makes no difference to what is heard."""
    from tools.edit.assemble import CutClip, assemble_cut, prepare_soundtrack
    from tools.edit.video_io import write_video

    takes = []
    for i, colour in enumerate([(200, 60, 40), (40, 80, 200)]):
        takes.append(write_video(np.full((36, 96, 128, 3), colour, np.uint8), FPS, tmp_path / f"take{i}.mp4"))

    def clips(lines: list[str]) -> list[CutClip]:
        return [CutClip(path=take, shot_id=f"s{i + 1}", duration=1.5, narration=line) for i, (take, line) in
                enumerate(zip(takes, lines))]

    def cut(name: str, lines: list[str], sound=None) -> np.ndarray:
        out = assemble_cut(clips(lines), tmp_path / name / "final.mp4", width=128, height=96, fps=FPS, end_seconds=0,
                           segment_cache=tmp_path / "cache", sound=sound)
        assert out.soundtrack == "mixed"
        return decoded_audio(out.path)

    said, other = ["Boats.", "Gulls."], ["Nets.", "The lighthouse at dusk."]
    planned = prepare_soundtrack(clips(said), FPS, title_seconds=0, end_seconds=0, narration=True, music_path=None,
                                 segment_cache=tmp_path / "cache")
    tracks = set((tmp_path / "cache" / "audio").rglob("*.m4a"))
    assert len(tracks) == 1
    # the plan's own shots: its track is copied in (no second mix) and sounds as a fresh cut would
    heard = cut("planned", said, planned)
    assert set((tmp_path / "cache" / "audio").rglob("*.m4a")) == tracks
    # other lines: the plan is set aside, and the film says the new lines, as a cut made without it does
    with_stale_plan = cut("stale", other, planned)
    fresh = assemble_cut(clips(other), tmp_path / "fresh" / "final.mp4", width=128, height=96, fps=FPS, end_seconds=0,
                         segment_cache=tmp_path / "another-cache")
    assert np.array_equal(with_stale_plan, decoded_audio(fresh.path))
    assert not np.array_equal(with_stale_plan[: len(heard)], heard)
