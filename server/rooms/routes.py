"""HTTP routes of live rooms: guests join public sessions (码上商量)."""

from __future__ import annotations

import time
from collections import deque
from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from server.api import Api, OutShape, Req, Shape
from server.auth import new_token, token_digest
from server.db import utcnow
from server.errors import AppError, Conflict, NotFound
from server.rooms import store
from server.rooms.models import Guest
from server.sessions import service as sessions

api = Api(tag="rooms")
GUEST_JOINS_PER_WINDOW = 10
GUEST_WINDOW_SECONDS = 600.0


class TooManyRequests(AppError):
    """A client asked too often; the message says when to try again."""

    status = 429
    code = "rate_limited"


class GuestJoinIn(Shape):
    """The name a guest shows in the room."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=50)]


class GuestJoinOut(OutShape):
    """A guest pass: connect to ``/room`` with ``auth: {guest_token, session_id}``."""

    guest_token: str
    guest_id: int
    session_id: int


class JoinLimiter:
    """At most ``limit`` guest joins per client address per window."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.seen: dict[str, deque[float]] = {}

    def check(self, address: str) -> None:
        now = time.monotonic()
        recent = self.seen.setdefault(address, deque())
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            wait = int(self.window - (now - recent[0])) + 1
            raise TooManyRequests(
                f"Too many guest joins from your address; try again in {wait} seconds."
            )
        recent.append(now)


JOIN_LIMITER = web.AppKey("guest_join_limiter", JoinLimiter)


@api.post(
    "/api/sessions/{session_id}/guest-join", body=GuestJoinIn, response=GuestJoinOut, public=True
)
async def guest_join(req: Req, session_id: int, body: GuestJoinIn) -> GuestJoinOut:
    """Join a public, open session as a guest; you wait in its lobby until a host admits you."""
    address = req.request.remote or "unknown"
    req.request.app[JOIN_LIMITER].check(address)
    token = new_token()
    async with req.database.transaction() as db:
        seed = await sessions.room_seed(db, session_id)
        if seed is None or seed["visibility"] != "public":
            raise NotFound(f"There is no public session {session_id}.")
        if seed["status"] not in ("scheduled", "live"):
            raise Conflict(f"This session is {seed['status']}; guests can no longer join.")
        guest = Guest(
            session_id=session_id,
            name=body.name,
            token_digest=token_digest(token),
            address=address[:64],
            created_at=utcnow(),
        )
        await store.add_guest(db, guest)
        return GuestJoinOut(guest_token=token, guest_id=guest.id, session_id=session_id)
