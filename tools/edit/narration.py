"""The soundtrack: narration spoken by espeak-ng, a music bed ducked under it, loudness -14 LUFS.

Speech: the `espeak-ng` program when it is installed (Debian: apt-get install espeak-ng), otherwise
the same engine through the library the `espeakng-loader` wheel bundles (libespeak-ng.so and its
data, loaded with ctypes), so a fresh machine with nothing but the Python packages still speaks.
When neither is there the cut says so in its warnings and the subtitles still carry the words.
Each cast member speaks with a voice of their own (`voice_for`); lines with no cast get the narrator's.

A narration line starts with its shot. A line longer than its shot is never cut mid-word: it runs
on into the next shot (whose own line waits until it has finished, so voices never overlap), the
film's end is held if the last line needs it, and every such case is flagged in the cut's warnings.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import threading
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .timeline import Segment
from .video_io import EditError, read_audio

RATE = 48000
TARGET_LUFS = -14.0
CEILING = 10 ** (-1.0 / 20)        # -1 dBFS true-peak-ish headroom, what streaming platforms ask for
MUSIC_UNDER_SPEECH_DB = -14.0      # how far the music bed is ducked while someone speaks
MUSIC_BED_LUFS = -28.0             # the bed's level under speech that is at TARGET_LUFS
DUCK_RAMP_SECONDS = 0.25


@dataclass
class SpokenLine:
    shot_id: str
    text: str
    start: float          # seconds in the cut where the voice starts (the shot's start unless delayed)
    samples: np.ndarray   # mono float32 at RATE, leading/trailing silence trimmed
    shot_start: float     # where the shot starts
    shot_seconds: float   # how long the shot is on screen before the next one starts

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE

    @property
    def end(self) -> float:
        return self.start + self.seconds


NARRATOR_VOICE = "en-us"
# Voices for cast members: espeak-ng language voices with its voice variants (+f female, +m male),
# each accepted by both the program and the library. Different people, audibly different voices.
CAST_VOICES = ("en-us+m3", "en-gb-x-rp+f3", "en-029+m2", "en-us+f2", "en-gb-scotland+m7", "en+f4", "en-us+m7",
               "en-gb-x-rp+m1")


def voice_for(cast_id: str | None) -> str:
    """The voice a cast member always speaks with (a stable hash of the id); the narrator's for None."""
    if not cast_id:
        return NARRATOR_VOICE
    return CAST_VOICES[int.from_bytes(hashlib.sha256(cast_id.encode()).digest()[:4], "big") % len(CAST_VOICES)]


def espeak_path() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


class _EspeakLibrary:
    """libespeak-ng from the espeakng-loader wheel, through ctypes. The library keeps global state
    (one voice, one callback), so every line is spoken under a lock."""

    AUDIO_OUTPUT_SYNCHRONOUS = 2
    ESPEAK_RATE = 1
    CHARS_UTF8 = 1

    def __init__(self, library: str, data: str):
        import ctypes

        self._ctypes = ctypes
        self.lib = ctypes.CDLL(library)
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                          ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.rate = self.lib.espeak_Initialize(self.AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), 0)
        if self.rate <= 0:
            raise EditError(f"the bundled espeak-ng library would not start (data at {data})")
        self._chunks: list[np.ndarray] = []
        callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

        def collect(wav, n, _events):
            if n > 0 and wav:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = callback_type(collect)     # kept alive as long as the library may call it
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lock = threading.Lock()

    def speak(self, text: str, voice: str, words_per_minute: int) -> tuple[np.ndarray, int]:
        data = text.encode()
        with self.lock:
            self._chunks = []
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                self.lib.espeak_SetVoiceByName(NARRATOR_VOICE.encode())
            self.lib.espeak_SetParameter(self.ESPEAK_RATE, words_per_minute, 0)
            buf = self._ctypes.create_string_buffer(data)
            if self.lib.espeak_Synth(buf, len(data) + 1, 0, 0, 0, self.CHARS_UTF8, None, None) != 0:
                raise EditError(f"the espeak-ng library failed on {text[:40]!r}")
            self.lib.espeak_Synchronize()
            pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return pcm.astype(np.float32) / 32768.0, self.rate


@lru_cache(maxsize=1)
def espeak_library() -> _EspeakLibrary | None:
    """The wheel's bundled engine, or None when the `espeakng-loader` package is not installed."""
    try:
        import espeakng_loader
    except ImportError:
        return None
    return _EspeakLibrary(str(espeakng_loader.get_library_path()), str(espeakng_loader.get_data_path()))


