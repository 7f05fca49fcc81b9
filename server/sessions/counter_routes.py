"""HTTP routes of counter-proposals (another time, proposed by an attendee)."""

from __future__ import annotations

from server.api import Api, Req
from server.sessions import counters
from server.sessions.calendar_routes import CALENDARING
from server.sessions.counters import AcceptIn, CounterIn, CounterList, CounterOut, DeclineIn
from server.sessions.schemas import SessionOut

api = Api(tag="scheduling")


@api.post("/api/sessions/{session_id}/counters", body=CounterIn, response=CounterOut, status=201)
async def propose(req: Req, session_id: int, body: CounterIn) -> CounterOut:
    """Propose another time for a session you take part in (or for one occurrence)."""
    return await counters.propose(req.database, req.actor, session_id, body)


@api.get("/api/sessions/{session_id}/counters", response=CounterList)
async def list_counters(req: Req, session_id: int) -> CounterList:
    """Counter-proposals of a session (staff)."""
    return await counters.list_counters(req.database, req.actor, session_id)


@api.post(
    "/api/sessions/{session_id}/counters/{counter_id}/accept", body=AcceptIn, response=SessionOut
)
async def accept(req: Req, session_id: int, counter_id: int, body: AcceptIn) -> SessionOut:
    """Accept: the session moves to the proposed time and everyone gets the new invite."""
    ctx = req.request.app[CALENDARING]
    return await counters.accept(req.database, ctx, req.actor, session_id, counter_id, body)


@api.post(
    "/api/sessions/{session_id}/counters/{counter_id}/decline", body=DeclineIn, response=CounterOut
)
async def decline(req: Req, session_id: int, counter_id: int, body: DeclineIn) -> CounterOut:
    """Decline: the time stays, and the attendee gets a DECLINECOUNTER."""
    ctx = req.request.app[CALENDARING]
    return await counters.decline(req.database, ctx, req.actor, session_id, counter_id, body)
