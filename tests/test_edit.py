"""The editor: real takes encoded here, real cuts, checked frame by frame and sample by sample."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tools.edit.assemble import CutClip, assemble_cut
from tools.edit.contact_sheet import contact_sheet
from tools.edit.narration import RATE, espeak_path, write_wav
from tools.edit.otio_export import write_otio
from tools.edit.presets import PRESETS, reframe_or_refuse
from tools.edit.timeline import build_timeline
from tools.edit.video_io import EditError, count_video_frames, probe, read_audio, read_video, write_video

W, H, FPS = 320, 180, 24
RED, BLUE, GREEN, GREY = (220, 30, 30), (30, 30, 220), (30, 200, 30), (128, 128, 128)
MARK = (255, 0, 255)


def solid(colour, seconds=2.0, w=W, h=H) -> np.ndarray:
    frames = np.empty((round(seconds * FPS), h, w, 3), np.uint8)
    frames[:] = colour
    return frames


# Solid red, blue and green takes are as far apart as colours get: tests about untouched take pixels
# (exact colours, stream copy, which frames are marked) cut them with grade=0, the colour grade's own
# tests use textured takes under casts (below).
@pytest.fixture(scope="module")
def takes(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("takes")
    out = {}
    for name, colour in (("red", RED), ("blue", BLUE), ("green", GREEN)):
        out[name] = write_video(solid(colour), FPS, d / f"{name}.mp4")
    out["short_grey"] = write_video(solid(GREY, 1.0), FPS, d / "short_grey.mp4")
    out["portrait"] = write_video(solid(RED, 1.0, w=180, h=320), FPS, d / "portrait.mp4")
    return out


def mean_colour(frame: np.ndarray) -> np.ndarray:
    return frame.reshape(-1, 3).mean(axis=0)


def near(frame: np.ndarray, colour, tol=12) -> bool:
    return bool(np.all(np.abs(mean_colour(frame) - np.array(colour)) < tol))


def paint_marker(frames: np.ndarray) -> np.ndarray:
    out = frames.copy()
    out[:, :16, :16] = MARK
    return out


def has_marker(frame: np.ndarray) -> bool:
    return near(frame[2:14, 2:14], MARK, tol=40)


# ----------------------------------------------------------------------------- video io


def test_write_video_keeps_every_frame_and_lands_atomically(tmp_path):
    frames = solid(RED, 2.0)
    frames[::2] = BLUE                              # alternate, so a dropped frame would show
    path = write_video(frames, FPS, tmp_path / "a.mp4")
    assert count_video_frames(path) == 48 == probe(path)["frames"]
    back, fps = read_video(path)
    assert fps == 24 and back.shape == (48, H, W, 3)
    assert near(back[0], BLUE) and near(back[1], RED) and near(back[47], RED)
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]
    info = probe(path)
    assert (info["width"], info["height"], info["codec"], info["has_audio"]) == (W, H, "h264", False)


# ----------------------------------------------------------------------------- the timeline in the film


def test_durations_match_the_timeline_to_the_frame(takes, tmp_path):
    clips = [CutClip(takes["red"], "one", 2.0, "crossfade"), CutClip(takes["short_grey"], "two", 1.0, "cut"),
             CutClip(takes["blue"], "three", 2.0, "cut")]
    cut = assemble_cut(clips, tmp_path / "final.mp4", width=W, height=H, fps=FPS, title="T", title_seconds=1.0,
                       end_seconds=1.0, narration=False, grade=0)
    # title 24 + 48 + 24 + 48 + end 24, minus the crossfade: min(0.5 s, 1 s / 4) = 6 frames
    assert cut.frames == 24 + 48 + 24 + 48 + 24 - 6
    assert count_video_frames(cut.path) == cut.frames
    assert abs(probe(cut.path)["duration"] - cut.duration) <= 1 / FPS
    starts = cut.shot_starts
    assert starts == {"one": 1.0, "two": 1.0 + 2.0 - 0.25, "three": 1.0 + 2.0 - 0.25 + 1.0}
    frames, _ = read_video(cut.path)
    two = round(starts["two"] * FPS)
    assert near(frames[two + 12], GREY) and near(frames[round(starts["three"] * FPS) + 1], BLUE)


@pytest.mark.parametrize("transition", ["crossfade", "fade", "wipe"])
def test_transitions_overlap_the_shots(takes, tmp_path, transition):
    clips = [CutClip(takes["red"], "a", 2.0, transition), CutClip(takes["blue"], "b", 2.0)]
    cut = assemble_cut(clips, tmp_path / "t.mp4", width=W, height=H, fps=FPS, end_seconds=0, narration=False, grade=0)
    assert cut.frames == 48 + 48 - 12 == count_video_frames(cut.path)
    assert cut.path_used == "reencode"
    frames, _ = read_video(cut.path)
    assert near(frames[30], RED) and near(frames[-1], BLUE)
    middle = frames[36 + 6]                          # the overlap is frames 36..47
    if transition == "crossfade":
        assert near(middle, ((RED[0] + BLUE[0]) / 2, 30, (RED[2] + BLUE[2]) / 2), tol=30)
    elif transition == "fade":
        assert mean_colour(middle).max() < 40        # dips to black
    else:
        assert near(middle[:, :W // 3], BLUE) and near(middle[:, -W // 3:], RED)


def test_aspect_mismatch_is_refused_with_a_clear_message(takes, tmp_path):
    assert reframe_or_refuse((640, 360), "16:9-1080p") == (1920, 1080)
    assert reframe_or_refuse((854, 480), PRESETS["16:9-720p"]) == (1280, 720)
    with pytest.raises(EditError, match=r"generate the shots again at 16:9"):
        reframe_or_refuse((180, 320), "16:9-720p")
    clips = [CutClip(takes["red"], "wide", 2.0), CutClip(takes["portrait"], "tall-one", 1.0)]
    with pytest.raises(EditError, match=r"shot 'tall-one'.*180x320 \(9:16\).*generate the shots again at 16:9"):
        assemble_cut(clips, tmp_path / "x.mp4", width=W, height=H, fps=FPS, narration=False)
    assert list(tmp_path.iterdir()) == []


def test_presets_sizes():
    sizes = {name: (p.width, p.height) for name, p in PRESETS.items()}
    assert sizes == {"16:9-1080p": (1920, 1080), "16:9-720p": (1280, 720), "9:16-1080p": (1080, 1920),
                     "9:16-720p": (720, 1280), "1:1-1080p": (1080, 1080)}
    assert reframe_or_refuse((512, 512), "1:1-1080p") == (1080, 1080)


def test_same_aspect_different_size_is_scaled(takes, tmp_path):
    cut = assemble_cut([CutClip(takes["red"], "a", 2.0)], tmp_path / "big.mp4", width=640, height=360, fps=FPS,
                       end_seconds=0, narration=False)
    info = probe(cut.path)
    assert (info["width"], info["height"], info["frames"]) == (640, 360, 48)
    assert cut.path_used == "reencode"


def test_missing_take_names_the_shot_and_file_and_leaves_nothing(takes, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    missing = tmp_path / "gone.mp4"
    clips = [CutClip(takes["red"], "first", 2.0, "crossfade"), CutClip(missing, "second", 2.0)]
    with pytest.raises(EditError, match=r"shot 'second'.*gone\.mp4"):
        assemble_cut(clips, out / "final.mp4", width=W, height=H, fps=FPS, title="X", narration=False)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    with pytest.raises(EditError, match=r"shot 'second'.*broken\.mp4"):
        assemble_cut([clips[0], CutClip(broken, "second", 2.0)], out / "final.mp4", width=W, height=H, fps=FPS,
                     narration=False)
    assert list(out.iterdir()) == []


def test_stream_copy_when_nothing_needs_reencoding(takes, tmp_path):
    clips = [CutClip(takes["red"], "a", 2.0), CutClip(takes["blue"], "b", 2.0), CutClip(takes["green"], "c", 2.0)]
    cut = assemble_cut(clips, tmp_path / "copy.mp4", width=W, height=H, fps=FPS, title=None, end_seconds=0,
                       narration=False, grade=0)
    assert cut.path_used == "stream_copy"
    assert cut.frames == 144 == count_video_frames(cut.path)
    frames, _ = read_video(cut.path)
    assert near(frames[47], RED) and near(frames[48], BLUE) and near(frames[143], GREEN)
    # any card or transition needs pixels made, so the same takes re-encode
    again = assemble_cut(clips, tmp_path / "cards.mp4", width=W, height=H, fps=FPS, title="Title", narration=False,
                         grade=0)
    assert again.path_used == "reencode" and count_video_frames(again.path) == again.frames == 144 + 96


def test_finish_frames_marks_every_frame_the_editor_makes(takes, tmp_path):
    clips = [CutClip(takes["red"], "a", 2.0, "crossfade"), CutClip(takes["blue"], "b", 2.0)]
    cut = assemble_cut(clips, tmp_path / "m.mp4", width=W, height=H, fps=FPS, title="Marked", title_seconds=1.0,
                       end_seconds=1.0, finish_frames=paint_marker, narration=False, grade=0)
    frames, _ = read_video(cut.path)
    assert len(frames) == 24 + 48 + 48 - 12 + 24
    title, transition, end = range(0, 24), range(24 + 36, 24 + 48), range(len(frames) - 24, len(frames))
    assert all(has_marker(frames[i]) for i in [*title, *transition, *end])
    # takes arrive already marked by their generator: the editor leaves their pixels alone
    assert not any(has_marker(frames[i]) for i in [30, 50, 24 + 60, 24 + 80])


# ----------------------------------------------------------------------------- sound and words


def _onset(samples: np.ndarray, after: float, threshold: float = 0.02) -> float:
    env = np.abs(samples[:, 0])
    start = int(after * RATE)
    loud = np.flatnonzero(env[start:] > threshold)
    return (start + loud[0]) / RATE if loud.size else float("inf")


@pytest.mark.skipif(espeak_path() is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_narration_starts_with_its_shot_and_is_loudness_normalised(takes, tmp_path):
    import pyloudnorm

    clips = [CutClip(takes["red"], "quiet", 2.0, "crossfade"),
             CutClip(takes["blue"], "spoken", 2.0, narration="The harbour wakes.")]
    cut = assemble_cut(clips, tmp_path / "n.mp4", width=W, height=H, fps=FPS, title="Sound", title_seconds=1.0,
                       end_seconds=1.0)
    assert cut.audio and probe(cut.path)["has_audio"]
    assert count_video_frames(cut.path) == cut.frames
    audio = read_audio(cut.path, RATE, 1)
    assert abs(len(audio) / RATE - cut.duration) < 0.1
    start = cut.shot_starts["spoken"]                 # 1 + 2 - 0.5 = 2.5 s
    assert start == 2.5
    assert np.abs(audio[: int((start - 0.1) * RATE)]).max() < 0.01     # silence before the line
    assert abs(_onset(audio, 0.0) - start) < 0.15
    loudness = pyloudnorm.Meter(RATE).integrated_loudness(audio[:, 0].astype(np.float64))
    assert abs(loudness - (-14.0)) < 1.5


@pytest.mark.skipif(espeak_path() is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_long_narration_is_flagged_and_not_cut(takes, tmp_path):
    line = "This line is far too long for a one second shot, and it keeps going well past the end."
    clips = [CutClip(takes["red"], "opening", 2.0), CutClip(takes["short_grey"], "brief", 1.0, narration=line)]
    cut = assemble_cut(clips, tmp_path / "long.mp4", width=W, height=H, fps=FPS, end_seconds=0)
    assert any(re.search(r"narration of shot 'brief' runs \d+\.\d s, the shot is 1\.0 s", w) for w in cut.warnings)
    # the film holds its last frame until the voice has finished
    assert cut.duration > 4.0 and count_video_frames(cut.path) == cut.frames
    audio = read_audio(cut.path, RATE, 1)
    assert np.abs(audio[-int(0.1 * RATE):]).max() < 0.05                # the line ended before the film did


@pytest.mark.skipif(espeak_path() is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_music_is_ducked_under_narration(takes, tmp_path):
    t = np.arange(int(6.0 * RATE)) / RATE
    write_wav(tmp_path / "bed.wav", (0.3 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32))
    clips = [CutClip(takes["red"], "a", 2.0), CutClip(takes["blue"], "b", 2.0, narration="Now we speak over the music."),
             CutClip(takes["green"], "c", 2.0)]
    cut = assemble_cut(clips, tmp_path / "music.mp4", width=W, height=H, fps=FPS, end_seconds=0,
                       music_path=tmp_path / "bed.wav")
    audio = read_audio(cut.path, RATE, 1)[:, 0]

    def tone(a: float, b: float) -> float:
        x = audio[int(a * RATE): int(b * RATE)]
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        freqs = np.fft.rfftfreq(len(x), 1 / RATE)
        return float(spectrum[np.abs(freqs - 3000) < 20].max())

    assert tone(2.4, 2.9) < tone(0.8, 1.3) / 3        # at least ~10 dB down while the line plays


def test_subtitles_follow_the_timeline_across_transitions(takes, tmp_path):
    clips = [CutClip(takes["red"], "one", 2.0, "crossfade", narration="First words."),
             CutClip(takes["blue"], "two", 2.0, "wipe", caption="A caption only."),
             CutClip(takes["green"], "three", 2.0, narration="Last words.")]
    cut = assemble_cut(clips, tmp_path / "final.mp4", width=W, height=H, fps=FPS, title="Subs", title_seconds=1.0,
                       narration=False)
    assert cut.srt_path == tmp_path / "final.srt" and cut.vtt_path == tmp_path / "final.vtt"
    srt = cut.srt_path.read_text()
    times = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)", srt)
    # shots start at 1.0, 2.5, 4.0 (two 0.5 s overlaps); each cue runs until the next shot starts
    assert times == [("00:00:01,000", "00:00:02,500"), ("00:00:02,500", "00:00:04,000"),
                     ("00:00:04,000", "00:00:06,000")]
    assert "A caption only." in srt and "First words." in srt
    vtt = cut.vtt_path.read_text()
    assert vtt.startswith("WEBVTT") and "00:00:02.500 --> 00:00:04.000" in vtt


def test_burned_subtitles_show_in_the_picture(takes, tmp_path):
    clips = [CutClip(takes["blue"], "one", 2.0, narration="Burned in words")]
    cut = assemble_cut(clips, tmp_path / "b.mp4", width=W, height=H, fps=FPS, end_seconds=0, narration=False,
                       burn_subtitles=True, finish_frames=paint_marker)
    frames, _ = read_video(cut.path)
    bottom = frames[10, int(H * 0.6):]
    assert (bottom.min(axis=-1) > 200).sum() > 50       # white letters over the blue
    assert has_marker(frames[10])                       # frames the editor changed are marked again


# ----------------------------------------------------------------------------- exports


def test_otio_reads_back_with_clips_transitions_and_markers(takes, tmp_path):
    import opentimelineio as otio

    clips = [CutClip(takes["red"], "one", 2.0, "crossfade"), CutClip(takes["short_grey"], "two", 1.0, "cut"),
             CutClip(takes["blue"], "three", 2.0)]
    segments = build_timeline(clips, FPS, title_seconds=1.0, end_seconds=1.0)
    path = write_otio(segments, tmp_path / "final.otio", FPS)
    timeline = otio.adapters.read_from_file(str(path))
    track = timeline.tracks[0]
    shots = [c for c in track.find_clips() if isinstance(c.media_reference, otio.schema.ExternalReference)]
    assert [c.name for c in shots] == ["one", "two", "three"]
    assert [m.name for c in shots for m in c.markers] == ["one", "two", "three"]
    assert [round(c.visible_range().duration.to_seconds(), 6) for c in shots] == [2.0, 1.0, 2.0]
    assert round(timeline.duration().to_frames()) == segments[-1].end == 24 + 48 + 24 + 48 + 24 - 6
    transitions = [t for t in track if isinstance(t, otio.schema.Transition)]
    assert len(transitions) == 1 and (transitions[0].in_offset + transitions[0].out_offset).to_frames() == 6
    assert shots[0].media_reference.target_url.endswith("red.mp4")
    assert round(track.range_of_child(shots[2]).start_time.to_seconds(), 6) == 1.0 + 2.0 - 0.25 + 1.0


def test_contact_sheet_grid_with_pass_and_fail_borders(takes, tmp_path):
    from PIL import Image

    path = contact_sheet([("good", takes["green"], ["static · wide", "score 0.91"], True),
                          ("bad", solid(RED, 1.0), ["pan_left · medium", "flicker 31/255, limit 12"], False)],
                         tmp_path / "sheet.png", fps=FPS)
    img = np.asarray(Image.open(path).convert("RGB"))
    h = img.shape[0]
    top, bottom = img[: h // 2], img[h // 2:]
    assert (np.abs(top.astype(int) - (46, 160, 67)).sum(-1) < 10).sum() > 500   # green frame on the passing shot
    assert (np.abs(bottom.astype(int) - (200, 40, 40)).sum(-1) < 10).sum() > 500


@pytest.mark.skipif(espeak_path() is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_overlong_lines_never_talk_over_each_other(takes, tmp_path):
    clips = [CutClip(takes["red"], "a", 2.0, narration="A first line that is much too long for a two second shot."),
             CutClip(takes["blue"], "b", 2.0, narration="The second line."), CutClip(takes["green"], "c", 2.0)]
    cut = assemble_cut(clips, tmp_path / "seq.mp4", width=W, height=H, fps=FPS, end_seconds=0)
    assert any("narration of shot 'a' runs" in w for w in cut.warnings)
    assert any(re.search(r"narration of shot 'b' starts \d\.\d s into its shot", w) for w in cut.warnings)
    audio = read_audio(cut.path, RATE, 1)[:, 0]
    # a silent gap (>= 0.15 s) between the two voices, after shot b has begun: they never overlap
    step = int(0.01 * RATE)
    env = np.array([np.abs(audio[i:i + step]).max() for i in range(0, len(audio) - step, step)]) < 0.01
    runs, run = [], 0
    for k, silent in enumerate(env):
        run = run + 1 if silent else 0
        if run == 15:
            runs.append(k * 0.01)
    assert any(2.0 < t < 6.0 for t in runs)
    starts = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) -->", cut.srt_path.read_text())
    assert starts[0] == "00:00:00,000" and starts[1] > "00:00:02,000"


def test_stream_copy_keeps_narration_and_reports_progress(takes, tmp_path):
    seen = []
    clips = [CutClip(takes["red"], "a", 2.0, narration="Hello there."), CutClip(takes["blue"], "b", 2.0)]
    cut = assemble_cut(clips, tmp_path / "c.mp4", width=W, height=H, fps=FPS, end_seconds=0, grade=0,
                       progress=lambda done, total: seen.append((done, total)))
    assert cut.path_used == "stream_copy" and count_video_frames(cut.path) == 96
    assert probe(cut.path)["has_audio"] == cut.audio == (espeak_path() is not None)
    assert seen[-1] == (96, 96)


def test_without_any_speech_engine_narration_is_skipped_but_subtitled(takes, tmp_path, monkeypatch):
    from tools.edit import narration

    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))          # no espeak-ng program ...
    monkeypatch.setattr(narration, "espeak_library", lambda: None)     # ... and no espeakng-loader library
    seen = []
    clips = [CutClip(takes["red"], "a", 2.0, "fade", narration="Words nobody hears.")]
    cut = assemble_cut(clips, tmp_path / "quiet.mp4", width=W, height=H, fps=FPS, title="Q", title_seconds=0.5,
                       progress=lambda done, total: seen.append((done, total)))
    assert any("narration skipped: no speech engine" in w for w in cut.warnings)
    assert not cut.audio and not probe(cut.path)["has_audio"]
    assert "Words nobody hears." in cut.srt_path.read_text()
    assert seen[-1] == (cut.frames, cut.frames) and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))


def test_a_damaged_take_is_reported_by_shot(takes, tmp_path):
    damaged = tmp_path / "damaged.mp4"
    data = takes["blue"].read_bytes()
    damaged.write_bytes(data[: len(data) * 2 // 3])      # the index survives, the picture data is cut short
    clips = [CutClip(takes["red"], "fine", 2.0, "crossfade"), CutClip(damaged, "hurt", 2.0)]
    with pytest.raises(EditError, match=r"^shot 'hurt' \(.*damaged\.mp4\): the take could not be decoded"):
        assemble_cut(clips, tmp_path / "out" / "d.mp4", width=W, height=H, fps=FPS, end_seconds=0, narration=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_takes_in_other_containers_are_probed_through_ffmpeg(takes, tmp_path):
    import subprocess

    from tools.edit.video_io import ffmpeg_exe

    mkv = tmp_path / "green.mkv"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(takes["green"]), "-c", "copy", str(mkv)], check=True)
    info = probe(mkv)
    assert (info["width"], info["height"], info["frames"], info["codec"]) == (W, H, 48, "h264")
    cut = assemble_cut([CutClip(takes["red"], "a", 2.0), CutClip(mkv, "b", 2.0)], tmp_path / "mixed.mp4",
                       width=W, height=H, fps=FPS, end_seconds=0, narration=False)
    assert cut.path_used == "reencode" and count_video_frames(cut.path) == 96


# ----------------------------------------------------------------------------- colour grade


def textured(tint: str, seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """A moving textured scene (gradient, stripes, grain) under a colour cast, like takes from a model that drifts."""
    n = round(seconds * FPS)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    grain = rng.normal(0, 6, (4, H, W)).astype(np.float32)
    cast = {"neutral": ((1, 0), (1, 0), (1, 0)), "warm": ((1.12, 18), (1.0, 4), (0.78, -8)),
            "cool": ((0.8, -6), (1.0, 4), (1.12, 20)), "dark": ((0.55, 0), (0.55, 0), (0.6, 0))}[tint]
    frames = np.empty((n, H, W, 3), np.uint8)
    for i in range(n):
        base = 50 + 120 * ((x + 3 * i) % W) / W + 25 * np.sin(y / 7 + i / 5) + grain[i % 4]
        frames[i] = np.clip(np.stack([g * base + o for g, o in cast], -1), 0, 255)
    return frames


@pytest.fixture(scope="module")
def tinted(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tinted")
    out = {tint: write_video(textured(tint), FPS, d / f"{tint}.mp4") for tint in ("warm", "cool", "dark", "neutral")}
    for seed in (1, 2):
        out[f"neutral{seed}"] = write_video(textured("neutral", seed=seed), FPS, d / f"neutral{seed}.mp4")
    return out


def shots_of(cut) -> dict[str, np.ndarray]:
    """The cut read back and split by its timeline: each shot's frames, transitions left out."""
    frames, _ = read_video(cut.path)
    return {d["shot_id"]: frames[d["start_frame"] + d["overlap_in"]: d["start_frame"] + d["frames"] - d["overlap_out"]]
            for d in cut.timeline if d["kind"] == "shot"}


