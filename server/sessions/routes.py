"""HTTP routes of consultation sessions."""

from __future__ import annotations

from server.api import Api, Req
from server.sessions import service
from server.sessions.calendar_routes import CALENDARING
from server.sessions.schemas import (
    SessionCreate,
    SessionList,
    SessionOut,
    SessionPatch,
    SessionQuery,
)

api = Api(tag="sessions")


@api.post("/api/sessions", body=SessionCreate, response=SessionOut, status=201)
async def create_session(req: Req, body: SessionCreate) -> SessionOut:
    """Schedule a session (staff); without a host participant, you become the host."""
    return await service.create_session(req.database, req.request.app[CALENDARING], req.actor, body)


@api.get("/api/sessions", query=SessionQuery, response=SessionList)
async def list_sessions(req: Req, query: SessionQuery) -> SessionList:
    """List the sessions you may see, by window (from, to), person, proposal, kind or status."""
    return await service.list_sessions(req.database, req.actor, query)


@api.get("/api/sessions/{session_id}", response=SessionOut)
async def get_session(req: Req, session_id: int) -> SessionOut:
    """One session with its proposals, participants and agenda."""
    return await service.get_session(req.database, req.actor, session_id)


@api.patch("/api/sessions/{session_id}", body=SessionPatch, response=SessionOut)
async def update_session(req: Req, session_id: int, body: SessionPatch) -> SessionOut:
    """Change a session (staff); lists given are replaced, RSVPs of people who stay are kept."""
    return await service.update_session(
        req.database, req.request.app[CALENDARING], req.actor, session_id, body
    )
