"""Tables of live rooms: the append-only event log and guest passes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class RoomEvent(Base):
    """One accepted event of a room; ``(session_id, seq)`` is unique, so two server
    processes can never both append the same next event."""

    __tablename__ = "room_events"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    by: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Guest(Base):
    """A member of the public who joined a public session by its link or QR code."""

    __tablename__ = "guests"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PollTally(Base):
    """The ballot box of a secret poll: per poll, the count of each option and nothing else
    (no voter, no time, no row per ballot), so that no stored row puts a voter next to a
    choice. Updated in the same transaction as the ``poll.vote`` event that says who voted."""

    __tablename__ = "poll_tallies"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    poll_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counts: Mapped[list[int]] = mapped_column(JSON)
