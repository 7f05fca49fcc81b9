"""HTTP routes of the proposal registry."""

from __future__ import annotations

from server.api import Api, Req
from server.proposals import service
from server.proposals.schemas import (
    ProposalCreate,
    ProposalList,
    ProposalOut,
    ProposalPatch,
    ProposalQuery,
    TransitionIn,
)

api = Api(tag="proposals")


@api.post("/api/proposals", body=ProposalCreate, response=ProposalOut, status=201)
async def create_proposal(req: Req, body: ProposalCreate) -> ProposalOut:
    """Register a proposal (staff); it starts as submitted."""
    return await service.create_proposal(req.database, req.actor, body)


@api.get("/api/proposals", query=ProposalQuery, response=ProposalList)
async def list_proposals(req: Req, query: ProposalQuery) -> ProposalList:
    """List the proposals you may see, by status, unit or text."""
    return await service.list_proposals(req.database, req.actor, query)


@api.get("/api/proposals/{proposal_id}", response=ProposalOut)
async def get_proposal(req: Req, proposal_id: int) -> ProposalOut:
    """One proposal with its proposers, units, bundle and history."""
    return await service.get_proposal(req.database, req.actor, proposal_id)


@api.patch("/api/proposals/{proposal_id}", body=ProposalPatch, response=ProposalOut)
async def update_proposal(req: Req, proposal_id: int, body: ProposalPatch) -> ProposalOut:
    """Change a proposal's fields (staff); status changes go through transitions."""
    return await service.update_proposal(req.database, req.actor, proposal_id, body)


@api.post("/api/proposals/{proposal_id}/transitions", body=TransitionIn, response=ProposalOut)
async def transition_proposal(req: Req, proposal_id: int, body: TransitionIn) -> ProposalOut:
    """Move a proposal to its next status."""
    return await service.transition(req.database, req.actor, proposal_id, body)
