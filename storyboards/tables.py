"""The database tables (sqlmodel). Changes to them go through a new migration in migrations/versions/.

Pydantic payloads (a storyboard, a take, a manifest) live in JSON columns; the columns beside them
are the ones queries filter on. Times are stored as UTC and come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from .schema import utcnow


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out (SQLite keeps no timezone)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _when(**kw: Any):
    return Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False, **kw))


def _json(nullable: bool = False):
    return sa.Column(sa.JSON(), nullable=nullable)


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = _when()


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    owner: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, index=True))
    title: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    created_at: datetime = _when()
    updated_at: datetime = _when()


class StoryboardVersionRow(SQLModel, table=True):
    __tablename__ = "storyboard_versions"
    __table_args__ = (sa.UniqueConstraint("project_id", "number", name="uq_storyboard_versions_project_number"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(sa_column=sa.Column(sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True))
    number: int
    parent: int | None = None
    reason: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    document: dict[str, Any] = Field(sa_column=_json())
    created_at: datetime = _when()


class TakeRow(SQLModel, table=True):
    __tablename__ = "takes"
    id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    project_id: str = Field(sa_column=sa.Column(sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True))
    shot_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    spec_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    selected: bool = False
    watermark_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True, unique=True, index=True))
    payload: dict[str, Any] = Field(sa_column=_json())
    created_at: datetime = _when()


class CutRow(SQLModel, table=True):
    __tablename__ = "cuts"
    id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    project_id: str = Field(sa_column=sa.Column(sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True))
    version: int
    file: str = Field(sa_column=sa.Column(sa.String(1000), nullable=False))
    preset: str = ""
    take_ids: list[str] = Field(default_factory=list, sa_column=_json())
    # Up to 2**32-1: does not fit a signed 32-bit INTEGER on PostgreSQL.
    watermark_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False, unique=True))
    manifest: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    created_at: datetime = _when()


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(sa_column=sa.Column(sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True))
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = _when()


class Consent(SQLModel, table=True):
    __tablename__ = "consents"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    normalised_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, index=True))
    reference: str | None = Field(default=None, sa_column=sa.Column(sa.String(1000), nullable=True))
    scope: str = ""
    expires: date | None = None
    revoked_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=True))
    created_at: datetime = _when()

    def active_at(self, at: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        return self.expires is None or at.date() <= self.expires


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    actor: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    event: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, index=True))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
