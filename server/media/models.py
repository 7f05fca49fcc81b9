"""Tables of room media: the recorded feeds (files kept under ``XIESHANG_RECORDING_DIR``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime

COMPOSITE = "composite"  # the kind of a session's one composite file (server.media.compositing)


class Recording(Base):
    """A recorded feed of a session: one WebM file (VP8/Opus as published, not re-encoded);
    or (``kind`` "composite") the session's one composite MP4, made by a background job whose
    state is on the row: ``status`` pending, running, done or failed (with ``reason``)."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index(
            "ix_recordings_one_composite",
            "session_id",
            unique=True,
            sqlite_where=text("kind = 'composite'"),
            postgresql_where=text("kind = 'composite'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    feed_id: Mapped[str] = mapped_column(String(32))
    who: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(500))  # relative to XIESHANG_RECORDING_DIR
    size: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(
        String(16), default="feed", server_default="feed"
    )  # feed, composite
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    reason: Mapped[str | None] = mapped_column(String(300))
    # The job: due (after the last feed of a stop came in; also the version of the request),
    # the end of the running attempt's lease, and how many attempts were made.
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
