"""Reading and writing a session's records: the output shape, references, lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.recurrence import occurrences
from server.auth import ROLE_WORDS, Principal, Role
from server.directory import store as directory_store
from server.errors import Invalid, field_error
from server.i18n import _
from server.proposals import service as proposals
from server.sessions import store
from server.sessions.calendar import parse_instant, series_of
from server.sessions.models import (
    PARTICIPANT_ROLE_WORDS,
    AgendaItem,
    Attendance,
    Mode,
    Participant,
    ParticipantRole,
    Rsvp,
    Session,
    Visibility,
)
from server.sessions.schemas import (
    AgendaItemOut,
    ParticipantIn,
    ParticipantOut,
    RecurrenceOut,
    SessionOut,
    SessionSpec,
)

# Which accounts may fill which role in a session; roles not listed take anyone.
ROLE_ACCOUNTS: dict[ParticipantRole, tuple[Role, ...]] = {
    ParticipantRole.UNIT: (Role.UNIT,),
    ParticipantRole.PROPOSER: (Role.MEMBER, Role.LEADER),
    ParticipantRole.LEADER: (Role.LEADER, Role.STAFF),
}


async def outs(db: AsyncSession, sessions: Sequence[Session]) -> list[SessionOut]:
    ids = [s.id for s in sessions]
    participants = await store.participants_of(db, ids)
    agenda = await store.agenda_of(db, ids)
    proposal_ids = await store.proposal_ids_of(db, ids)
    return [
        SessionOut(
            id=s.id,
            uid=s.uid,
            sequence=s.sequence,
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
            lobby=s.lobby,
            recording=s.recording,
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
            recurrence=RecurrenceOut(
                rrule=s.rrule, rdates=[parse_instant(r) for r in s.rdates or []]
            )
            if s.rrule
            else None,
            series_parent_id=s.series_parent_id,
            cancel_reason=s.cancel_reason,
            created_by_id=s.created_by_id,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )
        for s in sessions
    ]


async def reference_errors(db: AsyncSession, spec: SessionSpec) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if spec.venue_id is not None and await directory_store.venue_by_id(db, spec.venue_id) is None:
        errors.append(
            field_error(
                "venue_id", _("there is no venue with id {venue_id}", venue_id=spec.venue_id)
            )
        )
    for missing in await proposals.unknown_ids(db, spec.proposal_ids):
        index = spec.proposal_ids.index(missing)
        errors.append(
            field_error(
                f"proposal_ids.{index}",
                _("there is no proposal with id {missing}", missing=missing),
            )
        )
    people = await directory_store.people_by_ids(db, [p.person_id for p in spec.participants])
    for i, p in enumerate(spec.participants):
        person = people.get(p.person_id)
        if person is None or not person.active:
            errors.append(
                field_error(
                    f"participants.{i}.person_id",
                    _("there is no active person with id {person_id}", person_id=p.person_id),
                )
            )
        elif person.role is Role.GUEST and spec.visibility is not Visibility.PUBLIC:
            errors.append(
                field_error(
                    f"participants.{i}.person_id",
                    _(
                        "{name} has a guest account: guests join public sessions only",
                        name=person.name,
                    ),
                )
            )
        elif p.role in ROLE_ACCOUNTS and person.role not in ROLE_ACCOUNTS[p.role]:
            errors.append(
                field_error(
                    f"participants.{i}.role",
                    _(
                        "{name} has a {role} account and cannot take part as {role2}",
                        name=person.name,
                        role=ROLE_WORDS[person.role],
                        role2=PARTICIPANT_ROLE_WORDS[p.role],
                    ),
                )
            )
    return errors


def with_host(spec: SessionSpec, actor: Principal) -> list[ParticipantIn]:
    if any(p.role is ParticipantRole.HOST for p in spec.participants):
        return list(spec.participants)
    if any(p.person_id == actor.id for p in spec.participants):
        raise Invalid(
            _("Name a host: give one participant the role host."),
            errors=[field_error("participants", _("no participant has the role host"))],
        )
    return [*spec.participants, ParticipantIn(person_id=actor.id, role=ParticipantRole.HOST)]


def _default_attendance(mode: Mode) -> Attendance:
    return Attendance.REMOTE if mode is Mode.REMOTE else Attendance.IN_PERSON


async def write_lists(
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


def raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise Invalid(
            _("The session refers to records that do not fit: {summary}.", summary=summary),
            errors=errors,
        )


async def drop_stale_exceptions(db: AsyncSession, session: Session) -> None:
    """After the rule or first start changed, forget overrides and EXDATEs that match nothing."""
    originals = {o.original_start for o in occurrences(series_of(session))}
    session.exdates = [
        e for e in session.exdates or [] if dt.datetime.fromisoformat(e) in originals
    ]
    for override in (await store.overrides_of(db, [session.id]))[session.id]:
        if override.original_start not in originals:
            await db.delete(override)
