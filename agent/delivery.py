"""A delivered film in a smaller file: for chat platforms with an upload limit.

`fitted_cut` re-encodes a project's cut under a byte limit (tools/edit/fit.py) and signs the result
with the same C2PA signing path as the cut itself (agent/film.py), declaring the transcode, so the
smaller file still carries all three disclosures: the label and the watermark live in the pixels and
survive the re-encode; the manifest does not, so it is written again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboards.store import Store
from storyboards.workspace import Workspace

MANIFEST_RESERVE = 16 * 1024


@dataclass(frozen=True)
class FittedCut:
    path: Path
    bytes: int
    width: int
    height: int
    source_bytes: int
    scaled: bool


def fitted_name(max_bytes: int) -> str:
    """`final.fit-10mb.mp4`: one file per limit, beside final.mp4 (an added output name, never a rename)."""
    size = f"{max_bytes // 2**20}mb" if max_bytes % 2**20 == 0 else f"{max_bytes // 1024}kb"
    return f"final.fit-{size}.mp4"


def fitted_cut(store: Store, workspace: Workspace, project_id: str, cut_path: str | Path, max_bytes: int) -> FittedCut:
    """A signed copy of `cut_path` no larger than `max_bytes`, made once per cut and limit.

    Raises agent.errors.Failed when the film cannot fit at a watchable quality."""
    from tools.edit.fit import fit_to_size
    from tools.edit.video_io import probe
    from tools.safety.c2pa_manifest import sign_video

    cut_path = Path(cut_path)
    out = cut_path.with_name(fitted_name(max_bytes))
    if out.is_file() and out.stat().st_mtime >= cut_path.stat().st_mtime and out.stat().st_size <= max_bytes:
        info = probe(out, count_frames=False)
        return FittedCut(out, out.stat().st_size, info["width"], info["height"], cut_path.stat().st_size,
                         (info["width"], info["height"]) != tuple(probe(cut_path, count_frames=False)[k] for k in ("width", "height")))
    cut = next((c for c in reversed(store.list_cuts(project_id)) if Path(c.file) == cut_path), None)
    manifest = (cut.manifest if cut else None) or {}
    takes = manifest.get("takes") or []
    models = sorted({f"{t.get('backend')}:{t.get('model')}" for t in takes}) or ["reel-director"]
    unsigned = out.with_name(f".{out.stem}.unsigned.mp4")
    from agent.errors import Failed
    from tools.edit.video_io import EditError

    try:
        try:
            # Room for the manifest signed in below (a few KB: certificates and assertions).
            result = fit_to_size(cut_path, unsigned, max_bytes, reserve=MANIFEST_RESERVE)
        except EditError as err:  # too long for the limit, or ffmpeg failed: say so, as a failed step
            raise Failed(str(err), project_id=project_id) from None
        sign_video(
            unsigned, out, title=store.get_project(project_id).title, project_id=project_id,
            cut_id=cut.id if cut else "unknown", version=cut.version if cut else 0, models=models,
            actions=[{"action": "c2pa.edited", "parameters": {"description": "assembled from generated takes"}},
                     {"action": "c2pa.transcoded", "parameters": {
                         "description": f"re-encoded to fit {max_bytes / 2**20:.1f} MB ({result.width}x{result.height})"}}],
            keys_dir=workspace.keys_dir,
        )
    finally:
        unsigned.unlink(missing_ok=True)
    size = out.stat().st_size
    if size > max_bytes:  # the manifest adds a few KB: the fit leaves room for it, but make sure
        out.unlink(missing_ok=True)
        raise Failed(f"the signed small copy came out {size} bytes, over the {max_bytes}-byte limit")
    return FittedCut(out, size, result.width, result.height, result.source_bytes, result.scaled)
