"""The JSON API: projects (read-only: changes go through the websocket), uploads, health."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, UploadFile, status
from starlette.concurrency import run_in_threadpool

from server.deps import Director, Owner, Settings
from server.models import Health, HTTPError, Me, Upload, protocol_schema

router = APIRouter()

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": HTTPError, "description": "missing or unknown token"},
    429: {"model": HTTPError, "description": "rate limit reached (see Retry-After)"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": HTTPError, "description": "no such project for this user"}}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("reel-director")
    except Exception:
        return "0+unknown"


@router.get("/healthz", response_model=Health, tags=["meta"])
def healthz() -> Health:
    """Liveness: no token needed."""
    return Health(version=_version())


@router.get("/api/me", response_model=Me, responses=AUTH_ERRORS, tags=["meta"])
def me(owner: Owner) -> Me:
    return Me(name=owner)


@router.get("/api/protocol", responses=AUTH_ERRORS, tags=["meta"])
def protocol(owner: Owner) -> dict[str, Any]:
    """JSON Schema of the websocket messages (client->server and server->client) and the error codes."""
    return protocol_schema()


@router.get("/api/projects", responses=AUTH_ERRORS, tags=["projects"])
def list_projects(owner: Owner, director: Director) -> list[dict[str, Any]]:
    """The caller's projects, newest first as the store orders them."""
    return director.list_projects(owner)


@router.get("/api/projects/{project_id}", responses={**AUTH_ERRORS, **NOT_FOUND}, tags=["projects"])
def get_project(project_id: str, owner: Owner, director: Director) -> dict[str, Any]:
    """One project: its latest storyboard, every version, takes per shot, cuts and the chat transcript."""
    # NotFound (-> 404) for someone else's project and a missing one alike: ids are not an oracle.
    return director.project_state(owner, project_id)


# ----------------------------------------------------------------------------- uploads

# (format, kind) by leading bytes. Extensions and the client's Content-Type are not trusted.
def sniff(head: bytes) -> tuple[str, str] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg", "image"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "image"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        return ("mov", "video") if brand == b"qt  " else ("mp4", "video")
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "webm", "video"
    return None


EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "mp4": ".mp4", "mov": ".mov", "webm": ".webm"}
_CHUNK = 1024 * 1024


def _strip_metadata(src: Path, dst: Path) -> bool:
    """Copy `src` to `dst` without EXIF/GPS/container metadata, through the safety tool. False: tool absent."""
    try:
        from tools.safety.faces import strip_metadata
    except ImportError:
        return False
    strip_metadata(src, dst)
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@router.post(
    "/api/uploads",
    response_model=Upload,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH_ERRORS,
               413: {"model": HTTPError, "description": "file larger than the limit for its kind"},
               415: {"model": HTTPError, "description": "not png, jpeg, webp, mp4, mov or webm"},
               422: {"model": HTTPError, "description": "no file, or a file that looks right but cannot be read"}},
    tags=["uploads"],
)
async def upload(file: UploadFile, request: Request, owner: Owner, settings: Settings) -> Upload:
    """A reference image (i2v) or source clip (v2v). The type is read from the file's bytes; metadata is stripped."""
    head = await file.read(64)
    found = sniff(head)
    if found is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "unsupported file: send a png, jpeg or webp image, or an mp4, mov or webm clip")
    fmt, kind = found
    limit = settings.max_image_bytes if kind == "image" else settings.max_video_bytes
    workspace = request.app.state.workspace
    # One folder per user (named by a hash: user names are not path-safe), content-addressed files.
    folder = workspace.uploads_dir / ("u-" + hashlib.sha256(owner.encode()).hexdigest()[:16])
    await run_in_threadpool(folder.mkdir, parents=True, exist_ok=True)
    digest = hashlib.sha256(head)
    size = len(head)
    # The temp file keeps the real extension: the metadata stripper picks image or video by it.
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=EXTENSIONS[fmt])
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            while chunk := await file.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                        f"{kind} is over the {limit / (1024 * 1024):g} MB limit")
                digest.update(chunk)
                out.write(chunk)
        # Named by the bytes sent, so sending the same file twice gives the same id.
        final = folder / f"{digest.hexdigest()[:32]}{EXTENSIONS[fmt]}"
        try:
            stripped = await run_in_threadpool(_strip_metadata, tmp, final)
        except Exception as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"the file starts like a {fmt} but could not be read: {err}") from None
        if stripped:
            tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sha = await run_in_threadpool(_sha256, final)
    return Upload(id=workspace.relative(final), kind=kind, format=fmt, size=final.stat().st_size, sha256=sha,
                  metadata_stripped=stripped)
