"""`director verify FILE`: read back all three disclosures (C2PA manifest, invisible watermark, label)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from tools.safety import c2pa_manifest, label, watermark
from tools.safety._media import decode_frames


def verify_video(path: str | Path, *, keys_dir: str | Path | None = None,
                 resolve_watermark: Callable[[int], dict | tuple[str, str] | None] | None = None,
                 trust_anchors: str | Path | None = None, label_text: str = label.DEFAULT_TEXT,
                 watermark_strength: float = watermark.DEFAULT_STRENGTH, max_frames: int = 192) -> dict:
    """{c2pa: {...}, watermark: {...}, label: {...}, verdict, reasons}.

    `resolve_watermark(payload) -> {project_id, cut_id, ...} | (project_id, cut_id) | None` maps a 32-bit
    watermark back to what made it (the CLI passes a lookup in the workspace database)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no video at {path}")
    m = c2pa_manifest.read_manifest(path, keys_dir=keys_dir, trust_anchors=trust_anchors)
    c2pa = {"present": m.present, "valid": m.valid, "ai_generated": m.ai_generated, "issuer": m.issuer,
            "trust": m.trust, "validation_state": m.validation_state, "actions": m.actions,
            "storyboard": m.storyboard, "problems": m.problems}

    frames = decode_frames(path, max_frames=max_frames)
    wmd = read_watermarks(frames, watermark_strength, resolve_watermark,
                          key_frames=lambda: decode_frames(path, max_frames=16, keyframes_only=True))
    wm_present, wm_payload = wmd["present"], wmd["payload"]
    lab = label.label_reading(frames, text=label_text)

    # Made here? A signer this installation does not trust, or (when the workspace was asked) a
    # watermark that names none of its cuts, means the file comes from somewhere else.
    signer_unknown = m.present and m.valid and m.trust.startswith("untrusted")
    mark_unknown = resolve_watermark is not None and wm_present and not wmd["cut_id"]
    c2pa["trusted_here"] = bool(m.present and m.valid and not signer_unknown)
    wmd["names_a_cut_here"] = bool(wmd["cut_id"]) if resolve_watermark is not None else None

    reasons = []
    if not m.present:
        reasons.append("no C2PA manifest (stripped, or not made here)")
    elif not m.valid:
        reasons.append("the C2PA manifest is invalid: " + "; ".join(m.problems or ["signature check failed"]))
    elif signer_unknown:
        reasons.append(f"C2PA manifest signed by {m.issuer}, a signer this installation does not trust: "
                       "it was not made here, and nothing here vouches for what it declares"
                       + (" (it declares AI generation)" if m.ai_generated else ""))
    else:
        reasons.append(f"C2PA manifest valid, signed by {m.issuer} ({m.trust})"
                       + (", declares AI generation" if m.ai_generated else ", does not declare AI generation"))
    if mark_unknown:
        reasons.append(f"watermark found (payload {wm_payload}), but it names no cut of this workspace")
    else:
        reasons.append(f"watermark found: payload {wm_payload}" + (f" = project {wmd['project_id']}, cut {wmd['cut_id']}"
                       if wmd["cut_id"] else "") if wm_present else "no invisible watermark found")
    if wm_present and wmd.get("moved"):
        reasons[-1] += f"; {wmd['moved']}"
    reasons.append("disclosure label visible" if lab["present"] else "no disclosure label found")
    found = sum([m.present and m.valid, wm_present, lab["present"]])
    if m.present and not m.valid:
        verdict = "tampered"
    elif signer_unknown or mark_unknown:
        verdict = "not made here (" + "; ".join(
            (["signer not trusted here"] if signer_unknown else [])
            + (["watermark names no cut of this workspace"] if mark_unknown else [])) + ")"
    elif found == 3:
        verdict = "ai-generated (all three disclosures intact)"
    elif found or (m.present and m.ai_generated):
        verdict = "ai-generated (partial disclosures)"
    else:
        verdict = "no disclosures found"
    return {"path": str(path), "c2pa": c2pa, "watermark": wmd, "label": lab, "verdict": verdict, "reasons": reasons}


