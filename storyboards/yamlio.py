"""Storyboards as YAML files: load one (paths made absolute, every problem said clearly) and write one.

Paths in a file (`reference`, `source`, `music`) are relative to the file; in memory they are
absolute, so a loaded Storyboard works from any current directory. `dump_storyboard` writes them
relative again, so `load_storyboard(p) == load_storyboard(dump(load_storyboard(p), q))`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from .artifacts import atomic_write_text
from .schema import ASPECT_RATIOS, Shot, Storyboard, StoryboardError

# Top-level keys always written, even at their defaults, so a reader sees the film's format.
_ALWAYS_TOP = ("title", "aspect_ratio", "fps", "resolution")
# Shot keys always written: the ones a film-maker scans for.
_ALWAYS_SHOT = ("id", "duration", "mode", "camera", "framing", "transition")
_PATH_SHOT_FIELDS = ("reference", "source")


# ----------------------------------------------------------------------------- loading


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise _DuplicateKey(None, None, f"key '{key}' appears twice in the same mapping; keep one", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _sexagesimal(value: Any) -> str | None:
    """The aspect ratio YAML 1.1 turned into a base-60 int (16:9 -> 969), if that is what happened."""
    if isinstance(value, int) and not isinstance(value, bool):
        for ratio in ASPECT_RATIOS:
            a, b = (int(x) for x in ratio.split(":"))
            if a * 60 + b == value:
                return ratio
    return None


def parse_yaml_text(text: str, source: str | None = None) -> dict:
    """YAML text -> the raw mapping, or StoryboardError with the line number of what is wrong."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "an unknown line"
        lines = text.splitlines()
        near = f" near {lines[mark.line].rstrip()!r}" if mark and mark.line < len(lines) else ""
        if isinstance(err, _DuplicateKey) and mark is not None:
            raise StoryboardError(f"line {mark.line + 1}{near}: {err.problem}", source) from None
        what = " ".join(p for p in (err.context, err.problem) if p)
        raise StoryboardError(
            f"YAML syntax error at {where}{near}: {what} (check indentation, colons and quotes)", source
        ) from None
    except yaml.YAMLError as err:
        raise StoryboardError(f"YAML error: {err}", source) from None
    if data is None:
        raise StoryboardError("the file is empty; a storyboard needs at least 'title' and 'shots:' with one shot", source)
    if not isinstance(data, dict):
        raise StoryboardError(
            f"a storyboard is a mapping of keys (title:, aspect_ratio:, shots:, ...), but this file holds a {_yaml_kind(data)}",
            source,
        )
    ratio = _sexagesimal(data.get("aspect_ratio"))
    if ratio:
        raise StoryboardError(
            f"aspect_ratio: YAML read the unquoted {ratio} as the base-60 number {data['aspect_ratio']}; "
            f'put it in quotes: aspect_ratio: "{ratio}"',
            source,
        )
    return data


def _yaml_kind(data: Any) -> str:
    return {list: "list", str: "single string", int: "number", float: "number", bool: "true/false"}.get(type(data), type(data).__name__)


def _resolve(base: Path, value: str) -> str:
    p = Path(os.path.expanduser(value))
    return os.path.normpath(p if p.is_absolute() else base / p)


def resolve_paths(sb: Storyboard, base_dir: str | os.PathLike[str], source: str | None = None) -> Storyboard:
    """A copy of `sb` with reference/source/music made absolute against `base_dir`; all must exist."""
    base = Path(os.path.abspath(base_dir))
    data = sb.model_dump()
    problems: list[str] = []
    if data.get("music"):
        data["music"] = _resolve(base, data["music"])
        if not Path(data["music"]).is_file():
            problems.append(f"music: file not found: {data['music']} (paths are relative to the storyboard file)")
    for member in data.get("cast") or []:
        member["references"] = [_resolve(base, r) for r in member.get("references") or []]
        problems += [f"cast '{member['id']}': reference file not found: {r} (paths are relative to the storyboard file)"
                     for r in member["references"] if not Path(r).is_file()]
    for shot in data["shots"]:
        for field in _PATH_SHOT_FIELDS:
            if shot.get(field):
                shot[field] = _resolve(base, shot[field])
                if not Path(shot[field]).is_file():
                    problems.append(
                        f"shot '{shot['id']}': {field} file not found: {shot[field]} (paths are relative to the storyboard file)"
                    )
    if problems:
        raise StoryboardError(problems, source)
    return Storyboard.model_validate(data)


