"""Export presets: platform sizes with H.264 (yuv420p, +faststart) and AAC web settings.

A take made at one aspect ratio is never squeezed, cropped or letterboxed into another behind the
user's back: `reframe_or_refuse` asks for the shots to be generated again at the preset's aspect.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from .video_io import EditError


@dataclass(frozen=True)
class ExportPreset:
    name: str
    width: int
    height: int
    aspect: str
    crf: int = 20
    x264_preset: str = "veryfast"
    audio_bitrate: str = "192k"
    audio_rate: int = 48000

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def assemble_kwargs(self) -> dict:
        """Keyword arguments for `assemble_cut`: `assemble_cut(clips, out, fps=24, **preset.assemble_kwargs())`."""
        return {"width": self.width, "height": self.height, "crf": self.crf, "x264_preset": self.x264_preset}


PRESETS: dict[str, ExportPreset] = {p.name: p for p in (
    ExportPreset("16:9-1080p", 1920, 1080, "16:9"),
    ExportPreset("16:9-720p", 1280, 720, "16:9"),
    ExportPreset("9:16-1080p", 1080, 1920, "9:16"),
    ExportPreset("9:16-720p", 720, 1280, "9:16"),
    ExportPreset("1:1-1080p", 1080, 1080, "1:1"),
)}


def get_preset(name: str) -> ExportPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise EditError(f"no export preset '{name}'; presets are: {', '.join(PRESETS)}") from None


def aspect_of(width: int, height: int) -> str:
    g = gcd(width, height)
    return f"{width // g}:{height // g}"


def reframe_or_refuse(clip_size: tuple[int, int], preset: ExportPreset | str | tuple[int, int]) -> tuple[int, int]:
    """The size to scale takes of `clip_size` (width, height) to for `preset` (a preset, its name, or
    an output (width, height)), or EditError when the aspect ratios differ (by more than 1%, so
    854x480 still counts as 16:9)."""
    if isinstance(preset, str):
        p = get_preset(preset)
    elif isinstance(preset, ExportPreset):
        p = preset
    else:
        pw, ph = preset
        p = ExportPreset(f"{pw}x{ph}", pw, ph, aspect_of(pw, ph))
    w, h = clip_size
    if w <= 0 or h <= 0:
        raise EditError(f"clip size {w}x{h} is not a picture size")
    if abs((w / h) / (p.width / p.height) - 1.0) > 0.01:
        raise EditError(
            f"the takes are {w}x{h} ({aspect_of(w, h)}) but preset '{p.name}' is {p.width}x{p.height} ({p.aspect}); "
            f"generate the shots again at {p.aspect} (set aspect_ratio: \"{p.aspect}\" in the storyboard) "
            f"rather than letterboxing or cropping them"
        )
    return p.width, p.height
