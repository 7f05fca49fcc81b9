"""Who hears of what happens to a proposal (the notices of the cycle 提立办督评).

Each function is called inside the transaction that makes the change (see
:mod:`server.notices.service`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.directory import service as directory
from server.notices.kinds import Kind
from server.notices.service import notify, notify_units
from server.proposals import store
from server.proposals.lifecycle import Status
from server.proposals.models import Proposal


def link(proposal: Proposal) -> str:
    """The proposal's page in the web app."""
    return f"#/proposals/{proposal.id}"


def label(proposal: Proposal) -> str:
    """``number title``, as a notice names the proposal."""
    return f"{proposal.number} {proposal.title}".strip()


async def proposers(db: AsyncSession, proposal: Proposal) -> list[int]:
    """The proposal's proposers (its co-signers among them)."""
    return [p.id for p in (await store.proposers_of(db, [proposal.id]))[proposal.id]]


async def of_transition(db: AsyncSession, proposal: Proposal, to: Status, note: str | None) -> None:
    """Assigned: the lead and co-handling units. (Filing, not filing and turning into an
    opinion tell the proposers through :mod:`server.proposals.tidings`, with the reason.)"""
    del note
    if to is Status.ASSIGNED:
        co = (await store.co_units_of(db, [proposal.id]))[proposal.id]
        await notify_units(
            db,
            unit_ids=[proposal.lead_unit_id, *co],
            kind=Kind.ASSIGNED,
            link=link(proposal),
            params={"proposal": label(proposal)},
        )


async def of_reply(db: AsyncSession, proposal: Proposal) -> None:
    """The reply reached the proposers, who are asked to evaluate the handling."""
    people = await proposers(db, proposal)
    params = {"proposal": label(proposal)}
    await notify(
        db, person_ids=people, kind=Kind.REPLY_RECEIVED, link=link(proposal), params=params
    )
    await notify(
        db, person_ids=people, kind=Kind.EVALUATION_REQUESTED, link=link(proposal), params=params
    )


async def of_progress(db: AsyncSession, proposal: Proposal, unit_id: int | None) -> None:
    """A unit reported progress: the proposers."""
    names = await directory.unit_names(db, [unit_id] if unit_id else [])
    await notify(
        db,
        person_ids=await proposers(db, proposal),
        kind=Kind.PROGRESS_REPORTED,
        link=link(proposal),
        params={"proposal": label(proposal), "unit": names.get(unit_id or 0, "")},
    )


async def of_opinion(db: AsyncSession, proposal: Proposal, unit_id: int, unit: str) -> None:
    """A co-handling unit sent its opinion: the lead unit, who reads it before replying."""
    await notify_units(
        db,
        unit_ids=[proposal.lead_unit_id],
        kind=Kind.OPINION_RECEIVED,
        link=link(proposal),
        params={"proposal": label(proposal), "unit": unit},
    )
