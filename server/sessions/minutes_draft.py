"""The first draft of a session's minutes, written when its room ends the session."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.directory import store as directory_store
from server.sessions import store
from server.sessions.minutes import append_version, checked
from server.sessions.minutes_doc import assemble, bounded
from server.sessions.models import MinutesStatus, MinutesVersion, Session

log = logging.getLogger(__name__)


async def draft_minutes(
    db: AsyncSession, session_id: int, record: dict[str, Any], now: dt.datetime
) -> MinutesVersion | None:
    """Write the first draft from a room's record (inside the caller's transaction); nothing
    when the session already has minutes."""
    session = await store.by_id(db, session_id)
    if session is None or await store.latest_minutes(db, session_id) is not None:
        return None
    facts = await _facts(db, session)
    found = await directory_store.units_by_ids(db, _action_units(record))
    units = {unit_id: unit.name for unit_id, unit in found.items()}
    note = "assembled from the room"
    draft = assemble(facts["session"], facts["participants"], record, units)
    try:
        content = checked(bounded(draft))
    except ValidationError:
        # Never let the draft stop a session from ending: keep what surely fits.
        log.exception("the room's record of session %s does not fit the minutes", session_id)
        content = checked(bounded({**draft, "items": [], "polls": [], "questions": []}))
        note = "assembled from the room; its items did not fit and must be written by hand"
    return await append_version(
        db,
        session_id,
        status=MinutesStatus.DRAFT,
        content=content,
        note=note,
        author_id=None,
        now=now,
        previous=None,
    )


def _action_units(record: dict[str, Any]) -> list[int]:
    return sorted(
        {
            a["owner_unit_id"]
            for item in record.get("items") or []
            for a in item.get("actions") or []
            if isinstance(a.get("owner_unit_id"), int)
        }
    )


async def _facts(db: AsyncSession, session: Session) -> dict[str, Any]:
    participants = (await store.participants_of(db, [session.id]))[session.id]
    units = await store.units_of_people(db, [p.person_id for p, _ in participants])
    agenda = (await store.agenda_of(db, [session.id]))[session.id]
    place = await store.venue_name(db, session.venue_id) if session.venue_id else None
    return {
        "session": {
            "title": session.title,
            "kind": session.kind.value,
            "mode": session.mode.value,
            "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(),
            "timezone": session.timezone,
            "place": place,
            "agenda": [{"title": a.title, "proposal_id": a.proposal_id} for a in agenda],
        },
        "participants": [
            {
                "person_id": p.person_id,
                "name": name,
                "role": p.role.value,
                "unit": units.get(p.person_id),
            }
            for p, name in participants
        ],
    }
