"""The web front door: `create_app()` builds the FastAPI app the CLI's `director serve` runs.

    from server.app import create_app
    app = create_app()                  # a Director on DIRECTOR_HOME, settings from DIRECTOR_SERVER_*
    uvicorn.run(app, host="127.0.0.1", port=8000)

Routes: GET / (the page) · WS /ws · /api/... · /media/... · /healthz · /openapi.json (see routes/).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from agent.errors import DirectorError, as_director_error, public_message
from server.deps import Owner, RateLimiter
from server.hub import Hub
from server.routes import api, media, ws
from server.settings import ServerSettings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("reel_director.server")

# The page loads nothing from elsewhere; media and the websocket are same-origin.
PAGE_CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _resume_unfinished(app: FastAPI) -> None:
    """Pick up renders a previous server left half done, if the Director knows how."""
    director = app.state.director
    resume = getattr(director, "resume_unfinished", None)
    if not callable(resume):
        return
    loop = asyncio.get_running_loop()
    emit = app.state.hub.emitter(loop, owner=None)
    kwargs: dict[str, Any] = {}
    params = inspect.signature(resume).parameters
    if "emit" in params:
        kwargs["emit"] = emit
    if "cancel" in params:
        kwargs["cancel"] = app.state.shutdown

    def run() -> None:
        try:
            resume(**kwargs)
        except Exception:
            log.exception("resuming unfinished renders failed")

    loop.run_in_executor(app.state.render_pool, run)


class OriginCheck:
    """Websockets opened by a browser page on another site are refused at the handshake.

    Browsers always send `Origin` on a websocket and cookies or a token in the page's URL would
    otherwise let any site drive a user's director. Allowed: the server's own origin (the Origin's
    host equals the request's Host), the configured `ws_allowed_origins`, and clients that send no
    Origin at all (scripts, bots: no browser, no ambient credentials)."""

    def __init__(self, app: Any, allowed: list[str]):
        self.app = app
        self.allowed = {o.rstrip("/").lower() for o in allowed}

    def permits(self, scope: dict) -> bool:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.allowed:
            return True
        scheme, _, netloc = origin.partition("://")
        host = headers.get("host", "").lower()
        # Either scheme: behind a TLS proxy the page is https while the server sees plain ws.
        return bool(host) and netloc == host and scheme in ("http", "https")

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not self.permits(scope):
            await receive()   # websocket.connect
            log.warning("websocket from origin %r refused", dict(scope.get("headers", [])).get(b"origin"))
            # Closing before accepting makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": "origin not allowed"})
            return
        await self.app(scope, receive, send)


def http_error(err: BaseException) -> JSONResponse:
    """The one translation of a Director exception for the HTTP API: its status and a body people can read."""
    error = as_director_error(err)
    return JSONResponse({"detail": public_message(error.message), "code": error.code}, status_code=error.http_status)


def create_app(director: Any = None, store: Any = None, settings: ServerSettings | None = None) -> FastAPI:
    """The app. Pass a Director (and its Store) to share them; by default both come from DIRECTOR_HOME."""
    settings = settings or ServerSettings()
    if director is None:
        from agent.session import Director

        director = Director(store=store)
    store = store or director.store

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.chat_pool = ThreadPoolExecutor(settings.chat_workers, thread_name_prefix="director-chat")
        app.state.render_pool = ThreadPoolExecutor(settings.render_workers, thread_name_prefix="director-render")
        # The websocket's quick store reads (the token at the handshake, a subscription's storyboard,
        # history) take turns on one thread. Measured with 200 sessions connecting at once: the shared
        # thread pool grew to dozens of threads, each holding the GIL for its query, and the event loop
        # waited for the GIL at every socket call (protocol p99 130-145 ms on the first burst, 45-70 ms
        # with one thread; a lookup on the loop itself was worse, 170-210 ms).
        app.state.store_pool = ThreadPoolExecutor(1, thread_name_prefix="director-store")
        _resume_unfinished(app)
        try:
            yield
        finally:
            # Renders stop after their current step; finished takes are already stored.
            interrupt = getattr(app.state.director, "interrupt", None)
            if callable(interrupt):
                interrupt()   # before the cancels: the Director records these renders as interrupted
            app.state.shutdown.set()
            for job in list(app.state.hub.jobs.values()):
                job.cancel.set()
            app.state.chat_pool.shutdown(wait=False, cancel_futures=True)
            app.state.render_pool.shutdown(wait=False, cancel_futures=True)
            app.state.store_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="Reel Director",
        summary="A chat-driven video director: storyboard, generate, critique, regenerate, edit, sign.",
        version=api._version(),
        lifespan=lifespan,
        # The schema needs a token like every other route; Swagger UI is off: it loads from a CDN.
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.director = director
    app.state.store = store
    app.state.workspace = director.workspace
    app.state.settings = settings
    app.state.hub = Hub()
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.state.shutdown = threading.Event()

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Tokens travel in URLs (?token=): never hand them to another site as a Referer.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path == "/" or request.url.path.startswith("/static/"):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    @app.exception_handler(DirectorError)
    async def director_error(request: Request, err: DirectorError) -> JSONResponse:
        return http_error(err)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(owner: Owner) -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_middleware(OriginCheck, allowed=settings.ws_allowed_origins)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router)
    app.include_router(media.router)
    app.include_router(ws.router)
    return app