def speech_engine() -> str | None:
    """'espeak-ng' (the program), 'espeak-ng library' (the wheel's), or None when nothing can speak."""
    if espeak_path() is not None:
        return "espeak-ng"
    try:
        return "espeak-ng library" if espeak_library() is not None else None
    except (OSError, EditError):
        return None


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """espeak-ng --stdout writes a streaming WAV whose sizes are placeholders; read the chunks ourselves."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EditError("espeak-ng did not return a WAV stream")
    pos, rate, bits, channels = 12, 22050, 16, 1
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif cid == b"data":
            pcm = data[pos + 8:]
            pcm = pcm[: len(pcm) // 2 * 2]
            samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
            return samples.reshape(-1, channels).mean(axis=1), rate
        pos += 8 + size
    raise EditError("espeak-ng's WAV stream has no data")


def speak(text: str, *, voice: str = NARRATOR_VOICE, words_per_minute: int = 160) -> np.ndarray:
    """Speak `text`; mono float32 at 48 kHz with the silence at both ends trimmed."""
    exe = espeak_path()
    if exe is not None:
        # text on stdin, never argv: a line starting with '-' must not be read as an option
        out = subprocess.run([exe, "-v", voice, "-s", str(words_per_minute), "--stdin", "--stdout"],
                             input=text.encode(), capture_output=True)
        if out.returncode != 0:
            raise EditError(f"espeak-ng failed on {text[:40]!r}: {out.stderr.decode(errors='replace').strip()}")
        samples, rate = _parse_wav(out.stdout)
    else:
        library = espeak_library()
        if library is None:
            raise EditError("no speech engine: install espeak-ng (apt-get install espeak-ng) or the espeakng-loader "
                            "package (pip install espeakng-loader)")
        samples, rate = library.speak(text, voice, words_per_minute)
    if rate != RATE:
        # linear interpolation is enough: espeak's formant voice has little energy above 5 kHz
        t = np.arange(int(len(samples) * RATE / rate)) * (rate / RATE)
        samples = np.interp(t, np.arange(len(samples)), samples).astype(np.float32)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    if loud.size == 0:
        return np.zeros(0, np.float32)
    return samples[loud[0]: loud[-1] + 1].astype(np.float32)


def speak_shots(segments: list[Segment], warnings: list[str]) -> list[SpokenLine]:
    """Speak every shot's narration, in its speaker's voice (in parallel when the program speaks:
    espeak is single-threaded; the library speaks one line at a time). Problems become warnings."""
    shots = [s for s in segments if s.kind == "shot" and s.narration and s.narration.strip()]
    if not shots:
        return []
    if speech_engine() is None:
        warnings.append("narration skipped: no speech engine (apt-get install espeak-ng, or pip install "
                        "espeakng-loader); the lines are still in the subtitles")
        return []
    with ThreadPoolExecutor(max_workers=4) as pool:
        spoken = list(pool.map(lambda s: speak(s.narration.strip(), voice=s.metadata.get("voice") or NARRATOR_VOICE),
                               shots))
    lines = []
    for seg, samples in zip(shots, spoken):
        if samples.size == 0:
            warnings.append(f"narration of shot '{seg.shot_id}' came out silent; check the text")
            continue
        lines.append(SpokenLine(seg.shot_id, seg.narration.strip(), seg.start_seconds, samples, seg.start_seconds,
                                (seg.cue_end - seg.start) / seg.fps))
    return lines


LINE_GAP_SECONDS = 0.2


def place_lines(lines: list[SpokenLine], warnings: list[str]) -> None:
    """Each line starts with its shot, or just after the previous line if that one is still speaking:
    two voices never talk over each other and no line is cut mid-word. Overruns become warnings."""
    previous_end = float("-inf")
    for line in lines:
        if line.start < previous_end + LINE_GAP_SECONDS:
            line.start = previous_end + LINE_GAP_SECONDS
            warnings.append(f"narration of shot '{line.shot_id}' starts {line.start - line.shot_start:.1f} s into "
                            f"its shot, after the previous line finishes")
        if line.end > line.shot_start + line.shot_seconds + 0.05:
            warnings.append(
                f"narration of shot '{line.shot_id}' runs {line.seconds:.1f} s, the shot is {line.shot_seconds:.1f} s "
                f"on screen: flagged; the line runs on past its shot (shorten it or lengthen the shot)"
            )
        previous_end = line.end


def _duck_envelope(lines: list[SpokenLine], n: int) -> np.ndarray:
    """Music gain: 1 in the clear, MUSIC_UNDER_SPEECH_DB while a line plays, with smooth ramps."""
    speech = np.zeros(n, np.float32)
    for line in lines:
        a = int(line.start * RATE)
        speech[max(0, a): min(n, a + len(line.samples))] = 1.0
    ramp = max(1, int(DUCK_RAMP_SECONDS * RATE))
    # widen by one ramp each side so the music is already down when the first word lands
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    speech = maximum_filter1d(speech, size=2 * ramp + 1)
    speech = uniform_filter1d(speech, size=ramp)
    low = 10 ** (MUSIC_UNDER_SPEECH_DB / 20)
    return 1.0 - (1.0 - low) * speech


def _limit(x: np.ndarray, ceiling: float = CEILING) -> np.ndarray:
    """A look-ahead peak limiter: gain never above what keeps |x| under `ceiling`, changing over ~5 ms."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    peak = np.abs(x).max(axis=1) if x.ndim == 2 else np.abs(x)
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9))
    if need.min() >= 1.0:
        return x
    w = int(0.005 * RATE)
    # min over 2w then mean over w: each averaged gain is <= the gain needed at every peak it covers
    gain = uniform_filter1d(minimum_filter1d(need, size=2 * w + 1), size=w)
    gain = np.minimum(gain, need)
    return x * (gain[:, None] if x.ndim == 2 else gain)


