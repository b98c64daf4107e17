"""Storyboard versions: immutable, numbered 1, 2, ... per project, each naming the version it was made from.

A change is compare-and-set: a version made from version N is stored as number N + 1, and the
unique (project, number) constraint refuses it when someone else already stored N + 1. So two
processes that both edit version N cannot both win, on SQLite or PostgreSQL; the loser gets a
`VersionConflict` and can apply its change again on the new latest version.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..schema import Storyboard, utcnow
from ..tables import StoryboardVersionRow
from ..yamlio import storyboard_to_dict
from .database import Database, VersionConflict, project_or_raise

_APPEND_ATTEMPTS = 5


class StoryboardVersion(BaseModel):
    """One immutable version of a project's storyboard."""

    model_config = ConfigDict(frozen=True)

    project_id: str
    number: int
    parent: int | None
    reason: str
    storyboard: Storyboard
    created_at: datetime


def _to_version(row: StoryboardVersionRow) -> StoryboardVersion:
    return StoryboardVersion(
        project_id=row.project_id, number=row.number, parent=row.parent, reason=row.reason,
        storyboard=Storyboard.parse(row.document, f"project {row.project_id} version {row.number}"),
        created_at=row.created_at,
    )


def _head(s: Session, project_id: str) -> int | None:
    return s.exec(select(func.max(StoryboardVersionRow.number)).where(StoryboardVersionRow.project_id == project_id)).one()


class Versions:
    def __init__(self, db: Database):
        self.db = db

    def add(self, project_id: str, storyboard: Storyboard, reason: str, parent: int | None = None) -> int:
        """Store a new version; returns its number.

        `parent` is the version the change was made from: it must still be the latest, else
        `VersionConflict`. Without it the version goes on top of whatever is latest (the first
        version of a project, or a writer that did not read one).
        """
        reason = (" ".join(reason.split()) or "no reason given")[:500]
        document = storyboard_to_dict(storyboard)
        if parent is not None:
            return self._add_on(project_id, document, reason, parent)
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                with self.db.write() as s:
                    project = project_or_raise(s, project_id, lock=True)
                    head = _head(s, project_id)
                    number = (head or 0) + 1
                    s.add(StoryboardVersionRow(project_id=project_id, number=number, parent=head, reason=reason,
                                               document=document))
                    project.updated_at = utcnow()
                    s.add(project)
                return number
            except IntegrityError:  # another writer took the number between our read and insert
                if attempt == _APPEND_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _add_on(self, project_id: str, document: dict, reason: str, parent: int) -> int:
        number = parent + 1
        try:
            with self.db.write() as s:
                project = project_or_raise(s, project_id, lock=True)
                exists = s.exec(select(StoryboardVersionRow.id).where(
                    StoryboardVersionRow.project_id == project_id, StoryboardVersionRow.number == parent)).first()
                if exists is None:
                    raise KeyError(f"project '{project_id}' has no version {parent} to be a parent")
                head = _head(s, project_id)
                if head != parent:
                    raise VersionConflict(project_id, parent, head)
                # On PostgreSQL two transactions can both get here; the unique number refuses the second.
                s.add(StoryboardVersionRow(project_id=project_id, number=number, parent=parent, reason=reason, document=document))
                project.updated_at = utcnow()
                s.add(project)
        except IntegrityError:
            raise VersionConflict(project_id, parent, self.head(project_id)) from None
        return number

    def head(self, project_id: str) -> int | None:
        """The latest version's number (None before the first)."""
        with self.db.read() as s:
            return _head(s, project_id)

    def get(self, project_id: str, number: int | None = None) -> StoryboardVersion:
        """Version `number`, or the latest. KeyError when there is none."""
        with self.db.read() as s:
            project_or_raise(s, project_id)
            q = select(StoryboardVersionRow).where(StoryboardVersionRow.project_id == project_id)
            if number is None:
                row = s.exec(q.order_by(col(StoryboardVersionRow.number).desc())).first()
            else:
                row = s.exec(q.where(StoryboardVersionRow.number == number)).first()
        if row is None:
            what = "no storyboard yet" if number is None else f"no version {number}"
            raise KeyError(f"project '{project_id}' has {what}")
        return _to_version(row)

    def list(self, project_id: str) -> list[StoryboardVersion]:
        """Oldest first."""
        with self.db.read() as s:
            project_or_raise(s, project_id)
            q = select(StoryboardVersionRow).where(StoryboardVersionRow.project_id == project_id)
            rows = s.exec(q.order_by(col(StoryboardVersionRow.number))).all()
        return [_to_version(r) for r in rows]

    def count(self, project_id: str) -> int:
        with self.db.read() as s:
            return s.exec(select(func.count()).select_from(StoryboardVersionRow)
                          .where(StoryboardVersionRow.project_id == project_id)).one()