# Frames decoded for verification are spread evenly over the file; this many consecutive ones form a
# window read on its own. A cut joins takes that each carry their own payload (and cards the cut's),
# so one vote over the whole film would mix payloads; windows shorter than a shot keep them apart.
WINDOW = 12


def read_watermarks(frames, strength: float, resolve=None, key_frames: Callable[[], np.ndarray] | None = None) -> dict:
    """Every payload found in the frames, each read from its own window of consecutive frames and
    resolved (when `resolve` is given) to the project and cut it belongs to. When none reads where
    it is, the file was cropped, shifted or resized: the made frame is looked for once, in the
    file's keyframes (`key_frames()`, where a re-encode keeps the marks best) and the frames."""
    if not len(frames):
        return {"present": False, "payload": None, "payloads": [], "confidence": 0.0, "frames_checked": 0,
                "project_id": None, "cut_id": None, "moved": None}
    counts = _window_payloads(frames, strength, None)
    placement = None
    if not counts:  # cropped, shifted or resized since it was made: find the sync grid once, read again
        search = frames
        if key_frames is not None:
            keys = key_frames()
            if len(keys) and keys.shape[1:] == frames.shape[1:]:
                search = np.concatenate([keys, watermark.spread(frames, 8)])
        placement = watermark.find_placement(search, strength, max_frames=24)
        if placement is not None:
            counts = _window_payloads(frames, strength, placement)
    found = []
    for payload, confidences in sorted(counts.items(), key=lambda kv: -len(kv[1])):
        entry = {"payload": payload, "windows": len(confidences), "confidence": round(max(confidences), 4),
                 "project_id": None, "cut_id": None}
        target = resolve(payload) if resolve is not None else None
        if isinstance(target, tuple):
            target = {"project_id": target[0], "cut_id": target[1]}
        if target:
            entry.update(target)
        found.append(entry)
    best = found[0] if found else {}
    # The film's identity: a payload that resolves to a cut, else the most common one.
    cut = next((f for f in found if f.get("cut_id")), best)
    return {"present": bool(found), "payload": cut.get("payload"), "payloads": found,
            "confidence": best.get("confidence", 0.0), "frames_checked": len(frames),
            "project_id": cut.get("project_id"), "cut_id": cut.get("cut_id"),
            "moved": _moved(placement, frames.shape[1:3]) if found else None}


def _window_payloads(frames, strength: float, placement) -> dict[int, list[float]]:
    """payload -> confidences of the windows it was read in (a short or heavily degraded clip: of
    every frame voting together)."""
    counts: dict[int, list[float]] = {}
    starts = range(0, max(1, len(frames) - WINDOW // 2), WINDOW) if len(frames) > WINDOW else [0]
    for start in starts:
        reading = watermark.detect_frames(frames[start:start + WINDOW], strength=strength,
                                          placement=placement, search=False)
        if reading.present and reading.payload is not None:
            counts.setdefault(reading.payload, []).append(reading.confidence)
    if not counts:
        whole = watermark.detect_frames(frames, strength=strength, placement=placement, search=False)
        if whole.present and whole.payload is not None:
            counts[whole.payload] = [whole.confidence]
    return counts


def _moved(placement, shape) -> str | None:
    """How the file differs from the film as made, in words, when the watermark was found there."""
    if placement is None:
        return None
    made = f"{placement.made_w}x{placement.made_h}"
    seen = f"{shape[1]}x{shape[0]}"
    return (f"read after finding the made {made} frame in this {seen} file (scale {placement.scale:.2f}, "
            f"its corner at {placement.origin_x:+.0f},{placement.origin_y:+.0f} px): cropped, shifted or resized since")
