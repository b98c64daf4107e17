"""The Ray farm with a REAL local Ray (one instance for the session): films rendered through Ray give the
same takes as the local farm, and manifest.json says what ran them."""

from __future__ import annotations

import json
import os

import pytest

ray = pytest.importorskip("ray")

from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard
from storyboards.store import Store
from storyboards.workspace import Workspace


@pytest.fixture(scope="session")
def local_ray():
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([root, os.path.join(root, "tests")])}})
    yield ray
    ray.shutdown()


def render(tmp_path, monkeypatch, farm: str, board: Storyboard, **settings):
    monkeypatch.setenv("DIRECTOR_FARM", farm)
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / farm))
    workspace = Workspace(tmp_path / farm).ensure()
    director = Director(store=Store(workspace=workspace), workspace=workspace,
                        settings=AgentSettings(attempts_per_shot=1, **settings))
    project = director.start_project("ada", board, "test")
    out = tmp_path / f"out-{farm}"
    director.render("ada", project, out_dir=out)
    manifest = json.loads((out / "manifest.json").read_text())
    takes = {t["shot_id"]: (t["key"], t["params"]["frames_xxh3"], t["model"]) for t in manifest["takes"]}
    return takes, manifest


def film(backend: str, n: int = 3) -> Storyboard:
    subjects = ["a small fishing boat", "a lighthouse keeper", "gulls over the pier", "a red buoy"]
    return Storyboard(title="Harbour", resolution=64, fps=8, shots=[
        Shot(id=f"s{i + 1}", duration=1.0, subject=subjects[i], setting="a stone harbour at dawn",
             camera=["pan_left", "dolly_in", "static", "orbit"][i], backend=backend, seed=100 + i)
        for i in range(n)])


@pytest.mark.slow
def test_an_animatic_film_through_ray_gives_the_same_takes_as_the_local_farm(local_ray, tmp_path, monkeypatch):
    board = film("animatic")
    local, local_manifest = render(tmp_path, monkeypatch, "local", board)
    remote, manifest = render(tmp_path, monkeypatch, "ray", board)
    assert remote == local and len(remote) == 3
    assert local_manifest["farm"]["engine"] == "local"
    farm = manifest["farm"]
    assert farm["engine"] == "ray" and farm["address"] == "local" and farm["cluster"]["CPU"] == 2
    assert len(farm["nodes_used"]) == 1 and farm["model_workers"] == []   # the animatic runs as tasks


@pytest.mark.slow
def test_a_diffusers_film_through_ray_gives_the_same_takes_as_the_local_farm(local_ray, tiny_models, tmp_path,
                                                                            monkeypatch):
    import torch

    torch.set_num_threads(1)
    tiny_models.env(monkeypatch, {"t2v": "ltx"})
    board = film("diffusers", n=2)
    local, _ = render(tmp_path, monkeypatch, "local", board)
    remote, manifest = render(tmp_path, monkeypatch, "ray", board)
    assert remote == local
    assert {model for _, _, model in remote.values()} == {"tiny/ltx-video"}
    # the model lived in one Ray actor that served both shots
    assert manifest["farm"]["model_workers"] == ["diffusers:tiny/ltx-video"]


class Flaky:
    """The animatic, except shot s2: a reported failure (with a resume token) first, then a programming
    error. Registered in-process, so the Ray farm ships this instance to its workers."""

    name = "flaky"
    modes = ("t2v",)
    concurrency = "shared"

    def model_id(self, request):
        return "animatic-v1+flaky"

    def generate(self, request, progress=None):
        from tools.generate import GenerationError
        from tools.generate.animatic import AnimaticBackend

        if request.shot["id"] == "s2":
            if request.resume_token is None:
                raise GenerationError("the API said 503; try again", resume_token="job-42")
            raise IndexError(f"index 3 is out of bounds (resumed {request.resume_token})")
        return AnimaticBackend().generate(request, progress)


@pytest.mark.slow
def test_on_ray_a_reported_failure_is_retried_and_a_crash_stops_the_render(local_ray, tmp_path, monkeypatch):
    from storyboards.schema import TakeStatus
    from tools.generate import BackendCrash, register_backend

    register_backend("flaky", Flaky())
    board = film("flaky", n=2)
    monkeypatch.setenv("DIRECTOR_FARM", "ray")
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    workspace = Workspace(tmp_path / "home").ensure()
    director = Director(store=Store(workspace=workspace), workspace=workspace,
                        settings=AgentSettings(attempts_per_shot=3))
    project = director.start_project("ada", board, "test")
    with pytest.raises(BackendCrash) as err:
        director.render("ada", project)
    # the reported failure became an error take whose token the retry carried to the worker; the
    # programming error that followed stopped the render, naming the shot
    assert "shot 's2'" in str(err.value) and "IndexError" in str(err.value) and "resumed job-42" in str(err.value)
    first, second = sorted(director.store.takes_for_shot(project, "s2"), key=lambda t: t.attempt)
    assert first.status == TakeStatus.error and "503" in first.error and first.params["resume_token"] == "job-42"
    assert second.status == TakeStatus.error and second.seed == first.seed
