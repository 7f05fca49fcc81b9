"""HTTP routes of live rooms: guests join public sessions (码上商量)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from server.api import Api, OutShape, Req, Shape
from server.audit import service as audit
from server.auth import new_token, token_digest
from server.db import utcnow
from server.errors import Conflict, NotFound
from server.names import plain_name
from server.rooms import recordings, store
from server.rooms.models import Guest
from server.rooms.recordings import RecordingList
from server.rooms.service import HUB
from server.sessions import service as sessions
from server.sessions.calendar_routes import CALENDARING

api = Api(tag="rooms")


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
        await audit.check_rate(db, "guest.join", limit, window, "guest joins")
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
        await audit.record(
            db,
            "guest.join",
            actor=f"{body.name} [guest]",
            object_type="guest",
            object_id=guest.id,
            session_id=session_id,
        )
        return GuestJoinOut(guest_token=token, guest_id=guest.id, session_id=session_id)


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
        raise NotFound(f"There is no session {session_id} that you host.")
    ctx = req.request.app[CALENDARING]
    expires = utcnow() + dt.timedelta(minutes=CHECKIN_MINUTES)
    token = ctx.signer.sign("checkin", {"s": session_id}, expires_at=expires)
    return CheckinLinkOut(
        url=f"{ctx.public_url}/checkin/{session_id}?token={token}", token=token, expires_at=expires
    )


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
        raise NotFound(f"There is no session {session_id} that you host.")
    if hall is None:
        raise Conflict("This session has no venue; give it one before connecting a hall device.")
    if seed["status"] not in ("scheduled", "live"):
        raise Conflict(f"This session is {seed['status']}; its room is closed.")
    expires = max(hall["ends_at"], utcnow()) + HALL_GRACE
    token = req.request.app[CALENDARING].signer.sign(
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
    payload = req.request.app[CALENDARING].signer.verify("checkin", body.token, utcnow())
    if payload.get("s") != session_id:
        raise NotFound("This QR code belongs to another session.")
    async with req.database.read() as db:
        role = await sessions.room_role(db, session_id, actor.id)
    if role is None:
        raise NotFound("You are not a participant of this session.")
    event = await req.request.app[HUB].record(
        session_id,
        "presence.checkin",
        {"who": f"p:{actor.id}", "name": actor.name},
        f"p:{actor.id}",
    )
    return CheckinOut(seq=event["seq"])


@api.get("/api/sessions/{session_id}/recordings", response=RecordingList)
async def session_recordings(req: Req, session_id: int) -> RecordingList:
    """The session's recorded feeds (staff and leaders)."""
    return await recordings.list_recordings(req.database, req.actor, session_id)


@api.get("/api/recordings/{recording_id}", produces="video/webm")
async def download_recording(req: Req, recording_id: int) -> web.FileResponse:
    """A recording's WebM file (staff)."""
    row, path = await recordings.file_of(
        req.database, req.actor, req.config.recording_dir, recording_id
    )
    await audit.record_now(
        req.database,
        "recording.download",
        actor=req.actor,
        object_type="recording",
        object_id=row.id,
        session_id=row.session_id,
    )
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "video/webm",
            "Content-Disposition": f'attachment; filename="session-{row.session_id}-{row.id}.webm"',
            "Cache-Control": "private, no-store",
        },
    )
