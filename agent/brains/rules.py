"""The offline brain: the rule-based planner and feedback parser, no network, deterministic.

Revising goes through the same tools as the LLM brain: the parser (agent/feedback.py) reads the note,
and what it read is applied as validated tool calls (agent/brains/calls.py -> agent/brains/tools.py).
"""

from __future__ import annotations

from dataclasses import replace

from agent.brains.calls import calls_for
from agent.brains.tools import Draft, ToolError, apply_tool
from agent.feedback import FeedbackResult, apply_feedback, changed_shot_ids
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
        read = apply_feedback(storyboard, text, takes_by_shot=takes_by_shot, shots=shots, settings=self.settings)
        if read.question is not None or read.undo:
            return read
        before = {s.id: s.seed for s in storyboard.shots}
        # "redo shot 2": the parser gives it a new seed; as a tool call that is regenerate_shot
        regenerate = [s.id for s in read.storyboard.shots if s.id in before and s.seed != before[s.id]]
        draft = Draft(storyboard=storyboard.model_copy(deep=True), seed_key=f"{storyboard.title}|{text.strip()}",
                      takes_by_shot=None if takes_by_shot is None else
                      {k: (v if isinstance(v, int) else len(v)) for k, v in takes_by_shot.items()},
                      max_shot_seconds=self.settings.max_shot_seconds)
        target = read.storyboard.model_copy(update={"shots": [
            s.model_copy(update={"seed": before[s.id]}) if s.id in regenerate else s for s in read.storyboard.shots]})
        try:
            for name, args in calls_for(storyboard, target, regenerate=regenerate, select_take=read.select_take,
                                        render=bool(read.wants_render)):
                apply_tool(draft, name, args)
        except ToolError as e:
            # the parser read something the storyboard cannot hold: say so, change nothing
            return FeedbackResult(storyboard=storyboard.model_copy(deep=True), reason="no change",
                                  question=f"I couldn't make that change: {e}. Could you say it another way?")
        new = draft.storyboard
        assert new is not None   # the draft starts from `storyboard` and tools never empty it
        changed = changed_shot_ids(storyboard, new)
        changed += [sid for sid in draft.regenerate_shots if sid not in changed]
        return replace(read, storyboard=new, changed_shots=[s.id for s in new.shots if s.id in changed],
                       regenerate_shots=list(draft.regenerate_shots), select_take=draft.select_take,
                       wants_render=draft.wants_render)
