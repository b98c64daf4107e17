"""`director`: the command line. The contract (commands, options, --json keys, output file names) is
public: add, never rename. With --json, stdout carries one JSON object and nothing else; errors go to
stderr with a non-zero exit.

Heavy libraries (torch, diffusers, transformers, langchain) are imported inside the commands that
need them, so `director --help` answers at once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from server.console import CLIError, Progress, err, out, storyboard_table

if TYPE_CHECKING:
    from agent.run import RenderResult

app = typer.Typer(
    name="director",
    help="Reel Director: describe a film, get a storyboard, a rendered and critiqued cut, signed and watermarked.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain click help: typer's rich help pulls in rich.markdown and friends, half of `director --help`'s time
    rich_markup_mode=None,
)
users_app = typer.Typer(help="Manage users and their API tokens.", no_args_is_help=True, rich_markup_mode=None)
consent_app = typer.Typer(help="Record, list and revoke likeness consent.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(users_app, name="users")
app.add_typer(consent_app, name="consent")

LOCAL_OWNER = "local"


def owner() -> str:
    return os.environ.get("DIRECTOR_USER", LOCAL_OWNER)


def emit_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def exit_for(error: BaseException) -> NoReturn:
    """The one translation of a Director exception for the CLI: a message on stderr and the documented
    exit code (2 bad input or not found, 3 refused, 4 needs an answer, 5 conflict, 1 otherwise)."""
    from agent.errors import Refused, as_director_error

    e = as_director_error(error)
    if isinstance(e, Refused):
        fail(f"refused by the safety check ({e.verdict}):\n  " + "\n  ".join(e.reasons)
             + "\nRecord consent with `director consent add NAME ...` or change the storyboard.", code=e.exit_code)
    fail(e.message, code=e.exit_code)


@contextmanager
def director_errors() -> Iterator[None]:
    """Run a Director call; whatever it raises reaches the person as `exit_for` says, never as a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as error:
        exit_for(error)


def _director(budget: float | None = None):
    """The Director with settings from the environment; `--budget` (USD) overrides DIRECTOR_BUDGET_USD."""
    from agent.session import Director
    from agent.settings import AgentSettings

    if budget is not None and budget < 0:
        fail(f"--budget {budget:g} must be zero or more (US dollars for hosted backends)", code=2)
    return Director(settings=AgentSettings(budget_usd=budget)) if budget is not None else Director()


BUDGET_HELP = "Most US dollars this render may spend on hosted backends (default DIRECTOR_BUDGET_USD); over it the director asks first (exit 4)."


def _result_paths(result: RenderResult) -> dict:
    if not result.out_dir:
        return {}
    d = Path(result.out_dir)
    from agent.film import OUTPUT_FILES

    return {name: str(d / name) for name in OUTPUT_FILES if (d / name).exists()}


def _print_result(result: RenderResult, as_json: bool) -> None:
    if as_json:
        emit_json({**result.to_json(), "files": _result_paths(result)})
        return
    out.print(f"[bold green]Film:[/] {result.cut}  ({result.duration or 0:.1f} s, critic: {result.verdict})")
    out.print(f"project {result.project_id} · version {result.version} · "
              f"{result.new_takes} new takes, {result.reused_takes} reused · changed: {', '.join(result.changed_shots) or 'none'}")
    out.print(f"Beside it: {', '.join(Path(p).name for p in _result_paths(result).values())}")
    for w in result.warnings:
        out.print(f"[yellow]note:[/] {w}", highlight=False)


def _run_render(director, project_id: str, out_dir: Path | None, backend: str | None, as_json: bool) -> RenderResult:
    try:
        with director_errors(), Progress(enabled=not as_json) as progress:
            return director.render(owner(), project_id, emit=progress, out_dir=out_dir, backend=backend)
    except KeyboardInterrupt:
        _stop_now(project_id)


