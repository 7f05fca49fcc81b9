"""proposals: itemised replies (清单式答复), co-handling units' opinions, reply follow-ups

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # also added by the drafting branch (wt-B); the integrator keeps one
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("situation", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("suggestions", sa.JSON(), server_default="[]", nullable=False)
        )

    op.create_table(
        "proposal_reply_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("suggestion", sa.Integer(), nullable=False),
        sa.Column(
            "reply_class",
            sa.Enum(
                "A",
                "B",
                "C",
                "D",
                name="reply_class",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reply_id"],
            ["proposal_replies.id"],
            name=op.f("fk_proposal_reply_items_reply_id_proposal_replies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_reply_items")),
        sa.UniqueConstraint(
            "reply_id", "suggestion", name=op.f("uq_proposal_reply_items_reply_id")
        ),
    )
    with op.batch_alter_table("proposal_reply_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_reply_items_reply_id"), ["reply_id"], unique=False
        )

    op.create_table(
        "proposal_opinions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["people.id"], name=op.f("fk_proposal_opinions_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_opinions_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_proposal_opinions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_opinions")),
    )
    with op.batch_alter_table("proposal_opinions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_opinions_proposal_id"), ["proposal_id"], unique=False
        )

    # A class-B reply commitment is followed up like an action item, but no session made it.
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM follow_ups WHERE session_id IS NULL")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("proposal_opinions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_opinions_proposal_id"))
    op.drop_table("proposal_opinions")
    with op.batch_alter_table("proposal_reply_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_reply_items_reply_id"))
    op.drop_table("proposal_reply_items")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("suggestions")
        batch_op.drop_column("situation")
