"""SQL for sessions. Takes a ``db`` session; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal, Role
from server.db import Reader
from server.directory.models import Person, Unit, Venue
from server.proposals import service as proposals
from server.sessions.models import (
    AgendaItem,
    BusyBlock,
    OccurrenceOverride,
    OccurrenceRsvp,
    Participant,
    Rsvp,
    Session,
    SessionStatus,
    Visibility,
    session_proposals,
)


def _has_participant(person_id: int) -> ColumnElement[bool]:
    return exists().where(Participant.session_id == Session.id, Participant.person_id == person_id)


def _concerns_unit(unit_id: int) -> ColumnElement[bool]:
    handled = proposals.ids_handled_by(unit_id)  # the proposals feature says which are the unit's
    return exists().where(
        session_proposals.c.session_id == Session.id, session_proposals.c.proposal_id.in_(handled)
    )


def visible_to(actor: Principal) -> ColumnElement[bool]:
    """Sessions ``actor`` may read: public ones, their own, and (units) their proposals'.

    Guests see public sessions only, even ones they were added to.
    """
    if actor.reads_everything:
        return true()
    if actor.role is Role.GUEST:
        return Session.visibility == Visibility.PUBLIC
    clauses = [Session.visibility == Visibility.PUBLIC, _has_participant(actor.id)]
    if actor.role is Role.UNIT and actor.unit_id is not None:
        clauses.append(_concerns_unit(actor.unit_id))
    return or_(*clauses)


async def by_id(db: AsyncSession, session_id: int, *, lock: bool = False) -> Session | None:
    stmt = select(Session).where(Session.id == session_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def venue_name(db: AsyncSession, venue_id: int) -> str | None:
    return (await db.execute(select(Venue.name).where(Venue.id == venue_id))).scalar_one_or_none()


async def lock_row(db: AsyncSession, session_id: int) -> None:
    """``SELECT … FOR UPDATE`` of one session row, loading nothing."""
    await db.execute(select(Session.id).where(Session.id == session_id).with_for_update())


async def is_visible(db: AsyncSession, session_id: int, actor: Principal) -> bool:
    stmt = select(Session.id).where(Session.id == session_id, visible_to(actor))
    return (await db.execute(stmt)).first() is not None


async def search(
    db: AsyncSession, actor: Principal, filters: dict[str, Any], limit: int, offset: int
) -> tuple[Sequence[Session], int]:
    conditions = [visible_to(actor)]
    if filters.get("from_") is not None:
        conditions.append(Session.ends_at > filters["from_"])
    if filters.get("to") is not None:
        conditions.append(Session.starts_at < filters["to"])
    if filters.get("person_id") is not None:
        conditions.append(_has_participant(filters["person_id"]))
    if filters.get("proposal_id") is not None:
        conditions.append(
            exists().where(
                session_proposals.c.session_id == Session.id,
                session_proposals.c.proposal_id == filters["proposal_id"],
            )
        )
    for name in ("kind", "status"):
        if filters.get(name) is not None:
            conditions.append(getattr(Session, name) == filters[name])
    count = select(func.count()).select_from(Session).where(*conditions)
    total = int((await db.execute(count)).scalar_one())
    stmt = (
        select(Session)
        .where(*conditions)
        .order_by(Session.starts_at, Session.id)
        .limit(limit)
        .offset(offset)
    )
    return (await db.execute(stmt)).scalars().all(), total


async def participants_of(
    db: AsyncSession, ids: Sequence[int]
) -> dict[int, list[tuple[Participant, str]]]:
    result: dict[int, list[tuple[Participant, str]]] = {i: [] for i in ids}
    rows = await db.execute(
        select(Participant, Person.name)
        .join(Person, Person.id == Participant.person_id)
        .where(Participant.session_id.in_(ids))
        .order_by(Participant.id)
    )
    for participant, name in rows:
        result[participant.session_id].append((participant, name))
    return result


async def participant_count(db: AsyncSession, session_id: int) -> int:
    """How many people take part in the session (its participants list)."""
    stmt = select(func.count()).select_from(Participant).where(Participant.session_id == session_id)
    return int((await db.execute(stmt)).scalar_one())


async def agenda_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[AgendaItem]]:
    result: dict[int, list[AgendaItem]] = {i: [] for i in ids}
    rows = await db.execute(
        select(AgendaItem).where(AgendaItem.session_id.in_(ids)).order_by(AgendaItem.position)
    )
    for item in rows.scalars():
        result[item.session_id].append(item)
    return result


async def proposal_ids_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {i: [] for i in ids}
    rows = await db.execute(
        select(session_proposals.c.session_id, session_proposals.c.proposal_id)
        .where(session_proposals.c.session_id.in_(ids))
        .order_by(session_proposals.c.proposal_id)
    )
    for session_id, proposal_id in rows:
        result[session_id].append(proposal_id)
    return result


async def set_proposals(db: AsyncSession, session_id: int, proposal_ids: Sequence[int]) -> None:
    await db.execute(session_proposals.delete().where(session_proposals.c.session_id == session_id))
    if proposal_ids:
        await db.execute(
            session_proposals.insert(),
            [{"session_id": session_id, "proposal_id": p} for p in proposal_ids],
        )


async def replace_participants(
    db: AsyncSession, session_id: int, rows: Sequence[Participant]
) -> None:
    """Replace the participant list, keeping the RSVP of people who stay."""
    old = {
        p.person_id: p
        for p in (
            await db.execute(select(Participant).where(Participant.session_id == session_id))
        ).scalars()
    }
    keep = {row.person_id for row in rows}
    for person_id, participant in old.items():
        if person_id not in keep:
            await db.delete(participant)
    for row in rows:
        current = old.get(row.person_id)
        if current is None:
            db.add(row)
        else:
            current.role, current.attendance = row.role, row.attendance
    await db.flush()


async def replace_agenda(db: AsyncSession, session_id: int, items: Sequence[AgendaItem]) -> None:
    old = (
        await db.execute(select(AgendaItem).where(AgendaItem.session_id == session_id))
    ).scalars()
    for item in old:
        await db.delete(item)
    await db.flush()
    db.add_all(items)
    await db.flush()


async def add(db: AsyncSession, row: object) -> None:
    db.add(row)
    await db.flush()


async def overrides_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[OccurrenceOverride]]:
    result: dict[int, list[OccurrenceOverride]] = {i: [] for i in ids}
    rows = await db.execute(
        select(OccurrenceOverride).where(OccurrenceOverride.session_id.in_(ids))
    )
    for row in rows.scalars():
        result[row.session_id].append(row)
    return result


async def live_sessions_between(
    db: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    people: Sequence[int] = (),
    venue_id: int | None = None,
) -> list[tuple[Session, frozenset[int], list[OccurrenceOverride]]]:
    """Sessions (not cancelled) of these people or this venue that may touch ``[start, end)``.

    One-off sessions last at most a day, so their start bounds the index range; series are
    found by the end of their last occurrence.
    """
    # (Extra dates come only with a rule: RecurrenceIn requires the RRULE.)
    touches = or_(Session.rrule.is_not(None), Session.starts_at > start - dt.timedelta(days=1))
    concerns: list[ColumnElement[bool]] = [
        exists().where(Participant.session_id == Session.id, Participant.person_id.in_(set(people)))
    ]
    if venue_id is not None:
        concerns.append(Session.venue_id == venue_id)
    stmt = select(Session).where(
        Session.status != SessionStatus.CANCELLED,
        Session.starts_at < end,
        Session.until_at > start,
        touches,
        or_(*concerns),
    )
    sessions = (await db.execute(stmt)).scalars().all()
    ids = [s.id for s in sessions]
    who: dict[int, set[int]] = {i: set() for i in ids}
    if ids:
        rows = await db.execute(
            select(Participant.session_id, Participant.person_id).where(
                Participant.session_id.in_(ids)
            )
        )
        for session_id, person_id in rows:
            who[session_id].add(person_id)
    overrides = await overrides_of(db, ids)
    return [(s, frozenset(who[s.id]), overrides[s.id]) for s in sessions]


async def busy_blocks_between(
    db: AsyncSession, people: Sequence[int], start: dt.datetime, end: dt.datetime
) -> Sequence[BusyBlock]:
    if not people:
        return []
    stmt = select(BusyBlock).where(
        BusyBlock.person_id.in_(set(people)), BusyBlock.starts_at < end, BusyBlock.ends_at > start
    )
    return (await db.execute(stmt)).scalars().all()


async def replace_busy_blocks(
    db: AsyncSession,
    person_id: int,
    start: dt.datetime,
    end: dt.datetime,
    blocks: Sequence[BusyBlock],
) -> None:
    """Replace a person's uploaded busy time within ``[start, end)``."""
    await db.execute(
        delete(BusyBlock).where(
            BusyBlock.person_id == person_id, BusyBlock.starts_at < end, BusyBlock.ends_at > start
        )
    )
    db.add_all(blocks)
    await db.flush()


