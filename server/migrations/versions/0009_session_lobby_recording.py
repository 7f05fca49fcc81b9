"""sessions: lobby and recording settings (defaults from the kind's template)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The templates' defaults (server/sessions/templates.py) when these columns were added.
LOBBY = {"livelihood_hall": "host_admits"}
RECORDING = {"handling": "ask", "quarterly_talk": "on", "livelihood_hall": "on"}


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lobby", sa.String(length=16), server_default="none", nullable=False)
        )
        batch_op.add_column(
            sa.Column("recording", sa.String(length=8), server_default="off", nullable=False)
        )
    sessions = sa.table("sessions", sa.column("kind", sa.String), sa.column("lobby"))
    for kind, lobby in LOBBY.items():
        op.execute(sessions.update().where(sessions.c.kind == kind).values(lobby=lobby))
    sessions = sa.table("sessions", sa.column("kind", sa.String), sa.column("recording"))
    for kind, recording in RECORDING.items():
        op.execute(sessions.update().where(sessions.c.kind == kind).values(recording=recording))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("recording")
        batch_op.drop_column("lobby")
