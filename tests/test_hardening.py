"""Bad input as a careless user or an attacker sends it, through the real CLI (a subprocess).

Each case is data: the command, the exit code a person must get, and words the one-line error must
contain. Every case must also print no traceback and leave no project, version or take behind.
(The websocket and upload corpus is in tests/test_hardening_server.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import yaml

from storyboards.store import Store
from storyboards.workspace import Workspace
from tools.safety._media import ffmpeg_exe

ROOT = Path(__file__).resolve().parents[1]
DIRECTOR = [sys.executable, "-m", "server.cli"]
EXAMPLES = ROOT / "storyboards" / "examples"
REAL_IMAGE = EXAMPLES / "product_teaser_bottle.png"
REAL_VIDEO = EXAMPLES / "city_remix_street.mp4"


def run(args: list[str], home: Path, cwd: Path | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "DIRECTOR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([*DIRECTOR, *args], check=False, capture_output=True, text=True, cwd=cwd or ROOT, env=env,
                          timeout=timeout)


def png_bomb(path: Path, side: int = 13000) -> Path:
    """A valid greyscale PNG of side x side black pixels: ~170 MB decoded, a few hundred KB on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\0" * (side + 1)   # filter byte + pixels
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Real and fake media in one folder `board/` (where storyboards live) and one folder outside it."""
    root = tmp_path_factory.mktemp("inputs")
    board, outside = root / "board", root / "outside"
    board.mkdir()
    outside.mkdir()
    made = {
        "text_as_mp4": board / "clip.mp4",
        "text_as_png": board / "still.png",
        "png_header_only": board / "broken.png",
        "text_as_mp3": board / "song.mp3",
        "real_png": board / "bottle.png",
        "real_mp4": board / "street.mp4",
        "outside_png": outside / "elsewhere.png",
        "bomb": png_bomb(board / "bomb.png"),
    }
    made["text_as_mp4"].write_text("this is a text file, not a film\n")
    made["text_as_png"].write_text("this is a text file, not a picture\n")
    made["png_header_only"].write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    made["text_as_mp3"].write_text("la la la\n")
    shutil.copy(REAL_IMAGE, made["real_png"])
    shutil.copy(REAL_VIDEO, made["real_mp4"])
    shutil.copy(REAL_IMAGE, made["outside_png"])
    made["board"] = board
    return made


def storyboard(folder: Path, name: str, shots: list[dict], **top) -> Path:
    data = {"title": "hardening", "aspect_ratio": "16:9", "fps": 8, "resolution": 64, **top, "shots": shots}
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


def t2v(i: int = 0, seconds: float = 1) -> dict:
    return {"id": f"s{i}", "duration": seconds, "mode": "t2v", "subject": "a kite"}


def i2v(reference: str) -> dict:
    return {"id": "ref", "duration": 1, "mode": "i2v", "subject": "a bottle", "reference": reference}


def v2v(source: str) -> dict:
    return {"id": "src", "duration": 1, "mode": "v2v", "subject": "a street", "source": source}


# (case id, how to build the command from the files, exit code, words the error must contain)
CORPUS = [
    ("chat-unknown-project", lambda f: ["chat", "p-doesnotexist"], 2, "no project"),
    ("verify-text-file", lambda f: ["verify", str(f["text_as_mp4"])], 2, "not a video"),
    ("verify-an-image", lambda f: ["verify", str(f["real_png"])], 2, "not a video"),
    ("verify-missing", lambda f: ["verify", str(f["board"] / "nope.mp4")], 2, "no such video"),
    ("safety-image-text-file", lambda f: ["safety", "a walk", "--image", str(f["text_as_png"])], 2, "not an image"),
    ("safety-image-png-header-only", lambda f: ["safety", "a walk", "--image", str(f["png_header_only"])], 2,
     "not an image"),
    ("safety-image-a-video", lambda f: ["safety", "a walk", "--image", str(f["real_mp4"])], 2, "not an image"),
    ("safety-image-bomb", lambda f: ["safety", "a walk", "--image", str(f["bomb"])], 2, "13000x13000"),
    ("consent-reference-text-file", lambda f: ["consent", "add", "Ada Lovelace", "--reference", str(f["text_as_png"])],
     2, "not an image"),
    ("consent-reference-bomb", lambda f: ["consent", "add", "Ada Lovelace", "--reference", str(f["bomb"])], 2,
     "the limit is 40 MP"),
    ("render-reference-not-image", lambda f: ["render", str(storyboard(f["board"], "a.yaml", [i2v("still.png")]))], 2,
     "shot 'ref' reference"),
    ("render-reference-is-a-video", lambda f: ["render", str(storyboard(f["board"], "b.yaml", [i2v("street.mp4")]))],
     2, "not an image"),
    ("render-reference-missing", lambda f: ["render", str(storyboard(f["board"], "c.yaml", [i2v("gone.png")]))], 2,
     "not found"),
    ("render-reference-climbs-out", lambda f: ["render", str(storyboard(f["board"], "d.yaml",
                                                                       [i2v("../outside/elsewhere.png")]))], 2,
     "outside the storyboard's folder"),
    ("render-reference-absolute-elsewhere", lambda f: ["render", str(storyboard(f["board"], "e.yaml",
                                                                               [i2v(str(f["outside_png"]))]))], 2,
     "outside the storyboard's folder"),
    ("render-reference-bomb", lambda f: ["render", str(storyboard(f["board"], "f.yaml", [i2v("bomb.png")]))], 2,
     "the limit is 40 MP"),
    ("render-source-not-video", lambda f: ["render", str(storyboard(f["board"], "g.yaml", [v2v("clip.mp4")]))], 2,
     "shot 'src' source"),
    ("render-source-is-an-image", lambda f: ["render", str(storyboard(f["board"], "h.yaml", [v2v("bottle.png")]))], 2,
     "not a video"),
    ("render-music-not-audio", lambda f: ["render", str(storyboard(f["board"], "i.yaml", [t2v()], music="song.mp3"))],
     2, "music: music song.mp3 is not an audio file"),
    ("render-music-is-an-image", lambda f: ["render", str(storyboard(f["board"], "j.yaml", [t2v()],
                                                                    music="bottle.png"))], 2, "not an audio file"),
    ("render-10000-shots", lambda f: ["render", str(storyboard(f["board"], "k.yaml", [t2v(i) for i in range(10_000)]))],
     2, "the most this director makes is 120"),
    ("render-too-long", lambda f: ["render", str(storyboard(f["board"], "l.yaml", [t2v(i, 8) for i in range(80)]))], 2,
     "the longest this director makes is 600 s"),
    ("make-empty-aspect", lambda f: ["make", "a kite over a hill", "--aspect", ""], 2, "--aspect ''"),
    ("plan-empty-aspect", lambda f: ["plan", "a kite over a hill", "--aspect", "", "--json"], 2, "--aspect ''"),
    ("plan-seconds-over-cap", lambda f: ["plan", "a kite over a hill", "--seconds", "1200"], 2, "1 to 600 s"),
    ("make-5000-shots", lambda f: ["make", "A film in 5,000 shots of a kite over a hill"], 2,
     "the most this director makes is 120"),
    ("plan-5000-shots-plain", lambda f: ["plan", "a film of 5000 shots about cats", "--json"], 2,
     "the most this director makes is 120"),
    ("make-20-minutes", lambda f: ["make", "A 20-minute film about a kite over a hill"], 2,
     "the longest film this director makes is 600 s"),
    ("feedback-unknown-project", lambda f: ["feedback", "p-doesnotexist", "darker"], 2, "no project"),
]


@pytest.mark.slow   # one `director` subprocess per case
@pytest.mark.parametrize("case,command,code,needle", CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_gets_one_clear_line_and_leaves_nothing_behind(case, command, code, needle, files, tmp_path):
    home = tmp_path / "home"
    proc = run(command(files), home, cwd=files["board"])
    assert proc.returncode == code, f"{case}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert needle in proc.stderr, proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, proc.stderr
    assert proc.stdout.strip() == ""
    # Nothing half made: no project, version, take or consent record.
    if (home / "director.db").exists():
        store = Store(workspace=Workspace(home))
        assert store.list_projects(owner="local") == []
        assert store.active_consents() == []
    assert not list(home.rglob("*.mp4"))


def test_the_corpus_counts():
    """The figure the report quotes: every bad input in the corpus is held (the test above)."""
    assert len(CORPUS) >= 25


@pytest.mark.slow
def test_a_film_signed_by_another_installation_is_not_vouched_for_here(tmp_path):
    """Made in workspace A, checked in workspace B: B says plainly it did not make it."""
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    made = run(["make", "A red kite over a green hill, two shots", "--resolution", "144", "--out",
                str(tmp_path / "film"), "--json"], elsewhere)
    assert made.returncode == 0, made.stderr
    film = tmp_path / "film" / "final.mp4"

    at_home = run(["verify", str(film), "--json"], elsewhere)
    assert json.loads(at_home.stdout)["verdict"].startswith("ai-generated (all three")

    report = run(["verify", str(film), "--json"], here)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["verdict"].startswith("not made here")
    assert "all three" not in data["verdict"]
    assert data["c2pa"]["trusted_here"] is False and data["watermark"]["names_a_cut_here"] is False
    text = run(["verify", str(film)], here).stdout
    assert "The signer is not trusted here" in text
    assert "The watermark names no cut of this workspace" in text


@pytest.mark.slow
def test_verify_names_the_cut_of_a_film_cropped_and_reencoded_by_a_platform(tmp_path):
    """Issue 12: a 10 % centred crop (a platform's crop-to-fill) and a re-encode at CRF 28 used to
    leave `verify` with "no disclosures found". The watermark is found where the picture moved to."""
    home = tmp_path / "home"
    made = run(["make", "A 4-second film: a red kite over a green hill", "--resolution", "720",
                "--out", str(tmp_path / "film"), "--no-music", "--json"], home, timeout=600)
    assert made.returncode == 0, made.stderr
    project_id = json.loads(made.stdout)["project_id"]
    film = tmp_path / "film" / "final.mp4"
    cropped = tmp_path / "reuploaded.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(film), "-vf", "crop=iw*0.9:ih*0.9,setsar=1",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-an", str(cropped)], check=True)
    report = run(["verify", str(cropped), "--json"], home)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["watermark"]["present"] and data["watermark"]["project_id"] == project_id
    assert data["watermark"]["moved"] and "cropped, shifted or resized" in data["watermark"]["moved"]
    assert data["label"]["present"]           # inside the action-safe area, the crop kept it
    assert data["verdict"] == "ai-generated (partial disclosures)"   # the re-encode dropped the C2PA manifest
