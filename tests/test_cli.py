"""The `director` command line, run as a person runs it: a subprocess, a real workspace, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from storyboards.examples import example_paths
from storyboards.yamlio import dump_storyboard, load_storyboard
from tools.edit.video_io import probe

# each test runs `director` in a subprocess, most render a film: `make test` runs these; `make check` leaves them out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DIRECTOR = [sys.executable, "-m", "server.cli"]
BRIEF = "A 6-second film in two shots: a red kite rises over a green hill, then a girl named Ada waves at it. Warm golden hour."


def run(args, home: Path, check=True, timeout=240, **env):
    environment = {**os.environ, "DIRECTOR_HOME": str(home), **env}
    proc = subprocess.run([*DIRECTOR, *args], capture_output=True, text=True, cwd=ROOT, env=environment, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"director {' '.join(args)} exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}")
    return proc


def as_json(proc) -> dict:
    return json.loads(proc.stdout)  # the whole of stdout is one JSON object


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("film")
    proc = run(["make", BRIEF, "--out", str(out), "--resolution", "144", "--json"], home)
    return home, out, as_json(proc)


def test_help_lists_every_command_of_the_contract_and_imports_no_torch(tmp_path):
    proc = run(["--help"], tmp_path)
    for command in ("plan", "make", "render", "feedback", "chat", "users", "critique", "verify", "safety", "serve", "bot", "consent"):
        assert command in proc.stdout
    probe_imports = subprocess.run(
        [sys.executable, "-c", "import sys; from server.cli import app\n"
         "from typer.testing import CliRunner; CliRunner().invoke(app, ['--help'])\n"
         "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'langchain') if m in sys.modules))"],
        capture_output=True, text=True, cwd=ROOT)
    assert probe_imports.stdout.strip() == "[]"


def test_plan_json_carries_the_storyboard_keys_and_composed_prompts(tmp_path):
    data = as_json(run(["plan", "A vertical 12-second TikTok ad for a coffee shop, three shots, neon night look", "--json"], tmp_path))
    assert data["aspect_ratio"] == "9:16"
    assert len(data["shots"]) == 3
    assert abs(sum(s["duration"] for s in data["shots"]) - 12) <= 0.5
    for shot in data["shots"]:
        assert {"id", "duration", "camera", "framing", "prompt"} <= set(shot)
        assert "neon" in shot["prompt"]


def test_make_writes_the_contract_files_and_json(made):
    home, out, data = made
    for key in ("project_id", "version", "cut", "changed_shots", "new_takes", "reused_takes"):
        assert key in data
    assert data["version"] == 1 and data["reused_takes"] == 0 and data["new_takes"] >= 2
    for name in ("final.mp4", "storyboard.yaml", "critique.json", "manifest.json", "contact_sheet.png", "final.otio"):
        assert (out / name).is_file(), name
    # Subtitles come with words on screen; a film without narration or captions offers no empty ones.
    board = load_storyboard(out / "storyboard.yaml")
    has_words = any(s.narration or s.caption for s in board.shots)
    for name in ("final.srt", "final.vtt"):
        assert (out / name).is_file() == has_words, name
    assert Path(data["cut"]) == out / "final.mp4"


def test_the_film_is_playable_and_every_shot_lasts_what_the_storyboard_says(made):
    home, out, data = made
    storyboard = load_storyboard(out / "storyboard.yaml")
    manifest = json.loads((out / "manifest.json").read_text())
    info = probe(out / "final.mp4")
    assert info["frames"] == manifest["frames"]
    assert (info["width"], info["height"]) == storyboard.size
    shots = [seg for seg in manifest["timeline"] if seg["kind"] == "shot"]
    assert [s["shot_id"] for s in shots] == [s.id for s in storyboard.shots]
    for seg, shot in zip(shots, storyboard.shots):
        assert abs(seg["frames"] - shot.duration * storyboard.fps) <= 1, seg
    # The storyboard written beside the film renders again and names its prompts.
    assert all(s["prompt"] for s in yaml.safe_load((out / "storyboard.yaml").read_text())["shots"])


def test_verify_finds_manifest_watermark_and_label(made):
    home, out, data = made
    report = as_json(run(["verify", str(out / "final.mp4"), "--json"], home))
    assert report["c2pa"]["present"] and report["c2pa"]["valid"] and report["c2pa"]["ai_generated"]
    assert report["watermark"]["present"]
    assert report["watermark"]["project_id"] == data["project_id"]
    assert report["label"]["present"]


def test_feedback_regenerates_only_the_shot_it_names(made, tmp_path):
    home, out, data = made
    first = load_storyboard(out / "storyboard.yaml").shots[0].id
    result = as_json(run(["feedback", data["project_id"], "make shot 1 darker", "--json"], home))
    assert result["version"] == 2
    assert result["changed_shots"] == [first]
    assert result["new_takes"] >= 1 and result["reused_takes"] == len(load_storyboard(out / "storyboard.yaml").shots) - 1
    swapped = as_json(run(["feedback", data["project_id"], "swap shots 1 and 2", "--json"], home))
    assert swapped["changed_shots"] == [] and swapped["new_takes"] == 0
    project_dir = home / "projects" / data["project_id"]
    assert (project_dir / "final.mp4").is_file() and (project_dir / "critique.json").is_file()


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_every_example_renders(path, tmp_path):
    storyboard = load_storyboard(path).model_copy(update={"resolution": 128})
    # Media travel with the copy: a render reads files only beside its storyboard (or in the uploads).
    storyboard = storyboard.model_copy(update={"shots": [s.model_copy(update={
        field: shutil.copy(getattr(s, field), tmp_path) for field in ("reference", "source") if getattr(s, field)})
        for s in storyboard.shots]})
    small = tmp_path / path.name
    small.write_text(dump_storyboard(storyboard))
    data = as_json(run(["render", str(small), "--out", str(tmp_path / "out"), "--json"], tmp_path / "home"))
    info = probe(tmp_path / "out" / "final.mp4")
    assert info["frames"] > sum(s.duration for s in storyboard.shots) * storyboard.fps * 0.9
    assert data["new_takes"] >= len(storyboard.shots)


def test_a_corrupt_reference_gives_a_clear_error_and_keeps_earlier_takes(tmp_path):
    example = next(p for p in example_paths() if "product" in p.stem)
    storyboard = load_storyboard(example).model_copy(update={"resolution": 128})
    ref = tmp_path / "ref.png"
    i2v = next(s for s in storyboard.shots if s.mode == "i2v")
    ref.write_bytes(Path(i2v.reference).read_bytes())
    shots = [s.model_copy(update={"reference": str(ref)}) if s.id == i2v.id else s for s in storyboard.shots]
    board = tmp_path / "board.yaml"
    board.write_text(dump_storyboard(storyboard.model_copy(update={"shots": shots})))
    home = tmp_path / "home"
    run(["render", str(board), "--out", str(tmp_path / "one"), "--json"], home)
    takes_before = sorted((home / "takes").rglob("*.mp4"))
    assert takes_before

    ref.write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    # A changed reference is a new request: the render must fail on it, naming the file.
    other = dump_storyboard(storyboard.model_copy(update={"shots": shots, "style_guide": storyboard.style_guide + ", again"}))
    board.write_text(other)
    proc = run(["render", str(board), "--out", str(tmp_path / "two"), "--json"], home, check=False)
    assert proc.returncode != 0
    assert "ref.png" in proc.stderr
    assert proc.stdout.strip() == ""
    assert not (tmp_path / "two" / "final.mp4").exists()
    for take in takes_before:
        assert take.is_file() and take.stat().st_size > 0


@pytest.mark.parametrize("content,needle", [
    ("title: x\nshots:\n  - id: a\n    camera: dolly\n", "camera 'dolly'"),
    ("title: x\nshots:\n  - id: a\n    cmaera: static\n", "did you mean 'camera'"),
    ("title: x\naspect_ratio: 16:9\nshots:\n  - id: a\n", 'aspect_ratio: "16:9"'),
    ("title: x\nshots: []\n", "at least one shot"),
])
def test_a_bad_storyboard_exits_2_naming_the_field(tmp_path, content, needle):
    board = tmp_path / "bad.yaml"
    board.write_text(content)
    proc = run(["render", str(board), "--json"], tmp_path, check=False)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert proc.stdout == ""


def test_critique_judges_a_video_and_draws_a_plot(tmp_path):
    from tools.edit.video_io import write_video

    rng = np.random.default_rng(0)
    frames = np.repeat(rng.integers(0, 255, (1, 96, 160, 3), dtype=np.uint8), 24, axis=0)
    frames[8:12] = 0  # black frames a person would notice
    clip = tmp_path / "clip.mp4"
    write_video(frames, 24, clip)
    proc = run(["critique", str(clip), "--json"], tmp_path, check=False)
    data = as_json(proc)
    assert proc.returncode == 1 and data["verdict"] == "fail"
    assert any("black" in r for r in data["reasons"])
    assert Path(data["plot"]).is_file()


def test_safety_command_reports_verdicts(tmp_path):
    assert as_json(run(["safety", "a chef named Marco cooks pasta", "--json"], tmp_path))["verdict"] == "allow"
    assert as_json(run(["safety", "Barack Obama dancing in the rain", "--json"], tmp_path))["verdict"] == "needs_consent"
    run(["consent", "add", "Barack Obama", "--scope", "test film"], tmp_path)
    assert as_json(run(["safety", "Barack Obama dancing in the rain", "--json"], tmp_path))["verdict"] == "allow"


def test_users_add_prints_a_token_that_is_stored_hashed(tmp_path):
    data = as_json(run(["users", "add", "ada", "--json"], tmp_path))
    assert data["name"] == "ada" and data["token"].startswith("rd_")
    assert data["token"].encode() not in (tmp_path / "director.db").read_bytes()
    again = run(["users", "add", "ada", "--json"], tmp_path, check=False)
    assert again.returncode == 2 and "ada" in again.stderr


def test_another_take_regenerates_that_shot_with_a_new_seed(made):
    home, out, data = made
    manifest_path = home / "projects" / data["project_id"] / "manifest.json"
    run(["feedback", data["project_id"], "make shot 2 brighter", "--json"], home)  # the project folder holds a cut
    before = {t["shot_id"]: t for t in json.loads(manifest_path.read_text())["takes"]}
    result = as_json(run(["feedback", data["project_id"], "give me another take of shot 2", "--json"], home))
    after = {t["shot_id"]: t for t in json.loads(manifest_path.read_text())["takes"]}
    (changed,) = result["changed_shots"]
    assert result["new_takes"] >= 1
    assert after[changed]["take_id"] != before[changed]["take_id"]
    assert after[changed]["seed"] != before[changed]["seed"]
    for shot_id in after:
        if shot_id != changed:
            assert after[shot_id]["take_id"] == before[shot_id]["take_id"]


def test_serve_prints_a_login_url_that_works_and_survives_a_restart(tmp_path):
    import socket
    import time
    import urllib.request

    def start():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([*DIRECTOR, "serve", "--port", str(port)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "DIRECTOR_HOME": str(tmp_path)})
        line = proc.stderr.readline()
        if "http://" not in line:
            proc.kill()
            raise AssertionError(f"serve printed no URL: {line!r}")
        url = line[line.index("http://"):].strip()
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        return proc, url, port

    proc, url, port = start()
    try:
        token = url.split("token=")[1]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/projects", headers={"Authorization": f"Bearer {token}"})
        assert urllib.request.urlopen(req, timeout=5).status == 200
    finally:
        proc.terminate()
        proc.wait(10)
    proc, url_again, _ = start()
    try:
        assert url_again.split("token=")[1] == token
    finally:
        proc.terminate()
        proc.wait(10)


def test_chat_plans_revises_renders_and_resumes(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "DIRECTOR_HOME": str(home), "DIRECTOR_RESOLUTION": "96", "COLUMNS": "160"}
    lines = "\n".join([
        "A 4-second film in two shots: a snail climbs a wall, then the sun sets.",
        "make shot 1 darker",
        "/versions",
        "/render",
        "/undo",
        "/quit",
    ]) + "\n"
    proc = subprocess.run([*DIRECTOR, "chat"], input=lines, capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "snail" in out                       # the storyboard table
    assert "v2" in out and "darker" in out.lower()
    assert "Cut:" in out and "final.mp4" in out
    assert "undo" in out.lower()
    project_id = out.rsplit("director chat ", 1)[1].split("`")[0].strip()
    resumed = subprocess.run([*DIRECTOR, "chat", project_id], input="/versions\n/quit\n", capture_output=True,
                             text=True, cwd=ROOT, env=env, timeout=120)
    assert "Resuming" in resumed.stdout and "v3" in resumed.stdout


def test_a_vertical_film_too_small_for_the_label_is_refused_naming_a_size_that_works(tmp_path):
    """64 px wide cannot carry a readable 'AI-generated' label: exit 2 before anything is made, with the
    size to ask for, and that size makes a film whose label `verify` finds."""
    brief = "A 2-second film in one shot: a red kite over a green hill."
    proc = run(["make", brief, "--aspect", "9:16", "--resolution", "64", "--out", str(tmp_path / "tiny")], tmp_path,
               check=False)
    assert proc.returncode == 2, proc.stderr
    assert "too small for the 'AI-generated' label" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "tiny" / "final.mp4").exists()
    works = int(proc.stderr.split("ask for ")[1].split("p")[0])
    out = tmp_path / "works"
    run(["make", brief, "--aspect", "9:16", "--resolution", str(works), "--out", str(out)], tmp_path)
    report = as_json(run(["verify", str(out / "final.mp4"), "--json"], tmp_path, check=False))
    assert report["label"]["present"], report
