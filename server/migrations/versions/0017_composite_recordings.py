"""recordings: the session's composite file and the state of the job that makes it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE = sa.text("kind = 'composite'")


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="feed", nullable=False)
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="done", nullable=False)
        )
        batch_op.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("due_at", server.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_until", server.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_recordings_one_composite",
            ["session_id"],
            unique=True,
            sqlite_where=ONE,
            postgresql_where=ONE,
        )


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_one_composite", sqlite_where=ONE, postgresql_where=ONE)
        for column in ("attempts", "lease_until", "due_at", "reason", "status", "kind"):
            batch_op.drop_column(column)
