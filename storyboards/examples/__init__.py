"""Example storyboards, complete and human-editable: `director render storyboards/examples/harbour_dawn.yaml`.

The PNG and MP4 beside them are inputs to the i2v and v2v shots; `make_assets.py` made them.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).parent


def example_paths() -> list[Path]:
    """Every example storyboard file, sorted by name."""
    return sorted(EXAMPLES_DIR.glob("*.yaml"))
