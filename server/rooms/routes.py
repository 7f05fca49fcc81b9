"""HTTP routes of live rooms: guests join public sessions (码上商量)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from aiohttp import web
from pydantic import StringConstraints

from server.api import SIGNER, Api, Req
from server.audit import service as audit
from server.auth import new_token, token_digest
from server.db import utcnow
from server.errors import Conflict, NotFound
from server.i18n import _
from server.names import plain_name
from server.rooms import store
from server.rooms.models import Guest
from server.rooms.rules import require
from server.rooms.service import RoomHub
from server.sessions import service as sessions
from server.sessions.models import STATUS_WORDS, Kind, LobbyPolicy, SessionStatus
from server.shapes import OutShape, Shape

api = Api(tag="rooms")
# The app's room hub (built in app.py); the Socket.IO namespace gets it by its constructor.
HUB = web.AppKey("hub", RoomHub)


class GuestJoinIn(Shape):
    """The name a guest shows in the room."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=50), plain_name]


class GuestJoinOut(OutShape):
    """A guest pass: connect to ``/room`` with ``auth: {guest_token, session_id}``."""

    guest_token: str
    guest_id: int
    session_id: int


@api.post(
    "/api/sessions/{session_id}/guest-join", body=GuestJoinIn, response=GuestJoinOut, public=True
)
async def guest_join(req: Req, session_id: int, body: GuestJoinIn) -> GuestJoinOut:
    """Join a public, open session as a guest; you wait in its lobby until a host admits you."""
    address, config = audit.ORIGIN.get(), req.config
    token = new_token()
    async with req.database.transaction() as db:
        window = dt.timedelta(seconds=config.guest_join_window_seconds)
        limit = config.guest_joins_per_window
        await audit.check_rate(db, "guest.join", limit, window, _("guest joins"))
        seed = await sessions.room_seed(db, session_id)
        if seed is None or seed["visibility"] != "public":
            raise NotFound(_("There is no public session {session_id}.", session_id=session_id))
        if seed["status"] not in ("scheduled", "live"):
            raise Conflict(
                _(
                    "This session is {status}; guests can no longer join.",
                    status=STATUS_WORDS.get(seed["status"], seed["status"]),
                )
            )
        guest = Guest(
            session_id=session_id,
            name=body.name,
            token_digest=token_digest(token),
            address=address[:64],
            created_at=utcnow(),
        )
        await store.add_guest(db, guest)
        await audit.record(
            db,
            "guest.join",
            actor=f"{body.name} [guest]",
            object_type="guest",
            object_id=guest.id,
            session_id=session_id,
        )
        return GuestJoinOut(guest_token=token, guest_id=guest.id, session_id=session_id)


class PublicSessionOut(OutShape):
    """Which public meeting a join link is for: title, time, place, topic (no sign-in needed)."""

    session_id: int
    title: str
    kind: Kind
    topic: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    venue: str | None
    status: SessionStatus
    lobby: LobbyPolicy


@api.get("/api/sessions/{session_id}/public", response=PublicSessionOut, public=True)
async def public_session(req: Req, session_id: int) -> PublicSessionOut:
    """A public session as its join page and lobby show it (404 for any other session)."""
    async with req.database.read() as db:
        summary = await sessions.public_summary(db, session_id)
    if summary is None:
        raise NotFound(_("There is no public session {session_id}.", session_id=session_id))
    return PublicSessionOut(**summary)


CHECKIN_MINUTES = 10


class CheckinLinkOut(OutShape):
    """A short-lived link for the hall's QR code: participants scan it to check in."""

    url: str
    token: str
    expires_at: dt.datetime


class CheckinIn(Shape):
    """The token from the hall's QR code."""

    token: Annotated[str, StringConstraints(min_length=10, max_length=400)]


class CheckinOut(OutShape):
    """The check-in was recorded in the room."""

    seq: int


