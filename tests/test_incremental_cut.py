"""Incremental finishing: feedback re-encodes only the cut's pieces whose inputs changed, and the joined
film still plays everywhere, frame-exact, with every disclosure intact (issue 17.1).

Through the front door (`director render`, `director feedback`, `director verify` as subprocesses) and
checked with two decoders (ffmpeg, and OpenCV's own FFmpeg build), ffmpeg's packet timestamps, and a
real headless chromium playing the file to its end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.edit.video_io import ffmpeg_exe

pytestmark = pytest.mark.slow

FPS = 24
SHOTS = [  # id, seconds, transition into the next shot
    ("harbour", 1.5, "crossfade"),
    ("boat", 1.5, "cut"),
    ("gulls", 1.5, "wipe"),
    ("nets", 1.5, "cut"),
]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def director(*args: str, home: Path) -> dict:
    env = {**os.environ, "DIRECTOR_HOME": str(home)}
    out = subprocess.run([sys.executable, "-m", "server.cli", *args, "--json"], capture_output=True, text=True, env=env,
                         cwd=Path(__file__).resolve().parents[1], timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def expected_frames(order: list[tuple[str, float, str]]) -> int:
    """The storyboard's frame count, worked out here from the storyboard alone: 2 s title and end cards,
    every shot's frames, minus the frames two shots share in a transition (min(0.5 s, shorter shot / 4))."""
    counts = [round(s * FPS) for _, s, _ in order]
    shared = sum(min(round(0.5 * FPS), min(counts[i], counts[i + 1]) // 4)
                 for i, (_, _, tr) in enumerate(order[:-1]) if tr != "cut")
    return 2 * FPS + sum(counts) - shared + 2 * FPS


def ffmpeg_frame_count(path: Path) -> int:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-500:]
    assert "error" not in out.stderr.lower().replace("error_", ""), out.stderr[-800:]
    return int(re.findall(r"frame=\s*(\d+)", out.stderr)[-1])


def opencv_frame_count(path: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def packet_pts(path: Path) -> list[int]:
    """Presentation timestamps of every video packet, from ffmpeg's framecrc muxer (no ffprobe here)."""
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:v:0",
                          "-c", "copy", "-f", "framecrc", "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [int(line.split(",")[2]) for line in out.stdout.splitlines() if line and not line.startswith("#")]


def assert_plays_cleanly(path: Path, frames: int) -> None:
    assert ffmpeg_frame_count(path) == frames
    assert opencv_frame_count(path) == frames
    pts = sorted(packet_pts(path))
    steps = {b - a for a, b in zip(pts, pts[1:])}
    assert len(pts) == frames and len(steps) == 1, f"timestamp gaps or repeats: steps {sorted(steps)[:5]}"


def write_storyboard(path: Path, order) -> None:
    shots = [{"id": sid, "duration": sec, "subject": f"the {sid}", "setting": "a harbour at dawn",
              "camera": "pan_left", "transition": tr, "narration": f"The {sid}."} for sid, sec, tr in order]
    path.write_text(yaml.safe_dump({"title": "Harbour pieces", "aspect_ratio": "16:9", "fps": FPS, "resolution": 288,
                                    "shots": shots}))


def manifest(out_dir: Path) -> dict:
    return json.loads((out_dir / "manifest.json").read_text())


def test_feedback_and_reorder_reencode_only_what_changed_and_the_film_plays_everywhere(tmp_path):
    home = tmp_path / "home"
    board = tmp_path / "board.yaml"
    write_storyboard(board, SHOTS)
    made = director("render", str(board), home=home)
    project = made["project_id"]
    first = manifest(Path(made["cut"]).parent)
    assert first["pieces"]["reused"] == 0 and first["pieces"]["made"] > 0
    assert_plays_cleanly(Path(made["cut"]), expected_frames(SHOTS))

    # one shot changes: its pieces and the transition into it are new, the rest are reused
    darker = director("feedback", project, "make shot 2 darker", home=home)
    assert darker["changed_shots"] == ["boat"] and darker["new_takes"] == 1
    second = manifest(Path(darker["cut"]).parent)
    # title, end card, the crossfade into 'boat', its core, its tail edge: nothing of the other three shots
    assert second["pieces"]["made"] <= 5
    assert second["pieces"]["reused"] >= first["pieces"]["made"] - 5
    assert_plays_cleanly(Path(darker["cut"]), expected_frames(SHOTS))

    # a reorder generates nothing and re-encodes only the transitions whose neighbours changed (+ edges, cards)
    swapped = director("feedback", project, "swap shots 3 and 4", home=home)
    assert swapped["new_takes"] == 0
    third = manifest(Path(swapped["cut"]).parent)
    order = [s["shot_id"] for s in third["timeline"] if s["kind"] == "shot"]
    assert order == ["harbour", "boat", "nets", "gulls"]
    assert third["pieces"]["made"] <= 6
    new_order = [SHOTS[0], SHOTS[1], SHOTS[3], SHOTS[2]]     # a shot's transition out moves with it
    cut = Path(swapped["cut"])
    assert_plays_cleanly(cut, expected_frames(new_order))

    # every disclosure holds on the joined file, and every watermark payload maps back to this project
    report = director("verify", str(cut), home=home)
    assert report["c2pa"]["present"] and report["c2pa"]["valid"] and report["c2pa"]["ai_generated"]
    assert report["label"]["present"]
    payloads = report["watermark"]["payloads"]
    assert report["watermark"]["cut_id"] == third["cut_id"]
    assert payloads and all(p["project_id"] == project for p in payloads), payloads
    # subtitles and the soundtrack belong to the new order: the narration moved, so the kept soundtrack
    # of the earlier order is not reused; the new one is exactly the film's length
    srt = (cut.parent / "final.srt").read_text()
    assert srt.index("The nets.") < srt.index("The gulls.")
    assert third["pieces"]["soundtrack"] == "mixed"
    assert audio_samples(cut) == round(expected_frames(new_order) / FPS * 48000)


def audio_samples(path: Path) -> int:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a:0",
                          "-f", "s16le", "-ac", "1", "-ar", "48000", "-"], capture_output=True)
    assert out.returncode == 0, out.stderr[-500:]
    return len(out.stdout) // 2


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install -y chromium")
def test_a_cut_joined_from_cached_pieces_plays_to_the_end_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    board = tmp_path / "board.yaml"
    write_storyboard(board, SHOTS[:3])
    made = director("render", str(board), home=home)
    again = director("feedback", made["project_id"], "swap shots 1 and 2", home=home)
    cut = Path(again["cut"])
    assert manifest(cut.parent)["pieces"]["reused"] > 0
    page_html = tmp_path / "play.html"
    page_html.write_text(f'<video id="v" src="{cut.as_uri()}" muted playsinline></video>')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page()
            page.goto(page_html.as_uri())
            state = page.evaluate("""() => new Promise(resolve => {
                const v = document.getElementById('v');
                v.playbackRate = 4;
                v.onended = () => resolve({ended: true, time: v.currentTime, duration: v.duration});
                v.onerror = () => resolve({ended: false, error: v.error && v.error.code});
                v.play().catch(e => resolve({ended: false, error: String(e)}));
            })""")
        finally:
            browser.close()
    assert state["ended"], state
    assert abs(state["time"] - again["duration"]) < 0.2
