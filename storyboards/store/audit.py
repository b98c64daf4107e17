"""The audit trail: who did what (consents, exports, renders), newest first when read."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from ..tables import AuditEntry
from .database import Database


class AuditTrail:
    def __init__(self, db: Database):
        self.db = db

    def record(self, actor: str, event: str, detail: dict[str, Any] | None = None) -> AuditEntry:
        with self.db.write() as s:
            entry = AuditEntry(actor=actor, event=event, detail=dict(detail or {}))
            s.add(entry)
        return entry

    def recent(self, limit: int = 100, event: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        with self.db.read() as s:
            q = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
            if event is not None:
                q = q.where(AuditEntry.event == event)
            return list(s.exec(q))
