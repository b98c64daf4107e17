"""Sound by default (issue 16.3): narration without the espeak-ng program, a voice per cast member, a music
bed matched to the film and ducked under the words, and a way to turn the music off."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tools.edit import narration
from tools.edit.music import RATE, MusicBrief, synth_bed
from tools.edit.video_io import probe, read_audio

ROOT = Path(__file__).resolve().parents[1]


def board(path: Path, narrated: bool) -> Path:
    shots = [
        {"id": "keeper", "duration": 3, "subject": "a lighthouse keeper", "atmosphere": "stormy night, tense",
         "narration": "The storm came in at night." if narrated else None},
        {"id": "sea", "duration": 3, "subject": "the sea", "atmosphere": "dark, rain", "transition": "cut"},
    ]
    path.write_text(yaml.safe_dump({"title": "Storm", "aspect_ratio": "16:9", "fps": 24, "resolution": 144,
                                    "shots": [{k: v for k, v in s.items() if v is not None} for s in shots]}))
    return path


def render_without_espeak_program(tmp: Path, board_file: Path, *extra: str) -> dict:
    """`director render` with a PATH that holds only the venv: no espeak-ng program to be found."""
    path = str(Path(sys.executable).parent)
    assert shutil.which("espeak-ng", path=path) is None and shutil.which("espeak", path=path) is None
    env = {**os.environ, "PATH": path, "DIRECTOR_HOME": str(tmp / "home"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "server.cli", "render", str(board_file), "--out", str(tmp / "out"),
                          "--json", *extra], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) + 1e-9))


@pytest.mark.slow
def test_a_film_speaks_without_the_espeak_program_over_a_ducked_music_bed(tmp_path):
    result = render_without_espeak_program(tmp_path, board(tmp_path / "b.yaml", narrated=True))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert not any("narration skipped" in w for w in manifest["edit_warnings"] + result["warnings"])
    assert manifest["music"].startswith("synthesised bed (minor key")      # a stormy night: minor
    audio = read_audio(tmp_path / "out" / "final.mp4", RATE, 1)[:, 0]
    # title card 0-2 s, 'keeper' (spoken) 2-5 s, 'sea' (music alone) 5-8 s
    speech = audio[int(2.2 * RATE):int(3.6 * RATE)]
    music_alone = audio[int(5.5 * RATE):int(7.5 * RATE)]
    assert rms_db(music_alone) > -45, "the music bed is missing"
    assert rms_db(speech) > rms_db(music_alone) + 6, "the voice does not stand over the bed"
    assert (tmp_path / "out" / "final.srt").read_text().count("The storm came in at night.") == 1


@pytest.mark.slow
def test_no_music_and_no_narration_make_a_silent_film_with_no_subtitle_files(tmp_path):
    render_without_espeak_program(tmp_path, board(tmp_path / "b.yaml", narrated=False), "--no-music")
    out = tmp_path / "out"
    assert probe(out / "final.mp4")["has_audio"] is False
    assert not (out / "final.srt").exists() and not (out / "final.vtt").exists()
    saved = yaml.safe_load((out / "storyboard.yaml").read_text())
    assert saved["music_bed"] is False                       # the choice is the storyboard's, kept for feedback


@pytest.mark.slow
def test_a_film_without_narration_still_has_its_music_through_the_director(tmp_path):
    from agent.session import Director
    from storyboards.store import Store
    from storyboards.workspace import Workspace
    from storyboards.yamlio import load_storyboard

    workspace = Workspace(tmp_path / "home")
    director = Director(Store(workspace=workspace), workspace)
    project = director.start_project("me", load_storyboard(board(tmp_path / "b.yaml", narrated=False)), "test")
    result = director.render("me", project)
    cut = Path(result["cut"])
    audio = read_audio(cut, RATE, 1)[:, 0]
    assert rms_db(audio[int(3 * RATE):int(7 * RATE)]) > -40
    assert not (cut.parent / "final.srt").exists()


def test_cast_members_speak_with_their_own_voices_through_the_bundled_library(monkeypatch):
    monkeypatch.setattr(narration, "espeak_path", lambda: None)   # the wheel's library, not the program
    assert narration.speech_engine() == "espeak-ng library"
    female = next(c for c in ("mara", "ines", "joan", "ruth", "lena", "ada") if "+f" in narration.voice_for(c))
    male = next(c for c in ("tom", "ivan", "omar", "piet", "sam", "max") if "+m" in narration.voice_for(c))
    assert narration.voice_for(female) == narration.voice_for(female) != narration.voice_for(male)
    assert narration.voice_for(None) == narration.NARRATOR_VOICE
    line = "We sail at first light, whatever the weather."
    a = narration.speak(line, voice=narration.voice_for(female))
    b = narration.speak(line, voice=narration.voice_for(male))
    assert len(a) > 0.8 * RATE and len(b) > 0.8 * RATE

    def pitch(x: np.ndarray) -> float:
        """Median fundamental over voiced 40 ms windows (autocorrelation between 70 and 400 Hz)."""
        n = int(0.04 * RATE)
        found = []
        for k in range(0, len(x) - n, n):
            w = x[k:k + n] - x[k:k + n].mean()
            if np.sqrt(np.mean(w ** 2)) < 0.02:
                continue
            ac = np.correlate(w, w, "full")[n - 1:]
            lo, hi = RATE // 400, RATE // 70
            found.append(RATE / (lo + int(np.argmax(ac[lo:hi]))))
        return float(np.median(found))

    assert pitch(a) > 1.3 * pitch(b), (pitch(a), pitch(b))


def beats_per_minute(x: np.ndarray) -> float:
    """The bed's tempo, heard from its bass: onsets below 110 Hz land on beats one and three."""
    mono = x.mean(axis=1)
    spec = np.fft.rfft(mono)
    spec[np.fft.rfftfreq(len(mono), 1 / RATE) > 110] = 0
    bass = np.fft.irfft(spec, len(mono))
    hop = RATE // 100
    env = np.abs(bass[: len(bass) // hop * hop]).reshape(-1, hop).max(axis=1)
    onset = np.maximum(np.diff(env), 0)
    ac = np.correlate(onset, onset, "full")[len(onset) - 1:]
    lag = 60 + int(np.argmax(ac[60:250]))            # two beats: 0.6 .. 2.5 s
    return 2 * 60 / (lag / 100)


def third_is_minor(x: np.ndarray, brief: MusicBrief) -> bool:
    """Over a bar of the first chord (after the fade-in), is the minor or the major third louder?"""
    bar = int(4 * 60 / brief.bpm * RATE)
    chunk = x[4 * bar: 5 * bar].mean(axis=1)
    spec, freqs = np.abs(np.fft.rfft(chunk)), np.fft.rfftfreq(len(chunk), 1 / RATE)

    def level(midi: int) -> float:
        f = 440 * 2 ** ((midi - 69) / 12)
        return float(spec[np.abs(freqs - f) < 2].max())

    root = brief.root_midi + 12
    return level(root + 3) > level(root + 4)


def test_the_music_follows_the_films_mood_and_tempo():
    storm = MusicBrief.from_text("a storm rolls in at night over a dark sea, tense", "Storm")
    dawn = MusicBrief.from_text("a calm misty harbour at dawn, quiet and gentle", "Dawn")
    assert storm.minor and not dawn.minor and storm.bpm > dawn.bpm
    for brief in (storm, dawn):
        bed = synth_bed(24, brief)
        assert bed.shape == (24 * RATE, 2) and 0.3 < np.abs(bed).max() <= 0.5
        assert abs(beats_per_minute(bed) - brief.bpm) < 3
        assert third_is_minor(bed, brief) == brief.minor
    assert np.array_equal(synth_bed(5, storm), synth_bed(5, storm))      # a re-cut keeps the same music
