"""The first draft of a session's minutes, written when its room ends the session."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.directory import service as directory
from server.record import store
from server.record.document import assemble, bounded
from server.record.minutes import append_version, checked
from server.record.models import MinutesStatus, MinutesVersion
from server.sessions import service as sessions

log = logging.getLogger(__name__)


async def draft_minutes(
    db: AsyncSession, session_id: int, record: dict[str, Any], now: dt.datetime
) -> MinutesVersion | None:
    """Write the first draft from a room's record (inside the caller's transaction); nothing
    when the session already has minutes."""
    if await store.latest_minutes(db, session_id) is not None:
        return None
    facts = await sessions.minutes_facts(db, session_id)
    if facts is None:
        return None
    units = await directory.unit_names(db, _action_units(record))
    draft = assemble(facts["session"], facts["participants"], record, units)
    content, note = _fitting(session_id, draft)
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


MAX_LEFT_OUT = 200  # values left out one by one before the draft keeps only what surely fits


def _fitting(session_id: int, draft: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The draft as the minutes' shape stores it, and the version's note. Never lets the draft
    stop a session from ending: what does not fit is left out value by value (and named in the
    note), everything else stays."""
    content, left_out = bounded(draft), []
    for _attempt in range(MAX_LEFT_OUT):
        try:
            stored = checked(content)
        except ValidationError as err:
            where = leave_out(content, err.errors()[0]["loc"])
            if where is None:
                break
            left_out.append(where)
            continue
        if not left_out:
            return stored, "assembled from the room"
        log.warning("the draft of session %s left out %s", session_id, ", ".join(left_out))
        return stored, _note(left_out)
    log.error("the room's record of session %s does not fit the minutes", session_id)
    bare = checked(bounded({**draft, "items": [], "polls": [], "questions": []}))
    return bare, "assembled from the room; its items did not fit and must be written by hand"


def _note(left_out: list[str]) -> str:
    note = f"assembled from the room; left out what did not fit: {', '.join(left_out)}"
    return note if len(note) <= 500 else note[:499] + "…"


def leave_out(content: dict[str, Any], loc: tuple[int | str, ...]) -> str | None:
    """Take out the deepest value of ``content`` on a validation error's path ``loc``: a field
    (its default applies; a required one is then missed on the next check, and the path ends at
    the list entry holding it) or a list entry. Its dotted path, or None when there is none."""
    path: list[int | str] = []
    parents: list[Any] = []
    node: Any = content
    for part in loc:
        is_key = isinstance(node, dict) and isinstance(part, str) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (is_key or is_index):
            break
        parents.append(node)
        path.append(part)
        node = node[part]
    if len(path) < 2:  # only the session's own fields are at the top: never from the room
        return None
    del parents[-1][path[-1]]
    return ".".join(map(str, path))


def _action_units(record: dict[str, Any]) -> list[int]:
    return sorted(
        {
            a["owner_unit_id"]
            for item in record.get("items") or []
            for a in item.get("actions") or []
            if isinstance(a.get("owner_unit_id"), int)
        }
    )
