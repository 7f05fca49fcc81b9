"""HTTP routes of the proposal registry."""

from __future__ import annotations

from aiohttp import web

from server.api import Api, Req, attachment_disposition, read_raw
from server.auth import Role
from server.errors import request_language
from server.proposals import drafts, importing, service
from server.proposals.importing import ImportOut, ImportQuery
from server.proposals.schemas import (
    ProposalCreate,
    ProposalList,
    ProposalOut,
    ProposalPatch,
    ProposalQuery,
    TransitionIn,
)
from server.proposals.service import Deadlines, SessionsOf

api = Api(tag="proposals")
# Who reads each proposal's sessions (for its stage compliance): set by the composition root.
SESSIONS_OF = web.AppKey("proposal_sessions", SessionsOf)
# How assigning sets the reply's due day (the term from config, the working-day calendar).
DEADLINES = web.AppKey("proposal_deadlines", Deadlines)


def _sessions_of(req: Req) -> SessionsOf:
    return req.request.app[SESSIONS_OF]


@api.post("/api/proposals", body=ProposalCreate, response=ProposalOut, status=201)
async def create_proposal(req: Req, body: ProposalCreate) -> ProposalOut:
    """Staff register a proposal (it starts as submitted); a member starts a draft."""
    if req.actor.role in drafts.DRAFTERS:
        return await drafts.create_draft(
            req.database, req.actor, body, sessions_of=_sessions_of(req)
        )
    return await service.create_proposal(
        req.database, req.actor, body, sessions_of=_sessions_of(req)
    )


@api.get("/api/proposals", query=ProposalQuery, response=ProposalList)
async def list_proposals(req: Req, query: ProposalQuery) -> ProposalList:
    """List the proposals you may see, by status, unit or text."""
    return await service.list_proposals(
        req.database, req.actor, query, sessions_of=_sessions_of(req)
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@api.get("/api/proposals.xlsx", query=ProposalQuery, produces=XLSX)
async def export_proposals(req: Req, query: ProposalQuery) -> web.Response:
    """The filtered, sorted list (every page of it) as a spreadsheet; paging is ignored."""
    body = await service.export_proposals(
        req.database, req.actor, query, sessions_of=_sessions_of(req)
    )
    return web.Response(
        body=body,
        content_type=XLSX,
        headers={
            "Content-Disposition": attachment_disposition("提案清单.xlsx", "proposals"),
            "Cache-Control": "no-store",
        },
    )


@api.post(
    "/api/proposals/import",
    query=ImportQuery,
    response=ImportOut,
    raw_body=(XLSX, "application/octet-stream"),
)
async def import_proposals(req: Req, query: ImportQuery) -> ImportOut:
    """Import proposals from another system's .xlsx (staff): ``dry_run=true`` previews each
    row with its problems; ``dry_run=false`` adds the good rows in one transaction. The body
    is the workbook (typed as .xlsx, or as bytes: what a browser sends for an unknown file)."""
    importing.may_import(req.actor)
    octets = req.request.content_type == "application/octet-stream"
    data = await read_raw(
        req.request, "application/octet-stream" if octets else XLSX, importing.MAX_IMPORT_BYTES
    )
    return await importing.import_proposals(
        req.database,
        req.actor,
        data,
        dry_run=query.dry_run,
        language=request_language(req.request),
    )


@api.get("/api/proposals/{proposal_id}", response=ProposalOut)
async def get_proposal(req: Req, proposal_id: int) -> ProposalOut:
    """One proposal with its proposers, units, bundle and history."""
    return await service.get_proposal(
        req.database, req.actor, proposal_id, sessions_of=_sessions_of(req)
    )


@api.patch("/api/proposals/{proposal_id}", body=ProposalPatch, response=ProposalOut)
async def update_proposal(req: Req, proposal_id: int, body: ProposalPatch) -> ProposalOut:
    """Change a proposal's fields (staff), or the author's draft, or (a leader, ``leader_id``
    only) take or give up the lead of a key proposal (领办); status changes go through
    transitions."""
    leading = req.actor.role is Role.LEADER and body.model_fields_set == {"leader_id"}
    if req.actor.role is not Role.STAFF and not leading:
        return await drafts.update_draft(
            req.database, req.actor, proposal_id, body, sessions_of=_sessions_of(req)
        )
    return await service.update_proposal(
        req.database, req.actor, proposal_id, body, sessions_of=_sessions_of(req)
    )


@api.post("/api/proposals/{proposal_id}/transitions", body=TransitionIn, response=ProposalOut)
async def transition_proposal(req: Req, proposal_id: int, body: TransitionIn) -> ProposalOut:
    """Move a proposal to its next status."""
    return await service.transition(
        req.database,
        req.actor,
        proposal_id,
        body,
        sessions_of=_sessions_of(req),
        deadlines=req.request.app.get(DEADLINES),
    )
