"""The cut's soundtrack as an AAC track, cached by what went into it (incremental finishing, issue 17.1).

Mixing (loudness passes over the whole film) and AAC encoding cost more than joining a cut from
cached pieces, and feedback that changes a shot's picture or the order of silent shots leaves the
soundtrack as it was. So the encoded track is kept under the hash of every input of the mix: each
spoken line's start and samples, the film's length in samples, the music bed's bytes, and the mix
and encoder settings. A cut whose soundtrack is unchanged copies the cached track into the film;
otherwise it is mixed, and encoded in the background while the pieces are made.

The track is encoded from a WAV of exactly the film's length, so it decodes to exactly the film's
length (the one-step "apad + shortest" mux it replaces ended a few hundred samples short).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from storyboards.artifacts import atomic_write_text

from .narration import RATE, SpokenLine, mix_soundtrack
from .video_io import EditError, ffmpeg_exe

SOUNDTRACK_VERSION = 1                  # bump when the mix changes, so old tracks are not reused
AAC_ARGS = ["-c:a", "aac", "-b:a", "192k"]


def _file_digest(path: Path) -> str | None:
    if not path.is_file():
        return None                     # the mixer names the missing file
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def soundtrack_key(lines: list[SpokenLine], total_seconds: float, music_path: Path | None) -> str | None:
    """The hash of every input of the mix; None when one cannot be named (a missing music file)."""
    music = None
    if music_path is not None:
        music = _file_digest(Path(music_path))
        if music is None:
            return None
    h = hashlib.sha256(json.dumps({"v": SOUNDTRACK_VERSION, "rate": RATE, "samples": int(round(total_seconds * RATE)),
                                   "music": music, "music_path": str(music_path), "aac": AAC_ARGS, "lines": len(lines)}).encode())
    for line in lines:
        h.update(repr(float(line.start)).encode())
        h.update(str(line.samples.dtype).encode())
        h.update(line.samples.tobytes())
    return h.hexdigest()


class Soundtrack:
    """The film's soundtrack as an AAC file to stream-copy into the cut (`path()`), or none (`None`).

    Made with `start`; `path()` waits for a background encode. Use as a context manager, so an
    encode still running when the cut fails is stopped."""

    def __init__(self, final: Path | None, proc: subprocess.Popen | None = None, part: Path | None = None,
                 log=None, reused: bool = False):
        self._final, self._proc, self._part, self._log = final, proc, part, log
        self.reused = reused

    @classmethod
    def start(cls, lines: list[SpokenLine], total_seconds: float, music_path: Path | None, cache_dir: Path,
              tmp: Path, warnings: list[str]) -> Soundtrack:
        if not lines and music_path is None:
            return cls(None)
        key = soundtrack_key(lines, total_seconds, music_path)
        if key is not None:
            final = cache_dir / key[:2] / f"{key}.m4a"
            note = final.with_suffix(".json")
            saved = json.loads(note.read_text()) if note.is_file() else None
            if saved is not None and (not saved["audio"] or final.is_file()):
                warnings.extend(saved["warnings"])
                return cls(final if saved["audio"] else None, reused=True)
        mixed_warnings: list[str] = []
        wav = mix_soundtrack(lines, total_seconds, tmp / "soundtrack.wav", music_path=music_path, warnings=mixed_warnings)
        warnings.extend(mixed_warnings)
        if key is None:
            final = tmp / "soundtrack.m4a"
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(note, json.dumps({"audio": wav is not None, "warnings": mixed_warnings}))
        if wav is None:
            return cls(None)
        fd, part_name = tempfile.mkstemp(prefix=".", suffix=".m4a", dir=final.parent)
        os.close(fd)
        part = Path(part_name)
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(wav),
                                 "-map", "0:a:0", *AAC_ARGS, "-f", "mp4", str(part)],
                                stdout=subprocess.DEVNULL, stderr=log)
        return cls(final, proc, part, log)

    def path(self) -> Path | None:
        """The encoded track (waiting for its encode to finish), or None for a silent film."""
        if self._proc is not None:
            rc = self._proc.wait()
            self._log.seek(0)
            said = self._log.read().decode(errors="replace").strip()[-500:]
            self._close()
            if rc != 0:
                raise EditError(f"ffmpeg could not encode the soundtrack: {said or f'exit code {rc}'}")
            os.chmod(self._part, 0o644)
            os.replace(self._part, self._final)     # atomically: a crash never leaves half a track in the cache
        return self._final

    def _close(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Soundtrack:
        return self

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._close()
        if self._part is not None and self._part.exists():
            self._part.unlink()