def _stop_now(project_id: str) -> None:
    """Ctrl-C: the farm has already stopped the shots (finished takes are stored). Leave at once: tearing
    the interpreter down (collecting every frame buffer) would take seconds more."""
    err.print(f"stopped: finished takes are kept; project {project_id}", highlight=False)
    if "ray" in sys.modules:   # a Ray this process started must not outlive it
        import ray

        if ray.is_initialized():
            ray.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


# ---------------------------------------------------------------------------------------- commands


@app.command()
def plan(brief: str = typer.Argument(..., help="What the film is about, in your words."),
         as_json: bool = typer.Option(False, "--json", help="Print the storyboard as JSON."),
         aspect: str | None = typer.Option(None, "--aspect", help="16:9 | 9:16 | 1:1"),
         seconds: float | None = typer.Option(None, "--seconds", help="Target length in seconds."),
         resolution: int | None = typer.Option(None, "--resolution", help="Short side in pixels (720 = 1280x720 at 16:9).")):
    """Write a storyboard from a brief, without rendering."""
    from agent.prompts import with_prompts

    overrides = _overrides(aspect, seconds, resolution)
    # no Director: planning needs neither the database nor the media stack
    from agent.brains import plan_brief
    from agent.settings import AgentSettings

    settings = AgentSettings()
    with director_errors():
        result = plan_brief(settings, brief, overrides)
    if result.question and as_json:
        emit_json({"question": result.question, "storyboard": None})
        raise typer.Exit(4)
    if result.question:
        fail(f"the brief needs one answer first: {result.question}", code=4)
    sb = with_prompts(result.storyboard, settings=settings)
    if as_json:
        from agent.planner.length import film_seconds

        emit_json({**sb.model_dump(mode="json", exclude_none=True), "notes": result.notes, "duration": film_seconds(sb),
                   "size": list(sb.size)})
        return
    out.print(storyboard_table(sb))
    for note in result.notes:
        out.print(f"[dim]- {note}[/]", highlight=False)


def _overrides(aspect: str | None, seconds: float | None, resolution: int | None = None) -> dict:
    from agent.limits import check_seconds
    from agent.settings import AgentSettings
    from storyboards.schema import ASPECT_RATIOS, MAX_RESOLUTION, MIN_RESOLUTION

    o = {}
    if resolution is not None:
        if not (MIN_RESOLUTION <= resolution <= MAX_RESOLUTION) or resolution % 2:
            fail(f"--resolution {resolution} must be an even number of pixels between {MIN_RESOLUTION} and "
                 f"{MAX_RESOLUTION} (the short side)", code=2)
        o["resolution"] = resolution
    if aspect is not None:   # --aspect "" is a mistake, not "the default"
        if aspect not in ASPECT_RATIOS:
            fail(f"--aspect '{aspect}' is not one of: {', '.join(ASPECT_RATIOS)}", code=2)
        o["aspect_ratio"] = aspect
    if seconds is not None:
        check_seconds(seconds, AgentSettings())   # the agent's cap, the same for every front door
        o["seconds"] = seconds
    return o


