"""Where each room's media is served when Janus is on: one row per placed room, shared by every
server process (the Janus room's secret stays here, never with clients)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class MediaPlacement(Base):
    """A session's room on one Janus instance; moved (``instance`` updated) when it fails."""

    __tablename__ = "media_placements"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    instance: Mapped[str] = mapped_column(String(200), index=True)  # its API URL
    janus_room: Mapped[int] = mapped_column(BigInteger)
    secret: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