@api.get("/api/sessions/{session_id}/checkin-link", response=CheckinLinkOut)
async def checkin_link(req: Req, session_id: int) -> CheckinLinkOut:
    """A QR link for in-person check-in, valid for ten minutes (staff and hosts)."""
    actor = req.actor
    async with req.database.read() as db:
        role = await sessions.room_role(db, session_id, actor.id)
        seed = await sessions.room_seed(db, session_id)
    if seed is None or (role != "host" and not actor.is_staff):
        raise NotFound(_("There is no session {session_id} that you host.", session_id=session_id))
    expires = utcnow() + dt.timedelta(minutes=CHECKIN_MINUTES)
    token = req.request.app[SIGNER].sign("checkin", {"s": session_id}, expires_at=expires)
    url = f"{req.config.public_url}/checkin/{session_id}?token={token}"
    return CheckinLinkOut(url=url, token=token, expires_at=expires)


HALL_GRACE = dt.timedelta(hours=12)


class HallDeviceOut(OutShape):
    """A pass for the hall's own device (its camera and microphone serve everyone there)."""

    device_token: str
    session_id: int
    venue_id: int
    venue_name: str
    expires_at: dt.datetime


@api.post("/api/sessions/{session_id}/hall-device", response=HallDeviceOut)
async def hall_device(req: Req, session_id: int) -> HallDeviceOut:
    """A pass for the venue's room device (staff and hosts): it connects to the room with
    ``auth: {device_token, session_id}``, is shown as the hall, in person, and can be given the
    floor for whoever speaks there. It is valid until twelve hours after the session ends."""
    actor = req.actor
    async with req.database.read() as db:
        role = await sessions.room_role(db, session_id, actor.id)
        seed = await sessions.room_seed(db, session_id)
        hall = await sessions.hall_of(db, session_id)
    if seed is None or (role != "host" and not actor.is_staff):
        raise NotFound(_("There is no session {session_id} that you host.", session_id=session_id))
    if hall is None:
        raise Conflict(_("This session has no venue; give it one before connecting a hall device."))
    if seed["status"] not in ("scheduled", "live"):
        raise Conflict(
            _(
                "This session is {status}; its room is closed.",
                status=STATUS_WORDS.get(seed["status"], seed["status"]),
            )
        )
    expires = max(hall["ends_at"], utcnow()) + HALL_GRACE
    token = req.request.app[SIGNER].sign(
        "hall", {"s": session_id, "v": hall["venue_id"]}, expires_at=expires
    )
    await audit.record_now(
        req.database,
        "session.hall_device",
        actor=actor,
        object_type="session",
        object_id=session_id,
        session_id=session_id,
        venue_id=hall["venue_id"],
    )
    return HallDeviceOut(
        device_token=token,
        session_id=session_id,
        venue_id=hall["venue_id"],
        venue_name=hall["venue_name"],
        expires_at=expires,
    )


@api.post("/api/sessions/{session_id}/checkin", body=CheckinIn, response=CheckinOut)
async def checkin(req: Req, session_id: int, body: CheckinIn) -> CheckinOut:
    """Check in at the hall: the signed-in participant scanned the session's QR code."""
    actor = req.actor
    payload = req.request.app[SIGNER].verify("checkin", body.token, utcnow())
    if payload.get("s") != session_id:
        raise NotFound(_("This QR code belongs to another session."))
    async with req.database.read() as db:
        role = await sessions.room_role(db, session_id, actor.id)
    if role is None:
        raise NotFound(_("You are not a participant of this session."))
    who = f"p:{actor.id}"

    def not_removed(state: dict[str, Any]) -> None:
        # The room's own refusal, answered 403 like every ``forbidden`` room error.
        require(
            who not in state["removed"],
            "forbidden",
            _("You were removed from this session, so you cannot check in."),
        )

    event = await req.request.app[HUB].record(
        session_id, "presence.checkin", {"who": who, "name": actor.name}, who, check=not_removed
    )
    return CheckinOut(seq=event["seq"])
