"""Session operations: schedule, change, read, with the references checked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.api import validation_problem
from server.auth import Principal, Role, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.errors import Conflict, Invalid, NotFound, field_error
from server.proposals import service as proposals
from server.sessions import store
from server.sessions.models import (
    AgendaItem,
    Attendance,
    Mode,
    Participant,
    ParticipantRole,
    Rsvp,
    Session,
    SessionStatus,
    Visibility,
)
from server.sessions.schemas import (
    AgendaItemOut,
    ParticipantIn,
    ParticipantOut,
    SessionCreate,
    SessionList,
    SessionOut,
    SessionPatch,
    SessionQuery,
    SessionSpec,
)

# Which accounts may fill which role in a session; roles not listed take anyone.
ROLE_ACCOUNTS: dict[ParticipantRole, tuple[Role, ...]] = {
    ParticipantRole.UNIT: (Role.UNIT,),
    ParticipantRole.PROPOSER: (Role.MEMBER, Role.LEADER),
    ParticipantRole.LEADER: (Role.LEADER, Role.STAFF),
}


async def _outs(db: AsyncSession, sessions: Sequence[Session]) -> list[SessionOut]:
    ids = [s.id for s in sessions]
    participants = await store.participants_of(db, ids)
    agenda = await store.agenda_of(db, ids)
    proposal_ids = await store.proposal_ids_of(db, ids)
    return [
        SessionOut(
            id=s.id,
            kind=s.kind,
            mode=s.mode,
            title=s.title,
            topic=s.topic,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            timezone=s.timezone,
            venue_id=s.venue_id,
            proposal_ids=proposal_ids[s.id],
            stage=s.stage,
            visibility=s.visibility,
            status=s.status,
            participants=[
                ParticipantOut(
                    person_id=p.person_id,
                    name=name,
                    role=p.role,
                    attendance=p.attendance,
                    rsvp=p.rsvp,
                )
                for p, name in participants[s.id]
            ],
            agenda=[AgendaItemOut.model_validate(a) for a in agenda[s.id]],
            created_by_id=s.created_by_id,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )
        for s in sessions
    ]


async def _reference_errors(db: AsyncSession, spec: SessionSpec) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if spec.venue_id is not None and await directory_store.venue_by_id(db, spec.venue_id) is None:
        errors.append(field_error("venue_id", f"there is no venue with id {spec.venue_id}"))
    for missing in await proposals.unknown_ids(db, spec.proposal_ids):
        index = spec.proposal_ids.index(missing)
        errors.append(
            field_error(f"proposal_ids.{index}", f"there is no proposal with id {missing}")
        )
    people = await directory_store.people_by_ids(db, [p.person_id for p in spec.participants])
    for i, p in enumerate(spec.participants):
        person = people.get(p.person_id)
        if person is None or not person.active:
            errors.append(
                field_error(
                    f"participants.{i}.person_id",
                    f"there is no active person with id {p.person_id}",
                )
            )
        elif person.role is Role.GUEST and spec.visibility is not Visibility.PUBLIC:
            errors.append(
                field_error(
                    f"participants.{i}.person_id",
                    f"{person.name} has a guest account: guests join public sessions only",
                )
            )
        elif p.role in ROLE_ACCOUNTS and person.role not in ROLE_ACCOUNTS[p.role]:
            errors.append(
                field_error(
                    f"participants.{i}.role",
                    f"{person.name} has a {person.role} account and cannot take part as {p.role}",
                )
            )
    return errors


def _with_host(spec: SessionSpec, actor: Principal) -> list[ParticipantIn]:
    if any(p.role is ParticipantRole.HOST for p in spec.participants):
        return list(spec.participants)
    if any(p.person_id == actor.id for p in spec.participants):
        raise Invalid(
            "Name a host: give one participant the role host.",
            errors=[field_error("participants", "no participant has the role host")],
        )
    return [*spec.participants, ParticipantIn(person_id=actor.id, role=ParticipantRole.HOST)]


def _default_attendance(mode: Mode) -> Attendance:
    return Attendance.REMOTE if mode is Mode.REMOTE else Attendance.IN_PERSON


async def _write_lists(
    db: AsyncSession, session: Session, spec: SessionSpec, participants: list[ParticipantIn]
) -> None:
    await store.set_proposals(db, session.id, spec.proposal_ids)
    await store.replace_participants(
        db,
        session.id,
        [
            Participant(
                session_id=session.id,
                person_id=p.person_id,
                role=p.role,
                attendance=p.attendance or _default_attendance(spec.mode),
                rsvp=Rsvp.NEEDS_ACTION,
            )
            for p in participants
        ],
    )
    await store.replace_agenda(
        db,
        session.id,
        [
            AgendaItem(
                session_id=session.id,
                position=i,
                title=a.title,
                proposal_id=a.proposal_id,
                presenter_id=a.presenter_id,
                planned_minutes=a.planned_minutes,
            )
            for i, a in enumerate(spec.agenda)
        ],
    )


def _raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise Invalid(f"The session refers to records that do not fit: {summary}.", errors=errors)


async def add_session(
    database: Database, actor: Principal, body: SessionCreate, default_timezone: str
) -> SessionOut:
    """Schedule a session (no permission check: staff and the demo seed use this)."""
    spec = body if body.timezone else body.model_copy(update={"timezone": default_timezone})
    participants = _with_host(spec, actor)
    async with database.transaction() as db:
        _raise_if(
            await _reference_errors(db, spec.model_copy(update={"participants": participants}))
        )
        now = utcnow()
        session = Session(
            kind=spec.kind,
            mode=spec.mode,
            title=spec.title,
            topic=spec.topic,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            timezone=spec.timezone,
            venue_id=spec.venue_id,
            stage=spec.stage,
            visibility=spec.visibility,
            status=SessionStatus.SCHEDULED,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        await store.add(db, session)
        await _write_lists(db, session, spec, participants)
        return (await _outs(db, [session]))[0]


async def create_session(
    database: Database, actor: Principal, body: SessionCreate, default_timezone: str
) -> SessionOut:
    """Staff schedule a session."""
    require_staff(actor)
    return await add_session(database, actor, body, default_timezone)


async def get_session(database: Database, actor: Principal, session_id: int) -> SessionOut:
    """One session, if the actor may see it (404 otherwise)."""
    async with database.read() as db:
        session = await store.by_id(db, session_id)
        if session is None or not await store.is_visible(db, session_id, actor):
            raise NotFound(f"There is no session {session_id} that you can see.")
        return (await _outs(db, [session]))[0]


async def list_sessions(database: Database, actor: Principal, query: SessionQuery) -> SessionList:
    """Sessions the actor may see, by time window, person, proposal, kind or status."""
    filters = query.model_dump(
        include={"from_", "to", "person_id", "proposal_id", "kind", "status"}
    )
    async with database.read() as db:
        rows, total = await store.search(db, actor, filters, query.limit, query.offset)
        return SessionList(
            items=await _outs(db, rows), total=total, limit=query.limit, offset=query.offset
        )


_SCALARS = {
    "kind",
    "mode",
    "title",
    "topic",
    "starts_at",
    "ends_at",
    "timezone",
    "venue_id",
    "proposal_ids",
    "stage",
    "visibility",
}


def _current_spec(out: SessionOut) -> dict[str, Any]:
    data = out.model_dump(include=_SCALARS)
    data["participants"] = [
        p.model_dump(include={"person_id", "role", "attendance"}) for p in out.participants
    ]
    data["agenda"] = [a.model_dump(exclude={"id", "position"}) for a in out.agenda]
    return data


def _merge(current: SessionOut, patch: SessionPatch) -> SessionSpec:
    """The session as it would be after ``patch``, checked by the same rules as a new one."""
    data = _current_spec(current)
    if "mode" in patch.model_fields_set and "participants" not in patch.model_fields_set:
        for participant in data["participants"]:
            participant["attendance"] = None  # take the new mode's default
    data.update(patch.model_dump(include=patch.model_fields_set))
    try:
        return SessionSpec.model_validate(data, strict=False)
    except ValidationError as exc:
        raise validation_problem(exc, "changed session") from None


async def update_session(
    database: Database, actor: Principal, session_id: int, patch: SessionPatch
) -> SessionOut:
    """Staff change a session that has not ended or been cancelled."""
    require_staff(actor)
    async with database.transaction() as db:
        session = await store.by_id(db, session_id, lock=True)
        if session is None:
            raise NotFound(f"There is no session {session_id}.")
        if session.status in (SessionStatus.ENDED, SessionStatus.CANCELLED):
            raise Conflict(f"This session is {session.status}; it can no longer be changed.")
        spec = _merge((await _outs(db, [session]))[0], patch)
        participants = _with_host(spec, actor)
        _raise_if(
            await _reference_errors(db, spec.model_copy(update={"participants": participants}))
        )
        for name in _SCALARS - {"proposal_ids"}:
            setattr(session, name, getattr(spec, name))
        session.updated_at = utcnow()
        await _write_lists(db, session, spec, participants)
        return (await _outs(db, [session]))[0]