@pytest.mark.slow
def test_grade_pulls_warm_cool_and_dark_shots_toward_one_look(tinted, tmp_path):
    from tools.critique.consistency import style_consistency

    clips = [CutClip(tinted[t], t, 2.0) for t in ("warm", "cool", "dark")]
    plain = assemble_cut(clips, tmp_path / "plain.mp4", width=W, height=H, fps=FPS, end_seconds=0, narration=False,
                         grade=0)
    graded = assemble_cut(clips, tmp_path / "graded.mp4", width=W, height=H, fps=FPS, end_seconds=0, narration=False)
    assert plain.graded_shots == {} and plain.path_used == "stream_copy"
    assert set(graded.graded_shots) == {"warm", "cool", "dark"} and graded.path_used == "reencode"
    assert [d["grade"] is not None for d in graded.timeline] == [True, True, True]
    before = style_consistency(shots_of(plain))
    after = style_consistency(shots_of(graded))
    print(f"style consistency (largest Delta E from the film's mean): {before.value} ungraded, {after.value} graded")
    assert after.value < 0.7 * before.value
    # light, not a repaint: the dark shot is still the darkest, the warm one still warmer than the cool one
    looks = {k: mean_colour(v.reshape(-1, 3)) for k, v in shots_of(graded).items()}
    assert looks["dark"].sum() < looks["warm"].sum() and looks["dark"].sum() < looks["cool"].sum()
    assert looks["warm"][0] - looks["warm"][2] > looks["cool"][0] - looks["cool"][2]
    assert graded.frames == plain.frames == 144 == count_video_frames(graded.path)


