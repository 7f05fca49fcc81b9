"""media placement (rooms on Janus instances)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_placements",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("janus_room", sa.BigInteger(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("placed_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_media_placements_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_media_placements")),
    )
    with op.batch_alter_table("media_placements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_placements_instance"), ["instance"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("media_placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_placements_instance"))
    op.drop_table("media_placements")
