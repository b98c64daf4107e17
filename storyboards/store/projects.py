"""Projects: an owner, a title and settings; everything else hangs off a project id."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..schema import utcnow
from ..tables import Project
from .database import Database, project_or_raise

Names = list[str]   # (inside the class, `list` is the method below)


class Projects:
    def __init__(self, db: Database):
        self.db = db

    def create(self, owner: str, title: str, settings: dict[str, Any] | None = None) -> Project:
        for _ in range(10):
            try:
                with self.db.write() as s:
                    project = Project(id=f"p-{secrets.token_hex(4)}", owner=owner, title=title, settings=dict(settings or {}))
                    s.add(project)
                return project
            except IntegrityError:  # an id collision: 1 in 4 billion, try another
                continue
        raise RuntimeError("could not find a free project id")

    def get(self, project_id: str) -> Project:
        """KeyError when there is no such project."""
        with self.db.read() as s:
            return project_or_raise(s, project_id)

    def list(self, owner: str | None = None) -> list[Project]:
        """Most recently changed first."""
        with self.db.read() as s:
            q = select(Project).order_by(col(Project.updated_at).desc())
            if owner is not None:
                q = q.where(Project.owner == owner)
            return list(s.exec(q))

    def update(self, project_id: str, *, title: str | None = None, settings: dict[str, Any] | None = None) -> Project:
        with self.db.write() as s:
            project = project_or_raise(s, project_id)
            if title is not None:
                project.title = title
            if settings is not None:
                project.settings = dict(settings)
            project.updated_at = utcnow()
            s.add(project)
        return project

    # Directing together: members live in the project's settings (no schema change).
    def add_member(self, project_id: str, name: str) -> Names:
        """Let user `name` direct the project with its owner. Returns the members, in the order they were added."""
        with self.db.write() as s:
            project = project_or_raise(s, project_id, lock=True)
            settings = dict(project.settings or {})
            members = [m for m in settings.get("members", []) if m != name] + [name]
            settings["members"] = members
            project.settings = settings
            project.updated_at = utcnow()
            s.add(project)
        return members

    def members(self, project_id: str) -> Names:
        """Users the owner invited to direct this project (the owner is not among them)."""
        return list(self.get(project_id).settings.get("members", []))