def test_consistent_takes_are_not_graded_and_still_stream_copy(tinted, tmp_path):
    clips = [CutClip(tinted[t], t, 2.0) for t in ("neutral", "neutral1", "neutral2")]
    cut = assemble_cut(clips, tmp_path / "same.mp4", width=W, height=H, fps=FPS, end_seconds=0, narration=False)
    assert cut.graded_shots == {} and cut.path_used == "stream_copy"
    assert [d["grade"] for d in cut.timeline] == [None, None, None]
    assert count_video_frames(cut.path) == cut.frames == 144


def test_graded_frames_go_through_finish_frames(tinted, tmp_path):
    # warm and cool casts average out to the neutral shot's look: only the first and last shot are graded
    clips = [CutClip(tinted["warm"], "warm", 2.0, "crossfade"), CutClip(tinted["neutral"], "neutral", 2.0),
             CutClip(tinted["cool"], "cool", 2.0)]
    cut = assemble_cut(clips, tmp_path / "m.mp4", width=W, height=H, fps=FPS, title="Graded", title_seconds=1.0,
                       end_seconds=0, finish_frames=paint_marker, narration=False)
    assert set(cut.graded_shots) == {"warm", "cool"}
    frames, _ = read_video(cut.path)
    assert len(frames) == cut.frames == 24 + 48 * 3 - 12
    span = {d["shot_id"]: range(d["start_frame"], d["start_frame"] + d["frames"]) for d in cut.timeline if d["shot_id"]}
    assert all(has_marker(frames[i]) for i in [*range(24), *span["warm"], *span["cool"]])
    body = [i for i in span["neutral"] if i not in span["warm"]]      # after the crossfade: untouched take frames
    assert not any(has_marker(frames[i]) for i in body)


