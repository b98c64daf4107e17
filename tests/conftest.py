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
    from live_server import live_server

    with live_server(env) as port:
        yield port


@pytest.fixture
def client(env):
    """The app over env's Director through FastAPI's TestClient, with rate limits no test reaches."""
    from fastapi.testclient import TestClient
    from live_server import FAST_LIMITS

    from server.app import create_app
    from server.settings import ServerSettings

    director, store, *_ = env
    with TestClient(create_app(director=director, store=store, settings=ServerSettings(**FAST_LIMITS))) as c:
        yield c


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny random-weight diffusers pipelines saved to folders, each built at most once per session
    (tests/tiny_pipelines.py). `tiny_models.env(monkeypatch, {"t2v": "ltx"})` points the backend at them."""
    pytest.importorskip("diffusers")
    from tiny_pipelines import TinyModels

    return TinyModels(tmp_path_factory.mktemp("tiny-models"))


POSTGRES_SKIP = ("PostgreSQL tests need DIRECTOR_TEST_DATABASE_URL, the admin URL of a throwaway server "
                 "(`.ci/run` starts one with `.ci/postgres start DIR`)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database: a SQLite file in tmp_path, or a new database on the PostgreSQL server
    named by DIRECTOR_TEST_DATABASE_URL (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'director.db').as_posix()}"
        return
    import os
    import secrets

    admin = os.environ.get("DIRECTOR_TEST_DATABASE_URL")
    if not admin:
        pytest.skip(POSTGRES_SKIP)
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"director_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
