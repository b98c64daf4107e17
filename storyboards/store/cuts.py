"""Cuts: assembled films, each with the manifest that says how to make it again."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..schema import Cut
from ..tables import CutRow
from .database import Database, project_or_raise
from .watermarks import MAX_WATERMARK_ID


def _to_cut(row: CutRow) -> Cut:
    return Cut(
        id=row.id, project_id=row.project_id, version=row.version, file=row.file, preset=row.preset,
        take_ids=list(row.take_ids), manifest=dict(row.manifest), created_at=row.created_at,
    )


class Cuts:
    def __init__(self, db: Database):
        self.db = db

    def add(self, cut: Cut, watermark_id: int) -> Cut:
        if not (1 <= watermark_id <= MAX_WATERMARK_ID):
            raise ValueError(f"watermark id {watermark_id} must be between 1 and {MAX_WATERMARK_ID} (use new_watermark_id())")
        try:
            with self.db.write() as s:
                project_or_raise(s, cut.project_id)
                if s.get(CutRow, cut.id) is not None:
                    raise ValueError(f"a cut with id '{cut.id}' already exists")
                s.add(CutRow(
                    id=cut.id, project_id=cut.project_id, version=cut.version, file=cut.file, preset=cut.preset,
                    take_ids=list(cut.take_ids), watermark_id=watermark_id, manifest=cut.manifest, created_at=cut.created_at,
                ))
        except IntegrityError:
            raise ValueError(f"watermark id {watermark_id} is already used by another cut; take a new_watermark_id()") from None
        return cut

    def get(self, cut_id: str) -> Cut:
        with self.db.read() as s:
            row = s.get(CutRow, cut_id)
        if row is None:
            raise KeyError(f"no cut '{cut_id}'")
        return _to_cut(row)

    def list(self, project_id: str) -> list[Cut]:
        """A project's cuts, oldest first."""
        with self.db.read() as s:
            q = select(CutRow).where(CutRow.project_id == project_id)
            rows = s.exec(q.order_by(col(CutRow.created_at), col(CutRow.id))).all()
        return [_to_cut(r) for r in rows]

    def latest(self, project_id: str) -> Cut | None:
        with self.db.read() as s:
            row = s.exec(select(CutRow).where(CutRow.project_id == project_id)
                         .order_by(col(CutRow.created_at).desc(), col(CutRow.id).desc())).first()
        return None if row is None else _to_cut(row)

    def by_watermark(self, watermark_id: int) -> Cut | None:
        with self.db.read() as s:
            row = s.exec(select(CutRow).where(CutRow.watermark_id == int(watermark_id))).first()
        return None if row is None else _to_cut(row)

    def watermark_of(self, cut_id: str) -> int:
        with self.db.read() as s:
            row = s.get(CutRow, cut_id)
        if row is None:
            raise KeyError(f"no cut '{cut_id}'")
        return row.watermark_id
