"""`director chat`: a conversation with the director in the terminal.

Plain lines are briefs (first) and feedback (after); slash commands act: /render, /undo, /versions,
/storyboard, /help, /quit. The storyboard shows as a table, rendering as progress bars.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from agent.events import DirectorMessage, Estimate, Event, SafetyNotice, StoryboardEvent

HELP = """Commands:
  /render      render the current storyboard (only changed shots are regenerated)
  /undo        go back to the previous storyboard version
  /versions    list storyboard versions
  /storyboard  show the current storyboard
  /help        this help
  /quit        leave (the project stays in the workspace: `director chat PROJECT_ID` resumes it)
Anything else is a brief (first message) or feedback ("shot 2 darker", "make it vertical")."""


def run_chat(director, owner: str, project_id: str | None = None, *, read: Callable[[str], str] | None = None,
             console: Console | None = None) -> str | None:
    from server.console import Progress, storyboard_table

    console = console or Console()
    read = read or (lambda prompt: console.input(prompt))
    if project_id:
        state = director.project_state(owner, project_id)
        console.print(f"Resuming [bold]{state['project']['title']}[/] ({project_id}), version {state['version']}.")
        for m in state["messages"][-6:]:
            console.print(f"[dim]{m['role']}:[/] {m['text']}", highlight=False)
    else:
        console.print("Describe your film. [dim](/help for commands)[/]")

    def show(event: Event) -> None:
        if isinstance(event, DirectorMessage):
            console.print(f"[bold cyan]director:[/] {event.text}", highlight=False)
        elif isinstance(event, StoryboardEvent):
            from storyboards.schema import Storyboard

            sb = Storyboard.parse(event.storyboard)
            console.print(storyboard_table(sb, title=f"v{event.version} · {event.reason}"))
        elif isinstance(event, SafetyNotice):
            console.print(f"[bold yellow]safety ({event.verdict}):[/] " + "; ".join(event.reasons), highlight=False)
        elif isinstance(event, Estimate):
            console.print(f"[bold cyan]director:[/] {event.text}", highlight=False)

    while True:
        try:
            line = read("[bold]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            line = "/quit"
        if not line:
            continue
        try:
            if line in ("/quit", "/exit", "/q"):
                if project_id:
                    console.print(f"Project {project_id} is saved. `director chat {project_id}` resumes it.")
                return project_id
            if line == "/help":
                console.print(HELP, highlight=False)
            elif project_id is None:
                if line.startswith("/"):
                    console.print("Describe the film first.")
                    continue
                project_id = director.user_message(owner, line, None, emit=show) or None
            elif line == "/render":
                with Progress(enabled=True) as progress:
                    def both(e: Event) -> None:
                        progress(e)
                        if isinstance(e, StoryboardEvent):
                            show(e)
                    result = director.render(owner, project_id, emit=both)
                console.print(f"[bold green]Cut:[/] {result.cut} ({result.duration or 0:.1f} s) · critic {result.verdict} · "
                              f"{result.new_takes} new takes, {result.reused_takes} reused")
            elif line == "/undo":
                director.feedback(owner, project_id, "undo", emit=show, render=False)
            elif line == "/versions":
                state = director.project_state(owner, project_id)
                for v in state["versions"]:
                    marker = "*" if v["number"] == state["version"] else " "
                    console.print(f"{marker} v{v['number']}  {v['reason']}", highlight=False)
            elif line == "/storyboard":
                from storyboards.schema import Storyboard

                console.print(storyboard_table(Storyboard.parse(director.project_state(owner, project_id)["storyboard"])))
            elif line.startswith("/"):
                console.print(f"Unknown command {line}. /help lists them.")
            else:
                director.feedback(owner, project_id, line, emit=show, render=False)
        except Exception as e:  # a bad turn never ends the conversation
            console.print(f"[bold red]error:[/] {e}", highlight=False)
