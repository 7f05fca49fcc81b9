"""Tables of the proposal registry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.proposals.lifecycle import Status


class Proposal(Base):
    """A proposal (提案) with its lead unit, optional bundle lead (1+N) and status."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(50))
    key: Mapped[bool] = mapped_column(Boolean, default=False)
    group_proposer: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[Status] = mapped_column(enum_column(Status, "proposal_status"), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    bundle_lead_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


proposal_proposers = Table(
    "proposal_proposers",
    Base.metadata,
    Column(
        "proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True, index=True),
    Column("position", Integer, nullable=False),
)

proposal_co_units = Table(
    "proposal_co_units",
    Base.metadata,
    Column(
        "proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("unit_id", Integer, ForeignKey("units.id"), primary_key=True, index=True),
)


class ProposalTransition(Base):
    """One step of a proposal's lifecycle: from, to, who, when, why."""

    __tablename__ = "proposal_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[Status | None] = mapped_column(enum_column(Status, "from_status"))
    to_status: Mapped[Status] = mapped_column(enum_column(Status, "to_status"))
    by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
