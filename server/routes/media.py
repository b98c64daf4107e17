"""GET /media/{project_id}/{file}: a project's files (cut, subtitles, OTIO, thumbnails) for its owner only."""

from __future__ import annotations

import mimetypes
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from agent.errors import NotFound
from server.deps import Director, Owner
from server.routes.api import AUTH_ERRORS, NOT_FOUND

router = APIRouter()

# Types browsers need right for <track> and downloads; the system table often lacks them.
for _ext, _type in ((".vtt", "text/vtt"), (".srt", "application/x-subrip"), (".otio", "application/json"),
                    (".mp4", "video/mp4"), (".webm", "video/webm"), (".yaml", "text/yaml")):
    mimetypes.add_type(_type, _ext)


@router.get(
    "/media/{project_id}/{file:path}",
    responses={**AUTH_ERRORS, **NOT_FOUND, 200: {"description": "the file (byte ranges supported)"}},
    response_class=FileResponse,
    tags=["media"],
)
def media(project_id: str, file: str, owner: Owner, director: Director) -> Any:
    try:
        path = director.media_path(owner, project_id, file)
    except (NotFound, ValueError, OSError):
        # Other owners, '..', absolute paths and missing files all look the same from outside.
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no file {file!r} in project {project_id!r}") from None
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    # final.mp4 is rewritten by each render: revalidate (ETag) rather than cache blindly.
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, no-cache"})
