"""Settings of the web front door (HTTP API, websocket, page), from `DIRECTOR_SERVER_*` variables.

    DIRECTOR_SERVER_PORT=9000 DIRECTOR_SERVER_RATE_LIMIT_PER_MINUTE=600 director serve

Workspace location (`DIRECTOR_HOME`) and the database are the storyboards layer's settings, not these.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_SERVER_", extra="ignore")

    host: str = Field("127.0.0.1", description="interface to listen on; 0.0.0.0 exposes the server to your network")
    port: int = Field(8000, ge=0, le=65535)

    # Uploads (reference images for i2v, source clips for v2v).
    max_image_bytes: int = Field(20 * MB, ge=1, description="largest png/jpeg/webp upload")
    max_video_bytes: int = Field(200 * MB, ge=1, description="largest mp4/mov/webm upload")
    max_upload_pixels: int = Field(40_000_000, ge=1, description="largest image by its declared size, checked "
                                   "before a pixel is decoded (a 500 KB PNG can declare 13000x13000)")
    upload_decode_workers: int = Field(2, ge=1, description="uploads decoded (metadata stripped) at once")

    # Browsers send Origin on websockets; a page on another site must not drive a user's director.
    ws_allowed_origins: list[str] = Field(default_factory=list, description="origins besides the server's own "
                                          "allowed to open /ws, e.g. [\"https://director.example.com\"] (JSON)")

    # Per-user token bucket shared by HTTP API calls and websocket messages: a steady rate and a burst.
    rate_limit_per_minute: float = Field(240.0, gt=0)
    rate_limit_burst: int = Field(60, ge=1)

    # Websocket.
    ws_max_message_bytes: int = Field(64 * 1024, ge=256, description="a larger client message gets error 'too_large'")
    ws_queue_size: int = Field(1000, ge=10, description="events buffered per connection before a slow client is dropped")
    max_text_chars: int = Field(8000, ge=1, description="longest brief or feedback text")

    # Worker threads: chat (planning, quick edits) and long jobs (render, feedback that re-renders).
    chat_workers: int = Field(16, ge=1)
    render_workers: int = Field(2, ge=1)
