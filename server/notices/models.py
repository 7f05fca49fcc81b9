"""Tables of the notices: one row per notice per person, and each person's email opt-outs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.notices.kinds import Kind


class Notice(Base):
    """Something one person is told: a kind, its parameters and where it leads."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_person_id_read_at", "person_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "notice_kind"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    link: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Mail: True while an email is still to be sent (the notice mailer clears it once it has
    # queued the message in the outbox, or found the person wants none).
    mail_pending: Mapped[bool] = mapped_column(Boolean, index=True)
    # A reminder's once-only key (e.g. "proposal:12:round:1"): a person is told of one kind
    # with one key at most once.
    key: Mapped[str | None] = mapped_column(String(64), index=True)


class NoticeEmailOff(Base):
    """A kind whose email one person turned off (every kind is mailed unless listed here)."""

    __tablename__ = "notice_email_off"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "notice_kind"), primary_key=True)
