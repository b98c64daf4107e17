"""Content keys for takes: the same request always gives the same key; any change to the pixels gives a new one.

`request_key` hashes a canonical JSON of everything that determines a take's pixels. Input files
(reference image, source clip) enter by their *content* hash, so moving or renaming a file reuses
takes while editing its pixels does not. `spec_key` is the same without the seed: every take of an
unchanged shot shares it, whatever seed each one used.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import os
import threading
from pathlib import Path
from typing import Any

# Bump when the canonical form changes, so old keys are never mistaken for new ones.
KEY_SCHEME = 1

# Spellings people and modules use for the same thing -> one canonical name.
ALIASES = {
    "negative": "negative_prompt",
    "reference_image": "reference",
    "image": "reference",
    "source_video": "source",
    "video": "source",
}
# Fields holding a file whose bytes (not name) determine the pixels.
FILE_FIELDS = frozenset({"reference", "source"})

_cache: dict[tuple[str, int, int], str] = {}
_cache_lock = threading.Lock()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 hex of a file's bytes (cached by path, size and mtime, so big clips are read once)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot hash {p}: no such file") from None
    cache_key = (os.path.abspath(p), st.st_size, st.st_mtime_ns)
    with _cache_lock:
        if cache_key in _cache:
            return _cache[cache_key]
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _cache_lock:
        if len(_cache) > 4096:
            _cache.clear()
        _cache[cache_key] = digest
    return digest


def _canonical(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot hash the non-finite number {value}")
        # 512.0 and 512 make the same pixels.
        return int(value) if value.is_integer() else value
    if isinstance(value, (int, str)):
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, Path):
        return {"sha256": file_sha256(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _canonical(value.tolist())
    raise TypeError(f"cannot hash a {type(value).__name__} ({value!r}); pass plain numbers, strings, lists, dicts or paths")


def canonical_request(fields: dict[str, Any]) -> dict[str, Any]:
    """The normalised request that is hashed: aliases merged, files replaced by content hashes, Nones dropped."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        name = ALIASES.get(str(key), str(key))
        if value is None:
            continue
        if name in FILE_FIELDS:
            value = {"sha256": file_sha256(value)}
        value = _canonical(value)
        if name in out and out[name] != value:
            raise ValueError(f"'{key}' and another spelling of '{name}' disagree; pass one of them")
        out[name] = value
    out["_scheme"] = KEY_SCHEME
    return out


def canonical_json(fields: dict[str, Any]) -> str:
    return json.dumps(canonical_request(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def request_key(fields: dict[str, Any]) -> str:
    """sha256 hex of everything that determines a take's pixels (prompt, negative_prompt, seed, backend,
    model, width, height, frames, fps, mode, strength, reference/source file contents, ...)."""
    return hashlib.sha256(canonical_json(fields).encode("ascii")).hexdigest()


def spec_key(fields: dict[str, Any]) -> str:
    """`request_key` without the seed: shared by every take of one unchanged shot."""
    return request_key({k: v for k, v in fields.items() if k != "seed"})
