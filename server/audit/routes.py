"""HTTP route of the audit log: staff read it (``GET /api/audit``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from server.api import Api, Req
from server.audit import service
from server.audit.schemas import AuditEntryOut
from server.auth import require_staff
from server.shapes import MAX_ID, Instant, OutShape, QueryShape

api = Api(tag="audit")

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class AuditQuery(QueryShape):
    """Filters; ``action`` ending in a dot matches a family (``minutes.``). Pages go backwards
    from ``before_id`` (the ``next_before_id`` of the previous page)."""

    actor_id: Id | None = None
    action: Annotated[str, StringConstraints(min_length=1, max_length=48)] | None = None
    object_type: Annotated[str, StringConstraints(min_length=1, max_length=24)] | None = None
    object_id: Id | None = None
    session_id: Id | None = None
    proposal_id: Id | None = None
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None
    before_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class AuditList(OutShape):
    items: list[AuditEntryOut]
    next_before_id: int | None


@api.get("/api/audit", query=AuditQuery, response=AuditList)
async def list_audit(req: Req, query: AuditQuery) -> AuditList:
    """The audit log, newest first (staff)."""
    require_staff(req.actor)
    async with req.database.read() as db:
        rows = await service.entries(
            db,
            actor_id=query.actor_id,
            action=query.action,
            object_type=query.object_type,
            object_id=query.object_id,
            session_id=query.session_id,
            proposal_id=query.proposal_id,
            since=query.from_,
            until=query.to,
            before_id=query.before_id,
            limit=query.limit,
        )
    items = [AuditEntryOut.model_validate(row) for row in rows]
    full = len(items) == query.limit
    return AuditList(items=items, next_before_id=items[-1].id if full and items else None)
