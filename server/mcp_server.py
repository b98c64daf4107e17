"""The director over the Model Context Protocol: `director mcp` (stdio) or `director mcp --http PORT`.

Other agents and desktop assistants plan a film, render it (with progress notifications), change it
in words, fetch the cut and verify its provenance, through the same Director session API as the CLI,
the web page and the bots. Tools take and return JSON (schemas from the type hints); the storyboard
is a resource, `director://projects/{project_id}/storyboard`.

Who is asking:
- stdio: the local user, as for the CLI (`DIRECTOR_USER`, default `local`); paths on this machine are
  shown, since the client runs here.
- streamable HTTP: `Authorization: Bearer TOKEN` with a token from `director users add NAME`, checked by
  the SDK's bearer-auth middleware against the store; each user sees their own films alone (someone
  else's project is "no project", as on the web server). No local paths: the cut is named by its
  authenticated /media route on `director serve`.
"""

# No `from __future__ import annotations`: the SDK reads the tools' annotations as types.
import base64
import hashlib
import logging
from pathlib import Path
from typing import Any, Literal

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from pydantic import BaseModel, Field

log = logging.getLogger("reel_director.mcp")

MAX_INLINE_VIDEO = 20 * 2**20   # get_cut(include_video=True) inlines at most this much, base64


class PlanResult(BaseModel):
    project_id: str | None = Field(None, description="the new film's id; null when the director asks a question first")
    version: int | None = None
    question: str | None = Field(None, description="what the director needs to know before planning")
    title: str | None = None
    duration: float | None = None
    storyboard: dict[str, Any] | None = Field(None, description="the storyboard (same keys as storyboard.yaml)")
    notes: list[str] = []


class RenderResult(BaseModel):
    project_id: str
    version: int
    cut_id: str
    duration: float
    verdict: str = Field(description="the critic's verdict on the film: pass | fail")
    new_takes: int
    reused_takes: int
    changed_shots: list[str]
    media_url: str = Field(description="the cut on `director serve` (authenticated /media route)")
    path: str | None = Field(None, description="the cut on this machine (stdio only)")
    warnings: list[str] = []


class FeedbackResult(BaseModel):
    project_id: str
    version: int
    changed_shots: list[str]
    question: str | None = None
    reason: str | None = Field(None, description="the new version's one-line reason")
    rendered: RenderResult | None = None


class CutInfo(BaseModel):
    project_id: str
    version: int
    cut_id: str
    bytes: int
    sha256: str
    media_url: str
    path: str | None = None
    video_base64: str | None = Field(None, description="the MP4 itself, when include_video and it is small enough")


class VerifyResult(BaseModel):
    verdict: str
    c2pa: dict[str, Any]
    watermark: dict[str, Any]
    label: dict[str, Any]
    reasons: list[str]


class ProjectSummary(BaseModel):
    project_id: str
    title: str


def build_server(director=None, *, http: bool = False, port: int = 8765, host: str = "127.0.0.1"):
    """The MCPServer with the director's tools. `http=True`: bearer-token auth against the store."""
    if director is None:
        from agent.session import Director

        director = Director()
    app = MCPServer("reel-director", instructions=(
        "Reel Director makes short AI-generated films from a brief. plan → (feedback …) → render → get_cut / verify. "
        "Every film carries a visible AI label, an invisible watermark and a signed C2PA manifest."),
        **(_http_auth(director.store, host, port) if http else {}))
    calls = DirectorCalls(director, http)
    _add_film_tools(app, calls)
    _add_cut_tools(app, calls)
    _add_resources(app, calls)
    return app


def _http_auth(store, host: str, port: int) -> dict:
    """Bearer tokens checked against the store's users (`director users add NAME`), as the web server does."""

    class StoreTokens:
        async def verify_token(self, token: str) -> AccessToken | None:
            user = store.user_for_token(token) if token and len(token) <= 512 else None
            return None if user is None else AccessToken(token=token, client_id=user.name, scopes=["director"],
                                                          subject=user.name)

    base = f"http://{host}:{port}"
    return dict(token_verifier=StoreTokens(),
                auth=AuthSettings(issuer_url=base, resource_server_url=f"{base}/mcp", required_scopes=["director"],
                                  # Store API tokens are not audience-bound; StoreTokens checks them itself.
                                  validate_token_resource=False))


