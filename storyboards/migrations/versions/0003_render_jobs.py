"""Render jobs get their own tables (a row per render and per shot), and takes record their file.

Resume reads `renders`/`render_shots` instead of scanning the audit log. Takes keep the size,
mtime and sha256 their file had when written, so a file swapped or truncated later is noticed
before it is reused.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storyboards.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "renders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("out_dir", sa.String(1000), nullable=True),
        sa.Column("backend", sa.String(100), nullable=True),
        sa.Column("regenerate", sa.JSON(), nullable=False),
        sa.Column("process", sa.String(200), nullable=True),
        sa.Column("cut_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_renders_project_id", "renders", ["project_id"])
    op.create_index("ix_renders_state", "renders", ["state"])
    op.create_table(
        "render_shots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("render_id", sa.String(64), sa.ForeignKey("renders.id"), nullable=False),
        sa.Column("shot_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("take_id", sa.String(64), nullable=True),
        sa.Column("reused", sa.Boolean(), nullable=False),
        sa.Column("new_takes", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("render_id", "shot_id", name="uq_render_shots_render_shot"),
    )
    op.create_index("ix_render_shots_render_id", "render_shots", ["render_id"])
    with op.batch_alter_table("takes") as batch:
        batch.add_column(sa.Column("file_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("file_mtime_ns", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("content_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("takes") as batch:
        batch.drop_column("content_hash")
        batch.drop_column("file_mtime_ns")
        batch.drop_column("file_size")
    op.drop_table("render_shots")
    op.drop_table("renders")
