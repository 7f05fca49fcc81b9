"""notices: per-person notifications and the kinds each person gets no email for

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:28:43
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_email_off",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "proposal_filed",
                "proposal_rejected",
                "proposal_merged",
                "proposal_converted",
                "cosign_invitation",
                "cosigners_dropped",
                "assigned",
                "opinion_received",
                "reply_received",
                "progress_reported",
                "evaluation_requested",
                "evaluation_reminder",
                "reply_overdue",
                "follow_up_overdue",
                "instruction_issued",
                "invitation_changed",
                "minutes_approved",
                name="notice_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notice_email_off_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "kind", name=op.f("pk_notice_email_off")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "proposal_filed",
                "proposal_rejected",
                "proposal_merged",
                "proposal_converted",
                "cosign_invitation",
                "cosigners_dropped",
                "assigned",
                "opinion_received",
                "reply_received",
                "progress_reported",
                "evaluation_requested",
                "evaluation_reminder",
                "reply_overdue",
                "follow_up_overdue",
                "instruction_issued",
                "invitation_changed",
                "minutes_approved",
                name="notice_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", server.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mail_pending", sa.Boolean(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notices_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_mail_pending"), ["mail_pending"], unique=False)
        batch_op.create_index(
            "ix_notices_person_id_read_at", ["person_id", "read_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_person_id_read_at")
        batch_op.drop_index(batch_op.f("ix_notices_mail_pending"))
        batch_op.drop_index(batch_op.f("ix_notices_key"))

    op.drop_table("notices")
    op.drop_table("notice_email_off")
