"""Loudness levelling without scipy.signal (issue 17.3): tools/edit/loudness.py measures what pyloudnorm
measures (BS.1770-4, K-weighted, gated), and a whole render no longer pays scipy.signal's import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tools.edit.loudness import integrated_loudness

ROOT = Path(__file__).resolve().parents[1]
RATE = 48000


def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(RATE * 6) / RATE
    return {
        "stereo noise": rng.normal(0, 0.1, (len(t), 2)),
        "mono 1 kHz tone": 0.3 * np.sin(2 * np.pi * 1000 * t),
        "30 Hz rumble (the high-pass's side)": np.repeat(0.3 * np.sin(2 * np.pi * 30 * t)[:, None], 2, axis=1),
        "bursts with silences (the gates)": np.repeat((rng.normal(0, 0.2, len(t)) * (np.sin(2 * np.pi * 0.4 * t) > 0.5))[:, None], 2, axis=1),
        "an odd length": rng.normal(0, 0.05, (RATE * 2 + 17, 1)),
    }


@pytest.mark.parametrize("name", list(signals()))
def test_loudness_matches_pyloudnorm(name):
    import pyloudnorm  # the reference implementation, imported here only

    x = signals()[name]
    assert integrated_loudness(x, RATE) == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(x), abs=0.01)


def test_silence_has_no_loudness_and_too_short_audio_is_refused():
    assert integrated_loudness(np.zeros((RATE, 2)), RATE) == float("-inf")
    with pytest.raises(ValueError, match="shorter than one"):
        integrated_loudness(np.zeros((RATE // 10, 2)), RATE)


@pytest.mark.slow
def test_a_narrated_render_with_music_is_levelled_without_importing_scipy_signal(tmp_path):
    """Through the Director in a fresh process: the film has its soundtrack, and scipy.signal stayed unloaded."""
    from tests.test_sound import board

    script = f"""
import json, sys
from agent.session import Director
from storyboards.yamlio import load_storyboard
d = Director()
project = d.start_project("me", load_storyboard({str(board(tmp_path / 'b.yaml', narrated=True))!r}), "test")
result = d.render("me", project)
print(json.dumps({{"cut": result["cut"], "scipy_signal": "scipy.signal" in sys.modules}}))
"""
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["scipy_signal"] is False
    import pyloudnorm

    from tools.edit.video_io import read_audio

    audio = read_audio(Path(got["cut"]), RATE, 2).astype(np.float64)
    speech = audio[int(2.0 * RATE):int(5.0 * RATE)]          # the narrated shot, after the 2 s title card
    assert pyloudnorm.Meter(RATE).integrated_loudness(speech) > -24   # levelled towards -14 LUFS, not left quiet
