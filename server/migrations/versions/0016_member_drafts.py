"""proposals: member drafts, co-signers, submission windows, filing review, reply deadlines

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = (
    "submitted",
    "filed",
    "assigned",
    "handling",
    "replied",
    "evaluated",
    "closed",
    "rejected",
)
NEW = ("draft", *OLD, "converted")


def _status(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.String(length=16), nullable=True)
        batch_op.alter_column(
            "status",
            existing_type=_status(OLD, "proposal_status"),
            type_=_status(NEW, "proposal_status"),
            existing_nullable=False,
        )
        # situation and suggestions came with 0012 (itemised replies answer the suggestions).
        batch_op.add_column(sa.Column("public", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reply_due", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("reply_reminded_at", server.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_proposals_author_id"), ["author_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_proposals_author_id_people"), "people", ["author_id"], ["id"]
        )
    with op.batch_alter_table("proposal_transitions", schema=None) as batch_op:
        for column in ("from_status", "to_status"):
            batch_op.alter_column(
                column,
                existing_type=_status(OLD, column),
                type_=_status(NEW, column),
                existing_nullable=column == "from_status",
            )
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))

    op.create_table(
        "proposal_cosigners",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "answer",
            sa.Enum(
                "invited",
                "accepted",
                "declined",
                name="cosign_answer",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("answered_at", server.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_proposal_cosigners_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_cosigners_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "person_id", name=op.f("pk_proposal_cosigners")),
    )
    with op.batch_alter_table("proposal_cosigners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_cosigners_person_id"), ["person_id"], unique=False
        )
    op.create_table(
        "submission_windows",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("opens", sa.Date(), nullable=False),
        sa.Column("closes", sa.Date(), nullable=False),
        sa.Column("updated_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_submission_windows")),
    )


def downgrade() -> None:
    op.drop_table("submission_windows")
    with op.batch_alter_table("proposal_cosigners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_cosigners_person_id"))
    op.drop_table("proposal_cosigners")
    with op.batch_alter_table("proposal_transitions", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_proposals_author_id_people"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_proposals_author_id"))
        for column in (
            "reply_reminded_at",
            "reply_due",
            "author_id",
            "public",
        ):
            batch_op.drop_column(column)
