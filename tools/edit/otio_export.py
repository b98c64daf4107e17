"""Export the cut as an OpenTimelineIO timeline, for finishing in a professional editor.

One video track: each shot a Clip whose ExternalReference points at its take file, a Transition
between shots that overlap, the title and end cards as generator clips, and a marker with the shot
id on every shot. The track's length equals the rendered film's, frame for frame.

A transition covering our overlap of `o` frames is centred on its cut point (`o // 2` frames before
it, the rest after), the convention editors such as Premiere and Resolve use on import. The outgoing
clip's media ends exactly where the overlap ends, the incoming clip's begins where it starts: no
handles beyond the take's own frames are needed.
"""

from __future__ import annotations

import os
from pathlib import Path

from .timeline import Segment, total_frames
from .video_io import atomic_output

OTIO_TRANSITION = {"crossfade": "SMPTE_Dissolve", "fade": "Custom_Transition", "wipe": "Custom_Transition"}


def build_otio(timeline_clips: list[Segment], fps: float, name: str = "Reel Director cut"):
    import opentimelineio as otio

    def rt(frames: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frames, fps)

    def tr(start: int, duration: int) -> otio.opentime.TimeRange:
        return otio.opentime.TimeRange(rt(start), rt(duration))

    timeline = otio.schema.Timeline(name=name, global_start_time=rt(0))
    track = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    segs = list(timeline_clips)
    for i, seg in enumerate(segs):
        prev_overlap = segs[i - 1].overlap_out if i > 0 else 0
        in_trim = prev_overlap // 2                                  # media before our cut point
        tail = seg.overlap_out - seg.overlap_out // 2                # media after the next cut point
        used = seg.frames - in_trim - tail
        meta = {"kind": seg.kind, "shot_id": seg.shot_id, "start_seconds": seg.start_seconds,
                "end_seconds": seg.end_seconds, "transition_out": seg.transition_out,
                "narration": seg.narration, "caption": seg.caption}
        if seg.kind == "shot":
            ref = otio.schema.ExternalReference(target_url=Path(seg.path).resolve().as_uri(),
                                                available_range=tr(0, seg.frames))
            clip = otio.schema.Clip(name=seg.shot_id, media_reference=ref, source_range=tr(in_trim, used))
            clip.markers.append(otio.schema.Marker(name=seg.shot_id, marked_range=tr(in_trim, 0),
                                                   color=otio.schema.MarkerColor.GREEN,
                                                   metadata={"reel_director": {"shot_id": seg.shot_id}}))
        else:
            ref = otio.schema.GeneratorReference(name=f"{seg.kind} card", generator_kind=f"reel_director.{seg.kind}",
                                                 available_range=tr(0, seg.frames))
            clip = otio.schema.Clip(name=f"{seg.kind} card" if seg.kind != "hold" else f"hold {seg.shot_id}",
                                    media_reference=ref, source_range=tr(0, seg.frames))
        clip.metadata["reel_director"] = meta
        track.append(clip)
        if seg.overlap_out:
            o = seg.overlap_out
            kind = OTIO_TRANSITION.get(seg.transition_out, "Custom_Transition")
            track.append(otio.schema.Transition(
                name=seg.transition_out, transition_type=kind, in_offset=rt(o // 2), out_offset=rt(o - o // 2),
                metadata={"reel_director": {"transition": seg.transition_out, "overlap_frames": o}},
            ))
    expected = total_frames(segs)
    got = round(track.duration().to_frames())
    if got != expected:
        raise AssertionError(f"internal: OTIO track is {got} frames, the cut {expected}")
    return timeline


def write_otio(timeline_clips: list[Segment], path: str | os.PathLike, fps: float) -> Path:
    """Write `timeline_clips` (CutResult.timeline_clips) as an .otio file, atomically."""
    import opentimelineio as otio

    timeline = build_otio(timeline_clips, fps, name=Path(path).stem)
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(otio.adapters.write_to_string(timeline, "otio_json"), encoding="utf-8")
    return path
