"""The first schema: users, projects, storyboard versions, takes, cuts, messages, consents, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storyboards.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_IMMUTABLE = "storyboard versions are immutable; add a new version instead"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_projects_owner", "projects", ["owner"])
    op.create_table(
        "storyboard_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("parent", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("project_id", "number", name="uq_storyboard_versions_project_number"),
    )
    op.create_index("ix_storyboard_versions_project_id", "storyboard_versions", ["project_id"])
    op.create_table(
        "takes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("shot_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("spec_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    for col in ("project_id", "shot_id", "key", "spec_key"):
        op.create_index(f"ix_takes_{col}", "takes", [col])
    op.create_table(
        "cuts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(1000), nullable=False),
        sa.Column("preset", sa.String(), nullable=False),
        sa.Column("take_ids", sa.JSON(), nullable=False),
        sa.Column("watermark_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cuts_project_id", "cuts", ["project_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_messages_project_id", "messages", ["project_id"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("normalised_name", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(1000), nullable=True),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_consents_normalised_name", "consents", ["normalised_name"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_event", "audit_log", ["event"])

    # Versions are the history people restore and diff: the database itself refuses edits.
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER storyboard_versions_immutable BEFORE UPDATE ON storyboard_versions "
            f"BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION storyboard_versions_immutable() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_IMMUTABLE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER storyboard_versions_immutable BEFORE UPDATE ON storyboard_versions "
            "FOR EACH ROW EXECUTE FUNCTION storyboard_versions_immutable()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS storyboard_versions_immutable")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS storyboard_versions_immutable ON storyboard_versions")
        op.execute("DROP FUNCTION IF EXISTS storyboard_versions_immutable()")
    for table in ("audit_log", "consents", "messages", "cuts", "takes", "storyboard_versions", "projects", "users"):
        op.drop_table(table)
