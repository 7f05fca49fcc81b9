"""Who is told of a proposal's drafting and filing-review events, in the notification centre
(:mod:`server.notices`: in the app, live, and by email unless the person turned it off).

Every event of drafting and filing review calls :func:`tell` inside its transaction, with the
people to tell, so nobody is told of a change that did not commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.directory import service as directory
from server.i18n import DEFAULT, translate
from server.notices.kinds import Kind
from server.notices.service import notify, notify_units
from server.proposals import store
from server.proposals import tell as told
from server.proposals.lifecycle import REJECT_REASON_WORDS, RejectReason

log = logging.getLogger(__name__)

# The events: kind → the notice it is, and who is told.
KINDS = {
    "proposal.cosign_invited": Kind.COSIGN_INVITATION,  # each newly invited co-signer
    "proposal.cosigners_dropped": Kind.COSIGNERS_DROPPED,  # the author
    "proposal.filed": Kind.PROPOSAL_FILED,  # the proposers
    "proposal.rejected": Kind.PROPOSAL_REJECTED,  # the proposers, with the reason and note
    "proposal.converted": Kind.PROPOSAL_CONVERTED,  # the proposers, with the note
    "proposal.merged": Kind.PROPOSAL_MERGED,  # the proposers, with the bundle's lead proposal
    "proposal.reply_overdue": Kind.REPLY_OVERDUE,  # the lead unit's people (mailed already)
}


def _reason(reason: str | None, note: str | None) -> str:
    """The reason as the proposer reads it: the staff's chosen reason (in the committee's
    language: the notice keeps text) and their note."""
    words = (
        translate(REJECT_REASON_WORDS[RejectReason(reason)], DEFAULT)
        if reason in set(RejectReason)
        else ""
    )
    return "；".join(part for part in (words, (note or "").strip()) if part)


async def tell(
    db: AsyncSession, kind: str, proposal_id: int, recipients: Sequence[int], **data: Any
) -> None:
    """Tell ``recipients`` (person ids) of ``kind`` on ``proposal_id``."""
    proposal = await store.by_id(db, proposal_id)
    if proposal is None:  # pragma: no cover - the caller has just changed it
        log.warning("tell %s: no proposal %s", kind, proposal_id)
        return
    params: dict[str, Any] = {"proposal": told.label(proposal)}
    if kind in ("proposal.rejected", "proposal.converted"):
        params["reason"] = _reason(data.get("reason"), data.get("note"))
    elif kind == "proposal.cosigners_dropped":
        names = await directory.names_of(db, list(data.get("person_ids", [])))
        params["names"] = "、".join(names.values())
    elif kind == "proposal.merged":
        lead = await store.by_id(db, int(data["lead_id"]))
        params["bundle"] = told.label(lead) if lead is not None else ""
    elif kind == "proposal.reply_overdue":
        params["due"] = data.get("due", "")
        await notify_units(
            db,
            unit_ids=[proposal.lead_unit_id],
            kind=Kind.REPLY_OVERDUE,
            link=told.link(proposal),
            params=params,
            mail=False,  # the reminder loop mails the unit itself
            key=f"reply-overdue:{proposal.id}:{params['due']}",
        )
        return
    await notify(
        db, person_ids=recipients, kind=KINDS[kind], link=told.link(proposal), params=params
    )
