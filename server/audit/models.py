"""The audit log's table: one row per recorded act, never updated or deleted.

The migration adds database triggers that refuse UPDATE and DELETE on this table, so not even a
bug in the server can rewrite history. Rows name objects by id without foreign keys: the trail
of a deleted object stays.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class AuditEntry(Base):
    """One act: ``action`` by an actor (a person, a guest, a device or the system) on an object."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_action_subject_at", "action", "subject", "at"),
        Index("ix_audit_log_action_address_at", "action", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # the name and role at the time
    address: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int | None] = mapped_column(Integer)
    session_id: Mapped[int | None] = mapped_column(Integer, index=True)
    proposal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # A lowercase key that rate limits count by (the username tried at a failed sign-in).
    subject: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
