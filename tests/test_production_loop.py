"""The production loop against a backend that really makes bad takes.

`DefectiveBackend` renders with the real animatic, then spoils a known share of its takes with a
fault a person would see and the critic names: black frames in the middle of the shot, a frozen run
in a moving shot, or a brightness flicker. It is registered in-process with `register_backend`, and
a real Director renders a real film with it: the loop must reject the spoiled takes, keep them on
record, and deliver a cut that does not contain them.
"""

from __future__ import annotations

import json
import threading

import cv2
import numpy as np
import pytest

from agent.session import Director
from agent.settings import AgentSettings
from storyboards.schema import Shot, Storyboard, TakeStatus
from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.critique import critique_frames
from tools.edit.video_io import read_video
from tools.generate import GenerationRequest, GenerationResult, get_backend, list_backends, register_backend
from tools.generate.animatic import AnimaticBackend

# takes generated, critiqued and encoded: `make test` runs these; `make check` leaves them out.
pytestmark = pytest.mark.slow

FPS, SECONDS = 12, 2.0
# shot id -> (camera, the defect its spoiled takes get)
SHOTS = {
    "harbour": ("pan_right", "black"),
    "market": ("dolly_in", "frozen"),
    "rooftop": ("tracking", "flicker"),
    "tunnel": ("pan_left", "black"),
}
# the critic's metric that must fail, and a word its reason must contain, for each defect
SIGNATURE = {"black": ("exposure", "black"), "frozen": ("frozen", "frozen"), "flicker": ("flicker", "flicker")}
# words the loop adds to the retry's prompt for each defect (agent.production.REPAIRS)
REPAIR_WORDS = {"black": "balanced exposure", "frozen": "continuous visible motion", "flicker": "stable consistent lighting"}


class DefectiveBackend:
    """The animatic, with the first `spoil_first` takes of every shot spoiled (None: every take).

    Which takes are spoiled depends only on each shot's own count of takes, so it is the same
    whatever order the render farm's threads run the shots in."""

    name = "defective"
    modes = ("t2v",)

    def __init__(self, spoil_first: int | None):
        self.inner = AnimaticBackend()
        self.spoil_first = spoil_first
        self.calls: dict[str, int] = {}
        self.spoiled: dict[int, str] = {}     # seed of a spoiled take -> its defect
        self._lock = threading.Lock()

    def model_id(self, request: GenerationRequest) -> str:
        return "animatic-v1+defects"

    def generate(self, request: GenerationRequest, progress=None) -> GenerationResult:
        shot_id = request.shot["id"]
        with self._lock:
            self.calls[shot_id] = n = self.calls.get(shot_id, 0) + 1
        result = self.inner.generate(request, progress)
        frames = result.frames.copy()
        defect = SHOTS[shot_id][1] if self.spoil_first is None or n <= self.spoil_first else None
        if defect:
            spoil(frames, defect)
            with self._lock:
                self.spoiled[request.seed] = defect
        return GenerationResult(frames=frames, fps=result.fps, backend=self.name, model=self.model_id(request),
                                params={**result.params, "defect": defect}, timings=result.timings)


def spoil(frames: np.ndarray, defect: str) -> None:
    n = len(frames)
    mid = n // 2
    if defect == "black":          # four black frames mid-shot
        frames[mid - 2: mid + 2] = 0
    elif defect == "frozen":       # the camera stops dead for 8 frames, then jumps on
        frames[mid - 4: mid + 4] = frames[mid - 4]
    elif defect == "flicker":      # every other frame 45 grey levels brighter
        for k in range(mid - 6, mid + 6, 2):
            frames[k] = cv2.add(frames[k], np.full_like(frames[k], 45))
    else:
        raise ValueError(defect)


def storyboard(shot_ids=tuple(SHOTS), resolution: int = 96) -> Storyboard:
    return Storyboard(title="Errands", resolution=resolution, fps=FPS, shots=[
        Shot(id=sid, duration=SECONDS, subject="a courier on a bicycle", action="rides past", setting=f"a {sid} on a grey morning",
             camera=SHOTS[sid][0], framing="wide", backend="defective")
        for sid in shot_ids])


def make_director(tmp_path, monkeypatch, **settings) -> Director:
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    workspace = Workspace(tmp_path / "home").ensure()
    return Director(store=Store(workspace=workspace), workspace=workspace,
                    settings=AgentSettings(resolution=96, **settings))


def all_takes(director: Director, project_id: str, board: Storyboard):
    return {s.id: director.store.takes_for_shot(project_id, s.id) for s in board.shots}


def cut_shots(path, manifest: dict) -> dict[str, np.ndarray]:
    """The delivered film's frames, split into its shots by the manifest's timeline."""
    frames, _ = read_video(path)
    shots = [seg for seg in manifest["timeline"] if seg["kind"] == "shot"]
    assert len(shots) == len(manifest["takes"])
    return {take["shot_id"]: frames[seg["start_frame"]: seg["start_frame"] + seg["frames"]]
            for seg, take in zip(shots, manifest["takes"])}


def failing(critique, metric: str) -> bool:
    return critique.metrics[metric].passed is False


def test_registered_backends_are_listed_and_served():
    backend = DefectiveBackend(spoil_first=0)
    register_backend("defective", backend)
    assert "defective" in list_backends() and "animatic" in list_backends()
    assert get_backend("defective") is backend
    with pytest.raises(Exception, match="instance"):
        register_backend("defective", DefectiveBackend)   # the class, not an instance


