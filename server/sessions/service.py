"""Session operations: schedule, change and read, with conflicts checked and invites queued."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, require_staff
from server.db import Database, Reader, utcnow
from server.errors import Conflict, NotFound
from server.i18n import _
from server.read_batch import ReadBatch
from server.sessions import invites, planning, records, store
from server.sessions.calendar import last_end, new_uid, series_of
from server.sessions.invites import Calendaring
from server.sessions.models import STATUS_WORDS, Session, SessionStatus, Visibility
from server.sessions.schemas import (
    SessionCreate,
    SessionList,
    SessionOut,
    SessionPatch,
    SessionQuery,
    SessionSpec,
)
from server.sessions.templates import TEMPLATES
from server.shapes import validation_problem

# Changes that make calendar clients treat an invite as a new version (SEQUENCE + 1).
SIGNIFICANT = ("starts_at", "ends_at", "timezone", "rrule", "rdates")
_SCALARS = {
    "kind",
    "mode",
    "title",
    "topic",
    "starts_at",
    "ends_at",
    "timezone",
    "venue_id",
    "stage",
    "visibility",
    "lobby",
    "recording",
}


def _recurrence_fields(spec: SessionSpec) -> dict[str, Any]:
    if spec.recurrence is None:
        return {"rrule": None, "rdates": []}
    rdates = sorted(r.isoformat() for r in spec.recurrence.rdates)
    return {"rrule": spec.recurrence.rrule, "rdates": rdates}


async def _check_conflicts(
    db: AsyncSession,
    ctx: Calendaring,
    session: Session,
    people: frozenset[int],
    allow: bool,
    actor: Principal,
) -> None:
    series = series_of(session, (await store.overrides_of(db, [session.id]))[session.id])
    found = await planning.conflicts(
        db, ctx, session_id=session.id, series=series, people=people, venue_id=session.venue_id
    )
    planning.settle(found, allow, session, actor.id)


async def _audit(
    db: AsyncSession, action: str, actor: Principal, object_id: int, **detail: Any
) -> None:
    await audit.record_on(db, action, actor, "session", object_id, **detail)


async def add_session(
    database: Database, ctx: Calendaring, actor: Principal, body: SessionCreate
) -> SessionOut:
    """Schedule a session and invite its participants (no permission check: staff and the demo)."""
    template = TEMPLATES[body.kind]
    spec = body.model_copy(
        update={
            "timezone": body.timezone or ctx.default_timezone,
            "lobby": body.lobby or template.lobby,
            "recording": body.recording or template.recording,
        }
    )
    participants = records.with_host(spec, actor)
    async with database.transaction() as db:
        records.raise_if(
            await records.reference_errors(
                db, spec.model_copy(update={"participants": participants})
            )
        )
        now = utcnow()
        session = Session(
            **spec.model_dump(include=_SCALARS),
            **_recurrence_fields(spec),
            uid=new_uid(ctx.public_url),
            sequence=0,
            status=SessionStatus.SCHEDULED,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        session.until_at = last_end(series_of(session))
        await store.add(db, session)
        await _check_conflicts(
            db,
            ctx,
            session,
            frozenset(p.person_id for p in participants),
            body.allow_conflicts,
            actor,
        )
        await records.write_lists(db, session, spec, participants)
        await invites.queue(db, ctx, session, kind="new", now=now)
        await _audit(db, "session.create", actor, session.id, allow_conflicts=body.allow_conflicts)
        out = (await records.outs(db, [session]))[0]
    ctx.wake()
    return out


async def create_session(
    database: Database, ctx: Calendaring, actor: Principal, body: SessionCreate
) -> SessionOut:
    """Staff schedule a session."""
    require_staff(actor)
    return await add_session(database, ctx, actor, body)


async def get_session(database: Database, actor: Principal, session_id: int) -> SessionOut:
    """One session, if the actor may see it (404 otherwise)."""
    async with database.read() as db:
        session = await store.by_id(db, session_id)
        if session is None or not await store.is_visible(db, session_id, actor):
            raise NotFound(
                _("There is no session {session_id} that you can see.", session_id=session_id)
            )
        return (await records.outs(db, [session]))[0]


async def list_sessions(database: Database, actor: Principal, query: SessionQuery) -> SessionList:
    """Sessions the actor may see, by time window, person, proposal, kind or status."""
    filters = query.model_dump(
        include={"from_", "to", "person_id", "proposal_id", "kind", "status"}
    )
    async with database.read() as db:
        rows, total = await store.search(db, actor, filters, query.limit, query.offset)
        return SessionList(
            items=await records.outs(db, rows), total=total, limit=query.limit, offset=query.offset
        )


def _current_spec(out: SessionOut) -> dict[str, Any]:
    data = out.model_dump(include=_SCALARS | {"proposal_ids"})
    data["participants"] = [
        p.model_dump(include={"person_id", "role", "attendance"}) for p in out.participants
    ]
    data["agenda"] = [a.model_dump(exclude={"id", "position"}) for a in out.agenda]
    data["recurrence"] = out.recurrence.model_dump() if out.recurrence else None
    return data


def merge(current: SessionOut, patch: SessionPatch) -> SessionSpec:
    """The session as it would be after ``patch``, checked by the same rules as a new one."""
    data = _current_spec(current)
    if "mode" in patch.model_fields_set and "participants" not in patch.model_fields_set:
        for participant in data["participants"]:
            participant["attendance"] = None  # take the new mode's default
    data.update(patch.model_dump(include=patch.model_fields_set - {"allow_conflicts"}))
    try:
        return SessionSpec.model_validate(data, strict=False)
    except ValidationError as exc:
        raise validation_problem(exc, _("changed session")) from None


async def update_session(
    database: Database, ctx: Calendaring, actor: Principal, session_id: int, patch: SessionPatch
) -> SessionOut:
    """Staff change a session; participants get an updated invite (removed ones a CANCEL)."""
    require_staff(actor)
    async with database.transaction() as db:
        session = await store.by_id(db, session_id, lock=True)
        if session is None:
            raise NotFound(_("There is no session {session_id}.", session_id=session_id))
        if session.status in (SessionStatus.ENDED, SessionStatus.CANCELLED):
            raise Conflict(
                _(
                    "This session is {status}; it can no longer be changed.",
                    status=STATUS_WORDS[session.status],
                )
            )
        current = (await records.outs(db, [session]))[0]
        spec = merge(current, patch)
        participants = records.with_host(spec, actor)
        records.raise_if(
            await records.reference_errors(
                db, spec.model_copy(update={"participants": participants})
            )
        )
        before = {name: getattr(session, name) for name in SIGNIFICANT}
        old_people = {p.person_id for p in current.participants}
        removed = old_people - {p.person_id for p in participants}
        now = utcnow()
        if removed:
            await invites.queue(db, ctx, session, kind="cancel", only=sorted(removed), now=now)
        for name, value in {
            **spec.model_dump(include=_SCALARS),
            **_recurrence_fields(spec),
        }.items():
            setattr(session, name, value)
        significant = any(getattr(session, name) != value for name, value in before.items())
        if significant:
            session.sequence += 1
            await records.drop_stale_exceptions(db, session)
        session.until_at = last_end(
            series_of(session, (await store.overrides_of(db, [session.id]))[session.id])
        )
        session.updated_at = now
        await records.write_lists(db, session, spec, participants)
        if significant:
            await store.reset_rsvps(db, session.id)
        await _check_conflicts(
            db,
            ctx,
            session,
            frozenset(p.person_id for p in participants),
            patch.allow_conflicts,
            actor,
        )
        added = {p.person_id for p in participants} - old_people
        await invites.queue(
            db, ctx, session, kind="update", only=sorted(old_people - removed), now=now
        )
        if added:
            await invites.queue(db, ctx, session, kind="new", only=sorted(added), now=now)
        await _audit(
            db,
            "session.update",
            actor,
            session_id,
            fields=sorted(patch.model_fields_set),
            added=sorted(added),
            removed=sorted(removed),
        )
        out = (await records.outs(db, [session]))[0]
    ctx.wake()
    return out


async def room_seed(db: AsyncSession, session_id: int) -> dict[str, Any] | None:
    """What a live room starts from: title, agenda and status (None: no such session)."""
    session = await store.by_id(db, session_id)
    if session is None:
        return None
    agenda = (await store.agenda_of(db, [session_id]))[session_id]
    return {
        "session_id": session_id,
        "title": session.title,
        "participants": await store.participant_count(db, session_id),
        "status": session.status.value,
        "visibility": session.visibility.value,
        "lobby": session.lobby,
        "recording": session.recording,  # off | ask | on: whether the room asks for consent
        "agenda": [
            {
                "id": i + 1,
                "title": a.title,
                "proposal_id": a.proposal_id,
                "presenter_id": a.presenter_id,
                "planned_minutes": a.planned_minutes,
            }
            for i, a in enumerate(agenda)
        ],
    }


async def room_entry(db: Reader, session_id: int) -> dict[str, Any] | None:
    """What a room checks when someone connects: the session's ``status``, ``visibility`` and
    ``lobby``. None when there is no such session."""
    row = await store.room_entry(db, session_id)
    if row is None:
        return None
    status, visibility, lobby = row
    return {"status": status.value, "visibility": visibility.value, "lobby": lobby}


Entry = tuple[int, int | None]  # a session, and the person who connects (None: a guest, a hall)


def entry_lookup(database: Database) -> ReadBatch[Entry, dict[str, Any]]:
    """What a room checks when someone connects, by ``(session_id, person_id)``: the session's
    :func:`room_entry` and ``role``, the person's role in it (None: not a participant, or no
    person asked about); no value when there is no such session. A crowd entering at once
    shares the reads: two per session."""

    async def fetch(keys: list[Entry]) -> dict[Entry, dict[str, Any]]:
        asked: dict[int, list[int | None]] = {}
        for session_id, person_id in keys:
            asked.setdefault(session_id, []).append(person_id)
        found: dict[Entry, dict[str, Any]] = {}
        async with database.read_columns() as db:
            for session_id, people in asked.items():
                entry = await room_entry(db, session_id)
                if entry is None:
                    continue
                ids = [p for p in people if p is not None]
                roles = await store.roles_of(db, session_id, ids) if ids else {}
                for person_id in people:
                    role = roles.get(person_id) if person_id is not None else None
                    found[session_id, person_id] = {**entry, "role": role and role.value}
        return found

    return ReadBatch(fetch)


async def public_summary(db: AsyncSession, session_id: int) -> dict[str, Any] | None:
    """What anyone may know of a public session before joining it: which meeting, when, where,
    on what (None: no such session, or not public)."""
    session = await store.by_id(db, session_id)
    if session is None or session.visibility is not Visibility.PUBLIC:
        return None
    venue = await store.venue_name(db, session.venue_id) if session.venue_id else None
    return {
        "session_id": session_id,
        "title": session.title,
        "kind": session.kind,
        "topic": session.topic,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "timezone": session.timezone,
        "venue": venue,
        "status": session.status,
        "lobby": session.lobby,
    }


async def hall_of(db: AsyncSession, session_id: int) -> dict[str, Any] | None:
    """The venue a session meets in, for its hall device (None: no such session or venue)."""
    session = await store.by_id(db, session_id)
    if session is None or session.venue_id is None:
        return None
    return {
        "venue_id": session.venue_id,
        "venue_name": await store.venue_name(db, session.venue_id) or "",
        "ends_at": session.until_at or session.ends_at,
    }


async def room_role(db: AsyncSession, session_id: int, person_id: int) -> str | None:
    """A person's role in a session, or None when they are not a participant."""
    participant = await store.participant_of(db, session_id, person_id)
    return participant.role.value if participant else None


