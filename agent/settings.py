"""The director's own settings: which brain plans, which backend renders, how hard to retry.

Set any of them through the environment with the prefix ``DIRECTOR_`` (e.g. ``DIRECTOR_BRAIN=openai``,
``DIRECTOR_LLM_MODEL=gpt-4o-mini``, ``DIRECTOR_MAX_SHOT_SECONDS=6``), or build ``AgentSettings(...)`` in code.
``token_budgets`` is a JSON object in the environment:
``DIRECTOR_TOKEN_BUDGETS='{"ltx": 120, "mymodel": 300}'`` (merged over the defaults below; ``null`` = unlimited).

Nothing here reaches the safety settings: no brief, feedback or LLM output can change them.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storyboards.schema import MAX_RESOLUTION, MIN_RESOLUTION

# Prompt budgets in estimated tokens (see agent.prompts.estimate_tokens), per text encoder:
# CogVideoX's T5 takes 226 tokens, LTX-Video's pipeline default is 128, Wan's UMT5 512, and the
# CLIP text encoder behind AnimateDiff / Stable Diffusion takes 77 including its start and end
# tokens. The animatic reads words, not tokens, so it has no limit.
DEFAULT_TOKEN_BUDGETS: dict[str, int | None] = {
    "animatic": None,
    "cogvideox": 226,
    "ltx": 128,
    "wan": 512,
    "animatediff": 77,
    "svd": 77,
    "clip": 77,
}


# Hosted video APIs bill per second of output. Runway: credits per second at $0.01 a credit, from its
# published API pricing (gen4_turbo and gen3a_turbo 5 credits/s, gen4_aleph 15, veo3 40). Prices
# change: keep this table current in DIRECTOR_HOSTED_PRICES rather than in code.
DEFAULT_HOSTED_PRICES: dict[str, float] = {
    "runway": 0.05,
    "runway:gen4_turbo": 0.05,
    "runway:gen3a_turbo": 0.05,
    "runway:gen4_aleph": 0.15,
    "runway:veo3": 0.40,
}


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_", extra="ignore", validate_assignment=True)

    # --- the brain that turns briefs and feedback into storyboards
    brain: Literal["rules", "openai", "local", "hybrid"] = Field(
        "rules", description="rules: offline rule-based planner; openai: any OpenAI-compatible endpoint; local: a GGUF file; "
                             "hybrid: the rules parser first, the local model only for what it cannot read"
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    llm_api_key: SecretStr | None = Field(None, description="key for llm_base_url (never logged)")
    llm_model: str = Field("gpt-4o-mini", description="model name sent to the endpoint")
    llm_gguf_path: str | None = Field(None, description="brain=local: path to a .gguf chat model")

    # --- production
    default_backend: str = Field("animatic", description="generation backend for shots that name none")
    resolution: int | None = Field(None, ge=MIN_RESOLUTION, le=MAX_RESOLUTION, description="short side in px of planned films (None: the planner's 720)")
    max_shot_seconds: float = Field(8.0, gt=0, le=60, description="the planner never makes a shot longer than this")
    attempts_per_shot: int = Field(3, ge=1, description="takes per shot before the best failing one is kept")
    attempts_per_film_factor: float = Field(
        2.0, gt=0, description="retry budget for the whole film = this x number of shots (see attempts_for_film)"
    )
    attempts_per_film: int | None = Field(None, ge=1, description="a fixed film-wide budget; overrides the factor")

    # --- caps, the same for every front door (agent/limits.py)
    max_film_seconds: float = Field(600.0, gt=0, description="the longest film the director makes, in seconds")
    max_shots: int = Field(120, ge=1, description="the most shots in one film")
    max_input_pixels: int = Field(40_000_000, ge=1, description="largest reference image or source frame, in pixels")

    # --- busy projects (agent/queue.py): messages wait in order instead of being refused
    max_queued: int = Field(100, ge=1, description="messages and renders that may wait for one project")
    parallel_renders: int = Field(2, ge=1, description="renders running at once across all projects")

    # --- money: hosted backends are paid per second of video
    budget_usd: float | None = Field(
        None, ge=0, description="cap on money per render (DIRECTOR_BUDGET_USD, --budget): over it the director asks first, "
                                "and retries stop at it",
    )
    hosted_prices: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_HOSTED_PRICES),
        description="USD per second of video, by 'backend:model' or 'backend' (JSON in DIRECTOR_HOSTED_PRICES)",
    )

    # --- the "final" tier: generate small and slow, then let tools/enhance finish the pixels
    generate_scale: float = Field(
        1.0, gt=0.1, le=1.0,
        description="generate takes at this fraction of the film's size, then upscale (Lanczos + sharpening, "
                    "or a neural upscaler when DIRECTOR_UPSCALE_MODEL is set)",
    )
    generate_fps: int | None = Field(
        None, ge=1, le=60, description="generate at this frame rate, then interpolate (optical flow) to the film's",
    )

    # --- the edit
    grade: float = Field(
        0.5, ge=0, le=1,
        description="how far the editor pulls each shot's colour toward the film's look (0 = off); "
                    "animatic-only films are never graded: a previz's different palettes are deliberate",
    )

    cut_preset: str = Field(
        "auto",
        description="x264 preset of the delivered cut; auto = ultrafast for an animatic previz (a draft, "
                    "~3x quicker to encode, larger file) and veryfast for generated footage",
    )

    # --- prompts
    token_budgets: dict[str, int | None] = Field(default_factory=dict, description="per-backend overrides, merged over DEFAULT_TOKEN_BUDGETS")
    film_negative_prompt: str = Field(
        "watermark, blurry, distorted, low quality",
        description="negatives added to every shot's own negative prompt",
    )

    @field_validator("token_budgets")
    @classmethod
    def _budgets(cls, v: dict[str, int | None]) -> dict[str, int | None]:
        for name, budget in v.items():
            if budget is not None and budget < 8:
                raise ValueError(f"token budget for '{name}' is {budget}; use at least 8 tokens, or null for unlimited")
        return {k.lower(): b for k, b in v.items()}

    def budgets(self) -> dict[str, int | None]:
        return {**DEFAULT_TOKEN_BUDGETS, **self.token_budgets}

    def token_budget(self, backend: str | None, model: str | None = None) -> int | None:
        """The prompt budget for a backend (or a model id such as 'Lightricks/LTX-Video'); None = unlimited.

        An exact backend name wins; otherwise a known family name inside the backend or model id
        (so 'diffusers' with model 'THUDM/CogVideoX-2b' gets the CogVideoX budget). Unknown: unlimited.
        """
        budgets = self.budgets()
        name = (backend or self.default_backend).lower()
        if name in budgets:
            return budgets[name]
        haystack = f"{name} {model or ''}".lower().replace("-", "").replace("_", "")
        for family, budget in sorted(budgets.items(), key=lambda kv: -len(kv[0])):
            if family.replace("-", "").replace("_", "") in haystack:
                return budget
        return None

    def attempts_for_film(self, n_shots: int) -> int:
        """How many generations the whole film may spend: at least one per shot."""
        if self.attempts_per_film is not None:
            return max(self.attempts_per_film, n_shots)
        return max(n_shots, math.ceil(self.attempts_per_film_factor * n_shots))
