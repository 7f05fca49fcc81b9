"""Tables of the proposal registry."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.i18n import _
from server.proposals.lifecycle import Status


class Proposal(Base):
    """A proposal (提案) with its lead unit, optional bundle lead (1+N) and status."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None until filed: a member's draft gets its number when staff file it (立案).
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    situation: Mapped[str] = mapped_column(Text, default="", server_default="")  # 现状与问题
    suggestions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    public: Mapped[bool | None] = mapped_column(Boolean)  # 是否同意公开; None: not stated
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(50))
    key: Mapped[bool] = mapped_column(Boolean, default=False)
    group_proposer: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[Status] = mapped_column(enum_column(Status, "proposal_status"), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    bundle_lead_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    # Handling round: an "unsatisfied" evaluation sends the proposal back for a second round.
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # 督办领导
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)  # 领办领导
    # Set from the assignment by the reply term (config); None before it.
    reply_due: Mapped[dt.date | None] = mapped_column(Date)
    reply_reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
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
    reason: Mapped[str | None] = mapped_column(String(32))  # a RejectReason when not filed


class CosignAnswer(StrEnum):
    """A co-signer's answer to the author's invitation (联名)."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Cosigner(Base):
    """A member the author invited to co-sign a draft, and the answer."""

    __tablename__ = "proposal_cosigners"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    answer: Mapped[CosignAnswer] = mapped_column(enum_column(CosignAnswer, "cosign_answer"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SubmissionWindow(Base):
    """The days of a year on which members may submit proposals (the plenary session's)."""

    __tablename__ = "submission_windows"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    opens: Mapped[dt.date] = mapped_column(Date)
    closes: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    """A file attached to a proposal (e.g. the unit's reply letter), kept in the database."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Reply(Base):
    """The undertaking unit's formal reply (答复) in one handling round."""

    __tablename__ = "proposal_replies"
    __table_args__ = (UniqueConstraint("proposal_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    text: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReplyClass(StrEnum):
    """The class of a reply's answer to one suggestion (清单式答复)."""

    A = "A"  # 已解决或采纳: solved or adopted
    B = "B"  # 正在解决或列入计划: being solved or planned (with a commitment and its date)
    C = "C"  # 因条件限制暂缓: not now, for lack of means
    D = "D"  # 留作参考: kept for reference


class ReplyItem(Base):
    """The answer of one reply to one suggestion of its proposal (1-based ``suggestion``)."""

    __tablename__ = "proposal_reply_items"
    __table_args__ = (UniqueConstraint("reply_id", "suggestion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(
        ForeignKey("proposal_replies.id", ondelete="CASCADE"), index=True
    )
    suggestion: Mapped[int] = mapped_column(Integer)
    reply_class: Mapped[ReplyClass] = mapped_column(enum_column(ReplyClass, "reply_class"))
    text: Mapped[str] = mapped_column(Text, default="")
    due: Mapped[dt.date | None] = mapped_column(Date)


class Opinion(Base):
    """A co-handling unit's opinion (协办意见) sent to the lead unit before it replies."""

    __tablename__ = "proposal_opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    text: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProgressReport(Base):
    """A unit's report of handling progress: milestone, percent done, text."""

    __tablename__ = "progress_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    milestone: Mapped[str] = mapped_column(String(200))
    percent: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class EvaluationKind(StrEnum):
    """Two-way evaluation: the proposer judges the handling, the unit the proposal."""

    HANDLING = "handling"
    QUALITY = "quality"


# Each kind in words, for messages.
EVALUATION_KIND_WORDS = {
    EvaluationKind.HANDLING: _("the proposer's evaluation of the handling"),
    EvaluationKind.QUALITY: _("the unit's rating of the proposal's quality"),
}


class Evaluation(Base):
    """One evaluation per kind and handling round by the proposer (or the lead unit), plus one
    per co-signer when staff let co-signers evaluate (``as_cosigner``)."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("proposal_id", "round", "kind", "by_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EvaluationKind] = mapped_column(enum_column(EvaluationKind, "evaluation_kind"))
    verdict: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    # Scores against the staff's criteria as they were when given: [{"criterion_id", "name",
    # "weight", "max", "score"}], and their weighted total out of 100 (None without criteria).
    scores: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    as_cosigner: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class EvaluationCriterion(Base):
    """A criterion of the two-way evaluation checklist staff define (双向评议): for the proposer's
    evaluation of the handling or the unit's rating of the proposal's quality, with a weight and
    the highest score."""

    __tablename__ = "evaluation_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EvaluationKind] = mapped_column(
        enum_column(EvaluationKind, "criterion_kind"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    weight: Mapped[int] = mapped_column(Integer)
    max: Mapped[int] = mapped_column(Integer)


class EvaluationSettings(Base):
    """The committee's evaluation settings: one row (id 1)."""

    __tablename__ = "evaluation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cosigners_evaluate: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
