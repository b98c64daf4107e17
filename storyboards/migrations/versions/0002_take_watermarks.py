"""Takes carry their own watermark id, so a film joined by stream copy still maps back to its takes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("takes") as batch:
        batch.add_column(sa.Column("watermark_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_takes_watermark_id", ["watermark_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("takes") as batch:
        batch.drop_index("ix_takes_watermark_id")
        batch.drop_column("watermark_id")
