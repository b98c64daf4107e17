"""The chat transcript of a project: what people said and what the director answered."""

from __future__ import annotations

from sqlmodel import col, select

from ..schema import utcnow
from ..tables import Message
from .database import Database, project_or_raise

MESSAGE_ROLES = ("user", "director", "system")


class Chat:
    def __init__(self, db: Database):
        self.db = db

    def add(self, project_id: str, role: str, text: str) -> Message:
        if role not in MESSAGE_ROLES:
            raise ValueError(f"message role '{role}' is not one of: {', '.join(MESSAGE_ROLES)}")
        with self.db.write() as s:
            project = project_or_raise(s, project_id)
            message = Message(project_id=project_id, role=role, text=text)
            s.add(message)
            project.updated_at = utcnow()
            s.add(project)
        return message

    def transcript(self, project_id: str, limit: int | None = None) -> list[Message]:
        """The transcript in order; with `limit`, its last `limit` messages."""
        with self.db.read() as s:
            q = select(Message).where(Message.project_id == project_id).order_by(col(Message.id).desc())
            if limit is not None:
                q = q.limit(limit)
            return list(reversed(s.exec(q).all()))