def test_spoiled_takes_are_rejected_recorded_and_kept_out_of_the_cut(tmp_path, monkeypatch):
    backend = DefectiveBackend(spoil_first=1)       # the first take of every shot is spoiled
    register_backend("defective", backend)
    director = make_director(tmp_path, monkeypatch, attempts_per_shot=3, attempts_per_film=12)
    board = storyboard()
    project = director.start_project("ada", board, "test")
    result = director.render("ada", project)

    takes = all_takes(director, project, board)
    assert len(backend.spoiled) == len(SHOTS)
    for sid, shot_takes in takes.items():
        metric, word = SIGNATURE[SHOTS[sid][1]]
        spoiled = [t for t in shot_takes if t.seed in backend.spoiled]
        assert len(spoiled) == 1, f"{sid}: {[(t.seed, t.status) for t in shot_takes]}"
        bad = spoiled[0]
        # the spoiled take is on record, failed, with the critic naming what is wrong with it
        assert bad.status == TakeStatus.failed and bad.file and not bad.selected
        assert failing(bad.critique, metric), bad.critique.reasons
        assert any(r.startswith(f"{metric}:") and word in r for r in bad.critique.reasons), bad.critique.reasons
        # the take that replaced it passes the critic and is the one used
        chosen = director.store.selected_take(project, sid)
        assert chosen.seed not in backend.spoiled and chosen.attempt == 2
        assert chosen.status == TakeStatus.ok and chosen.critique.verdict == "pass", chosen.critique.reasons
        # the retry's prompt asks for what the critic found missing
        assert REPAIR_WORDS[SHOTS[sid][1]] in chosen.prompt and REPAIR_WORDS[SHOTS[sid][1]] not in bad.prompt
    assert result["new_takes"] == 2 * len(SHOTS)

    out = tmp_path / "home" / "projects" / project
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["status"] for t in manifest["takes"]] == ["ok"] * len(SHOTS)
    assert not {t["seed"] for t in manifest["takes"]} & set(backend.spoiled)
    assert json.loads((out / "critique.json").read_text())["failed_shots"] == []

    # The delivered film, decoded and judged shot by shot: none of the spoiled frames made it in.
    for sid, frames in cut_shots(out / "final.mp4", manifest).items():
        assert len(frames) == round(SECONDS * FPS)
        luma = frames.mean(axis=(1, 2, 3))
        assert luma.min() > 30, f"{sid}: a near-black frame in the cut (mean {luma.min():.0f})"
        c = critique_frames(frames, FPS, shot=board.shot(sid).model_dump(), backend="defective")
        for metric in ("exposure", "frozen", "flicker"):
            assert not failing(c, metric), f"{sid}: {c.metrics[metric].reason}"


def test_when_every_take_fails_the_best_is_kept_marked_and_the_cut_still_delivered(tmp_path, monkeypatch):
    from tools.safety.verify import verify_video

    backend = DefectiveBackend(spoil_first=None)    # every take is spoiled
    register_backend("defective", backend)
    director = make_director(tmp_path, monkeypatch, attempts_per_shot=3, attempts_per_film=12)
    # 360 px: below ~240 px the disclosure label is too small for verify's detector to find (see report)
    board = storyboard(("harbour", "market"), resolution=360)
    project = director.start_project("ada", board, "test")
    result = director.render("ada", project)
    assert result["verdict"] == "fail"

    for sid, shot_takes in all_takes(director, project, board).items():
        assert len(shot_takes) == 3 and all(t.status == TakeStatus.failed for t in shot_takes)
        chosen = director.store.selected_take(project, sid)
        # the best of the failing takes, by the critic's own score
        assert chosen.critique.score == max(t.critique.score for t in shot_takes)
        assert chosen.status == TakeStatus.failed

    out = tmp_path / "home" / "projects" / project
    critique = json.loads((out / "critique.json").read_text())
    assert critique["verdict"] == "fail"
    assert sorted(critique["failed_shots"]) == ["harbour", "market"]
    for sid in ("harbour", "market"):
        assert critique["shots"][sid]["status"] == "failed"
        word = SIGNATURE[SHOTS[sid][1]][1]
        assert any(f"shot '{sid}'" in r and word in r for r in critique["reasons"]), critique["reasons"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["status"] for t in manifest["takes"]] == ["failed", "failed"]

    # delivered anyway, and disclosed as AI-made
    report = verify_video(out / "final.mp4", keys_dir=director.workspace.keys_dir)
    assert report["label"]["present"], report["reasons"]


def test_the_film_wide_retry_budget_caps_generations(tmp_path, monkeypatch):
    backend = DefectiveBackend(spoil_first=None)
    register_backend("defective", backend)
    # 4 shots x 3 attempts would be 12 generations; the film may spend 5 (one retry in all).
    director = make_director(tmp_path, monkeypatch, attempts_per_shot=3, attempts_per_film=5)
    board = storyboard()
    project = director.start_project("ada", board, "test")
    result = director.render("ada", project)

    takes = all_takes(director, project, board)
    assert sum(len(t) for t in takes.values()) == 5 == sum(backend.calls.values()) == result["new_takes"]
    assert all(len(t) >= 1 for t in takes.values())      # every shot still got its first take
    assert (tmp_path / "home" / "projects" / project / "final.mp4").is_file()


def test_every_metric_the_critic_can_fail_on_motion_or_identity_has_a_repair():
    from agent.production import repair_prompt
    from storyboards.schema import Critique, MetricResult

    for metric, words in (("consistency", "consistent subject"), ("shake", "smooth steady camera")):
        failed = Critique(metrics={metric: MetricResult(name=metric, value=0.1, passed=False, reason="bad")},
                          verdict="fail", reasons=[f"{metric}: bad"], score=0.1)
        prompt, negative, added = repair_prompt("a courier rides past", "", failed)
        assert words in prompt and added == [metric], (metric, prompt)