class DirectorCalls:
    """How a tool reaches the director: as whom, with our errors turned into tool errors, and with
    a long call's progress turned into MCP progress notifications."""

    def __init__(self, director, http: bool):
        self.director, self.store, self.http = director, director.store, http

    def who(self) -> str:
        if self.http:
            token = get_access_token()
            if token is None:  # the middleware refuses these before any tool runs; belt and braces
                raise ToolError("not signed in: send Authorization: Bearer TOKEN (from `director users add NAME`)")
            return token.client_id
        from server.cli import owner

        return owner()

    def guard(self, fn, *args, **kwargs):
        """Our errors as tool errors a model can act on (their stable code first); never a traceback,
        never a server path."""
        from agent.errors import Internal, Refused, as_director_error, public_message

        try:
            return fn(*args, **kwargs)
        except ToolError:
            raise
        except Exception as e:
            error = as_director_error(e)
            if isinstance(error, Internal):
                log.exception("mcp: %s failed", getattr(fn, "__name__", "a call"))
            if isinstance(error, Refused):
                raise ToolError(f"refused: the safety check says {error.verdict}: " + "; ".join(error.reasons)) from None
            hint = "; list_projects shows your films" if error.code == "not_found" else ""
            raise ToolError(f"{error.code}: {public_message(error.message)}{hint}") from None

    @staticmethod
    def media(project_id: str, name: str = "final.mp4") -> str:
        return f"/media/{project_id}/{name}"

    def render_result(self, out: dict) -> RenderResult:
        return RenderResult(project_id=out["project_id"], version=out["version"], cut_id=out["cut_id"],
                            duration=out["duration"], verdict=out["verdict"], new_takes=out["new_takes"],
                            reused_takes=out["reused_takes"], changed_shots=out.get("changed_shots") or [],
                            media_url=self.media(out["project_id"]), path=None if self.http else out["cut"],
                            warnings=list(out.get("warnings") or [])[:20])

    def latest_cut(self, project_id: str):
        """The project's newest cut, for its owner or a member; a tool error when there is none yet."""
        self.guard(self.director.project_state, self.who(), project_id)   # owner or member, else "no project"
        cuts = self.store.list_cuts(project_id)
        if not cuts:
            raise ToolError(f"project '{project_id}' has no cut yet: call render first")
        return cuts[-1]

    async def run_with_progress(self, ctx: Context, fn, *args, **kwargs):
        """Run a blocking director call in a worker thread; its progress events become MCP progress
        notifications (shots ready out of all, and what is happening now)."""
        import anyio
        import anyio.from_thread
        import anyio.lowlevel

        state = {"ready": 0, "total": 0}
        # The director emits from its own worker threads (the project's queue), not anyio's: name the loop.
        loop_token = anyio.lowlevel.current_token()

        def emit(event: dict) -> None:
            kind = event.get("type")
            if kind == "take_ready" or (kind == "shot_progress" and event.get("stage") == "reused"):
                state["ready"] += 1
            elif kind != "shot_progress":
                return
            sid, stage = event.get("shot_id"), event.get("stage", "done")
            message = f"shot {sid}: {stage}" if sid and sid != "*" else {"assemble": "assembling the cut",
                                                                             "sign": "labelling, watermarking, signing"}.get(stage, stage)
            try:
                anyio.from_thread.run(ctx.report_progress, float(state["ready"]), float(state["total"] or 1), message,
                                      token=loop_token)
            except Exception as e:  # a client that went away must not stop the render
                log.debug("progress notification failed: %s", e)

        state["total"] = len(self.store.get_version(args[1]).storyboard.shots) if len(args) > 1 else 0
        return await anyio.to_thread.run_sync(lambda: self.guard(fn, *args, emit=emit, **kwargs))


