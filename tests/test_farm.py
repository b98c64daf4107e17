"""The render farm through the Director: one owner per loaded model, crashes vs reported failures, cancel.

The backends here are registered in-process and wrap the real animatic, so the films are real films; what
they add is a record of what the farm did to them (how many calls ran at once, which were started).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.production import Cancelled
from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard, TakeStatus
from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.generate import (
    EXCLUSIVE,
    SHARED,
    BackendCrash,
    GenerationError,
    GenerationRequest,
    GenerationResult,
    register_backend,
)
from tools.generate.animatic import AnimaticBackend

# renders through the render farm: `make test` runs these; `make check` leaves them out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


class Recording:
    """The animatic, recording calls; `hook(request, call_number)` may raise or wait."""

    name = "recording"
    modes = ("t2v",)

    def __init__(self, concurrency: str, hook=None, steps: int = 1, step_seconds: float = 0.0):
        self.concurrency = concurrency
        self.inner = AnimaticBackend()
        self.hook = hook
        self.steps, self.step_seconds = steps, step_seconds
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}
        self.calls: list[tuple[str, int]] = []   # (shot id, seed)

    def model_id(self, request: GenerationRequest) -> str:
        return request.shot.get("subject", "model")   # the subject names the model: shots can share one

    def generate(self, request: GenerationRequest, progress=None) -> GenerationResult:
        model = self.model_id(request)
        with self.lock:
            self.calls.append((request.shot["id"], request.seed))
            n = len(self.calls)
            self.running[model] = self.running.get(model, 0) + 1
            self.most_at_once[model] = max(self.most_at_once.get(model, 0), self.running[model])
        try:
            if self.hook:
                self.hook(request, n)
            for step in range(self.steps):
                time.sleep(self.step_seconds)
                if progress:
                    progress(step + 1, self.steps)
            result = self.inner.generate(request)
            return GenerationResult(frames=result.frames, fps=result.fps, backend=self.name, model=model)
        finally:
            with self.lock:
                self.running[model] -= 1


def director_for(tmp_path, monkeypatch, **settings) -> Director:
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DIRECTOR_FARM", raising=False)
    monkeypatch.delenv("DIRECTOR_FARM_WORKERS", raising=False)
    workspace = Workspace(tmp_path / "home").ensure()
    return Director(store=Store(workspace=workspace), workspace=workspace,
                    settings=AgentSettings(**{"attempts_per_shot": 1, **settings}))


def film(models: list[str], backend: str = "recording") -> Storyboard:
    return Storyboard(title="Errands", resolution=64, fps=8, shots=[
        Shot(id=f"s{i + 1}", duration=1.0, subject=model, action=f"moves {i}", backend=backend)
        for i, model in enumerate(models)])


def test_an_exclusive_model_serves_one_shot_at_a_time_while_shared_backends_run_side_by_side(tmp_path, monkeypatch):
    exclusive = Recording(EXCLUSIVE, steps=4, step_seconds=0.02)
    register_backend("recording", exclusive)
    director = director_for(tmp_path, monkeypatch)
    # two models, three shots each: each model's shots queue on the worker that holds it
    board = film(["model-a", "model-b"] * 3)
    project = director.start_project("ada", board, "test")
    result = director.render("ada", project, out_dir=tmp_path / "out")
    assert result["new_takes"] == 6
    assert exclusive.most_at_once == {"model-a": 1, "model-b": 1}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["farm"]["engine"] == "local"
    assert manifest["farm"]["exclusive_lanes"] == ["recording:model-a", "recording:model-b"]

    # a shared backend's takes overlap (both shots wait for each other: they only finish together)
    meet = threading.Barrier(2, timeout=20)
    shared = Recording(SHARED, hook=lambda request, n: meet.wait())
    register_backend("recording", shared)
    board = film(["model-c", "model-c"])
    project = director.start_project("ada", board, "test")
    director.render("ada", project)
    assert shared.most_at_once == {"model-c": 2}


def test_a_programming_error_in_a_backend_stops_the_render_and_names_the_shot(tmp_path, monkeypatch):
    def hook(request, n):
        if request.shot["id"] == "s2":
            raise IndexError("index 3 is out of bounds for dimension 0 with size 3")

    backend = Recording(EXCLUSIVE, hook=hook)
    register_backend("recording", backend)
    director = director_for(tmp_path, monkeypatch, attempts_per_shot=3)
    board = film(["model-a", "model-a", "model-a"])
    project = director.start_project("ada", board, "test")
    with pytest.raises(BackendCrash) as err:
        director.render("ada", project)
    text = str(err.value)
    assert "shot 's2'" in text and "IndexError" in text and "index 3 is out of bounds" in text
    # not retried as a weak take, and the shot queued after it was never started
    assert [sid for sid, _ in backend.calls] == ["s1", "s2"]
    first = director.store.selected_take(project, "s1")
    assert first is not None and director.workspace.resolve(first.file).is_file()   # earlier work kept
    (crashed,) = director.store.takes_for_shot(project, "s2")
    assert crashed.status == TakeStatus.error and "IndexError" in crashed.error


def test_a_failure_the_backend_reports_is_an_error_take_and_the_shot_is_tried_again(tmp_path, monkeypatch):
    def hook(request, n):
        if n == 1:
            raise GenerationError("out of GPU memory at 1280x720; lower the resolution")

    backend = Recording(EXCLUSIVE, hook=hook)
    register_backend("recording", backend)
    director = director_for(tmp_path, monkeypatch, attempts_per_shot=3)
    board = film(["model-a"])
    project = director.start_project("ada", board, "test")
    director.render("ada", project)
    takes = director.store.takes_for_shot(project, "s1")
    statuses = sorted(t.status for t in takes)
    assert TakeStatus.error in statuses and len(takes) >= 2
    error = next(t for t in takes if t.status == TakeStatus.error)
    assert "out of GPU memory" in error.error
    # the backend failed, not the take: the retry asked for the same take (same seed)
    assert backend.calls[0][1] == backend.calls[1][1]
    assert director.store.selected_take(project, "s1").status != TakeStatus.error


def test_cancel_drops_queued_shots_and_stops_the_running_one_after_its_step(tmp_path, monkeypatch):
    backend = Recording(EXCLUSIVE, steps=200, step_seconds=0.02)   # 4 s per take if left alone
    register_backend("recording", backend)
    director = director_for(tmp_path, monkeypatch)
    board = film(["model-a"] * 4)
    project = director.start_project("ada", board, "test")
    cancel = threading.Event()
    started = threading.Event()

    def emit(event):
        if event["type"] == "shot_progress" and event.get("stage") == "generate":
            started.set()

    threading.Thread(target=lambda: (started.wait(20), cancel.set()), daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        director.render("ada", project, emit=emit, cancel=cancel)
    assert time.monotonic() - t0 < 2.5
    assert len(backend.calls) == 1   # the three queued shots never started


@pytest.mark.slow
def test_ctrl_c_on_make_stops_within_two_seconds(tmp_path):
    """A real `director make` gets SIGINT (Ctrl-C) while its shots render: queued shots are dropped and the
    running takes stop after their current step, so the process ends promptly and delivers nothing."""
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("DIRECTOR_FARM", None)
    brief = ("A 40-second film: a lighthouse keeper at dusk watches a storm roll in over the sea, climbs the "
             "stairs, and lights the lamp. Moody, cinematic.")
    # its own process group, as in a terminal: Ctrl-C reaches the director and its ffmpeg encoders alike
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "make", brief, "--out", str(tmp_path / "out")],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    # wait until rendering is under way: the first take is finished (its thumbnail), others are running
    while time.monotonic() < deadline and not list((tmp_path / "home").glob("projects/*/thumbs/*.jpg")):
        time.sleep(0.1)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    finally:
        proc.kill()
    stopped_after = time.monotonic() - t0
    assert stopped_after < 2.5, stopped_after
    assert proc.returncode != 0
    assert not (tmp_path / "out" / "final.mp4").exists()
    assert "Traceback" not in proc.stderr.read().decode()


def _render_cli(tmp_path, extra_env: dict, backend_lines: str = "") -> tuple[subprocess.CompletedProcess, dict]:
    shots = "\n".join(f"""  - id: s{i}
    duration: 1
    subject: a lighthouse number {i}
    seed: {10 + i}{backend_lines}""" for i in range(2))
    sb = tmp_path / "film.yaml"
    sb.write_text(f"title: Two lights\nresolution: 64\nfps: 8\nshots:\n{shots}\n")
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), **extra_env}
    proc = subprocess.run([sys.executable, "-m", "server.cli", "render", str(sb), "--out", str(tmp_path / "out"),
                           "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text()) if proc.returncode == 0 else {}
    return proc, manifest


@pytest.mark.slow
def test_director_render_on_a_ray_farm_from_the_command_line(tmp_path):
    """`DIRECTOR_FARM=ray director render`: a local Ray starts (with Ray's default token auth), the film is
    made there, and the manifest says so."""
    pytest.importorskip("ray")
    env = {"DIRECTOR_FARM": "ray", "DIRECTOR_RAY_NUM_CPUS": "2", "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "")}
    proc, manifest = _render_cli(tmp_path, {k: v for k, v in env.items() if v})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["new_takes"] >= 2
    assert manifest["farm"]["engine"] == "ray" and manifest["farm"]["address"] == "local"
    assert len(manifest["farm"]["nodes_used"]) == 1


@pytest.mark.slow
def test_director_render_with_a_diffusers_model_from_a_folder_from_the_command_line(tiny_models, tmp_path):
    folder = tiny_models.folder("ltx")
    env = {"DIRECTOR_DIFFUSERS_MODEL_PATHS": json.dumps({"tiny/ltx-video": str(folder)}),
           "DIRECTOR_DIFFUSERS_DEFAULT_T2V": "tiny/ltx-video", "DIRECTOR_DIFFUSERS_STEPS": "2",
           "DIRECTOR_ATTEMPTS_PER_SHOT": "1", "OMP_NUM_THREADS": "1"}
    proc, manifest = _render_cli(tmp_path, env, backend_lines="\n    backend: diffusers")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [t["model"] for t in manifest["takes"]] == ["tiny/ltx-video"] * 2
    assert manifest["farm"]["exclusive_lanes"] == ["diffusers:tiny/ltx-video"]
