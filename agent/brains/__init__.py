"""The brain behind the director: `rules` (offline default), `openai` (any OpenAI-compatible endpoint)
or `local` (a GGUF served by llama-cpp-python). Each plans storyboards and revises them from feedback."""

from __future__ import annotations

from agent.settings import AgentSettings


def make_brain(settings: AgentSettings):
    if settings.brain == "rules":
        from agent.brains.rules import RulesBrain

        return RulesBrain(settings)
    if settings.brain in ("openai", "local"):
        from agent.brains.llm import LLMBrain

        return LLMBrain(settings)
    raise ValueError(f"DIRECTOR_BRAIN '{settings.brain}' is not one of: rules, openai, local")


def plan_brief(settings: AgentSettings, brief: str, overrides: dict | None = None):
    """A storyboard from a brief with the operator's default resolution; needs no store or workspace,
    so `director plan` answers without opening the database."""
    defaults = {"resolution": settings.resolution} if settings.resolution else {}
    return make_brain(settings).plan(brief, {**defaults, **(overrides or {})})
