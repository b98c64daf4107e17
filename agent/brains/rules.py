"""The offline brain: the rule-based planner and feedback parser, no network, deterministic."""

from __future__ import annotations

from agent.feedback import FeedbackResult, apply_feedback
from agent.planner.rules import PlanResult, plan_storyboard
from agent.settings import AgentSettings
from storyboards.schema import Storyboard


class RulesBrain:
    name = "rules"

    def __init__(self, settings: AgentSettings):
        self.settings = settings

    def plan(self, brief: str, overrides: dict | None = None) -> PlanResult:
        return plan_storyboard(brief, settings=self.settings, overrides=overrides or None)

    def revise(self, storyboard: Storyboard, text: str, *, takes_by_shot=None, shots=None) -> FeedbackResult:
        return apply_feedback(storyboard, text, takes_by_shot=takes_by_shot, shots=shots, settings=self.settings)
