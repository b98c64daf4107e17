"""A music bed for every film: made offline by a small synthesiser, or by MusicGen when weights are configured.

The synthesiser (numpy only, ~0.1 s for a minute of stereo at 48 kHz) plays what a library cue under
a documentary plays: a four-chord progression, one chord a bar, voiced as
- a pad: each chord tone as a few slightly detuned sine partials, with a slow swell and release per bar,
- a bass: the chord's root an octave down on beats one and three, a sine with a soft pluck envelope,
- a pulse: a soft muted arpeggio on the eighth notes (the tempo you feel), quieter in calm films,
- a fade-in at the start (the assembler fades the end out where the film ends).

Mood and tempo come from the film's own words (`MusicBrief.from_text` reads the style guide and each
shot's atmosphere, lighting and setting): dark, stormy, tense or night films get a minor key and
(for tension) a faster tempo; calm, misty, dawn films a major key and a slow one. The result is
deterministic for a given film (the seed is its title), so a re-cut does not change the music.

MusicGen: with `DIRECTOR_MUSICGEN_MODEL` set to a local folder of a MusicgenForConditionalGeneration
checkpoint (and its processor), `musicgen_bed` asks that model for the bed from a text prompt built
from the same brief. transformers is imported only then.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 48000
MINOR_WORDS = r"dark|storm|stormy|night|moody|melanchol|sad|grief|lonely|tense|tension|ominous|rain|grim|cold|noir|eerie|mysterious|threat|fear"
TENSE_WORDS = r"tense|tension|chase|storm|action|urgent|fast|energetic|race|racing|thrill|fight|danger"
CALM_WORDS = r"calm|mist|misty|quiet|gentle|slow|dawn|hushed|peaceful|serene|soft|tranquil|still|dream|unhurried"
BRIGHT_WORDS = r"bright|happy|joy|sunny|sunrise|playful|warm|cheerful|festive|summer|hope"

# semitones above the key's root for each chord of the progression, and whether it is a minor triad
MAJOR_PROGRESSION = ((0, False), (7, False), (9, True), (5, False))      # I  V  vi IV
MINOR_PROGRESSION = ((0, True), (8, False), (3, False), (10, False))     # i  VI III VII


@dataclass(frozen=True)
class MusicBrief:
    minor: bool
    bpm: int
    energy: float          # 0..1: how present the pulse is
    root_midi: int         # the key's root note
    seed: int

    @classmethod
    def from_text(cls, text: str, seed_text: str = "") -> MusicBrief:
        low = text.lower()
        count = lambda words: len(re.findall(rf"\b(?:{words})", low))  # noqa: E731
        minor = count(MINOR_WORDS) > count(BRIGHT_WORDS)
        tense, calm = count(TENSE_WORDS), count(CALM_WORDS)
        bpm = 112 if tense > calm else 72 if calm > tense else 90
        energy = 0.8 if tense > calm else 0.35 if calm > tense else 0.55
        seed = int.from_bytes(hashlib.sha256((seed_text or text).encode()).digest()[:4], "big")
        root = 45 + seed % 7        # A2..D#3: a low, warm register for the key
        return cls(minor=minor, bpm=bpm, energy=energy, root_midi=root, seed=seed)

    def describe(self) -> str:
        return f"{'minor' if self.minor else 'major'} key, {self.bpm} bpm, {'driving' if self.energy > 0.6 else 'gentle'} pulse"


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n, np.float32)
    a, r = min(attack, n), min(release, n)
    env[:a] = np.linspace(0, 1, a, dtype=np.float32)
    env[n - r:] *= np.linspace(1, 0, r, dtype=np.float32)
    return env


def _bar(k: int, brief: MusicBrief, rng: np.random.Generator) -> np.ndarray:
    """One bar (stereo) of the k-th chord of the progression: pad, bass and pulse."""
    beat = 60.0 / brief.bpm
    length = int(4 * beat * RATE)
    t = np.arange(length, dtype=np.float32) / RATE
    offset, is_minor = (MINOR_PROGRESSION if brief.minor else MAJOR_PROGRESSION)[k]
    root = brief.root_midi + 12 + offset
    triad = (0, 3 if is_minor else 4, 7)
    out = np.zeros((length, 2), np.float32)
    # pad: chord tones, three detuned partials each, panned apart a little, swelling in and out
    swell = _envelope(length, int(0.8 * beat * RATE), int(0.6 * beat * RATE))
    for j, interval in enumerate(triad):
        f = _hz(root + interval)
        wave = np.zeros(length, np.float32)
        for detune, gain in ((-0.12, 0.5), (0.0, 1.0), (0.12, 0.5)):
            wave += gain * np.sin(2 * np.pi * f * (1 + detune / 100) * t + rng.uniform(0, 2 * np.pi))
        wave += 0.25 * np.sin(4 * np.pi * f * t)          # a touch of the octave: warmth
        pan = 0.5 + 0.25 * (j - 1)
        out[:, 0] += 0.06 * wave * swell * (1 - pan)
        out[:, 1] += 0.06 * wave * swell * pan
    # bass: the root an octave down on beats one and three
    half = int(2 * beat * RATE)
    tb = t[:half]
    note = 0.22 * np.sin(2 * np.pi * _hz(root - 12) * tb) * np.exp(-tb * 2.5) * _envelope(half, 200, 2000)
    for b in (0, half):
        m = min(half, length - b)
        out[b:b + m] += note[:m, None]
    # pulse: a muted arpeggio on the eighth notes, louder in energetic films
    eighth = length // 8
    tp = t[:eighth]
    for e in range(8):
        pluck = 0.09 * brief.energy * np.sin(2 * np.pi * _hz(root + 12 + triad[e % 3]) * tp) * np.exp(-tp * 18)
        pluck *= 1.0 if e % 2 == 0 else 0.7
        left = 0.6 if e % 2 else 0.4
        out[e * eighth:(e + 1) * eighth, 0] += left * pluck
        out[e * eighth:(e + 1) * eighth, 1] += (1 - left) * pluck
    return out


def synth_bed(seconds: float, brief: MusicBrief) -> np.ndarray:
    """Stereo float32 (n, 2) at 48 kHz, peak -6 dBFS: the progression's four bars, played in turn."""
    n = max(1, int(seconds * RATE))
    rng = np.random.default_rng(brief.seed)
    bars = [_bar(k, brief, rng) for k in range(4)]
    cycle = np.concatenate(bars)
    out = np.tile(cycle, (n // len(cycle) + 1, 1))[:n].copy()
    fade = min(n, int(2.0 * RATE))
    out[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)[:, None]
    peak = float(np.abs(out).max()) or 1.0
    return (out * (0.5 / peak)).astype(np.float32)


def musicgen_model() -> str | None:
    """The local MusicGen checkpoint folder from DIRECTOR_MUSICGEN_MODEL, when it names one."""
    path = os.environ.get("DIRECTOR_MUSICGEN_MODEL")
    return path if path and Path(path).is_dir() else None


def musicgen_bed(seconds: float, prompt: str, model_dir: str, *, model=None, processor=None) -> np.ndarray:
    """The bed from MusicGen (transformers), resampled to stereo 48 kHz. `model`/`processor` may be
    given (tests build a tiny random one); otherwise both are loaded from `model_dir`."""
    import torch
    from transformers import AutoProcessor, MusicgenForConditionalGeneration

    if model is None:
        model = MusicgenForConditionalGeneration.from_pretrained(model_dir)
    if processor is None:
        processor = AutoProcessor.from_pretrained(model_dir)
    rate = int(model.config.audio_encoder.sampling_rate)
    frame_rate = getattr(model.config.audio_encoder, "frame_rate", None) or 50
    inputs = processor(text=[prompt], padding=True, return_tensors="pt")
    with torch.inference_mode():
        audio = model.generate(**inputs, max_new_tokens=max(8, int(seconds * frame_rate)), do_sample=True)
    wave = audio[0].float().numpy()                 # (channels, samples)
    mono = wave.mean(axis=0)
    t = np.arange(int(len(mono) * RATE / rate)) * (rate / RATE)
    resampled = np.interp(t, np.arange(len(mono)), mono).astype(np.float32)
    peak = float(np.abs(resampled).max()) or 1.0
    return np.repeat((resampled * (0.5 / peak))[:, None], 2, axis=1)


def film_music(seconds: float, text: str, seed_text: str) -> tuple[np.ndarray, str]:
    """(stereo samples, what made them): MusicGen when configured and working, else the synthesiser."""
    brief = MusicBrief.from_text(text, seed_text)
    model_dir = musicgen_model()
    if model_dir:
        prompt = f"instrumental film score, {brief.describe()}, {text[:200]}"
        try:
            return musicgen_bed(seconds, prompt, model_dir), f"MusicGen ({Path(model_dir).name})"
        except Exception as err:  # a broken checkpoint must not cost the film its music
            return synth_bed(seconds, brief), f"synthesised bed ({brief.describe()}); MusicGen failed: {err}"
    return synth_bed(seconds, brief), f"synthesised bed ({brief.describe()})"