async def set_room_status(db: AsyncSession, session_id: int, status: SessionStatus) -> None:
    """The room started or ended the session (inside the room's transaction)."""
    session = await store.by_id(db, session_id, lock=True)
    if session is not None and session.status is not SessionStatus.CANCELLED:
        session.status, session.updated_at = status, utcnow()


async def lock_for_room(db: AsyncSession, session_id: int) -> None:
    """Hold the session row until the caller's transaction ends (rooms append one at a time).

    On SQLite the write transaction already holds the database's only write lock (``BEGIN
    IMMEDIATE``), so there is nothing more to take.
    """
    if db.get_bind().dialect.name != "sqlite":
        await store.lock_row(db, session_id)


# ---------------------------------------------------------------- for the record


async def is_visible(db: AsyncSession, session_id: int, actor: Principal) -> bool:
    """Whether ``actor`` may see the session."""
    return await store.is_visible(db, session_id, actor)


async def exists(db: AsyncSession, session_id: int) -> bool:
    """Whether there is a session ``session_id``."""
    return await store.by_id(db, session_id) is not None


async def lock(db: AsyncSession, session_id: int) -> None:
    """Hold the session row until the caller's transaction ends (one minutes writer at a time)."""
    await store.lock_row(db, session_id)


async def sessions_of_proposals(
    db: AsyncSession, proposal_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The sessions linked to each proposal, as plain data (the proposals' stage compliance
    and the dossier count them; handed to the proposals feature at the composition root)."""
    return await store.sessions_of_proposals(db, proposal_ids)


async def held_kinds(db: AsyncSession) -> list[tuple[str, dt.datetime]]:
    """(kind, start) of every session that was not cancelled."""
    return await store.session_months(db)


async def minutes_facts(db: AsyncSession, session_id: int) -> dict[str, Any] | None:
    """What the minutes say of a session and its participants, as plain data (None when
    there is no such session)."""
    session = await store.by_id(db, session_id)
    if session is None:
        return None
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
