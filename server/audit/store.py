"""SQL of the audit log: append and read, nothing else (the table refuses UPDATE and DELETE)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import AuditEntry


async def add(db: AsyncSession, entry: AuditEntry) -> None:
    """Append one entry (flushed, so it gets its id)."""
    db.add(entry)
    await db.flush()


async def count_since(
    db: AsyncSession,
    action: str,
    since: dt.datetime,
    *,
    subject: str | None = None,
    address: str | None = None,
) -> tuple[int, dt.datetime | None]:
    """How many ``action`` entries for a subject or an address since ``since``, and the oldest."""
    query = select(func.count(AuditEntry.id), func.min(AuditEntry.at)).where(
        AuditEntry.action == action, AuditEntry.at >= since
    )
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    if address is not None:
        query = query.where(AuditEntry.address == address)
    count, oldest = (await db.execute(query)).one()
    return int(count), oldest


async def last_at(
    db: AsyncSession, action: str, subject: str, *, address: str | None = None
) -> dt.datetime | None:
    """When ``action`` last happened to ``subject`` (from ``address``, if given)."""
    query = select(func.max(AuditEntry.at)).where(
        AuditEntry.action == action, AuditEntry.subject == subject
    )
    if address is not None:
        query = query.where(AuditEntry.address == address)
    return (await db.execute(query)).scalar_one()


async def entries(
    db: AsyncSession,
    *,
    actor_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    session_id: int | None = None,
    proposal_id: int | None = None,
    session_ids: Sequence[int] = (),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Entries matching every given filter, newest first."""
    query = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.object_type, object_type),
        (AuditEntry.object_id, object_id),
        (AuditEntry.session_id, session_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if action is not None:
        query = query.where(
            AuditEntry.action.startswith(action.rstrip("."), autoescape=True)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    if proposal_id is not None:
        # A proposal's trail includes what happened in the sessions that handled it.
        clause = AuditEntry.proposal_id == proposal_id
        if session_ids:
            clause = or_(clause, AuditEntry.session_id.in_(list(session_ids)))
        query = query.where(clause)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    query = query.order_by(AuditEntry.id.desc()).limit(limit)
    return (await db.execute(query)).scalars().all()
