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