def load_storyboard(path: str | os.PathLike[str], *, keep_prompts: bool = False) -> Storyboard:
    """Read a storyboard YAML file. Raises StoryboardError naming the shot, the field and the fix.

    `prompt` in a file is what the composer derived when it was written (for people to read); it is
    dropped unless `keep_prompts`, so editing a shot's fields is never overridden by a stale prompt.
    """
    p = Path(path)
    source = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoryboardError(f"no storyboard file at {p.absolute()}", source) from None
    except IsADirectoryError:
        raise StoryboardError(f"{p} is a folder; give the path of a storyboard .yaml file", source) from None
    except UnicodeDecodeError as err:
        raise StoryboardError(f"the file is not UTF-8 text ({err.reason} at byte {err.start})", source) from None
    data = parse_yaml_text(text, source)
    if not keep_prompts and isinstance(data.get("shots"), list):
        data = dict(data, shots=[{k: v for k, v in s.items() if k != "prompt"} if isinstance(s, dict) else s for s in data["shots"]])
    sb = Storyboard.parse(data, source)
    return resolve_paths(sb, p.absolute().parent, source)


# ----------------------------------------------------------------------------- writing


class _Quoted(str):
    """A string always written in double quotes (aspect ratios: unquoted, YAML 1.1 reads 16:9 as 969)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False):
        # Indent list items under their key ("shots:\n  - id: ..."), as people write them.
        return super().increase_indent(flow, False)


_ODD_BREAKS = re.compile("[\r\x85\u2028\u2029\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _str_representer(dumper: yaml.SafeDumper, value: str):
    # YAML reads NEL, LS, PS and CR as line breaks; only double quotes keep them (escaped) as written.
    style = '"' if _ODD_BREAKS.search(value) else "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(_Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style='"'))
_Dumper.add_representer(str, _str_representer)


def _relative(value: str, relative_to: Path | None) -> str:
    if relative_to is None:
        return Path(value).as_posix()
    try:
        return Path(os.path.relpath(os.path.abspath(value), relative_to)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(value).as_posix()


def _number(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def _shot_dict(shot: Shot, relative_to: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    defaults = {name: f.default for name, f in Shot.model_fields.items()}
    for name in Shot.model_fields:
        value = getattr(shot, name)
        if name not in _ALWAYS_SHOT and (value is None or value == [] or (value == "" and defaults[name] == "")):
            continue
        if name in _PATH_SHOT_FIELDS:
            value = _relative(value, relative_to)
        elif name == "duration":
            value = _number(value)
        out[name] = value
    return out


def storyboard_to_dict(sb: Storyboard, relative_to: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The storyboard as plain data with keys in the documented order, empty optional keys left out.

    Paths are written relative to the folder `relative_to` when given, else as they are.
    `Storyboard.parse(storyboard_to_dict(sb)) == sb`.
    """
    rel = Path(os.path.abspath(relative_to)) if relative_to is not None else None
    out: dict[str, Any] = {}
    for name in Storyboard.model_fields:
        if name == "shots":
            continue
        value = getattr(sb, name)
        if name not in _ALWAYS_TOP and (value is None or value == [] or (value == "" and Storyboard.model_fields[name].default == "")):
            continue
        if isinstance(value, bool) and value == Storyboard.model_fields[name].default:
            continue  # title_card/end_card are written only when a film has them off
        if name == "music":
            value = _relative(value, rel)
        elif name == "cast":
            value = [{k: v for k, v in m.model_dump().items() if v not in ("", [])} for m in value]
            for m in value:
                if m.get("references"):
                    m["references"] = [_relative(r, rel) for r in m["references"]]
        out[name] = value
    out["shots"] = [_shot_dict(s, rel) for s in sb.shots]
    return out


def dump_storyboard(
    sb: Storyboard,
    path: str | os.PathLike[str] | None = None,
    relative_to: str | os.PathLike[str] | None = None,
) -> str:
    """The storyboard as YAML text; written atomically to `path` when given.

    Paths are written relative to `relative_to`, which defaults to `path`'s folder, so the file
    loads back to the same absolute paths wherever it is read from.
    """
    if relative_to is None and path is not None:
        relative_to = Path(os.path.abspath(path)).parent
    data = storyboard_to_dict(sb, relative_to)
    data["aspect_ratio"] = _Quoted(data["aspect_ratio"])
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=False)
    # A blank line between shots reads like a shot list, not a data dump.
    text = text.replace("\n  - id:", "\n\n  - id:").replace("shots:\n\n  - id:", "shots:\n  - id:", 1)
    if path is not None:
        atomic_write_text(path, text)
    return text
