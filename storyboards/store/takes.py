"""Takes: every generation of every shot, good or bad; one per shot is selected for the cut."""

from __future__ import annotations

from sqlmodel import Session, col, select

from ..schema import Take, TakeStatus
from ..tables import TakeRow
from .database import Database, project_or_raise


def _to_take(row: TakeRow) -> Take:
    data = dict(row.payload)
    data["selected"] = row.selected
    data["status"] = row.status
    return Take.model_validate(data)


def _unselect_others(s: Session, project_id: str, shot_id: str, take_id: str) -> None:
    rows = s.exec(
        select(TakeRow).where(
            TakeRow.project_id == project_id, TakeRow.shot_id == shot_id, TakeRow.selected == True, TakeRow.id != take_id  # noqa: E712
        )
    ).all()
    for other in rows:
        other.selected = False
        other.payload = {**other.payload, "selected": False}
        s.add(other)


def _fill(row: TakeRow, take: Take) -> None:
    row.shot_id, row.key, row.spec_key = take.shot_id, take.key, take.spec_key
    row.status, row.selected = TakeStatus(take.status).value, take.selected
    row.file_size, row.file_mtime_ns, row.content_hash = take.file_size, take.file_mtime_ns, take.content_hash
    row.payload = take.model_dump(mode="json")


class Takes:
    def __init__(self, db: Database):
        self.db = db

    def add(self, project_id: str, take: Take) -> Take:
        """Record a take. A take added as selected unselects the shot's other takes."""
        with self.db.write() as s:
            project_or_raise(s, project_id)
            if s.get(TakeRow, take.id) is not None:
                raise ValueError(f"a take with id '{take.id}' already exists; use update_take to change it")
            if take.selected:
                _unselect_others(s, project_id, take.shot_id, take.id)
            row = TakeRow(id=take.id, project_id=project_id, watermark_id=take.params.get("watermark_id"),
                          created_at=take.created_at, shot_id="", key="", spec_key="", status="", payload={})
            _fill(row, take)
            s.add(row)
        return take

    def update(self, project_id: str, take: Take) -> Take:
        """Replace a stored take's data (e.g. with its critique); same selection rule as add."""
        with self.db.write() as s:
            row = s.get(TakeRow, take.id)
            if row is None or row.project_id != project_id:
                raise KeyError(f"no take '{take.id}' in project '{project_id}'")
            if take.selected:
                _unselect_others(s, project_id, take.shot_id, take.id)
            _fill(row, take)
            s.add(row)
        return take

    def get(self, take_id: str) -> Take:
        with self.db.read() as s:
            row = s.get(TakeRow, take_id)
        if row is None:
            raise KeyError(f"no take '{take_id}'")
        return _to_take(row)

    def project_of(self, take_id: str) -> str:
        with self.db.read() as s:
            row = s.get(TakeRow, take_id)
        if row is None:
            raise KeyError(f"no take '{take_id}'")
        return row.project_id

    def find(
        self,
        project_id: str | None,
        *,
        spec_key: str | None = None,
        key: str | None = None,
        shot_id: str | None = None,
        status: TakeStatus | str | None = None,
    ) -> list[Take]:
        """Takes matching every filter given, newest first. `project_id=None` searches all projects
        (a take with the same `key` elsewhere has the same pixels and can be reused)."""
        q = select(TakeRow)
        if project_id is not None:
            q = q.where(TakeRow.project_id == project_id)
        if spec_key is not None:
            q = q.where(TakeRow.spec_key == spec_key)
        if key is not None:
            q = q.where(TakeRow.key == key)
        if shot_id is not None:
            q = q.where(TakeRow.shot_id == shot_id)
        if status is not None:
            q = q.where(TakeRow.status == TakeStatus(status).value)
        with self.db.read() as s:
            rows = s.exec(q.order_by(col(TakeRow.created_at).desc(), col(TakeRow.id).desc())).all()
        return [_to_take(r) for r in rows]

    def select(self, project_id: str, take_id: str) -> Take:
        """Make this the shot's selected take (every other take of the shot is unselected)."""
        with self.db.write() as s:
            row = s.get(TakeRow, take_id)
            if row is None or row.project_id != project_id:
                raise KeyError(f"no take '{take_id}' in project '{project_id}'")
            _unselect_others(s, project_id, row.shot_id, take_id)
            row.selected = True
            row.payload = {**row.payload, "selected": True}
            s.add(row)
        return _to_take(row)

    def selected(self, project_id: str, shot_id: str, spec_key: str | None = None) -> Take | None:
        """The shot's selected take; with `spec_key`, only if it was made for that spec (still valid)."""
        q = select(TakeRow).where(TakeRow.project_id == project_id, TakeRow.shot_id == shot_id, TakeRow.selected == True)  # noqa: E712
        if spec_key is not None:
            q = q.where(TakeRow.spec_key == spec_key)
        with self.db.read() as s:
            row = s.exec(q).first()
        return None if row is None else _to_take(row)
