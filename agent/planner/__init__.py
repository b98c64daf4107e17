"""Planners turn a brief into a storyboard.

`rules` is the offline default brain (deterministic, no model). An LLM brain can sit beside it and
return the same `PlanResult`.
"""

from agent.planner.rules import PlanResult, plan_storyboard

__all__ = ["PlanResult", "plan_storyboard"]
