"""A price and a time before every render, and a budget that holds.

The estimate is stated before any take is made (an `estimate` event; on the CLI a line on stderr),
learns this machine's real speed from the takes it makes, and counts reused shots as free. A hosted
backend's price comes from the settings' table; a render over the budget is not started (exit 4 on
the CLI, nothing generated), and retries stop at the cap with the director saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import NeedsAnswer
from agent.estimate import PlannedShot, SpeedBook, estimate_render
from agent.events import DirectorMessage, Estimate
from tests.test_production_loop import SHOTS, DefectiveBackend, make_director, storyboard
from tools.generate import register_backend

ROOT = Path(__file__).resolve().parents[1]
BRIEF = "A 6-second film in two shots: a red kite rises over a green hill, then a girl waves at it."


def test_the_estimate_counts_money_time_and_reused_shots(tmp_path):
    speeds = SpeedBook(tmp_path / "speeds.json")
    shots = [PlannedShot("a", "runway", "gen4_turbo", 5.0, 1280, 720, 120, reused=False),
             PlannedShot("b", "runway", "gen4_turbo", 5.0, 1280, 720, 120, reused=True),
             PlannedShot("c", "animatic", "animatic-v1", 4.0, 1280, 720, 96, reused=False)]
    prices = {"runway:gen4_turbo": 0.05}
    e = estimate_render(shots, speeds=speeds, prices=prices, retries=2, film_seconds=14, film_pixels=(1280, 720), fps=24,
                        budget_usd=1.0)
    assert e.takes == 2 and e.takes_budgeted == 4
    assert e.cost_usd == 0.25                 # the reused runway shot costs nothing
    assert e.cost_usd_max == 0.75             # plus two retries of the dearest shot
    assert not e.over_budget and not e.measured
    assert "$0.25" in e.text() and "not yet measured" in e.text()
    # After a real measurement the estimate follows this machine's speed.
    speeds.record("animatic", "animatic-v1", seconds=10.0, width=1280, height=720, frames=96)
    again = estimate_render(shots[2:], speeds=speeds, prices=prices, retries=0, film_seconds=4, film_pixels=(1280, 720), fps=24)
    assert 10.0 <= again.wall_seconds < 12 and again.measured and again.cost_usd is None


@pytest.mark.slow
def test_the_director_states_the_estimate_before_any_take_and_learns_its_speed(tmp_path, monkeypatch):
    register_backend("defective", DefectiveBackend(spoil_first=0))
    director = make_director(tmp_path, monkeypatch)
    board = storyboard(("harbour", "market"))
    project = director.start_project("ada", board, "test")
    events = []
    director.render("ada", project, emit=events.append)
    first_estimate = next(i for i, e in enumerate(events) if isinstance(e, Estimate))
    first_take = next(i for i, e in enumerate(events) if getattr(e, "type", "") == "take_ready")
    assert first_estimate < first_take
    estimate = events[first_estimate]
    assert estimate.video_seconds == board.duration and estimate.takes >= 2 and estimate.cost_usd is None
    assert "not yet measured" in estimate.text
    # Measured now; and nothing changed, so a second render is estimated as all reused.
    second = director.estimate("ada", project)
    assert second.measured and second.takes == 0 and second.wall_seconds < estimate.wall_seconds


@pytest.mark.slow
def test_a_render_over_budget_asks_first_and_makes_nothing(tmp_path, monkeypatch):
    backend = DefectiveBackend(spoil_first=0)
    register_backend("defective", backend)
    director = make_director(tmp_path, monkeypatch, hosted_prices={"defective": 0.5}, budget_usd=1.0)
    board = storyboard(("harbour", "market"))          # 2 shots x 2 s x $0.50 = $2.00
    project = director.start_project("ada", board, "test")
    try:
        director.render("ada", project)
        raise AssertionError("a render over budget was started")
    except NeedsAnswer as err:
        assert "$2.00" in err.message and "$1.00" in err.message and "--budget" in err.message
    assert backend.calls == {}
    # Allowed with a larger budget for this render.
    result = director.render("ada", project, budget_usd=2.0)
    assert result.new_takes == 2


@pytest.mark.slow
def test_retries_stop_at_the_budget_and_the_director_says_so(tmp_path, monkeypatch):
    backend = DefectiveBackend(spoil_first=None)       # every take fails: the loop would retry
    register_backend("defective", backend)
    director = make_director(tmp_path, monkeypatch, hosted_prices={"defective": 0.5}, attempts_per_shot=3,
                             attempts_per_film=12)
    board = storyboard(("harbour", "market"))          # first takes $2.00; each retry $1.00
    project = director.start_project("ada", board, "test")
    events = []
    result = director.render("ada", project, emit=events.append, budget_usd=3.0)
    assert result.new_takes == 3                       # two first takes and one retry: $3.00
    said = " ".join(e.text for e in events if isinstance(e, DirectorMessage))
    assert "not regenerating" in said and "budget of $3.00" in said
    assert sum(backend.calls.values()) == 3 and set(backend.calls) == set(SHOTS) & {"harbour", "market"}


@pytest.mark.slow
def test_director_make_prints_the_estimate_and_honours_budget(tmp_path):
    env = {**os.environ, "DIRECTOR_HOME": str(tmp_path / "home"), "DIRECTOR_HOSTED_PRICES": json.dumps({"animatic": 0.25})}

    def make(*extra):
        return subprocess.run([sys.executable, "-m", "server.cli", "make", BRIEF, "--resolution", "96",
                               "--out", str(tmp_path / "film"), *extra], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=300)

    refused = make("--budget", "0.5", "--json")        # 6 s x $0.25 = $1.50
    assert refused.returncode == 4, refused.stderr
    assert refused.stdout == "" and "$1.50" in refused.stderr and "--budget" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "film" / "final.mp4").exists()
    made = make("--budget", "2")
    assert made.returncode == 0, made.stderr
    said = " ".join((made.stdout + made.stderr).split())   # rich wraps lines at the terminal's width
    assert "Estimate: 6 s of video" in said and "$1.50 (up to $3.00) of your $2.00 budget" in said
    assert (tmp_path / "film" / "final.mp4").is_file()
