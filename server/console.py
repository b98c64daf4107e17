"""What the terminal front doors share: the consoles, the error a person can fix, the storyboard table
and progress bars fed by the Director's events. `server/cli.py`, `server/chat.py` and the bots' settings
import from here; nothing here imports them back. Nothing heavy is imported at the top: `director --help`
loads this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from agent.events import Event


class _LazyConsole:
    """A rich Console made on first use: importing rich costs ~50 ms that `director --help` need not pay."""

    def __init__(self, **options):
        self._options = options
        self._console = None

    def get(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.get(), name)


err = _LazyConsole(stderr=True)
out = _LazyConsole()


class CLIError(Exception):
    """A problem the person can fix; printed without a traceback."""


def storyboard_table(storyboard, title: str | None = None) -> Table:
    from rich.table import Table

    from agent.planner.length import film_seconds  # the film as delivered: cards and transitions counted

    seconds = round(film_seconds(storyboard), 2)
    table = Table(title=title or f"{storyboard.title} · {storyboard.aspect_ratio} · {storyboard.fps} fps · {seconds:g} s",
                  show_lines=False, expand=False)
    for col in ("#", "id", "sec", "mode", "camera", "framing", "subject / action", "transition", "narration"):
        table.add_column(col, overflow="fold")
    for i, s in enumerate(storyboard.shots, 1):
        table.add_row(str(i), s.id, f"{s.duration:g}", s.mode, s.camera, s.framing,
                      ", ".join(x for x in (s.subject, s.action) if x), s.transition, s.narration or "")
    return table


class Progress:
    """Rich progress bars fed by protocol events; silent when --json asks for a clean stdout."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bars = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self.bars = RichProgress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[stage]}"),
                                     TimeElapsedColumn(), console=err.get(), transient=False)
            self.bars.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bars:
            self.bars.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        if not self.bars:
            return
        # imported here, not at the top: pydantic's import is a third of `director --help`
        from agent.events import DirectorMessage, Estimate, SafetyNotice, ShotProgress, TakeReady

        if isinstance(event, ShotProgress):
            sid = event.shot_id or "?"
            name = "cut" if sid == "*" else f"shot {sid}"
            if name not in self.tasks:
                self.tasks[name] = self.bars.add_task(name, total=1, stage="")
            total = max(1, int(event.total or 1))
            attempt = event.attempt or 0
            stage = event.stage + (f" (take {attempt})" if attempt > 1 else "")
            done = (event.done or 0) if event.stage in ("generate", "assemble", "reused") else 0
            self.bars.update(self.tasks[name], total=total, completed=done, stage=stage)
        elif isinstance(event, TakeReady):
            name = f"shot {event.shot_id}"
            c = event.critique or {}
            if name in self.tasks:
                self.bars.update(self.tasks[name], completed=self.bars.tasks[self.tasks[name]].total,
                                 stage=f"{c.get('verdict', '?')} {c.get('score', 0):.2f}")
        elif isinstance(event, DirectorMessage):
            self.bars.console.print(f"[cyan]director:[/] {event.text}", highlight=False)
        elif isinstance(event, SafetyNotice):
            self.bars.console.print(f"[cyan]director:[/] {'; '.join(event.reasons)}", highlight=False)
        elif isinstance(event, Estimate):
            self.bars.console.print(f"[cyan]director:[/] {event.text}", highlight=False)
