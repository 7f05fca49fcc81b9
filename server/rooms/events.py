"""Socket.IO namespace ``/room``: connect, ``command``, ``sync`` and ``join`` for guests.

Clients connect with ``auth: {"token", "session_id"}`` (a signed-in participant or staff) or
``auth: {"guest_token", "session_id"}`` (a guest of a public session). Participants get a
``snapshot`` at once; guests wait in the lobby and receive only their own lobby events until a
host admits them, then ``join``. Accepted commands reach everyone as ``event``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import socketio

from server.audit import service as audit
from server.auth import Principal, TokenResolver, client_address, token_digest
from server.db import Database, utcnow
from server.errors import AppError, socket_handler
from server.limits import RateLimiter
from server.rooms import store
from server.rooms.backend import MediaBackend
from server.rooms.reducer import Actor, RoomError, audible
from server.rooms.service import RoomHub
from server.rooms.views import event_view, state_view
from server.sessions import service as sessions
from server.signing import Signer

log = logging.getLogger(__name__)
NAMESPACE = "/room"
REFUSAL_DELAY = 0.5  # seconds a refusal for sending too fast is held back
HOW_TO_CONNECT = (
    "Connect with auth {token, session_id}, {guest_token, session_id} "
    "or, for a hall device, {device_token, session_id}."
)
OPEN_STATES = ("scheduled", "live")


def room_name(session_id: int) -> str:
    return f"room:{session_id}"


def guest_room(session_id: int, key: str) -> str:
    return f"guest:{session_id}:{key}"


def actor_room(session_id: int, key: str) -> str:
    """Every connection of one person, guest or hall device in one room (to put them out)."""
    return f"actor:{session_id}:{key}"


class Refused(socketio.exceptions.ConnectionRefusedError):  # type: ignore[misc]
    """Refuse a connection with a reason the client sees in ``connect_error``."""


class RoomNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """The live-room protocol."""

    def __init__(
        self,
        *,
        hub: RoomHub,
        database: Database,
        resolve: TokenResolver,
        limiter: RateLimiter,
        signer: Signer,
        sfu: MediaBackend,
        trusted_proxies: tuple[str, ...] = (),
    ) -> None:
        super().__init__(NAMESPACE)
        self.hub, self.database, self.resolve, self.limiter = hub, database, resolve, limiter
        self.signer, self.sfu, self.trusted_proxies = signer, sfu, trusted_proxies

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Dispatch ``rtc.publish`` and friends to ``on_rtc_publish`` (names with a dot)."""
        if isinstance(event, str) and event.startswith("rtc."):
            event = event.replace(".", "_")
        return await super().trigger_event(event, *args)

    # ---- who is connecting

    async def _person(self, session_id: int, token: str) -> Actor:
        principal: Principal | None = await self.resolve(token)
        if principal is None:
            raise Refused("Your login token is invalid, expired or revoked; sign in again.")
        async with self.database.read() as db:
            seed = await sessions.room_seed(db, session_id)
            role = await sessions.room_role(db, session_id, principal.id)
        if seed is None or (role is None and not principal.is_staff):
            raise Refused("You are not a participant of this session.")
        if seed["status"] not in OPEN_STATES:
            raise Refused(f"This session is {seed['status']}; its room is closed.")
        return Actor(
            f"p:{principal.id}",
            principal.name,
            role or "host",
            principal.is_staff,
            principal.unit_id,
        )

    async def _guest(self, session_id: int, token: str) -> Actor:
        async with self.database.read() as db:
            guest = await store.guest_by_digest(db, token_digest(token))
            seed = await sessions.room_seed(db, session_id)
        if guest is None or guest.session_id != session_id or seed is None:
            raise Refused("This guest pass is not valid for this session; join again by its link.")
        if seed["visibility"] != "public" or seed["status"] not in OPEN_STATES:
            raise Refused("This session is not open to guests now.")
        return Actor(f"g:{guest.id}", guest.name, "guest")

    async def _hall(self, session_id: int, token: str) -> Actor:
        payload = self.signer.verify("hall", token, utcnow())  # BadSignature says why not
        if payload.get("s") != session_id:
            raise Refused("This hall pass belongs to another session.")
        async with self.database.read() as db:
            seed = await sessions.room_seed(db, session_id)
            hall = await sessions.hall_of(db, session_id)
        if seed is None or hall is None or hall["venue_id"] != payload.get("v"):
            raise Refused("This hall pass no longer matches the session's venue; make a new one.")
        if seed["status"] not in OPEN_STATES:
            raise Refused(f"This session is {seed['status']}; its room is closed.")
        return Actor(f"h:{hall['venue_id']}", hall["venue_name"], "hall")

    async def _actor(self, auth: Any) -> tuple[int, Actor]:
        if not isinstance(auth, dict) or not isinstance(auth.get("session_id"), int):
            raise Refused(HOW_TO_CONNECT)
        session_id = auth["session_id"]
        if isinstance(auth.get("token"), str):
            return session_id, await self._person(session_id, auth["token"])
        if isinstance(auth.get("guest_token"), str):
            return session_id, await self._guest(session_id, auth["guest_token"])
        if isinstance(auth.get("device_token"), str):
            return session_id, await self._hall(session_id, auth["device_token"])
        raise Refused(HOW_TO_CONNECT)

    # ---- connection lifecycle

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        request = environ.get("aiohttp.request")
        address = client_address(
            getattr(request, "remote", None),
            environ.get("HTTP_X_FORWARDED_FOR"),
            self.trusted_proxies,
        )
        audit.set_origin(address)
        try:
            session_id, actor = await self._actor(auth)
        except AppError as err:
            raise Refused(err.message) from None
        # A removed guest is turned away by lobby.enter below; staff read everything anyway.
        if not actor.is_guest and not actor.staff:
            _seq, state = await self.hub.snapshot(session_id)
            if actor.key in state["removed"]:
                raise Refused("You were removed from this session.")
        await self.save_session(
            sid,
            {"session_id": session_id, "actor": asdict(actor), "joined": False, "address": address},
        )
        await self.enter_room(sid, actor_room(session_id, actor.key))
        if actor.is_guest:
            await self.enter_room(sid, guest_room(session_id, actor.key))
            _seq, state = await self.hub.snapshot(session_id)
            if actor.key in state["admitted"]:
                await self._join(sid, session_id, actor)
            else:
                if actor.key not in state["lobby"]:
                    try:
                        await self.hub.command(session_id, actor, "lobby.enter", {})
                    except AppError as err:  # e.g. a guest who was turned away
                        raise Refused(err.message) from None
                await self.emit(
                    "lobby",
                    {"status": "waiting", "session_id": session_id},
                    to=sid,
                    ignore_queue=True,
                )
            return
        await self._join(sid, session_id, actor)

    async def _join(self, sid: str, session_id: int, actor: Actor) -> dict[str, Any]:
        await self.enter_room(sid, room_name(session_id))
        await self.hub.record(
            session_id,
            "presence.join",
            {
                "who": actor.key,
                "name": actor.name,
                "role": actor.role,
                # A person connects through their own device: remote until they check in at the
                # hall (presence.checkin). The hall's device is the room itself.
                "attendance": "in_person" if actor.is_hall else "remote",
            },
            actor.key,
        )
        self.hub.attach(session_id)
        session = await self.get_session(sid)
        session["joined"] = True
        await self.save_session(sid, session)
        seq, state = await self.hub.snapshot(session_id)
        snapshot = {
            "seq": seq,
            "state": state_view(state, actor.key),
            "ice_servers": self.sfu.ice_servers,  # for rtc.publish / rtc.subscribe
        }
        # This connection is on this process: no need to pass its snapshot through Redis.
        await self.emit("snapshot", snapshot, to=sid, ignore_queue=True)
        return snapshot

    async def on_disconnect(self, sid: str, *_reason: Any) -> None:
        self.limiter.forget(sid)
        try:
            session = await self.get_session(sid)
        except KeyError:
            return
        try:
            await self.sfu.leave(session["session_id"], sid)
        except Exception:
            log.exception("could not close the media of %s", sid)
        if session.get("joined"):
            self.hub.detach(session["session_id"])
            actor = Actor(**session["actor"])
            try:
                await self.hub.record(
                    session["session_id"], "presence.leave", {"who": actor.key}, actor.key
                )
            except Exception:
                log.exception(
                    "could not record that %s left room %s", actor.key, session["session_id"]
                )

    # ---- messages

    async def _refuse(self, sid: str) -> None:
        """Refuse a message over the rate: late (a flooding client waits, the others don't), and
        by disconnecting a client that ignores every refusal (it resyncs if it comes back)."""
        if self.limiter.ignoring_refusals(sid):
            log.warning("disconnecting %s: it keeps sending over the rate limit", sid)
            await self.disconnect(sid)
        await asyncio.sleep(REFUSAL_DELAY)
        raise RoomError("rate_limited", "Too many messages; slow down a little.")

    async def _who(self, sid: str) -> tuple[int, Actor, dict[str, Any]]:
        session = await self.get_session(sid)
        audit.set_origin(session.get("address"))
        return session["session_id"], Actor(**session["actor"]), session

    @socket_handler
    async def on_command(self, sid: str, payload: Any = None) -> dict[str, Any]:
        if not self.limiter.allow(sid):
            await self._refuse(sid)
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise RoomError("invalid", "Send {type, data}.")
        session_id, actor, session = await self._who(sid)
        if actor.is_guest and not session["joined"] and payload["type"] != "lobby.enter":
            raise RoomError("in_lobby", "Wait until a host admits you.")
        data = payload.get("data", {})
        event = await self.hub.command(
            session_id, actor, payload["type"], data if isinstance(data, dict) else {}
        )
        return {"ok": True, "seq": event["seq"]}

    @socket_handler
    async def on_sync(self, sid: str, payload: Any = None) -> dict[str, Any]:
        session_id, actor, session = await self._who(sid)
        if not session["joined"]:
            raise RoomError("in_lobby", "Wait until a host admits you.")
        _seq, state = await self.hub.snapshot(session_id)
        if actor.key in state["removed"]:
            raise RoomError("removed", "You were removed from this session.")
        since = payload.get("since") if isinstance(payload, dict) else None
        events = await self.hub.events_since(session_id, since) if isinstance(since, int) else None
        if events is None:
            seq, state = await self.hub.snapshot(session_id)
            return {"ok": True, "snapshot": {"seq": seq, "state": state_view(state, actor.key)}}
        return {"ok": True, "events": [event_view(e) for e in events]}

    @socket_handler
    async def on_join(self, sid: str, _payload: Any = None) -> dict[str, Any]:
        """A guest asks to enter the room after a host admitted them."""
        session_id, actor, session = await self._who(sid)
        if session["joined"]:
            return {"ok": True}
        _seq, state = await self.hub.snapshot(session_id)
        if actor.key not in state["admitted"]:
            raise RoomError("in_lobby", "A host has not admitted you yet.")
        return {"ok": True, "snapshot": await self._join(sid, session_id, actor)}

    async def expel(self, session_id: int, who: str) -> None:
        """Put a removed participant's connections on this process out of the room: they
        receive nothing more, and their reconnects are refused."""
        room = actor_room(session_id, who)
        sids = [sid for sid, _eio in self.server.manager.get_participants(NAMESPACE, room)]
        for sid in sids:
            await self.leave_room(sid, room_name(session_id))
            await self.disconnect(sid)

    # ---- media signaling (acknowledged, outside the durable log; feeds are logged)

    async def _media_actor(self, sid: str) -> tuple[int, Actor, dict[str, Any]]:
        if not self.limiter.allow(sid):
            await self._refuse(sid)
        session_id, actor, session = await self._who(sid)
        if not session["joined"]:
            raise RoomError("in_lobby", "Wait until a host admits you.")
        _seq, state = await self.hub.snapshot(session_id)
        if actor.key in state["removed"]:
            raise RoomError("removed", "You were removed from this session.")
        return session_id, actor, state

    @socket_handler
    async def on_rtc_publish(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Publish a camera (with microphone) or a screen: ``{sdp, source}`` → the answer."""
        session_id, actor, state = await self._media_actor(sid)
        sdp, source = _text(payload, "sdp"), (payload or {}).get("source", "camera")
        if actor.is_guest:
            raise RoomError("forbidden", "Guests watch and ask questions; they do not publish.")
        if source == "screen" and not (actor.drives or actor.role == "unit"):
            raise RoomError("forbidden", "Only hosts and the presenting unit share a screen.")
        if state["status"] == "ended":
            raise RoomError("not_live", "The session has ended.")
        feed_id, answer = await self.sfu.publish(session_id, sid, actor.key, sdp, str(source))
        return {"ok": True, "feed_id": feed_id, "sdp": answer}

    @socket_handler
    async def on_rtc_subscribe(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Receive a feed: ``{feed_id}`` → the server's offer (answer with ``rtc.answer``)."""
        session_id, actor, _state = await self._media_actor(sid)
        offer = await self.sfu.subscribe(session_id, sid, _text(payload, "feed_id", 64), actor.key)
        return {"ok": True, "sdp": offer}

    @socket_handler
    async def on_rtc_answer(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Complete a subscription: ``{feed_id, sdp}``."""
        session_id, _actor, _state = await self._media_actor(sid)
        await self.sfu.answer(session_id, sid, _text(payload, "feed_id", 64), _text(payload, "sdp"))
        return {"ok": True}

    @socket_handler
    async def on_rtc_unpublish(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Stop publishing ``{feed_id}``."""
        session_id, _actor, _state = await self._media_actor(sid)
        await self.sfu.unpublish(session_id, sid, _text(payload, "feed_id", 64))
        return {"ok": True}


MAX_SDP = 64 * 1024


def _text(payload: Any, name: str, limit: int = MAX_SDP) -> str:
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise RoomError("invalid", f"Send {name} as text of at most {limit} characters.")
    return value


def follow_room(
    sfu: MediaBackend, hub: Any, namespace: RoomNamespace | None = None
) -> Callable[[int, dict[str, Any], dict[str, Any]], None]:
    """A room observer: microphones follow the floor and mutes; the end of the session closes
    its media; a removed participant is put out of the room (``namespace``)."""

    def observe(session_id: int, state: dict[str, Any], event: dict[str, Any]) -> None:
        if event["type"] == "session.end":
            hub.spawn(sfu.end_room(session_id))
        elif event["type"] == "participant.remove":
            hub.spawn(sfu.drop_person(session_id, event["data"]["who"]))
            if namespace is not None:
                hub.spawn(namespace.expel(session_id, event["data"]["who"]))
            sfu.hear(session_id, audible(state))
        elif event["type"] == "recording.start":
            sfu.start_recording(session_id)
        elif event["type"] == "recording.stop":
            hub.spawn(sfu.stop_recording(session_id))
        elif event["type"].split(".")[0] in AUDIO_NOUNS:
            sfu.hear(session_id, audible(state))

    return observe


AUDIO_NOUNS = frozenset({"floor", "audio", "presence", "participant", "feed", "room"})
