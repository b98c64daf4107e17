"""Fixtures shared by the server tests: a real workspace, store and Director, and two users."""

from __future__ import annotations

import pytest

from agent.session import Director
from storyboards.store import Store
from storyboards.workspace import Workspace


@pytest.fixture
def env(tmp_path, monkeypatch):
    """(director, store, workspace, ann's token, bob's token) on a workspace in tmp_path."""
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    workspace = Workspace(tmp_path / "home").ensure()
    store = Store(workspace=workspace)
    director = Director(store=store, workspace=workspace)
    _, ann = store.create_user("ann")
    _, bob = store.create_user("bob")
    return director, store, workspace, ann, bob


@pytest.fixture
def live_port(env):
    """A real uvicorn server on loopback in a thread, serving the app over env's Director; yields its port."""
    import socket
    import threading
    import time

    import uvicorn

    from server.app import create_app
    from server.settings import ServerSettings

    director, store, *_ = env
    app = create_app(director=director, store=store,
                     settings=ServerSettings(rate_limit_per_minute=1e6, rate_limit_burst=10**6))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny random-weight diffusers pipelines saved to folders, each built at most once per session
    (tests/tiny_pipelines.py). `tiny_models.env(monkeypatch, {"t2v": "ltx"})` points the backend at them."""
    pytest.importorskip("diffusers")
    from tiny_pipelines import TinyModels

    return TinyModels(tmp_path_factory.mktemp("tiny-models"))
