"""The JSON API: projects (read-only: changes go through the websocket), uploads, health."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from agent.editing import upload_folder
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


class _Refused(Exception):
    def __init__(self, status_code: int, detail: str):
        self.status_code, self.detail = status_code, detail


class _FileSink:
    """The `file` field of a multipart body, written to a temp file while it streams in.

    The type is sniffed from the first bytes and the size limit for that type is enforced on every
    chunk, so an oversized body is refused at the limit, never written to disk in full."""

    def __init__(self, folder: Path, limits: dict[str, int]):
        self.folder, self.limits = folder, limits
        self.head = b""
        self.found: tuple[str, str] | None = None
        self.limit = max(limits.values())
        self.size = 0
        self.digest = hashlib.sha256()
        self.tmp: Path | None = None
        self._out = None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.found is None:
            self.head += data
            if len(self.head) < 64:
                return
            self._open()
            data, self.head = self.head, b""
        if self.size > self.limit:
            kind = self.found[1] if self.found else "file"
            raise _Refused(status.HTTP_413_CONTENT_TOO_LARGE, f"{kind} is over the {self.limit / MB:g} MB limit")
        self.digest.update(data)
        self._out.write(data)

    def _open(self) -> None:
        self.found = sniff(self.head)
        if self.found is None:
            raise _Refused(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED)
        self.limit = self.limits[self.found[1]]
        # The temp file keeps the real extension: the metadata stripper picks image or video by it.
        fd, name = tempfile.mkstemp(dir=self.folder, prefix=".upload-", suffix=EXTENSIONS[self.found[0]])
        self.tmp, self._out = Path(name), os.fdopen(fd, "wb")

    def finish(self) -> None:
        if self.found is None:   # under 64 bytes in all
            self._open()
            self.digest.update(self.head)
            self._out.write(self.head)
        self._out.close()

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


MB = 1024 * 1024
UNSUPPORTED = "unsupported file: send a png, jpeg or webp image, or an mp4, mov or webm clip"
_FORM_OVERHEAD = 64 * 1024   # boundaries, part headers and small fields around the file


async def _receive_file(request: Request, folder: Path, limits: dict[str, int]) -> _FileSink:
    """Stream the multipart body into a _FileSink; _Refused as soon as something is wrong."""
    from python_multipart import MultipartParser
    from python_multipart.multipart import parse_options_header

    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise _Refused(status.HTTP_422_UNPROCESSABLE_CONTENT, "send the file as multipart/form-data, field 'file'")
    most = max(limits.values()) + _FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        # Refused before one byte of the body is read.
        raise _Refused(status.HTTP_413_CONTENT_TOO_LARGE, f"the upload is {int(declared) / MB:.0f} MB; "
                       f"the limit is {max(limits.values()) / MB:g} MB")
    sink = _FileSink(folder, limits)
    state = {"header": b"", "headers": b"", "is_file": False, "seen": False}

    def on_header_field(data, start, end):
        state["header"] += data[start:end]

    def on_header_value(data, start, end):
        state["headers"] += state["header"].lower() + b":" + data[start:end] + b"\n"
        state["header"] = b""

    def on_headers_finished():
        disposition = next((line for line in state["headers"].split(b"\n") if line.startswith(b"content-disposition:")), b"")
        _, opts = parse_options_header(disposition.partition(b":")[2])
        state["is_file"] = opts.get(b"name") == b"file" and not state["seen"]
        state["seen"] = state["seen"] or state["is_file"]
        state["headers"] = b""

    def on_part_data(data, start, end):
        if state["is_file"]:
            sink.write(data[start:end])

    def on_part_end():
        state["is_file"] = False

    parser = MultipartParser(boundary, {"on_header_field": on_header_field, "on_header_value": on_header_value,
                                        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
                                        "on_part_end": on_part_end})
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:
                raise _Refused(status.HTTP_413_CONTENT_TOO_LARGE,
                               f"the upload is over the {max(limits.values()) / MB:g} MB limit")
            parser.write(chunk)
        parser.finalize()
        if not state["seen"]:
            raise _Refused(status.HTTP_422_UNPROCESSABLE_CONTENT, "no file: send it as the multipart field 'file'")
        sink.finish()
    except BaseException as err:
        sink.discard()
        if isinstance(err, _Refused):
            raise
        if isinstance(err, Exception) and type(err).__module__.startswith("python_multipart"):
            raise _Refused(status.HTTP_422_UNPROCESSABLE_CONTENT, "the multipart body is malformed") from None
        raise
    return sink


def _check_image(path: Path, fmt: str, max_pixels: int) -> None:
    """Refuse an image by its declared size before anything decodes its pixels."""
    from tools.media_kind import MediaError, TooManyPixels, image_info

    try:
        image_info(path, max_pixels=max_pixels)
    except TooManyPixels as err:
        size = f"{err.width}x{err.height} ({err.width * err.height / 1e6:.0f} MP)" if err.width else "too large"
        raise _Refused(status.HTTP_413_CONTENT_TOO_LARGE,
                       f"the image is {size}; the limit is {max_pixels / 1e6:g} MP") from None
    except MediaError:
        raise _Refused(status.HTTP_422_UNPROCESSABLE_CONTENT,
                       f"the file starts like a {fmt} but could not be read; send an undamaged file") from None


_UPLOAD_BODY = {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "a png, jpeg or webp image, or an mp4, mov or webm clip"}}}}},
    "required": True}


@router.post(
    "/api/uploads",
    response_model=Upload,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH_ERRORS,
               413: {"model": HTTPError, "description": "file larger than the limit for its kind, or an image "
                                                        "with more pixels than the limit"},
               415: {"model": HTTPError, "description": "not png, jpeg, webp, mp4, mov or webm"},
               422: {"model": HTTPError, "description": "no file, or a file that looks right but cannot be read"}},
    tags=["uploads"],
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload(request: Request, owner: Owner, settings: Settings) -> Upload:
    """A reference image (i2v) or source clip (v2v). The type is read from the file's bytes; metadata is stripped.

    The body is read as it streams: past the size limit the upload stops there with 413, and an
    image declaring more pixels than the limit is refused before it is decoded."""
    workspace = request.app.state.workspace
    # One folder per user (named by a hash: user names are not path-safe), content-addressed files.
    folder = workspace.uploads_dir / upload_folder(owner)
    await run_in_threadpool(folder.mkdir, parents=True, exist_ok=True)
    limits = {"image": settings.max_image_bytes, "video": settings.max_video_bytes}
    try:
        sink = await _receive_file(request, folder, limits)
    except _Refused as refused:
        # Close the connection: otherwise the server keeps reading (and discarding) the rest of a
        # body the client may go on sending for minutes.
        raise HTTPException(refused.status_code, refused.detail, headers={"Connection": "close"}) from None
    (fmt, kind), tmp = sink.found, sink.tmp
    final = folder / f"{sink.digest.hexdigest()[:32]}{EXTENSIONS[fmt]}"   # the same file twice: the same id
    try:
        if kind == "image":
            await run_in_threadpool(_check_image, tmp, fmt, settings.max_upload_pixels)
        async with _decode_slots(request.app, settings.upload_decode_workers):
            try:
                stripped = await run_in_threadpool(_strip_metadata, tmp, final)
            except Exception as err:  # noqa: BLE001 - any failure to read it is the file's fault
                raise _Refused(status.HTTP_422_UNPROCESSABLE_CONTENT, f"the file starts like a {fmt} but could "
                               f"not be read ({type(err).__name__}); send an undamaged file") from None
        if stripped:
            tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, final)
    except _Refused as refused:
        tmp.unlink(missing_ok=True)
        raise HTTPException(refused.status_code, refused.detail) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sha = await run_in_threadpool(_sha256, final)
    return Upload(id=workspace.relative(final), kind=kind, format=fmt, size=final.stat().st_size, sha256=sha,
                  metadata_stripped=stripped)


def _decode_slots(app: Any, workers: int) -> asyncio.Semaphore:
    """At most `workers` uploads decoded at once, whatever the number of people sending them."""
    slots = getattr(app.state, "upload_decode_slots", None)
    if slots is None:
        slots = app.state.upload_decode_slots = asyncio.Semaphore(workers)
    return slots
