"""Render jobs that survive anything, and edits that are never lost: real `director` processes, killed
and raced, on a real database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.edit.video_io import probe

ROOT = Path(__file__).resolve().parents[1]
DIRECTOR = [sys.executable, "-m", "server.cli"]
BRIEF = ("A 12-second film in four shots: a lighthouse at dusk, waves on the rocks, the keeper climbs the stairs, "
         "the lamp comes on.")


def _env(home: Path, **extra: str) -> dict:
    return {**os.environ, "DIRECTOR_HOME": str(home), **extra}


def run(args, home: Path, check: bool = True, timeout: int = 300, **extra):
    proc = subprocess.run([*DIRECTOR, *args], capture_output=True, text=True, cwd=ROOT, env=_env(home, **extra), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"director {' '.join(args)} exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}")
    return proc


def _takes_with_files(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return [r[0] for r in c.execute("SELECT id FROM takes WHERE json_extract(payload, '$.file') IS NOT NULL")]
    except sqlite3.OperationalError:   # not migrated yet
        return []


@pytest.mark.slow
def test_make_killed_with_sigkill_after_its_first_take_is_finished_by_resume(tmp_path):
    home, out = tmp_path / "home", tmp_path / "film"
    # One worker: shots render one after another, so the kill lands with shots still to do.
    proc = subprocess.Popen([*DIRECTOR, "make", BRIEF, "--out", str(out), "--resolution", "96", "--json"], cwd=ROOT,
                            env=_env(home, DIRECTOR_FARM_WORKERS="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    first: list[str] = []
    while not first:
        assert proc.poll() is None, f"make ended before its first take was stored: {proc.communicate()}"
        assert time.monotonic() < deadline, "no take was stored in 240 s"
        time.sleep(0.05)
        first = _takes_with_files(home / "director.db")
    proc.send_signal(signal.SIGKILL)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # make named the project before it rendered, so a person knows what to resume.
    project_id = stderr.split("project ", 1)[1].split(":", 1)[0]
    assert f"`director resume {project_id}`" in stderr
    assert not (out / "final.mp4").exists()

    listed = json.loads(run(["projects", "--json"], home).stdout)["projects"]
    assert [(p["id"], p["render_state"], p["last_cut"]) for p in listed] == [(project_id, "interrupted", None)]

    resumed = json.loads(run(["resume", project_id, "--json"], home).stdout)["resumed"]
    assert len(resumed) == 1 and resumed[0]["project_id"] == project_id
    result = resumed[0]
    shots = len(json.loads(run(["history", project_id, "--json"], home).stdout)["versions"][-1]["storyboard"]["shots"])
    # The shots finished before the kill are reused, not made again; only the rest is new.
    assert result["reused_takes"] >= len(first) and len(result["changed_shots"]) == shots - result["reused_takes"]
    assert Path(result["cut"]) == out / "final.mp4" and probe(out / "final.mp4")["frames"] > 0
    with sqlite3.connect(home / "director.db") as c:
        selected = {r[0] for r in c.execute("SELECT id FROM takes WHERE selected")}
        every_take = c.execute("SELECT count(*) FROM takes").fetchone()[0]
    assert set(first) <= selected    # the takes finished before the kill are in the cut
    assert result["new_takes"] < every_take

    listed = json.loads(run(["projects", "--json"], home).stdout)["projects"]
    assert listed[0]["render_state"] == "done" and listed[0]["last_cut"] == (out / "final.mp4").as_posix()
    again = json.loads(run(["resume", "--json"], home).stdout)
    assert again == {"resumed": []}


@pytest.mark.slow
def test_two_feedback_processes_at_once_both_land_in_a_chain_of_versions(tmp_path):
    home = tmp_path / "home"
    made = json.loads(run(["make", "A 6-second film in two shots: a red kite over a hill, then a girl waves at it.",
                           "--resolution", "96", "--json"], home).stdout)
    project_id = made["project_id"]
    texts = ["make shot 1 darker", "make shot 2 brighter"]
    procs = [subprocess.Popen([*DIRECTOR, "feedback", project_id, text, "--json"], cwd=ROOT, env=_env(home),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for text in texts]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outputs]
    numbers = sorted(json.loads(o[0])["version"] for o in outputs)
    assert numbers == [2, 3]   # no version number reported twice

    history = json.loads(run(["history", project_id, "--json"], home).stdout)["versions"]
    assert [(v["number"], v["parent"]) for v in history] == [(1, None), (2, 1), (3, 2)]
    first, latest = history[0]["storyboard"]["shots"], history[-1]["storyboard"]["shots"]
    # Both changes are in the latest version: each shot's lighting moved away from the first version's.
    assert latest[0].get("lighting") != first[0].get("lighting") and latest[1].get("lighting") != first[1].get("lighting")
    assert "dim" in latest[0]["lighting"] and "bright" in latest[1]["lighting"]
    reasons = " / ".join(v["reason"] for v in history[1:]).lower()
    assert "darker" in reasons and "brighter" in reasons


@pytest.mark.slow
def test_a_truncated_take_is_not_reused_by_feedback_and_the_person_is_told(tmp_path):
    home = tmp_path / "home"
    made = json.loads(run(["make", "A 6-second film in two shots: a red kite over a hill, then a girl waves at it.",
                           "--resolution", "96", "--json"], home).stdout)
    with sqlite3.connect(home / "director.db") as c:
        rows = c.execute("SELECT id, json_extract(payload, '$.file'), file_size FROM takes WHERE selected").fetchall()
    for _, file, size in rows:   # every selected take cut to half
        path = home / file
        assert path.stat().st_size == size
        path.write_bytes(path.read_bytes()[: size // 2])
    proc = run(["feedback", made["project_id"], "make shot 2 darker"], home)
    assert "was not reused because its file is" in proc.stderr
    with sqlite3.connect(home / "director.db") as c:
        now = c.execute("SELECT id, json_extract(payload, '$.file'), file_size FROM takes WHERE selected").fetchall()
    assert not {r[0] for r in now} & {r[0] for r in rows}
    assert all((home / file).stat().st_size == size for _, file, size in now)
    # The tables people read (without --json) say the same.
    listed = run(["projects"], home).stdout
    assert made["project_id"] in listed and "done" in listed
    history = run(["history", made["project_id"]], home).stdout
    assert "darker" in history.lower() and "planned from the brief" in history


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_make_projects_and_history_on_postgresql(tmp_path, database_url):
    home, out = tmp_path / "home", tmp_path / "film"
    made = json.loads(run(["make", "A 4-second film in two shots: a paper boat on a gutter, then a cat watches it.",
                           "--out", str(out), "--resolution", "96", "--json"], home, DIRECTOR_DATABASE_URL=database_url).stdout)
    assert probe(out / "final.mp4")["frames"] > 0
    assert not (home / "director.db").exists()    # everything went to PostgreSQL
    run(["feedback", made["project_id"], "make shot 1 darker", "--json"], home, DIRECTOR_DATABASE_URL=database_url)
    listed = json.loads(run(["projects", "--json"], home, DIRECTOR_DATABASE_URL=database_url).stdout)["projects"]
    assert [(p["id"], p["versions"], p["render_state"]) for p in listed] == [(made["project_id"], 2, "done")]
    history = json.loads(run(["history", made["project_id"], "--json"], home, DIRECTOR_DATABASE_URL=database_url).stdout)
    assert [(v["number"], v["parent"]) for v in history["versions"]] == [(1, None), (2, 1)]
    assert history["versions"][1]["changed_shots"] == [history["versions"][0]["storyboard"]["shots"][0]["id"]]


@pytest.mark.slow
def test_ctrl_c_on_make_leaves_an_interrupted_render_that_resume_finishes(tmp_path):
    home, out = tmp_path / "home", tmp_path / "film"
    proc = subprocess.Popen([*DIRECTOR, "make", BRIEF, "--out", str(out), "--resolution", "96"], cwd=ROOT,
                            env=_env(home, DIRECTOR_FARM_WORKERS="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not _takes_with_files(home / "director.db"):
        assert proc.poll() is None, f"make ended before its first take was stored: {proc.communicate()}"
        assert time.monotonic() < deadline, "no take was stored in 240 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in stderr
    listed = json.loads(run(["projects", "--json"], home).stdout)["projects"]
    assert listed[0]["render_state"] == "interrupted"
    with sqlite3.connect(home / "director.db") as c:
        assert c.execute("SELECT state FROM renders").fetchall() == [("interrupted",)]   # recorded, not guessed
    resumed = json.loads(run(["resume", "--json"], home).stdout)["resumed"]
    assert [r["project_id"] for r in resumed] == [listed[0]["id"]] and resumed[0]["reused_takes"] >= 1
    assert (out / "final.mp4").is_file()
