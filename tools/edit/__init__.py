"""Editing: assemble selected takes into a film, with cards, transitions, narration, music and subtitles.

    from tools.edit import CutClip, assemble_cut
    cut = assemble_cut([CutClip("a.mp4", "opening", 4.0, "crossfade", narration="...")], "out/final.mp4",
                       width=1280, height=720, fps=24, title="Harbour at dawn", finish_frames=mark)

Modules: `timeline` (the one place shot start times are computed), `video_io` (ffmpeg read/write/probe),
`assemble`, `grade` (the light colour grade toward the film's look), `cards`, `narration`, `subtitles`,
`presets`, `otio_export`, `contact_sheet`.
"""

from .assemble import CutResult, assemble_cut
from .contact_sheet import contact_sheet
from .otio_export import write_otio
from .presets import PRESETS, ExportPreset, reframe_or_refuse
from .timeline import CutClip, Segment, build_timeline
from .video_io import EditError, probe, read_video, write_video

__all__ = [
    "CutClip", "CutResult", "EditError", "ExportPreset", "PRESETS", "Segment", "assemble_cut", "build_timeline",
    "contact_sheet", "probe", "read_video", "reframe_or_refuse", "write_otio", "write_video",
]
