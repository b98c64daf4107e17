"""The brain behind the director: `rules` (offline default), `openai` (any OpenAI-compatible endpoint)
`local` (a GGUF served by llama-cpp-python) or `hybrid` (rules first, the local model for the rest). Each plans storyboards and revises them from feedback."""

from __future__ import annotations

from agent.settings import AgentSettings


def make_brain(settings: AgentSettings):
    if settings.brain == "rules":
        from agent.brains.rules import RulesBrain

        return RulesBrain(settings)
    if settings.brain == "hybrid":
        from agent.brains.hybrid import HybridBrain

        return HybridBrain(settings)
    if settings.brain in ("openai", "local"):
        from agent.brains.llm import LLMBrain

        return LLMBrain(settings)
    raise ValueError(f"DIRECTOR_BRAIN '{settings.brain}' is not one of: rules, openai, local, hybrid")


def plan_brief(settings: AgentSettings, brief: str, overrides: dict | None = None):
    """A storyboard from a brief with the operator's default resolution; needs no store or workspace,
    so `director plan` answers without opening the database."""
    from agent.limits import check_brief, check_caps, check_seconds

    # The caps (agent/limits.py), here because every front door plans through this function.
    overrides = overrides or {}
    check_brief(brief, settings)
    if overrides.get("seconds") is not None:
        check_seconds(float(overrides["seconds"]), settings)
    defaults = {"resolution": settings.resolution} if settings.resolution else {}
    plan = make_brain(settings).plan(brief, {**defaults, **overrides})
    if plan.storyboard is not None and not plan.question:
        check_caps(plan.storyboard, settings)
    return plan