def normalise_loudness(x: np.ndarray, target: float = TARGET_LUFS) -> np.ndarray:
    """Integrated loudness to `target` LUFS (ITU-R BS.1770, tools/edit/loudness.py), peaks limited to -1 dBFS."""
    from tools.edit.loudness import integrated_loudness

    if len(x) < int(0.5 * RATE):
        return x
    for _ in range(4):
        loud = integrated_loudness(x, RATE)
        if not np.isfinite(loud):
            return x
        if abs(loud - target) < 0.3:
            break
        x = _limit(x * 10 ** ((target - loud) / 20))
    return x


def mix_soundtrack(lines: list[SpokenLine], total_seconds: float, out_path: Path, *,
                   music_path: Path | None = None, warnings: list[str] | None = None) -> Path | None:
    """Mix the placed narration and the ducked music bed into a 48 kHz stereo WAV of exactly the
    film's length, normalised to -14 LUFS. Returns None when there is nothing to hear."""
    if not lines and music_path is None:
        return None
    n = int(round(total_seconds * RATE))
    voice = np.zeros(n, np.float32)
    for line in lines:
        a = int(round(line.start * RATE))
        b = min(n, a + len(line.samples))
        if b > a:
            voice[a:b] += line.samples[: b - a]
    mix = np.repeat(voice[:, None], 2, axis=1)
    if lines:
        # the words set the level: normalised alone, so a bed playing through the whole film cannot
        # pull them down (normalising the sum would let a long bed outweigh a few short lines)
        mix = normalise_loudness(mix)
    if music_path is not None:
        music = _music_bed(Path(music_path), n)
        from tools.edit.loudness import integrated_loudness

        loud = integrated_loudness(music, RATE) if len(music) >= RATE // 2 else float("-inf")
        if np.isfinite(loud):
            bed_level = MUSIC_BED_LUFS if lines else TARGET_LUFS
            music *= 10 ** ((bed_level - loud) / 20)
            mix += music * _duck_envelope(lines, n)[:, None]
        elif warnings is not None:
            warnings.append(f"music bed {music_path} is silent; left out")
    mix = _limit(mix) if lines else normalise_loudness(mix)
    write_wav(out_path, mix)
    return out_path


def _music_bed(path: Path, n: int) -> np.ndarray:
    if not path.is_file():
        raise EditError(f"music bed {path} does not exist")
    music = read_audio(path, RATE, 2)
    if len(music) == 0:
        raise EditError(f"music bed {path} holds no audio")
    if len(music) < n:
        music = np.tile(music, (n // len(music) + 1, 1))
    music = music[:n].copy()
    fade_in, fade_out = min(n, int(0.5 * RATE)), min(n, int(1.5 * RATE))
    music[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)[:, None]
    music[n - fade_out:] *= np.linspace(1, 0, fade_out, dtype=np.float32)[:, None]
    return music


def write_wav(path: Path, samples: np.ndarray) -> Path:
    x = samples if samples.ndim == 2 else samples[:, None]
    pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return path
