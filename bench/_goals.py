"""Every bench states its goals the same way: the measured ratio, the baseline it was measured against
in the same run, the goal, and whether it was met. `done()` exits 1 when any goal was missed, so
`make bench` stops on the first bench that falls short and says which."""

from __future__ import annotations

import sys

_missed: list[str] = []


def goal(name: str, value: float, limit: float, *, baseline: str, at_most: bool = True, unit: str = "") -> bool:
    """Print one goal line: `GOAL name: value (goal <= limit) met|MISSED  [baseline]`."""
    met = value <= limit if at_most else value >= limit
    sign = "<=" if at_most else ">="
    print(f"GOAL {name}: {value:.3g}{unit} (goal {sign} {limit:g}{unit}) {'met' if met else 'MISSED'}  [{baseline}]",
          flush=True)
    if not met:
        _missed.append(name)
    return met


def done() -> None:
    if _missed:
        print(f"goals missed: {', '.join(_missed)}", file=sys.stderr)
        sys.exit(1)
