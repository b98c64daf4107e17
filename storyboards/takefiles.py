"""Take files: named by their content, and checked before they are reused.

A take is encoded to a temporary name, then renamed to `takes/<sha256[:2]>/<sha256>.mp4`: two
writers can never interleave in one file, and a name always means the same bytes. The take's row
records the size, mtime and sha256 the file had when written. Before the take is reused, the size
and mtime are compared (cheap); when either changed, the whole file is hashed again. A file that was
swapped for another clip or truncated is then caught instead of landing silently in a cut.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from .artifacts import _fsync_dir
from .hashing import file_sha256
from .schema import Take
from .workspace import Workspace


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    sha256: str
    size: int
    mtime_ns: int


def adopt_take_file(workspace: Workspace, finished: Path, suffix: str = ".mp4") -> WrittenFile:
    """Move a completely written file to its content-named place in the workspace's takes."""
    sha = file_sha256(finished)
    target = workspace.take_path(sha, suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and target.stat().st_size == finished.stat().st_size and file_sha256(target) == sha:
        with contextlib.suppress(FileNotFoundError):
            finished.unlink()   # the same bytes are already there: keep the existing file (and its mtime)
    else:
        os.replace(finished, target)
        _fsync_dir(target.parent)
    stat = target.stat()
    return WrittenFile(target, sha, stat.st_size, stat.st_mtime_ns)


def record_file(take: Take, workspace: Workspace, written: WrittenFile) -> None:
    take.file = workspace.relative(written.path)
    take.content_hash, take.file_size, take.file_mtime_ns = written.sha256, written.size, written.mtime_ns


def take_file_problem(workspace: Workspace, take: Take) -> str | None:
    """None when the take's file is still what was written; else what is wrong with it, in words."""
    if not take.file:
        return "it has no file"
    path = workspace.resolve(take.file)
    try:
        stat = path.stat()
    except OSError:
        return "its file is missing"
    if take.file_size is not None and stat.st_size != take.file_size:
        return f"its file is {stat.st_size} bytes where {take.file_size} were written (truncated or replaced)"
    if take.file_mtime_ns is not None and stat.st_mtime_ns == take.file_mtime_ns:
        return None
    if take.content_hash is None:
        return None   # an older take that recorded nothing to compare with
    if file_sha256(path) != take.content_hash:
        return "its file's content changed since it was written (replaced by another clip?)"
    return None
