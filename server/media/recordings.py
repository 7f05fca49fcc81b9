"""Recordings of sessions: stored as files by the SFU, listed and downloaded through the API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from server.auth import Principal
from server.db import Database, utcnow
from server.errors import Conflict, Forbidden, NotFound
from server.i18n import _
from server.media import store
from server.media.models import Recording
from server.shapes import OutShape

SETTLE = dt.timedelta(seconds=5)  # a saved feed's file asks for the composite this much later


class RecordingOut(OutShape):
    """One recorded feed, or (``kind`` "composite") the session's one composite file with the
    state of the job that makes it (download: ``GET /api/recordings/{id}``, staff, once
    ``status`` is "done")."""

    id: int
    session_id: int
    kind: Literal["feed", "composite"]
    status: Literal["pending", "running", "done", "failed"]
    reason: str | None  # why it failed: "timeout", "no_media", "abandoned" or "error: …"
    who: str
    name: str
    source: str
    size: int
    duration_ms: int
    started_at: dt.datetime
    ended_at: dt.datetime


class RecordingList(OutShape):
    items: list[RecordingOut]


async def save(
    database: Database, root: Path, session_id: int, feed: Any, name: str, done: dict[str, Any]
) -> None:
    """Note a finished recording file (called by the SFU)."""
    async with database.transaction() as db:
        await store.add_recording(
            db,
            Recording(
                session_id=session_id,
                feed_id=feed.feed_id,
                who=feed.who,
                name=name[:100],
                source=feed.source,
                path=_relative(Path(done["path"]), root),
                size=done["size"],
                duration_ms=done["duration_ms"],
                started_at=done["started_at"],
                ended_at=done["ended_at"],
            ),
        )
    await request_composite(database, session_id)


async def request_composite(database: Database, session_id: int) -> None:
    """Ask for the session's composite file again (see :mod:`server.media.compositing`), due
    a few seconds from now so that the other feeds of the same stop come in first. Its own
    transaction: two feeds asking at once never undo each other's saving."""
    for _attempt in range(2):
        try:
            async with database.transaction() as db:
                await store.request_composite(db, session_id, utcnow() + SETTLE)
            return
        except IntegrityError:  # the other feed created the row first: update it
            continue


def _staff_or_leader(actor: Principal) -> None:
    if not actor.reads_everything:
        raise Forbidden(_("Recordings are kept for staff and leaders."))


async def list_recordings(database: Database, actor: Principal, session_id: int) -> RecordingList:
    _staff_or_leader(actor)
    async with database.read() as db:
        rows = await store.recordings_of(db, session_id)
    return RecordingList(items=[RecordingOut.model_validate(r) for r in rows])


async def file_of(
    database: Database, actor: Principal, root: Path, recording_id: int
) -> tuple[Recording, Path]:
    """A recording's row and file, for staff."""
    if not actor.is_staff:
        raise Forbidden(_("Only staff download recordings."))
    async with database.read() as db:
        row = await store.recording_by_id(db, recording_id)
    path = _located(root, row.path) if row is not None and row.status == "done" else None
    if row is not None and row.status == "failed":
        raise Conflict(_("Recording {recording_id} could not be made.", recording_id=recording_id))
    if row is not None and row.status != "done":
        raise Conflict(
            _("Recording {recording_id} is still being made.", recording_id=recording_id)
        )
    if row is None or path is None:
        raise NotFound(
            _(
                "There is no recording {recording_id} (or its file is gone).",
                recording_id=recording_id,
            )
        )
    return row, path


def _relative(path: Path, root: Path) -> str:
    return str(path.resolve().relative_to(root.resolve()))


def _located(root: Path, relative: str) -> Path | None:
    """The file, if it exists inside ``root`` (a stored path never leads outside)."""
    path = (root / relative).resolve()
    return path if root.resolve() in path.parents and path.is_file() else None
