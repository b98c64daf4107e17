"""Dependencies shared by the routes: the app's objects, who is calling, and per-user rate limits.

A token comes as `Authorization: Bearer TOKEN` or `?token=TOKEN` (browsers cannot set headers on a
websocket, an <img> or a <video>, so the query form is needed). Tokens come from `director users add NAME`.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from server.settings import ServerSettings


class RateLimiter:
    """A token bucket per key: `per_minute` steady, up to `burst` at once. Thread-safe."""

    def __init__(self, per_minute: float, burst: int):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token. Returns 0.0 when allowed, else the seconds until one is free."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


def owner_of(user: Any) -> str:
    """The owner string the Director keys projects by: the user's name (what `director users add` takes)."""
    for attr in ("name", "id"):
        value = getattr(user, attr, None)
        if value is not None:
            return str(value)
    if isinstance(user, dict):
        return str(user.get("name") or user.get("id"))
    return str(user)


def token_from(conn: HTTPConnection) -> str | None:
    auth = conn.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = conn.query_params.get("token")
    return token.strip() if token and token.strip() else None


def user_for(conn: HTTPConnection, token: str | None) -> Any | None:
    if not token or len(token) > 512:
        return None
    return conn.app.state.store.user_for_token(token)


# Declared for OpenAPI (so /docs and schemathesis know how to authenticate); the check itself is
# token_from(), which reads both.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer TOKEN (from `director users add NAME`)")
_query = APIKeyQuery(name="token", auto_error=False, description="?token=TOKEN, for links, <video> and websockets")


def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


def get_director(request: Request) -> Any:
    return request.app.state.director


def current_user(
    request: Request,
    _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    _q: Annotated[str | None, Depends(_query)] = None,
) -> Any:
    """The calling user, or 401; then one request off the user's rate budget, or 429."""
    user = user_for(request, token_from(request))
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown token: send 'Authorization: Bearer TOKEN' or '?token=TOKEN' "
            "(create one with `director users add NAME`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    wait = request.app.state.limiter.acquire(owner_of(user))
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit reached; retry in {wait:.1f} s",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return user


def current_owner(user: Annotated[Any, Depends(current_user)]) -> str:
    return owner_of(user)


Owner = Annotated[str, Depends(current_owner)]
Director = Annotated[Any, Depends(get_director)]
Settings = Annotated[ServerSettings, Depends(get_settings)]
