"""Tables of the 优秀提案评选 (selection of the year's best proposals): a round with its
weighted criteria, its reviewers and candidate proposals, and each reviewer's scores. Rows point
at proposals and people by foreign key only."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column


class SelectionStatus(StrEnum):
    """A round is scored while open; publishing its chosen list freezes every score."""

    OPEN = "open"
    PUBLISHED = "published"


class Selection(Base):
    """One selection round for a year, with its criteria ``[{"name", "weight", "max"}]``."""

    __tablename__ = "selections"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[SelectionStatus] = mapped_column(
        enum_column(SelectionStatus, "selection_status")
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SelectionReviewer(Base):
    """A person assigned to score a round's candidates."""

    __tablename__ = "selection_reviewers"

    selection_id: Mapped[int] = mapped_column(
        ForeignKey("selections.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)


class SelectionCandidate(Base):
    """A proposal the round scores; ``chosen`` once it is on the published list."""

    __tablename__ = "selection_candidates"

    selection_id: Mapped[int] = mapped_column(
        ForeignKey("selections.id", ondelete="CASCADE"), primary_key=True
    )
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)


class SelectionScore(Base):
    """One reviewer's scores of one candidate, one per criterion (revised until published)."""

    __tablename__ = "selection_scores"
    __table_args__ = (UniqueConstraint("selection_id", "proposal_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(
        ForeignKey("selections.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    scores: Mapped[list[int]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
