"""The runway backend through the REAL runwayml SDK, against a local server that speaks Runway's API.

The server (http.server on 127.0.0.1, a random port) answers POST /v1/text_to_video, /v1/image_to_video,
/v1/video_to_video and GET /v1/tasks/{id} the way the SDK expects, and serves an mp4 made here as
the task output. No network beyond loopback.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("runwayml")

from tools.generate.base import BackendError, GenerationRequest  # noqa: E402
from tools.generate.runway import RunwayBackend, RunwaySettings, closest_ratio  # noqa: E402


def make_mp4(path: Path, frames: int = 20, fps: int = 10, size=(64, 36)) -> bytes:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for k in range(frames):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, :, 2] = 40 + 8 * k                 # warming up over time
        cv2.rectangle(img, (2 * k, 8), (2 * k + 10, 24), (255, 255, 255), -1)
        writer.write(img)
    writer.release()
    return path.read_bytes()


class FakeRunway:
    """State of the local API: tasks, what was asked, and which failures to stage."""

    def __init__(self, video: bytes):
        self.video = video
        self.tasks: dict[str, dict] = {}
        self.requests: list[tuple[str, dict, dict]] = []
        self.polls: dict[str, int] = {}
        self.downloads = 0
        self.break_next_downloads = 0
        self.create_status: int | None = None     # 429 / 402 on create
        self.fail_with: tuple[str, str] | None = None   # (failure, failureCode)


def make_handler(state: FakeRunway):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append((self.path, body, dict(self.headers)))
            if self.headers.get("Authorization") != "Bearer key_test":
                return self._json(401, {"error": "bad key"})
            if state.create_status == 429:
                return self._json(429, {"error": "You have exceeded your concurrency limit."})
            if state.create_status == 402:
                return self._json(402, {"error": "You do not have enough credits to run this task."})
            if self.path not in ("/v1/text_to_video", "/v1/image_to_video", "/v1/video_to_video"):
                return self._json(404, {"error": "no such endpoint"})
            task_id = f"task-{len(state.tasks) + 1:04d}"
            state.tasks[task_id] = {"fail": state.fail_with}
            self._json(200, {"id": task_id, "estimatedCost": {"credits": 25}})

        def do_GET(self):
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path.startswith("/v1/tasks/"):
                task_id = self.path.rsplit("/", 1)[1]
                if task_id not in state.tasks:
                    return self._json(404, {"error": "task not found"})
                n = state.polls[task_id] = state.polls.get(task_id, 0) + 1
                common = {"id": task_id, "createdAt": "2026-11-25T00:00:00Z"}
                if n == 1:
                    return self._json(200, {**common, "status": "PENDING", "estimatedCost": {"credits": 25}})
                if n == 2:
                    return self._json(200, {**common, "status": "RUNNING", "progress": 0.5,
                                            "estimatedCost": {"credits": 25}})
                fail = state.tasks[task_id]["fail"]
                if fail:
                    return self._json(200, {**common, "status": "FAILED", "failure": fail[0], "failureCode": fail[1],
                                            "cost": {"credits": 0}})
                return self._json(200, {**common, "status": "SUCCEEDED", "cost": {"credits": 25},
                                        "output": [f"{host}/files/{task_id}.mp4?sig={n}"]})
            if self.path.startswith("/files/"):
                state.downloads += 1
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(state.video)))
                self.end_headers()
                if state.break_next_downloads > 0:
                    state.break_next_downloads -= 1
                    self.wfile.write(state.video[: len(state.video) // 3])   # then the connection drops
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(state.video)
                return
            self._json(404, {"error": "not found"})

    return Handler


@pytest.fixture()
def server(tmp_path):
    state = FakeRunway(make_mp4(tmp_path / "output.mp4"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    httpd.shutdown()
    httpd.server_close()


def backend_for(state, tmp_path, **kw) -> RunwayBackend:
    settings = RunwaySettings(base_url=state.url, poll_interval=0.01, poll_max_interval=0.05, download_backoff=0.01,
                              max_retries=0, download_dir=tmp_path / "downloads", **kw)
    return RunwayBackend(settings, api_key="key_test")


def request(**kw) -> GenerationRequest:
    base = dict(prompt="a small fishing boat leaving a stone harbour at dawn", frames=48, fps=24, width=128,
                height=72, seed=7)
    base.update(kw)
    return GenerationRequest(**base)


def test_text_to_video_through_the_sdk(server, tmp_path):
    backend = backend_for(server, tmp_path)
    seen = []
    out = backend.generate(request(), progress=lambda d, t: seen.append((d, t)))

    path, body, headers = server.requests[0]
    assert path == "/v1/text_to_video"
    assert body["model"] == "gen4.5" and body["ratio"] == "1280:720" and body["duration"] == 2
    assert body["promptText"].startswith("a small fishing boat") and body["seed"] == 7
    assert "X-Runway-Version" in headers or "x-runway-version" in {k.lower() for k in headers}

    assert out.frames.shape == (48, 72, 128, 3) and out.fps == 24 and out.backend == "runway"
    assert out.params["task_id"] == "task-0001" and out.params["credits"] == 25
    assert Path(out.params["output_file"]).is_file()
    assert (50, 100) in seen and seen[-1] == (100, 100)
    # the served clip warms up over time, and the take keeps that order
    assert out.frames[-1, ..., 0].mean() > out.frames[0, ..., 0].mean() + 20


def test_image_and_video_inputs_are_sent(server, tmp_path):
    backend = backend_for(server, tmp_path)
    ref = tmp_path / "ref.png"
    cv2.imwrite(str(ref), np.full((72, 128, 3), 128, np.uint8))
    out = backend.generate(request(mode="i2v", reference_image=ref, frames=24, width=72, height=128))
    _, body, _ = server.requests[-1]
    assert body["model"] == "gen4_turbo" and body["promptImage"].startswith("data:image/png;base64,")
    assert body["ratio"] == "720:1280" and body["duration"] == 5
    assert out.frames.shape == (24, 128, 72, 3)
    assert any("5 s" in n and "trimmed" in n for n in out.notes)

    clip = tmp_path / "source.mp4"
    make_mp4(clip, frames=10)
    backend.generate(request(mode="v2v", source_video=clip, frames=24))
    path, body, _ = server.requests[-1]
    assert path == "/v1/video_to_video" and body["model"] == "aleph2"
    assert body["videoUri"].startswith("data:video/mp4;base64,")


def test_refusal_is_a_clear_error(server, tmp_path):
    server.fail_with = ("The prompt was flagged by content moderation.", "SAFETY.INPUT.TEXT")
    backend = backend_for(server, tmp_path)
    with pytest.raises(BackendError) as err:
        backend.generate(request())
    text = str(err.value)
    assert "refused by Runway's content moderation" in text and "SAFETY.INPUT.TEXT" in text
    assert "task-0001" in text and "flagged" in text


@pytest.mark.parametrize("status, words", [(429, "too many requests or out of quota"), (402, "out of credits")])
def test_quota_errors_are_clear(server, tmp_path, status, words):
    server.create_status = status
    with pytest.raises(BackendError, match=words) as err:
        backend_for(server, tmp_path).generate(request())
    assert f"({status})" in str(err.value)


def test_a_download_that_breaks_once_is_retried_and_the_take_kept(server, tmp_path):
    server.break_next_downloads = 1
    backend = backend_for(server, tmp_path)
    out = backend.generate(request())
    assert server.downloads == 2 and len(server.tasks) == 1
    assert out.frames.shape == (48, 72, 128, 3)
    assert Path(out.params["output_file"]).read_bytes() == server.video


def test_a_failed_download_keeps_the_task_id_and_resumes_without_paying_again(server, tmp_path):
    server.break_next_downloads = 10
    backend = backend_for(server, tmp_path, download_retries=2)
    with pytest.raises(BackendError, match="nothing is lost: resume with task id task-0001"):
        backend.generate(request())
    assert not list((tmp_path / "downloads").glob("*.part*"))   # no half file left behind

    server.break_next_downloads = 0
    again = backend.generate(request())                     # same take asked again: no new task
    assert len(server.tasks) == 1 and again.params["task_id"] == "task-0001"
    fresh = backend_for(server, tmp_path / "other")          # another process: resume from the id
    resumed = fresh.resume("task-0001", request())
    assert len(server.tasks) == 1 and resumed.frames.shape == (48, 72, 128, 3)
    assert any("resumed Runway task task-0001" in n for n in resumed.notes)


def test_without_a_key_it_says_to_set_one(monkeypatch):
    monkeypatch.delenv("RUNWAYML_API_SECRET", raising=False)
    with pytest.raises(BackendError, match="set RUNWAYML_API_SECRET"):
        RunwayBackend(RunwaySettings()).generate(request())


def test_sizes_map_to_the_ratios_the_api_takes():
    assert closest_ratio(1920, 1080, ("1280:720", "720:1280")) == "1280:720"
    assert closest_ratio(1080, 1920, ("1280:720", "720:1280")) == "720:1280"
    assert closest_ratio(1000, 1000, ("1280:720", "720:1280", "960:960")) == "960:960"
    backend = RunwayBackend(RunwaySettings(), api_key="unused")
    body, notes = backend.build(request(frames=24 * 7))
    assert body["duration"] == 7
    body, notes = backend.build(request(model="gen4_turbo", mode="i2v", reference_image=Path("x.png"),
                                        frames=24 * 7))
    assert body["duration"] == 10
    with pytest.raises(BackendError, match="does not do t2v"):
        backend.build(replace(request(), model="aleph2"))


@pytest.mark.slow
def test_a_shot_retried_after_a_failed_download_reuses_the_task_already_paid_for(server, tmp_path, monkeypatch):
    """Through the Director: the take's download breaks, the production loop tries the shot again, and
    the retry picks up the finished task instead of creating (and paying for) a second one."""
    from agent.session import Director
    from agent.settings import AgentSettings
    from storyboards.schema import Shot, Storyboard, TakeStatus
    from storyboards.store import Store
    from storyboards.workspace import Workspace
    from tools.generate import base

    for name, value in {"RUNWAYML_API_SECRET": "key_test", "DIRECTOR_RUNWAY_BASE_URL": server.url,
                        "DIRECTOR_RUNWAY_POLL_INTERVAL": "0.01", "DIRECTOR_RUNWAY_POLL_MAX_INTERVAL": "0.05",
                        "DIRECTOR_RUNWAY_DOWNLOAD_RETRIES": "1", "DIRECTOR_RUNWAY_DOWNLOAD_BACKOFF": "0.01",
                        "DIRECTOR_RUNWAY_MAX_RETRIES": "0", "DIRECTOR_RUNWAY_DOWNLOAD_DIR": str(tmp_path / "dl"),
                        "DIRECTOR_HOME": str(tmp_path / "home")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(base._instances, "runway", raising=False)   # a backend made with these settings
    server.break_next_downloads = 1
    workspace = Workspace(tmp_path / "home").ensure()
    director = Director(store=Store(workspace=workspace), workspace=workspace,
                        settings=AgentSettings(attempts_per_shot=2))
    board = Storyboard(title="Harbour", resolution=64, fps=8, shots=[
        Shot(id="boat", duration=2, subject="a small fishing boat", setting="a stone harbour", backend="runway")])
    project = director.start_project("ada", board, "test")

    result = director.render("ada", project, out_dir=tmp_path / "out")

    created = [path for path, _, _ in server.requests if path == "/v1/text_to_video"]
    assert len(created) == 1 and len(server.tasks) == 1       # paid once
    takes = director.store.takes_for_shot(project, "boat")
    assert [t.status == TakeStatus.error for t in takes].count(True) == 1
    broken = next(t for t in takes if t.status == TakeStatus.error)
    assert "downloading it failed" in broken.error and broken.params["resume_token"] == "task-0001"
    chosen = director.store.selected_take(project, "boat")
    assert chosen.status != TakeStatus.error and chosen.params["task_id"] == "task-0001"
    assert any("resumed Runway task task-0001" in n for n in chosen.params["notes"])
    assert (tmp_path / "out" / "final.mp4").is_file() and result["new_takes"] == 2
