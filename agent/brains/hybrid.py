"""The hybrid brain: the rules parser does the structure, a local model resolves only what rules cannot.

On 2 cores a small local model takes minutes to write a whole storyboard and often gets it wrong,
while the rules parser plans in milliseconds and is checked against the corpus. So:
- plan: the rules plan, always (valid, exact length, cast). Only a brief the rules cannot picture at
  all (no subject) goes to the model, and its plan is held to the brief's hard constraints.
- revise: the rules parser first; a note it does not understand goes to the model, which edits
  through the same validated tool calls (agent/brains/tools.py) and is held to the note's named shots.
A brief in a language the rules do not read gets the rules' question in that language.
"""

from __future__ import annotations

from agent.brains.llm import LLMBrain
from agent.brains.rules import RulesBrain
from agent.settings import AgentSettings
from storyboards.schema import Storyboard


class HybridBrain:
    name = "hybrid"

    def __init__(self, settings: AgentSettings):
        self.settings = settings
        self.rules = RulesBrain(settings)
        self.model = LLMBrain(settings.model_copy(update={"brain": "local"}))

    def plan(self, brief: str, overrides: dict | None = None):
        planned = self.rules.plan(brief, overrides)
        no_picture = planned.question is not None and any("placeholder" in n for n in planned.notes)
        if not no_picture:
            return planned
        asked = self.model.plan(brief, overrides)
        return asked if asked.question is None else planned

    def revise(self, storyboard: Storyboard, text: str, *, takes_by_shot=None, shots=None):
        result = self.rules.revise(storyboard, text, takes_by_shot=takes_by_shot, shots=shots)
        if result.question is None or not result.question.startswith("I didn't understand"):
            return result
        asked = self.model.revise(storyboard, text, takes_by_shot=takes_by_shot, shots=shots)
        return asked if asked.question is None else result
