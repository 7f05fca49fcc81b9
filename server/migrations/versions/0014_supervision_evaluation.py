"""leaders and supervision (领办, 批示, 两轮督办) and the two-way evaluation's criteria

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:28:02.692419
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "handling",
                "quality",
                name="criterion_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("max", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_criteria")),
    )
    with op.batch_alter_table("evaluation_criteria", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_criteria_kind"), ["kind"], unique=False)

    op.create_table(
        "evaluation_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cosigners_evaluate", sa.Boolean(), nullable=False),
        sa.Column("updated_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_settings")),
    )
    op.create_table(
        "supervision_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("closed_at", server.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_supervision_rounds_created_by_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_rounds")),
    )
    with op.batch_alter_table("supervision_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_rounds_year"), ["year"], unique=False)

    op.create_table(
        "supervision_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "follow_up",
                "reply",
                name="supervision_item_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column(
            "report_status",
            sa.Enum(
                "done",
                "in_progress",
                "delayed",
                name="supervision_report_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("report_text", sa.Text(), nullable=True),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", server.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["units.id"], name=op.f("fk_supervision_items_owner_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_supervision_items_proposal_id_proposals"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["people.id"],
            name=op.f("fk_supervision_items_reported_by_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["supervision_rounds.id"],
            name=op.f("fk_supervision_items_round_id_supervision_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_items")),
        sa.UniqueConstraint(
            "round_id", "kind", "ref_id", name=op.f("uq_supervision_items_round_id")
        ),
    )
    with op.batch_alter_table("supervision_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervision_items_owner_unit_id"), ["owner_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervision_items_proposal_id"), ["proposal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervision_items_round_id"), ["round_id"], unique=False
        )

    op.create_table(
        "instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_instructions_follow_up_id_follow_ups"),
        ),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["people.id"], name=op.f("fk_instructions_leader_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["units.id"], name=op.f("fk_instructions_owner_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_instructions_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["people.id"], name=op.f("fk_instructions_recorded_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructions")),
    )
    with op.batch_alter_table("instructions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instructions_proposal_id"), ["proposal_id"], unique=False
        )

    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scores", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("as_cosigner", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_evaluations_proposal_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_evaluations_proposal_id"), ["proposal_id", "round", "kind", "by_id"]
        )

    # follow_ups.session_id is nullable since 0012 (a reply's commitments have no session
    # either): an instruction's follow-up needs nothing more.

    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leader_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_proposals_leader_id"), ["leader_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_proposals_leader_id_people"), "people", ["leader_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_proposals_leader_id_people"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_proposals_leader_id"))
        batch_op.drop_column("leader_id")

    # Instructions' follow-ups go with the instructions.
    op.execute("DELETE FROM follow_ups WHERE source LIKE 'instruction:%'")

    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_evaluations_proposal_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_evaluations_proposal_id"), ["proposal_id", "round", "kind"]
        )
        batch_op.drop_column("as_cosigner")
        batch_op.drop_column("score")
        batch_op.drop_column("scores")

    with op.batch_alter_table("instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instructions_proposal_id"))

    op.drop_table("instructions")
    with op.batch_alter_table("supervision_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_items_round_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_items_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_items_owner_unit_id"))

    op.drop_table("supervision_items")
    with op.batch_alter_table("supervision_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_rounds_year"))

    op.drop_table("supervision_rounds")
    op.drop_table("evaluation_settings")
    with op.batch_alter_table("evaluation_criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_criteria_kind"))

    op.drop_table("evaluation_criteria")
