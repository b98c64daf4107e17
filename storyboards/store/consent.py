"""Likeness consent: a real person agreed to appear (within a scope, until a date, until revoked)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from sqlmodel import col, select

from ..schema import utcnow
from ..tables import Consent
from .database import Database


def normalise_name(name: str) -> str:
    """'  Zoë  O'Brien ' -> "zoe o'brien": how consent names are matched (accents, case, spacing ignored)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("\u2019", "'")
    text = re.sub(r"[^\w\s'-]", " ", text)
    return " ".join(text.split())


class Consents:
    def __init__(self, db: Database):
        self.db = db

    def add(self, name: str, reference: str | None = None, scope: str = "", expires: date | None = None) -> Consent:
        key = normalise_name(name)
        if not key:
            raise ValueError("a consent needs the person's name")
        with self.db.write() as s:
            consent = Consent(name=name.strip(), normalised_name=key, reference=reference, scope=scope, expires=expires)
            s.add(consent)
        return consent

    def revoke(self, name: str, at: datetime | None = None) -> int:
        """Revoke every active consent for this person; returns how many were revoked."""
        at = at or utcnow()
        with self.db.write() as s:
            rows = s.exec(
                select(Consent).where(Consent.normalised_name == normalise_name(name), Consent.revoked_at == None)  # noqa: E711
            ).all()
            for row in rows:
                row.revoked_at = at
                s.add(row)
        return len(rows)

    def active(self, at: datetime | None = None) -> list[Consent]:
        at = at or utcnow()
        with self.db.read() as s:
            rows = s.exec(select(Consent).order_by(col(Consent.id))).all()
        return [c for c in rows if c.active_at(at)]

    def for_person(self, name: str, at: datetime | None = None) -> Consent | None:
        """The person's active consent (matched by normalised name), or None."""
        at = at or utcnow()
        with self.db.read() as s:
            q = select(Consent).where(Consent.normalised_name == normalise_name(name)).order_by(col(Consent.id).desc())
            rows = s.exec(q).all()
        return next((c for c in rows if c.active_at(at)), None)