def _add_film_tools(app, calls: DirectorCalls) -> None:
    """plan, render, feedback: making and changing a film."""

    @app.tool()
    def plan(brief: str, seconds: float | None = None, aspect_ratio: Literal["16:9", "9:16", "1:1"] | None = None) -> PlanResult:
        """Plan a storyboard from a brief and start a film with it (nothing is rendered yet)."""
        overrides = {k: v for k, v in (("seconds", seconds), ("aspect_ratio", aspect_ratio)) if v is not None}
        result = calls.guard(calls.director.plan, brief, overrides)
        if result.question:
            return PlanResult(question=result.question)
        from agent.planner.length import film_seconds
        from agent.prompts import with_prompts

        project_id = calls.guard(calls.director.start_project, calls.who(), result.storyboard, "planned from the brief", brief=brief)
        sb = with_prompts(result.storyboard, settings=calls.director.settings)
        return PlanResult(project_id=project_id, version=1, title=sb.title, duration=film_seconds(sb),
                          storyboard=sb.model_dump(mode="json", exclude_none=True), notes=list(result.notes))

    @app.tool()
    async def render(project_id: str, ctx: Context) -> RenderResult:
        """Render the film's latest storyboard version; unchanged shots reuse their takes. Sends progress
        notifications while it works (shots ready of all)."""
        out = await calls.run_with_progress(ctx, calls.director.render, calls.who(), project_id)
        return calls.render_result(out)

    @app.tool()
    async def feedback(project_id: str, text: str, ctx: Context, shots: list[str] | None = None,
                       render: bool = False) -> FeedbackResult:
        """Change the film in plain words ("shot 2 darker", "make it vertical", "undo"): a new storyboard
        version. With render=true, re-render what changed (progress notifications as for render)."""
        if render:
            out = await calls.run_with_progress(ctx, calls.director.feedback, calls.who(), project_id, text, shots=shots, render=True)
        else:
            import anyio

            out = await anyio.to_thread.run_sync(lambda: calls.guard(calls.director.feedback, calls.who(), project_id, text, shots=shots,
                                                               render=False))
        version = calls.store.get_version(project_id)
        rendered = calls.render_result(out) if out.get("cut") else None
        return FeedbackResult(project_id=project_id, version=out["version"], changed_shots=out.get("changed_shots") or [],
                              question=out.get("question"), reason=version.reason, rendered=rendered)


def _add_cut_tools(app, calls: DirectorCalls) -> None:
    """get_cut, verify, list_projects: what was made."""

    @app.tool()
    def get_cut(project_id: str, include_video: bool = False) -> CutInfo:
        """The film's latest cut: its id, size, hash and where to fetch it; with include_video, the MP4
        itself (base64) when it is under 20 MB."""
        cut = calls.latest_cut(project_id)
        path = Path(cut.file)
        data = path.read_bytes()
        inline = base64.b64encode(data).decode() if include_video and len(data) <= MAX_INLINE_VIDEO else None
        return CutInfo(project_id=project_id, version=cut.version, cut_id=cut.id, bytes=len(data),
                       sha256=hashlib.sha256(data).hexdigest(), media_url=calls.media(project_id, path.name),
                       path=None if calls.http else str(path), video_base64=inline)

    @app.tool()
    def verify(project_id: str) -> VerifyResult:
        """Read back the three disclosures of the film's latest cut: the C2PA manifest (signed, declaring
        AI generation), the invisible watermark (and which film and cut it names), the visible label."""
        from tools.safety.verify import verify_video

        report = verify_video(calls.latest_cut(project_id).file, keys_dir=calls.director.workspace.keys_dir,
                              resolve_watermark=calls.store.resolve_watermark)
        return VerifyResult(verdict=report["verdict"], c2pa=report["c2pa"], watermark=report["watermark"],
                            label=report["label"], reasons=report["reasons"])

    @app.tool()
    def list_projects() -> list[ProjectSummary]:
        """Your films, latest first."""
        return [ProjectSummary(project_id=p.id, title=p.title) for p in calls.store.list_projects(owner=calls.who())]


def _add_resources(app, calls: DirectorCalls) -> None:
    """The film's storyboard, as a resource."""

    @app.resource("director://projects/{project_id}/storyboard", mime_type="application/json",
                  description="The film's latest storyboard version (same keys as storyboard.yaml), with its version history")
    def storyboard(project_id: str) -> str:
        import json

        try:
            state = calls.guard(calls.director.project_state, calls.who(), project_id)
        except ToolError as e:  # resources answer "not found" in their own terms
            raise ResourceNotFoundError(str(e)) from None
        return json.dumps({"project_id": project_id, "version": state["version"], "storyboard": state["storyboard"],
                           "versions": state["versions"]}, indent=1)


def run(http_port: int | None = None, host: str = "127.0.0.1") -> None:
    """`director mcp`: stdio, or streamable HTTP on host:port at /mcp."""
    if http_port is None:
        build_server().run("stdio")
        return
    import uvicorn

    app = build_server(http=True, port=http_port, host=host)
    log.warning("Reel Director MCP server on http://%s:%d/mcp (Bearer tokens from `director users add NAME`)", host, http_port)
    uvicorn.run(app.streamable_http_app(host=host), host=host, port=http_port, log_level="warning")
