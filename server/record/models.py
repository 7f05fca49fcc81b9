"""Tables of the record: minutes versions (会议纪要) and the follow-ups (督办) of their action
items. Their rows point at sessions, proposals, people and units by foreign key only."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.i18n import _


class MinutesStatus(StrEnum):
    """Where a session's minutes are: 草稿 → 审核中 → 已批准."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"


# Each status in words, for messages (the web shows the same words).
MINUTES_STATUS_WORDS = {
    MinutesStatus.DRAFT: _("draft"),
    MinutesStatus.IN_REVIEW: _("in review"),
    MinutesStatus.APPROVED: _("approved"),
}


class MinutesVersion(Base):
    """One version of a session's minutes (会议纪要). Rows are only ever added: each keeps who
    wrote it and when, and the hash of the version before it, so any later change to a stored
    version breaks the chain (``GET /api/sessions/{id}/minutes/verify``)."""

    __tablename__ = "minutes_versions"
    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[MinutesStatus] = mapped_column(enum_column(MinutesStatus, "minutes_status"))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class FollowUpStatus(StrEnum):
    """An action item's state (督办)."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class FollowUp(Base):
    """An action item of approved minutes, a unit's class-B reply commitment, or a leader's
    instruction to a unit, followed up
    until done (督办)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Where it came from: session, agenda item and action number in the approved minutes
    # (a later approval of corrected minutes updates the same row), or
    # ``reply:{proposal}:{round}:{suggestion}`` for a reply's commitment.
    source: Mapped[str] = mapped_column(String(64), unique=True)
    # The session whose minutes hold the action item; None for a unit's class-B reply
    # commitment or a leader's instruction (its ``source`` is ``instruction:<id>``).
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus, "follow_up_status"), index=True
    )
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Instruction(Base):
    """A leader's written instruction (批示) on a proposal; with an owner unit it becomes a
    follow-up (督办)."""

    __tablename__ = "instructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    leader_id: Mapped[int] = mapped_column(ForeignKey("people.id"))  # whose instruction it is
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))  # the leader or staff
    text: Mapped[str] = mapped_column(Text)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    due: Mapped[dt.date | None] = mapped_column(Date)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SupervisionRound(Base):
    """A supervision round (两轮督办, e.g. 年中 and 年底): at its opening it lists every open
    follow-up and every overdue reply; the owner units report on each item."""

    __tablename__ = "supervision_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer, index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)  # units report by this day
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SupervisionItemKind(StrEnum):
    """What a round's item reviews: an open follow-up or an overdue reply."""

    FOLLOW_UP = "follow_up"
    REPLY = "reply"


class SupervisionReportStatus(StrEnum):
    """Where the owner unit says the item stands: 已落实 / 正在落实 / 未能按期落实."""

    DONE = "done"
    IN_PROGRESS = "in_progress"
    DELAYED = "delayed"


class SupervisionItem(Base):
    """One item of a round, as it stood when the round opened, and its unit's report."""

    __tablename__ = "supervision_items"
    __table_args__ = (UniqueConstraint("round_id", "kind", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_rounds.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SupervisionItemKind] = mapped_column(
        enum_column(SupervisionItemKind, "supervision_item_kind")
    )
    ref_id: Mapped[int] = mapped_column(Integer)  # the follow-up's or the proposal's id
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[dt.date | None] = mapped_column(Date)
    report_status: Mapped[SupervisionReportStatus | None] = mapped_column(
        enum_column(SupervisionReportStatus, "supervision_report_status")
    )
    report_text: Mapped[str | None] = mapped_column(Text)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