@app.command()
def make(brief: str = typer.Argument(..., help="What the film is about, in your words."),
         out_dir: Path | None = typer.Option(None, "--out", help="Folder for final.mp4 and its files (default: the project's folder in DIRECTOR_HOME)."),
         backend: str | None = typer.Option(None, "--backend", help="Generation backend for every shot (default: animatic)."),
         aspect: str | None = typer.Option(None, "--aspect", help="16:9 | 9:16 | 1:1"),
         seconds: float | None = typer.Option(None, "--seconds", help="Target length in seconds."),
         resolution: int | None = typer.Option(None, "--resolution", help="Short side in pixels (720 = 1280x720 at 16:9); smaller drafts faster."),
         no_music: bool = typer.Option(False, "--no-music", help="No music bed under the film (the storyboard key music_bed: false)."),
         budget: float | None = typer.Option(None, "--budget", help=BUDGET_HELP),
         as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the result.")):
    """Plan, render, critique, cut and sign a film from a brief."""
    director = _director(budget)
    _check_backend(backend)
    overrides = _overrides(aspect, seconds, resolution)
    with director_errors():
        result = director.plan(brief, overrides)
    if result.question:
        fail(f"the brief needs one answer first: {result.question}", code=4)
    with director_errors():
        storyboard = result.storyboard.model_copy(update={"music_bed": False}) if no_music else result.storyboard
        project_id = director.start_project(owner(), storyboard, "planned from the brief", brief=brief)
    if not as_json:
        out.print(storyboard_table(result.storyboard))
    _announce(project_id)
    _print_result(_run_render(director, project_id, out_dir, backend, as_json), as_json)


def _announce(project_id: str) -> None:
    """Before rendering, on stderr: whoever presses Ctrl-C (or loses the machine) knows what to resume."""
    sys.stderr.write(f"project {project_id}: `director resume {project_id}` continues it if interrupted\n")
    sys.stderr.flush()


def _check_backend(backend: str | None) -> None:
    if backend:
        from tools.generate import list_backends

        if backend not in list_backends():
            fail(f"unknown backend '{backend}'; installed: {', '.join(list_backends())}", code=2)


@app.command()
def render(storyboard_file: Path = typer.Argument(..., help="A storyboard YAML file (see storyboards/examples/)."),
           out_dir: Path | None = typer.Option(None, "--out", help="Folder for final.mp4 and its files."),
           backend: str | None = typer.Option(None, "--backend", help="Override every shot's backend."),
           no_music: bool = typer.Option(False, "--no-music", help="No music bed under the film (the storyboard key music_bed: false)."),
           budget: float | None = typer.Option(None, "--budget", help=BUDGET_HELP),
           as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the result.")):
    """Render a storyboard file into a film."""
    from agent.limits import check_caps, check_inputs
    from storyboards.schema import StoryboardError
    from storyboards.yamlio import load_storyboard

    _check_backend(backend)
    try:
        storyboard = load_storyboard(storyboard_file)
    except StoryboardError as e:
        fail(str(e), code=2)
    if no_music:
        storyboard = storyboard.model_copy(update={"music_bed": False})
    director = _director(budget)
    with director_errors():
        # Everything the render reads is checked before a project exists: a refusal leaves nothing behind.
        check_caps(storyboard, director.settings)
        check_inputs(storyboard, roots=[storyboard_file.absolute().parent, director.workspace.uploads_dir],
                     max_pixels=director.settings.max_input_pixels)
        project_id = director.start_project(owner(), storyboard, f"rendered from {storyboard_file.name}")
    _announce(project_id)
    _print_result(_run_render(director, project_id, out_dir, backend, as_json), as_json)


@app.command()
def feedback(project_id: str = typer.Argument(..., help="The project id printed by make/render."),
             text: str = typer.Argument(..., help='What to change, e.g. "shot 2 darker", "make it vertical".'),
             budget: float | None = typer.Option(None, "--budget", help=BUDGET_HELP),
             as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the result.")):
    """Change a film in plain language; re-renders only what changed."""
    director = _director(budget)
    with director_errors(), Progress(enabled=not as_json) as progress:
        result = director.feedback(owner(), project_id, text, emit=progress)
    if result.question:
        if as_json:
            emit_json(result.to_json())
        fail(result.question, code=4)
    _print_result(result, as_json)


@app.command()
def projects(as_json: bool = typer.Option(False, "--json", help="Print {projects: [...]} as JSON.")):
    """List your projects: id, title, versions, last cut and the state of the last render."""
    with director_errors():
        rows = _director().projects_overview(owner())
    if as_json:
        emit_json({"projects": rows})
        return
    if not rows:
        out.print('No projects yet. Start one with `director make "A 10-second film about ..."`.')
        return
    from rich.table import Table

    table = Table("id", "title", "versions", "render", "last cut")
    for r in rows:
        table.add_row(r["id"], r["title"], str(r["versions"]), r["render_state"] or "-", r["last_cut"] or "-")
    out.print(table)
    if any(r["render_state"] == "interrupted" for r in rows):
        out.print("`director resume` finishes the interrupted renders.")


@app.command()
def history(project_id: str = typer.Argument(..., help="The project id (see `director projects`)."),
            as_json: bool = typer.Option(False, "--json", help="Print {project_id, versions: [...]} as JSON.")):
    """Every version of a project: number, parent, reason, changed shots and its storyboard."""
    with director_errors():
        versions = _director().history(owner(), project_id)
    if as_json:
        emit_json({"project_id": project_id, "versions": versions})
        return
    from rich.table import Table

    table = Table("version", "parent", "reason", "changed shots")
    for v in versions:
        table.add_row(str(v["number"]), "-" if v["parent"] is None else str(v["parent"]), v["reason"],
                      ", ".join(v["changed_shots"]) or "-")
    out.print(table)


@app.command()
def resume(project_id: str | None = typer.Argument(None, help="Only this project (default: every interrupted render of yours)."),
           as_json: bool = typer.Option(False, "--json", help="Print {resumed: [result, ...]} as JSON.")):
    """Finish renders that were interrupted (Ctrl-C, a crash, a shutdown), reusing every finished take."""
    director = _director()
    with director_errors(), Progress(enabled=not as_json) as progress:
        results = director.resume(owner(), project_id, emit=progress)
    if as_json:
        emit_json({"resumed": [{**r.to_json(), "files": _result_paths(r)} for r in results]})
        return
    if not results:
        out.print("Nothing to resume: no interrupted render" + (f" for {project_id}." if project_id else "."))
    for r in results:
        _print_result(r, as_json=False)


@app.command()
def keyframes(project_id: str = typer.Argument(..., help="The project id printed by make/render."),
              shots: str | None = typer.Option(None, "--shots", help="Only these shot ids, comma-separated."),
              reroll: bool = typer.Option(False, "--reroll", help="Make new stills for the shots (all, or --shots)."),
              approve: bool = typer.Option(False, "--approve", help="Approve the stills: those shots render from them."),
              as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the keyframes.")):
    """One still per shot to approve before rendering (keyframes.png in the project's folder)."""
    director = _director()
    wanted = [s.strip() for s in shots.split(",") if s.strip()] if shots else None
    with director_errors(), Progress(enabled=not as_json) as progress:
        if approve:
            result = director.approve_keyframes(owner(), project_id, shots=wanted, emit=progress)
        else:
            result = director.keyframes(owner(), project_id, shots=wanted, reroll=reroll, emit=progress)
    home = director.workspace
    if as_json:
        emit_json({**result.model_dump(mode="json"), "sheet": str(home.resolve(result.sheet)) if result.sheet else None,
                   "stills": {k.shot_id: str(home.resolve(k.still)) for k in result.keyframes}})
        return
    for k in result.keyframes:
        out.print(f"{k.shot_id}: {home.resolve(k.still)}  ({'approved' if k.approved else f'proposal {k.roll}'}, "
                  f"{k.backend}, seed {k.seed})", highlight=False)
    if result.sheet:
        out.print(f"[bold]All stills:[/] {home.resolve(result.sheet)}")
    if not approve:
        out.print(f"Approve with `director keyframes {project_id} --approve`, then render: `director feedback {project_id} \"render it\"`.")


@app.command()
def chat(project_id: str | None = typer.Argument(None, help="Continue this project (default: a new one).")):
    """Talk with the director in the terminal (/render, /undo, /versions, /quit)."""
    from server.chat import run_chat

    director = _director()
    if project_id is not None:
        from agent.errors import NotFound

        try:
            director.project_state(owner(), project_id)
        except NotFound as e:
            fail(f"{e.message}; `director projects` lists yours", code=2)
    run_chat(director, owner(), project_id)


@users_app.command("add")
def users_add(name: str = typer.Argument(..., help="The user's name."),
              as_json: bool = typer.Option(False, "--json", help="Print {name, token} as JSON.")):
    """Create a user and print their API token (shown once; stored hashed)."""
    from storyboards.store import Store

    try:
        user, token = Store().create_user(name)
    except ValueError as e:
        fail(str(e), code=2)
    if as_json:
        emit_json({"name": name, "token": token})
    else:
        out.print(f"user [bold]{name}[/] created. API token (shown once): {token}")


@app.command()
def critique(video: Path = typer.Argument(..., help="A video file to judge."),
             prompt: str | None = typer.Option(None, "--prompt", help="What the video should show (for CLIP alignment)."),
             camera: str | None = typer.Option(None, "--camera", help="The intended camera move (e.g. handheld allows shake)."),
             as_json: bool = typer.Option(False, "--json", help="Print verdict, metrics and reasons as JSON.")):
    """Judge a video: flicker, smoothness, frozen/black frames, sharpness, CLIP alignment…; writes a critique plot."""
    from tools.critique import critique_video, write_critique_plot

    if not video.is_file():
        fail(f"no such video: {video}", code=2)
    try:
        result = critique_video(video, prompt=prompt, shot={"camera": camera} if camera else None)
    except (ValueError, OSError, RuntimeError) as e:
        fail(f"could not read {video}: {e}", code=2)
    plot = video.with_name(video.stem + ".critique.png")
    write_critique_plot(result, plot)
    data = result.model_dump(mode="json")
    data["plot"] = str(plot)
    if as_json:
        emit_json(data)
    else:
        colour = "green" if result.verdict == "pass" else "red"
        out.print(f"[bold {colour}]{result.verdict}[/] (score {result.score:.2f})")
        from rich.table import Table

        table = Table("metric", "value", "limit", "ok", "reason")
        for name, m in result.metrics.items():
            table.add_row(name, "—" if m.value is None else f"{m.value:.3f}", "" if m.threshold is None else f"{m.threshold:g}",
                          {True: "[green]✓[/]", False: "[red]✗[/]", None: "·"}[m.passed], m.reason)
        out.print(table)
        out.print(f"plot: {plot}")
    raise typer.Exit(0 if result.verdict == "pass" else 1)


@app.command()
def verify(video: Path = typer.Argument(..., help="A video to check for the C2PA manifest, watermark and label."),
           as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON.")):
    """Read back a film's C2PA manifest, invisible watermark and disclosure label."""
    from storyboards.store import Store
    from storyboards.workspace import Workspace
    from tools.media_kind import require_video
    from tools.safety.verify import verify_video

    if not video.is_file():
        fail(f"no such video: {video}", code=2)
    require_video(video)   # MediaError (exit 2) for a file that is not a video
    workspace = Workspace()
    store = Store(workspace=workspace)
    report = verify_video(video, keys_dir=workspace.keys_dir, resolve_watermark=store.resolve_watermark)
    if as_json:
        emit_json(report)
        return
    c, w, lab = report["c2pa"], report["watermark"], report["label"]
    out.print(f"C2PA manifest: {'present' if c['present'] else 'absent'}"
              + (f", {'valid' if c.get('valid') else 'INVALID'}, AI-generated: {c.get('ai_generated')}, issuer: {c.get('issuer')}, {c.get('trust')}" if c["present"] else ""))
    out.print(f"Watermark: {'present, payload ' + str(w.get('payload')) if w['present'] else 'not found'}"
              + (f" → project {w.get('project_id')}, cut {w.get('cut_id')}" if w.get("project_id") else ""))
    if w.get("moved"):
        out.print(f"  ({w['moved']})")
    out.print(f"Disclosure label: {'present' if lab['present'] else 'not found'}")
    if c.get("present") and c.get("valid") and not c.get("trusted_here"):
        out.print("[bold yellow]The signer is not trusted here:[/] this file was not made by this installation.")
    if w.get("names_a_cut_here") is False:
        out.print("[bold yellow]The watermark names no cut of this workspace.[/]")
    out.print(f"Verdict: {report['verdict']}", highlight=False)


@app.command()
def safety(text: str = typer.Argument(..., help="A brief, shot description or feedback to check."),
           image: Path | None = typer.Option(None, "--image", help="A reference image to check for faces."),
           as_json: bool = typer.Option(False, "--json", help="Print verdict, reasons and spans as JSON.")):
    """Check text (and an image) against the likeness and content policy."""
    from storyboards.store import Store
    from tools.safety.policy import check_text

    store = Store()
    report = check_text(text, consents=[c.name for c in store.active_consents()])
    data = report.to_dict() if hasattr(report, "to_dict") else report.model_dump(mode="json")
    if image is not None:
        if not image.is_file():
            fail(f"no such image: {image}", code=2)
        from tools.media_kind import require_image

        require_image(image)   # MediaError (exit 2): not an image, or too many pixels to decode
        from agent.safety_gate import consents_for_media
        from tools.safety.faces import check_image  # OpenCV: only when there is an image to look at

        img = check_image(image, consents=consents_for_media(store, image))
        img_data = img.to_dict() if hasattr(img, "to_dict") else img.model_dump(mode="json")
        order = ["allow", "warn", "needs_consent", "block"]
        if order.index(img_data["verdict"]) > order.index(data["verdict"]):
            data["verdict"] = img_data["verdict"]
        data["reasons"] = data["reasons"] + img_data["reasons"]
        data["faces"] = img_data.get("faces", [])
    if as_json:
        emit_json(data)
    else:
        colour = {"allow": "green", "warn": "yellow", "needs_consent": "magenta", "block": "red"}[data["verdict"]]
        out.print(f"[bold {colour}]{data['verdict']}[/]")
        for r in data["reasons"]:
            out.print(f"- {r}", highlight=False)


@consent_app.command("add")
def consent_add(name: str = typer.Argument(..., help="The person who consented."),
                reference: Path | None = typer.Option(None, "--reference", help="A reference image of the person."),
                scope: str = typer.Option("any film by this workspace", "--scope", help="What the consent covers."),
                expires: str | None = typer.Option(None, "--expires", help="YYYY-MM-DD; none for no expiry."),
                as_json: bool = typer.Option(False, "--json")):
    """Record that NAME consented to their likeness being used."""
    from datetime import date

    from storyboards.store import Store

    until = None
    if expires:
        try:
            until = date.fromisoformat(expires)
        except ValueError:
            fail(f"--expires '{expires}' is not a date like 2027-01-31", code=2)
    if reference is not None and not reference.is_file():
        fail(f"no such reference image: {reference}", code=2)
    if reference is not None:
        from tools.media_kind import require_image

        require_image(reference)   # MediaError (exit 2) before anything is recorded
    from storyboards.hashing import file_sha256
    from storyboards.workspace import Workspace
    from tools.safety.faces import strip_metadata

    workspace = Workspace()
    store = Store(workspace=workspace)
    kept = None
    if reference is not None:
        # The consent covers this picture: keep a copy (metadata stripped) that cannot move away.
        kept = workspace.home / "consents" / f"{file_sha256(reference)[:16]}{reference.suffix.lower()}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        strip_metadata(reference, kept)
    record = store.add_consent(name, str(kept) if kept else None, scope, until)
    store.audit(owner(), "consent.added", {"name": name, "scope": scope, "expires": expires})
    if as_json:
        emit_json({"name": name, "scope": scope, "expires": expires, "id": getattr(record, "id", None)})
    else:
        out.print(f"consent recorded for {name} ({scope}{', until ' + expires if expires else ''})")


@consent_app.command("list")
def consent_list(as_json: bool = typer.Option(False, "--json")):
    """List active consent records."""
    from storyboards.store import Store

    records = Store().active_consents()
    rows = [{"name": r.name, "scope": r.scope, "expires": str(r.expires) if r.expires else None} for r in records]
    if as_json:
        emit_json({"consents": rows})
    else:
        for r in rows:
            out.print(f"{r['name']}: {r['scope']} (until {r['expires'] or 'revoked'})")


@consent_app.command("revoke")
def consent_revoke(name: str = typer.Argument(..., help="The person whose consent ends now.")):
    """Revoke consent: future renders of that likeness are refused."""
    from storyboards.store import Store

    store = Store()
    if not store.revoke_consent(name):
        fail(f"no active consent for '{name}'", code=2)
    store.audit(owner(), "consent.revoked", {"name": name})
    out.print(f"consent for {name} revoked")


@app.command()
def serve(host: str | None = typer.Option(None, "--host", help="Default: DIRECTOR_SERVER_HOST or 127.0.0.1."),
          port: int | None = typer.Option(None, "--port", help="Default: DIRECTOR_SERVER_PORT or 8000.")):
    """Start the web app (chat, storyboard cards, player) and its websocket."""
    import uvicorn

    from server.app import create_app
    from server.settings import ServerSettings
    from storyboards.store import Store
    from storyboards.workspace import Workspace

    settings = ServerSettings()
    host, port = host or settings.host, port or settings.port
    workspace = Workspace()
    store = Store(workspace=workspace)
    token = login_token(store, workspace)
    # Plain write: a wrapped URL cannot be clicked or copied.
    sys.stderr.write(f"Reel Director is at http://{host}:{port}/?token={token}\n")
    sys.stderr.flush()
    uvicorn.run(create_app(store=store, settings=settings), host=host, port=port, log_level="warning")


def login_token(store, workspace) -> str:
    """The local user's token, kept (0600) in the workspace so a restart does not log open tabs out."""
    path = workspace.keys_dir / "login-token"
    if path.is_file():
        token = path.read_text().strip()
        user = store.user_for_token(token)
        if user is not None and user.name == owner():
            return token
    token = store.login_token_for_first_user(owner())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    return token


@app.command()
def bot(platform: str = typer.Argument(..., help="discord | slack")):
    """Run the director as a Discord or Slack bot (tokens from the environment)."""
    if platform not in ("discord", "slack"):
        fail(f"bot '{platform}' is not one of: discord, slack", code=2)
    from server.bots import run_bot

    run_bot(platform)


@app.command()
def mcp(http: int | None = typer.Option(None, "--http", min=1, max=65535, metavar="PORT",
                                           help="serve streamable HTTP on this port (Bearer tokens from `director users add`); default: stdio"),
        host: str = typer.Option("127.0.0.1", help="interface for --http")):
    """Serve the director over the Model Context Protocol, for other agents and desktop assistants."""
    try:
        from server.mcp_server import run as run_mcp
    except ImportError as e:
        fail(f"the MCP server needs the mcp package ({e.name or e}): pip install 'reel-director[mcp]'", code=2)

    run_mcp(http, host)


def main() -> None:
    from agent.errors import DirectorError

    try:
        app()
    except CLIError as e:
        err.print(f"[bold red]error:[/] {e}")
        sys.exit(1)
    except DirectorError as e:  # raised outside a command's own translation (chat, bots starting up)
        err.print(f"[bold red]error:[/] {e.message}", highlight=False)
        sys.exit(e.exit_code)
    except ValueError as e:
        # Bad input found below the agent (tools.media_kind.MediaError carries code 'bad_request'):
        # one line, exit 2. Any other ValueError is a bug and keeps its traceback.
        if getattr(e, "code", None) != "bad_request":
            raise
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    # Run through the package module so `python -m server.cli` and the `director` script share one
    # set of classes (CLIError raised by server.bots must be the one main() catches).
    from server.cli import main as package_main

    package_main()
