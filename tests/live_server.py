"""The app served for tests: over TestClient, or by a real uvicorn on loopback in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Rate limits no test reaches by accident (the tests that check the limits set their own).
FAST_LIMITS = dict(rate_limit_per_minute=1e6, rate_limit_burst=10**6)


@contextmanager
def live_server(env, **settings) -> Iterator[int]:
    """A real uvicorn on loopback serving env's Director with these ServerSettings (over FAST_LIMITS);
    yields its port, and stops it afterwards."""
    import uvicorn

    from server.app import create_app
    from server.settings import ServerSettings

    director, store, *_ = env
    app = create_app(director=director, store=store, settings=ServerSettings(**{**FAST_LIMITS, **settings}))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
