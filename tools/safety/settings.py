"""Operator-only safety settings: read from the environment (prefix DIRECTOR_SAFETY_), never from chat.

There is no field that turns the label, the watermark or the signature off; nothing a brief,
feedback or LLM output produces is ever passed to this class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SafetySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTOR_SAFETY_", extra="ignore", frozen=True)

    label_text: str = Field("AI-generated", min_length=2, max_length=40)
    label_position: Literal["bottom-right", "bottom-left", "top-right", "top-left"] = "bottom-right"
    label_scale: float = Field(1.0, ge=1.0, le=3.0, description="1.0 = 4.5% of the frame height (the minimum)")
    watermark_strength: float = Field(1.0, ge=0.5, le=2.0, description="QIM step multiplier; 1.0 ~ 40.6 dB PSNR")
    c2pa_cert: Path | None = Field(None, description="PEM chain: signing cert + intermediates (not the root)")
    c2pa_key: Path | None = Field(None, description="PEM private key of the signing cert")
    c2pa_trust_anchors: Path | None = Field(None, description="PEM roots whose signatures count as 'trusted'")
    face_min_size: int = Field(40, ge=16, description="smallest face (px) the face check reports")
    face_video_samples: int = Field(8, ge=1, le=64)
    name_check_unknown_people: bool = Field(True, description="treat unknown 'First Last' names as real people")

    @field_validator("label_text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("label_text cannot be blank: the disclosure label is always shown")
        return v.strip()


def load_settings() -> SafetySettings:
    return SafetySettings()