@pytest.mark.parametrize("transition", ["crossfade", "fade", "wipe"])
def test_grading_never_changes_frame_counts(tinted, tmp_path, transition):
    clips = [CutClip(tinted["warm"], "a", 2.0, transition), CutClip(tinted["dark"], "b", 1.5, "cut"),
             CutClip(tinted["cool"], "c", 2.0)]
    kw = dict(width=W, height=H, fps=FPS, title="Count", title_seconds=0.5, end_seconds=0.5, narration=False)
    plain = assemble_cut(clips, tmp_path / "plain.mp4", grade=0, **kw)
    graded = assemble_cut(clips, tmp_path / "graded.mp4", **kw)
    assert graded.graded_shots and not plain.graded_shots
    assert graded.frames == plain.frames == count_video_frames(graded.path) == count_video_frames(plain.path)
    def without_grade(cut):
        return [{k: v for k, v in d.items() if k != "grade"} for d in cut.timeline]

    assert without_grade(graded) == without_grade(plain)


def test_graded_shots_carry_the_cuts_watermark_not_the_takes(tmp_path):
    from tools.safety.watermark import detect_frames, embed_frames

    # takes arrive marked by their generator (payload 111); grading shifts their luma, so the cut marks them anew
    takes = {t: write_video(embed_frames(textured(t, 1.0), 111), FPS, tmp_path / f"{t}.mp4") for t in ("warm", "cool")}
    cut = assemble_cut([CutClip(takes["warm"], "warm", 1.0), CutClip(takes["cool"], "cool", 1.0)], tmp_path / "w.mp4",
                       width=W, height=H, fps=FPS, end_seconds=0, narration=False,
                       finish_frames=lambda f: embed_frames(f, 222))
    assert set(cut.graded_shots) == {"warm", "cool"}
    for shot, frames in shots_of(cut).items():
        reading = detect_frames(frames)
        assert reading.present and reading.payload == 222, (shot, reading)
