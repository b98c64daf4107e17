"""Start-up: the CLI loads no heavy library on a path that does not use it (issue 17.2).

Each command runs in a fresh interpreter exactly as `director` runs it; afterwards the test reads
which modules that process had loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "diffusers", "transformers", "langchain", "langchain_core", "langchain_openai", "cv2", "matplotlib",
         "c2pa", "scipy", "openai", "fastapi")
PROBE = """
import json, sys
sys.argv = ["director", *json.loads(sys.argv[1])]
import server.cli as cli
try:
    cli.main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def loaded_by(args: list[str], home: Path) -> tuple[int, set[str], str]:
    env = {**os.environ, "DIRECTOR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("MODULES ")][-1]
    report = json.loads(line[len("MODULES "):])
    return report["code"], {m.split(".")[0] for m in report["modules"]}, out.stdout


def test_director_help_loads_no_heavy_library_and_no_database(tmp_path):
    code, modules, text = loaded_by(["--help"], tmp_path)
    assert code == 0 and "make" in text and "feedback" in text
    assert not modules & {*HEAVY, "numpy", "sqlalchemy", "sqlmodel", "alembic", "PIL"}, sorted(modules & {*HEAVY, "numpy"})
    assert not (tmp_path / "director.db").exists()


@pytest.mark.slow
def test_plan_uses_the_offline_planner_without_media_libraries_or_the_database(tmp_path):
    code, modules, text = loaded_by(["plan", "a lighthouse keeper lights the lamp at dusk", "--json"], tmp_path)
    assert code == 0 and json.loads(text)["shots"]
    assert not modules & {*HEAVY, "sqlalchemy", "alembic"}, sorted(modules & {*HEAVY, "sqlalchemy"})
    assert not (tmp_path / "director.db").exists()


@pytest.mark.slow
def test_a_text_safety_check_does_not_load_opencv(tmp_path):
    code, modules, text = loaded_by(["safety", "a cat asleep on a warm roof", "--json"], tmp_path)
    assert code == 0 and json.loads(text)["verdict"] == "allow"
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
