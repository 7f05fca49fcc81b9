"""HTTP routes of members' drafts: co-signers, submission, and the years' submission windows."""

from __future__ import annotations

from server.api import Api, Req
from server.i18n import negotiate, translate
from server.proposals import drafts
from server.proposals.drafts_schemas import (
    CosignersIn,
    CosignIn,
    SubmitOut,
    WindowIn,
    WindowList,
    WindowOut,
)
from server.proposals.routes import SESSIONS_OF
from server.proposals.schemas import ProposalOut

api = Api(tag="proposals")
P = "/api/proposals/{proposal_id}"


@api.post(f"{P}/cosigners", body=CosignersIn, response=ProposalOut)
async def set_cosigners(req: Req, proposal_id: int, body: CosignersIn) -> ProposalOut:
    """The author invites members to co-sign the draft (the whole list)."""
    return await drafts.set_cosigners(
        req.database, req.actor, proposal_id, body, sessions_of=req.request.app[SESSIONS_OF]
    )


@api.post(f"{P}/cosign", body=CosignIn, response=ProposalOut)
async def cosign(req: Req, proposal_id: int, body: CosignIn) -> ProposalOut:
    """An invited member accepts or declines to co-sign (once)."""
    return await drafts.cosign(
        req.database, req.actor, proposal_id, body, sessions_of=req.request.app[SESSIONS_OF]
    )


@api.post(f"{P}/submit", response=SubmitOut)
async def submit(req: Req, proposal_id: int) -> SubmitOut:
    """The author submits the draft within the year's window; unconfirmed co-signers drop."""
    out = await drafts.submit(
        req.database, req.actor, proposal_id, sessions_of=req.request.app[SESSIONS_OF]
    )
    said = drafts.submitted_message([c.name for c in out.dropped_cosigners])
    language = negotiate(req.request.headers.get("Accept-Language"))
    return out.model_copy(update={"message": translate(said, language)})


@api.get("/api/submission-windows", response=WindowList)
async def list_windows(req: Req) -> WindowList:
    """Each year's days for submitting proposals."""
    return await drafts.windows(req.database, req.actor)


@api.route("PUT", "/api/submission-windows/{year}", body=WindowIn, response=WindowOut)
async def put_window(req: Req, year: int, body: WindowIn) -> WindowOut:
    """Staff set a year's submission window (the plenary session's dates)."""
    return await drafts.put_window(req.database, req.actor, year, body)
