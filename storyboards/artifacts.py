"""Atomic writes: a reader sees the old file or the whole new one, never half of either.

Everything in the workspace (takes, cuts, manifests, contact sheets) is written through here:
a temp file in the destination folder (same filesystem, so the rename is atomic), flushed to disk,
then `os.replace`d over the target. A crash or an exception leaves at most a stray temp file that
starts with '.' and contains '.tmp-', never a truncated artifact under the real name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_MARK = ".tmp-"


def _umask_mode() -> int:
    # mkstemp creates files 0600; artifacts should get the permissions a normal open() would give.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_name(target: Path) -> Path:
    # Keep the real suffix last: encoders (ffmpeg, moviepy, PIL) choose the format from it.
    return target.with_name(f".{target.stem}{TEMP_MARK}{secrets.token_hex(4)}{target.suffix}")


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (or needed) on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically (creating parent folders); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}{TEMP_MARK}", suffix=target.suffix, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically (creating parent folders); returns the path."""
    return atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside `path` for code that writes files itself (ffmpeg, moviepy, PIL).

    ``with atomic_path(out / "final.mp4") as tmp: encode(frames, tmp)`` - the temp file keeps the
    ``.mp4`` suffix so the encoder picks the right format. When the block succeeds the temp is
    renamed onto `path`; when it raises, the temp is deleted and `path` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(target)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(
                f"nothing was written to the temporary file {tmp} meant to become {target}; "
                "the code inside `with atomic_path(...) as tmp:` must write to `tmp`"
            )
        with contextlib.suppress(OSError):
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)
