"""`director mcp` through the official MCP SDK's own client: over stdio against the real CLI in a
subprocess, and over streamable HTTP on loopback with bearer tokens from the store.

A real Director, workspace and SQLite database; films planned at 128 px, 4 s, 8 fps render in seconds.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest

REPO = Path(__file__).resolve().parents[1]
BRIEF = "a small fishing boat leaves a misty harbour at dawn, then gulls circle the lighthouse"


def _structured(result) -> dict:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def _film_session(session, progress: list) -> dict:
    """plan → render (with progress) → feedback → get_cut → verify → the storyboard resource."""
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert {"plan", "render", "feedback", "get_cut", "verify", "list_projects"} <= set(tools)
    assert tools["plan"].input_schema["required"] == ["brief"]
    assert tools["feedback"].input_schema["properties"]["text"]["type"] == "string"
    assert "aspect_ratio" in tools["plan"].input_schema["properties"]

    planned = _structured(await session.call_tool("plan", {"brief": BRIEF, "seconds": 4}))
    pid = planned["project_id"]
    assert pid and planned["version"] == 1 and len(planned["storyboard"]["shots"]) >= 2
    # the film's length as delivered: a 6 s film with a title card is 6 s, though its shots add up to less
    carded = _structured(await session.call_tool("plan", {"brief": BRIEF + ", with a title card", "seconds": 6}))
    assert carded["storyboard"]["title_card"] and abs(carded["duration"] - 6) <= 1 / carded["storyboard"]["fps"]
    assert sum(s["duration"] for s in carded["storyboard"]["shots"]) < 5

    async def on_progress(done, total, message):
        progress.append((done, total, message))

    rendered = _structured(await session.call_tool("render", {"project_id": pid}, progress_callback=on_progress))
    assert rendered["version"] == 1 and rendered["media_url"] == f"/media/{pid}/final.mp4"
    assert rendered["new_takes"] >= len(planned["storyboard"]["shots"])
    assert progress and progress[-1][0] == progress[-1][1] == len(planned["storyboard"]["shots"])

    changed = _structured(await session.call_tool("feedback", {"project_id": pid, "text": "make shot 2 darker", "render": True},
                                                   progress_callback=on_progress))
    assert changed["version"] == 2 and "darker" in changed["reason"] and changed["rendered"]["reused_takes"] >= 1

    cut = _structured(await session.call_tool("get_cut", {"project_id": pid, "include_video": True}))
    assert cut["version"] == 2 and cut["bytes"] > 10_000 and len(cut["video_base64"]) > cut["bytes"]
    checked = _structured(await session.call_tool("verify", {"project_id": pid}))
    assert checked["c2pa"]["valid"] and checked["c2pa"]["ai_generated"] and checked["watermark"]["present"]
    assert checked["label"]["present"] and checked["watermark"]["project_id"] == pid

    resource = await session.read_resource(f"director://projects/{pid}/storyboard")
    board = json.loads(resource.contents[0].text)
    assert board["version"] == 2 and [v["number"] for v in board["versions"]] == [1, 2]

    missing = await session.call_tool("get_cut", {"project_id": "p-00000000"})
    assert missing.is_error and "no project" in missing.content[0].text and "Traceback" not in missing.content[0].text
    return {"pid": pid, "cut": cut, "rendered": rendered}


@pytest.mark.slow
def test_mcp_over_stdio_against_the_real_cli(tmp_path):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home"), "DIRECTOR_USER": "agent", "DIRECTOR_RESOLUTION": "128",
           "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(command=sys.executable, args=["-c", "from server.cli import main; main()", "mcp"],
                                   env=env, cwd=str(REPO))
    progress: list = []

    async def main():
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await _film_session(session, progress)

    out = anyio.run(main)
    # On stdio the client is on this machine: the cut's path is given, and it is the agent's film.
    assert Path(out["cut"]["path"]).is_file() and out["cut"]["path"].startswith(str(tmp_path))
    from storyboards.store import Store
    from storyboards.workspace import Workspace

    with Store(workspace=Workspace(tmp_path / "home")) as store:
        assert store.get_project(out["pid"]).owner == "agent"


@pytest.fixture
def http_server(tmp_path, monkeypatch):
    import uvicorn

    from agent.session import Director
    from server.mcp_server import build_server
    from storyboards.store import Store
    from storyboards.workspace import Workspace

    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIRECTOR_RESOLUTION", "128")
    workspace = Workspace(tmp_path / "home").ensure()
    director = Director(store=Store(workspace=workspace), workspace=workspace)
    tokens = {name: director.store.create_user(name)[1] for name in ("ann", "bob")}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = build_server(director, http=True, port=port)
    server = uvicorn.Server(uvicorn.Config(app.streamable_http_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/mcp", tokens, director
    server.should_exit = True
    thread.join(10)


def _client(url: str, token: str | None):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=120))


@pytest.mark.slow
def test_mcp_over_streamable_http_with_tokens_and_owner_isolation(http_server):
    import httpx2
    from mcp import ClientSession

    url, tokens, director = http_server
    # No token, or a wrong one: refused before any tool runs.
    for headers in ({}, {"Authorization": "Bearer rd_not-a-token"}):
        r = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                        headers={**headers, "Accept": "application/json, text/event-stream"})
        assert r.status_code == 401

    progress: list = []

    async def as_ann():
        async with _client(url, tokens["ann"]) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await _film_session(session, progress)

    out = anyio.run(as_ann)
    pid = out["pid"]
    assert director.store.get_project(pid).owner == "ann"
    # Over HTTP no path on the server's disk is given out.
    assert out["cut"]["path"] is None and out["rendered"]["path"] is None

    async def as_bob():
        async with _client(url, tokens["bob"]) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            listed = _structured(await session.call_tool("list_projects", {}))
            theirs = await session.call_tool("get_cut", {"project_id": pid})
            change = await session.call_tool("feedback", {"project_id": pid, "text": "make it vertical"})
            try:
                await session.read_resource(f"director://projects/{pid}/storyboard")
                peeked = "read"
            except Exception as e:  # the SDK raises the server's error for a resource it could not read
                peeked = str(e)
            return listed, theirs, change, peeked

    listed, theirs, change, peeked = anyio.run(as_bob)
    assert peeked != "read" and "no project" in peeked and "Traceback" not in peeked
    assert listed in ([], {"result": []})
    assert theirs.is_error and "no project" in theirs.content[0].text
    assert change.is_error and "no project" in change.content[0].text
    assert director.store.get_version(pid).storyboard.aspect_ratio == "16:9"