# What a room checks when someone connects, built once (a crowd connects at once): the
# session's status, visibility and lobby, and a person's role in it (None: no participant).
_ENTRY = select(Session.status, Session.visibility, Session.lobby).where(
    Session.id == bindparam("session_id")
)
_ROLES = select(Participant.person_id, Participant.role).where(
    Participant.session_id == bindparam("session_id"),
    Participant.person_id.in_(bindparam("person_ids", expanding=True)),
)


async def room_entry(db: Reader, session_id: int) -> Any:
    """What a room checks when someone connects (status, visibility, lobby), or None for no
    such session: plain columns."""
    return (await db.execute(_ENTRY, {"session_id": session_id})).one_or_none()


async def roles_of(db: Reader, session_id: int, person_ids: Sequence[int]) -> dict[int, Any]:
    """The roles these people have in the session, by person (participants only)."""
    asked = {"session_id": session_id, "person_ids": list(person_ids)}
    return {person_id: role for person_id, role in await db.execute(_ROLES, asked)}


async def participant_of(db: AsyncSession, session_id: int, person_id: int) -> Participant | None:
    stmt = select(Participant).where(
        Participant.session_id == session_id, Participant.person_id == person_id
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def by_uid(db: AsyncSession, uid: str) -> Session | None:
    return (await db.execute(select(Session).where(Session.uid == uid))).scalar_one_or_none()


async def occurrence_rsvp(
    db: AsyncSession, participant_id: int, original: dt.datetime
) -> OccurrenceRsvp | None:
    stmt = select(OccurrenceRsvp).where(
        OccurrenceRsvp.participant_id == participant_id, OccurrenceRsvp.original_start == original
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def sessions_of_person(
    db: AsyncSession, person_id: int, since: dt.datetime
) -> Sequence[Session]:
    """A person's sessions whose last occurrence ends after ``since`` (cancelled ones too)."""
    stmt = (
        select(Session)
        .where(_has_participant(person_id), Session.until_at > since)
        .order_by(Session.starts_at)
        .limit(1000)
    )
    return (await db.execute(stmt)).scalars().all()


async def reset_rsvps(db: AsyncSession, session_id: int) -> None:
    """After a change of time, every answer is asked again (clients reset PARTSTAT too)."""
    await db.execute(
        update(Participant)
        .where(Participant.session_id == session_id)
        .values(rsvp=Rsvp.NEEDS_ACTION, rsvp_at=None, rsvp_sequence=None)
    )


async def units_of_people(db: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """The unit name of each person who belongs to a unit."""
    rows = await db.execute(
        select(Person.id, Unit.name)
        .join(Unit, Unit.id == Person.unit_id)
        .where(Person.id.in_(person_ids))
    )
    return {person_id: name for person_id, name in rows}


async def session_months(db: AsyncSession) -> list[tuple[str, dt.datetime]]:
    """(kind, start) of every session that was not cancelled."""
    rows = await db.execute(
        select(Session.kind, Session.starts_at).where(Session.status != SessionStatus.CANCELLED)
    )
    return [(kind.value, starts_at) for kind, starts_at in rows]


async def sessions_of_proposals(
    db: AsyncSession, proposal_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The sessions linked to each of ``proposal_ids`` (id, title, kind, stage, mode, status,
    starts_at, and ``via``: the proposal), by start time; proposals without one: absent."""
    rows = await db.execute(
        select(
            session_proposals.c.proposal_id,
            Session.id,
            Session.title,
            Session.kind,
            Session.stage,
            Session.mode,
            Session.status,
            Session.starts_at,
        )
        .join(Session, Session.id == session_proposals.c.session_id)
        .where(session_proposals.c.proposal_id.in_(proposal_ids))
        .order_by(Session.starts_at, Session.id)
    )
    by_proposal: dict[int, list[dict[str, Any]]] = {}
    for pid, sid, title, kind, stage, mode, status, starts_at in rows:
        by_proposal.setdefault(pid, []).append(
            {
                "id": sid,
                "title": title,
                "kind": kind.value,
                "stage": stage.value if stage else None,
                "mode": mode.value,
                "status": status.value,
                "starts_at": starts_at,
                "via": pid,
            }
        )
    return by_proposal
