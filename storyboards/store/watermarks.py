"""Watermark ids: the number the invisible watermark carries, mapped back to a cut or a take."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import col, select

from ..tables import CutRow, TakeRow
from .database import Database

MAX_WATERMARK_ID = 2**32 - 1


class Watermarks:
    def __init__(self, db: Database):
        self.db = db

    def new_id(self) -> int:
        """A random id in 1..2**32-1 that no cut or take uses yet."""
        rng = secrets.SystemRandom()
        with self.db.read() as s:
            while True:
                candidate = rng.randint(1, MAX_WATERMARK_ID)
                if (s.exec(select(CutRow.id).where(CutRow.watermark_id == candidate)).first() is None
                        and s.exec(select(TakeRow.id).where(TakeRow.watermark_id == candidate)).first() is None):
                    return candidate

    def resolve(self, watermark_id: int) -> dict[str, Any] | None:
        """What a watermark payload points at: a cut, or a take (and the newest cut that uses it)."""
        with self.db.read() as s:
            cut = s.exec(select(CutRow).where(CutRow.watermark_id == int(watermark_id))).first()
            if cut is not None:
                return {"kind": "cut", "project_id": cut.project_id, "cut_id": cut.id, "version": cut.version}
            take = s.exec(select(TakeRow).where(TakeRow.watermark_id == int(watermark_id))).first()
            if take is None:
                return None
            cuts = s.exec(select(CutRow).where(CutRow.project_id == take.project_id)
                          .order_by(col(CutRow.created_at), col(CutRow.id))).all()
        using = [c for c in cuts if take.id in c.take_ids]
        return {"kind": "take", "project_id": take.project_id, "take_id": take.id, "shot_id": take.shot_id,
                "cut_id": using[-1].id if using else None, "version": using[-1].version if using else None}
