"""Socket.IO namespace ``/room``: connect, ``command``, ``sync`` and ``join`` for guests.

Clients connect with ``auth: {"token", "session_id"}`` (a signed-in participant or staff) or
``auth: {"guest_token", "session_id"}`` (a guest of a public session). Participants get a
``snapshot`` at once; guests wait in the lobby and receive only their own lobby events until a
host admits them, then ``join``. Accepted commands reach everyone as ``event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import socketio

from server.audit import service as audit
from server.auth import Principal, TokenResolver, client_address, token_digest
from server.db import Database, utcnow
from server.errors import AppError, refuse_when_unavailable, socket_handler
from server.i18n import DEFAULT, _, asked, translate
from server.limits import RateLimiter
from server.media.base import MediaBackend, check_kinds, check_layer
from server.packets import Encoded
from server.rooms.commands import RULES
from server.rooms.commands.consent import refuse_publish
from server.rooms.crowd import in_crowd
from server.rooms.messages import HOW_TO_CONNECT, command_of, session_of, since_of, text_field
from server.rooms.reducer import Actor, RoomError
from server.rooms.service import RoomHub, guest_lookup
from server.rooms.token_watch import TokenWatch
from server.rooms.views import events_view
from server.sessions import service as sessions
from server.sessions.models import STATUS_WORDS
from server.signing import Signer

log = logging.getLogger(__name__)
NAMESPACE = "/room"
REFUSAL_DELAY = 0.5  # seconds a refusal for sending too fast is held back
OPEN_STATES = ("scheduled", "live")


def room_name(session_id: int) -> str:
    return f"room:{session_id}"


def guest_room(session_id: int, key: str) -> str:
    return f"guest:{session_id}:{key}"


def audience_room(session_id: int, reads_drafts: bool, crowd: bool) -> str:
    """Part of a room's connections: those who read draft minutes, the others who host, and
    the rest (in a crowd room, its crowd: ``server.rooms.crowd``)."""
    return f"room:{session_id}:{'drafts' if reads_drafts else 'no-drafts'}{':crowd' * crowd}"


AUDIENCES = ((True, False), (False, False), (False, True))  # (reads drafts, in the crowd)


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
        tokens: TokenWatch,
        trusted_proxies: tuple[str, ...] = (),
        on_snapshot: Callable[[int, int], None] = lambda _session_id, _seq: None,
        count_command: Callable[[str, str], None] = lambda _kind, _outcome: None,
    ) -> None:
        super().__init__(NAMESPACE)
        self.hub, self.database, self.resolve, self.limiter = hub, database, resolve, limiter
        self.signer, self.sfu, self.trusted_proxies = signer, sfu, trusted_proxies
        # Called with (session_id, seq) when a connection here starts following a room from
        # a snapshot (the room's delivery across processes counts from there).
        self.on_snapshot = on_snapshot
        self.tokens = tokens  # a connection opened with a login token ends with the token
        # A crowd's entry checks, and a hall's guest passes, each read in one query.
        self.entries, self.guests = sessions.entry_lookup(database), guest_lookup(database)
        # Called with (type, outcome) after every ``command``: the outcome is ``ok`` or the
        # error code; a type the server does not know is ``other`` (metrics stay bounded).
        self.count_command = count_command
        # The room each connection is counted in (RoomHub.attach), noted in the same step as
        # the count: a connection that drops while its join is still being recorded is
        # uncounted too, or its room would never leave memory.
        self.attached: dict[str, int] = {}

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Dispatch ``rtc.publish`` and friends to ``on_rtc_publish`` (names with a dot)."""
        if isinstance(event, str) and event.startswith("rtc."):
            event = event.replace(".", "_")
        answer = await super().trigger_event(event, *args)
        if event == "command":
            self._count(args[1] if len(args) > 1 else None, answer)
        return answer

    def _count(self, payload: Any, answer: Any) -> None:
        kind = payload.get("type") if isinstance(payload, dict) else None
        if not isinstance(kind, str) or kind not in RULES:  # a list or an object is no type
            kind = "other"
        error = answer.get("error") if isinstance(answer, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        ok = isinstance(answer, dict) and answer.get("ok") is True
        self.count_command(str(kind), "ok" if ok else str(code or "error"))

    # ---- who is connecting

    async def _person(self, session_id: int, principal: Principal | None) -> Actor:
        if principal is None:
            raise Refused(_("Your login token is invalid, expired or revoked; sign in again."))
        seed = await self.entries.get((session_id, principal.id))
        role = seed["role"] if seed is not None else None
        if seed is None or (role is None and not principal.is_staff):
            raise Refused(_("You are not a participant of this session."))
        if seed["status"] not in OPEN_STATES:
            raise Refused(
                _(
                    "This session is {status}; its room is closed.",
                    status=STATUS_WORDS.get(seed["status"], seed["status"]),
                )
            )
        role = role or "host"  # staff who are not on the list host
        return Actor(
            f"p:{principal.id}",
            principal.name,
            role,
            principal.is_staff,
            principal.unit_id,
            reads_drafts=principal.reads_everything or role == "host",
        )

    async def _guest(self, session_id: int, token: str) -> Actor:
        guest = await self.guests.get(token_digest(token))
        seed = await self.entries.get((session_id, None))
        if guest is None or guest.session_id != session_id or seed is None:
            raise Refused(
                _("This guest pass is not valid for this session; join again by its link.")
            )
        if seed["visibility"] != "public" or seed["status"] not in OPEN_STATES:
            raise Refused(_("This session is not open to guests now."))
        return Actor(f"g:{guest.id}", guest.name, "guest")

    async def _hall(self, session_id: int, token: str) -> Actor:
        payload = self.signer.verify("hall", token, utcnow())  # BadSignature says why not
        if payload.get("s") != session_id:
            raise Refused(_("This hall pass belongs to another session."))
        async with self.database.read() as db:
            seed = await sessions.room_entry(db, session_id)
            hall = await sessions.hall_of(db, session_id)
        if seed is None or hall is None or hall["venue_id"] != payload.get("v"):
            raise Refused(
                _("This hall pass no longer matches the session's venue; make a new one.")
            )
        if seed["status"] not in OPEN_STATES:
            raise Refused(
                _(
                    "This session is {status}; its room is closed.",
                    status=STATUS_WORDS.get(seed["status"], seed["status"]),
                )
            )
        return Actor(f"h:{hall['venue_id']}", hall["venue_name"], "hall")

    async def _actor(self, auth: Any, principal: Principal | None) -> tuple[int, Actor, str | None]:
        """The session, who connects (``principal``: whom the login token signs in, if any),
        and the digest of their login token (None for guests and hall devices)."""
        session_id = session_of(auth)
        if isinstance(auth.get("token"), str):
            person = await self._person(session_id, principal)
            return session_id, person, token_digest(auth["token"])
        if isinstance(auth.get("guest_token"), str):
            return session_id, await self._guest(session_id, auth["guest_token"]), None
        if isinstance(auth.get("device_token"), str):
            return session_id, await self._hall(session_id, auth["device_token"]), None
        raise Refused(HOW_TO_CONNECT)

    # ---- connection lifecycle

    @refuse_when_unavailable
    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        # The page's language (?lang=, web/js/room-client.js) before the browser's header, and
        # with neither, the language the signed-in person chose.
        page = parse_qs(environ.get("QUERY_STRING", "")).get("lang", [""])[0][:35]
        requested = asked(page or environ.get("HTTP_ACCEPT_LANGUAGE"))
        principal = await self._principal(auth)  # looked up once per connection
        language = requested or (principal.language if principal is not None else DEFAULT)
        try:
            await self._connect(sid, environ, auth, language, principal)
        except Refused as refused:  # the reason in the language the client asked for
            reason = refused.args[0] if refused.args else ""
            raise Refused(translate(reason, language), *refused.args[1:]) from None

    async def _principal(self, auth: Any) -> Principal | None:
        """Whom the login token in ``auth`` signs in (None for guests, halls and tokens that
        sign no one in); its language is the room's when the page asks for none."""
        token = auth.get("token") if isinstance(auth, dict) else None
        # Only what could be a token is looked up; the rest is refused by _connect.
        readable = isinstance(token, str) and token.isascii() and 0 < len(token) <= 512
        return await self.resolve(token) if readable and isinstance(token, str) else None

    async def _connect(
        self,
        sid: str,
        environ: dict[str, Any],
        auth: Any,
        language: str,
        principal: Principal | None,
    ) -> None:
        request = environ.get("aiohttp.request")
        address = client_address(
            getattr(request, "remote", None),
            environ.get("HTTP_X_FORWARDED_FOR"),
            self.trusted_proxies,
        )
        audit.set_origin(address)
        try:
            session_id, actor, digest = await self._actor(auth, principal)
        except AppError as err:
            raise Refused(err.message) from None
        # A removed guest is turned away by lobby.enter below; staff read everything anyway.
        if not actor.is_guest and not actor.staff:
            _seq, state = await self.hub.snapshot(session_id)
            if actor.key in state["removed"]:
                raise Refused(_("You were removed from this session."))
        await self.save_session(
            sid,
            {
                "session_id": session_id,
                "actor": actor,  # kept as it is: a connection holds it for hours
                "joined": False,
                "address": address,
                "language": language,
            },
        )
        if actor.is_guest:
            await self.enter_room(sid, guest_room(session_id, actor.key))
            seq, state = await self.hub.snapshot(session_id)
            self.on_snapshot(session_id, seq)
            if actor.key in state["admitted"]:
                await self._join(sid, session_id, actor)
            else:
                if actor.key not in state["lobby"]:
                    try:
                        await self.hub.command(session_id, actor, "lobby.enter", {})
                    except AppError as err:  # e.g. a guest who was turned away
                        raise Refused(err.message) from None
                if await self._enters_directly(session_id, actor):
                    await self._join(sid, session_id, actor)
                    return
                await self.emit(
                    "lobby",
                    {"status": "waiting", "session_id": session_id},
                    to=sid,
                    ignore_queue=True,
                )
            return
        await self._join(sid, session_id, actor)
        if digest is not None:
            self.tokens.watch(sid, digest)

    async def _enters_directly(self, session_id: int, actor: Actor) -> bool:
        """With the session's lobby ``none``, a waiting guest is admitted by the server at once
        (logged as ``lobby.admit`` by ``system``, like a host's admission); True if admitted."""
        seed = await self.entries.get((session_id, None))
        if seed is None or seed["lobby"] != "none":
            return False

        def still_waiting(state: dict[str, Any]) -> None:
            if actor.key not in state["lobby"]:
                raise RoomError("conflict", _("That guest is not waiting."))

        data = {"who": actor.key, "name": actor.name}
        # Admitted (or turned away) in the meantime: the state says which.
        with contextlib.suppress(RoomError):
            await self.hub.record(session_id, "lobby.admit", data, "system", check=still_waiting)
        _seq, state = await self.hub.snapshot(session_id)
        return actor.key in state["admitted"]

    async def _join(self, sid: str, session_id: int, actor: Actor) -> dict[str, Any]:
        await self.enter_room(sid, room_name(session_id))
        audience = audience_room(session_id, actor.reads_drafts, in_crowd(actor))
        await self.enter_room(sid, audience)
        await self.hub.attach(session_id)  # before any wait: idle eviction must not intervene
        if sid in self.attached:  # the same connection joining twice at once counts once
            self.hub.detach(session_id)
        self.attached[sid] = session_id
        try:
            await self.hub.presence(
                session_id,
                {
                    "op": "join",
                    "who": actor.key,
                    "name": actor.name,
                    "role": actor.role,
                    # A person connects through their own device: remote until they check in
                    # at the hall (presence.checkin). The hall's device is the room itself.
                    "attendance": "in_person" if actor.is_hall else "remote",
                },
            )
        except BaseException:
            if self.attached.pop(sid, None) is not None:
                self.hub.detach(session_id)
            raise
        session = await self.get_session(sid)
        session["joined"] = True
        await self.save_session(sid, session)
        seq, state = await self.hub.view(session_id, actor)  # JSON, shared with a crowd
        self.on_snapshot(session_id, seq)
        snapshot = {
            "seq": seq,
            "state": Encoded(state),
            "ice_servers": self.sfu.ice_servers,  # for rtc.publish / rtc.subscribe
            "simulcast": self.sfu.simulcast,  # publish the camera as three layers (rtc.layer)
        }
        # This connection is on this process: no need to pass its snapshot through Redis.
        await self.emit("snapshot", snapshot, to=sid, ignore_queue=True)
        return snapshot

    async def on_disconnect(self, sid: str, *_reason: Any) -> None:
        self.limiter.forget(sid)
        self.tokens.forget(sid)
        attached = self.attached.pop(sid, None)
        if attached is not None:
            self.hub.detach(attached)
        try:
            session = await self.get_session(sid)
        except KeyError:
            return
        try:
            await self.sfu.leave(session["session_id"], sid)
        except Exception:
            log.exception("could not close the media of %s", sid)
        if session.get("joined"):
            actor: Actor = session["actor"]
            try:
                await self.hub.presence(session["session_id"], {"op": "leave", "who": actor.key})
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
        raise RoomError("rate_limited", _("Too many messages; slow down a little."))

    async def _who(self, sid: str) -> tuple[int, Actor, dict[str, Any]]:
        session = await self.get_session(sid)
        audit.set_origin(session.get("address"))
        return session["session_id"], session["actor"], session

    @socket_handler
    async def on_command(self, sid: str, payload: Any = None) -> dict[str, Any]:
        if not self.limiter.allow(sid):
            await self._refuse(sid)
        kind, data = command_of(payload)
        session_id, actor, session = await self._who(sid)
        if actor.is_guest and not session["joined"] and kind != "lobby.enter":
            raise RoomError("in_lobby", _("Wait until a host admits you."))
        event = await self.hub.command(session_id, actor, kind, data)
        return {"ok": True} if event is None else {"ok": True, "seq": event["seq"]}

    @socket_handler
    async def on_sync(self, sid: str, payload: Any = None) -> dict[str, Any]:
        session_id, actor, session = await self._who(sid)
        if not session["joined"]:
            raise RoomError("in_lobby", _("Wait until a host admits you."))
        _seq, state = await self.hub.snapshot(session_id)
        if actor.key in state["removed"]:
            raise RoomError("removed", _("You were removed from this session."))
        since = since_of(payload)
        events = None if since is None else await self.hub.events_since(session_id, since)
        if events is None:
            seq, view = await self.hub.view(session_id, actor)
            return {"ok": True, "snapshot": {"seq": seq, "state": Encoded(view)}}
        return {"ok": True, "events": events_view(events, actor)}

    @socket_handler
    async def on_join(self, sid: str, _payload: Any = None) -> dict[str, Any]:
        """A guest asks to enter the room after a host admitted them."""
        session_id, actor, session = await self._who(sid)
        if session["joined"]:
            return {"ok": True}
        _seq, state = await self.hub.snapshot(session_id)
        if actor.key not in state["admitted"]:
            raise RoomError("in_lobby", _("A host has not admitted you yet."))
        return {"ok": True, "snapshot": await self._join(sid, session_id, actor)}

    async def expel(self, session_id: int, who: str) -> None:
        """Put a removed participant's connections on this process out of the room: they
        receive nothing more, and their reconnects are refused."""
        sids = []
        # Every connection here, its own session read: removing someone is rare, and a room of
        # its own for each person (as a Socket.IO room) would cost every connection ~0.6 KB.
        for sid, _eio in list(self.server.manager.get_participants(NAMESPACE, None)):
            with contextlib.suppress(KeyError):  # gone in the meantime
                session = await self.get_session(sid)
                if session["session_id"] == session_id and session["actor"].key == who:
                    sids.append(sid)
        for sid in sids:
            for audience in (
                room_name(session_id),
                *(audience_room(session_id, *audience) for audience in AUDIENCES),
            ):
                await self.leave_room(sid, audience)
            await self.disconnect(sid)

    # ---- media signaling (acknowledged, outside the durable log; feeds are logged)

    async def _media_actor(self, sid: str) -> tuple[int, Actor, dict[str, Any]]:
        if not self.limiter.allow(sid):
            await self._refuse(sid)
        session_id, actor, session = await self._who(sid)
        if not session["joined"]:
            raise RoomError("in_lobby", _("Wait until a host admits you."))
        _seq, state = await self.hub.snapshot(session_id)
        if actor.key in state["removed"]:
            raise RoomError("removed", _("You were removed from this session."))
        return session_id, actor, state

    @socket_handler
    async def on_rtc_publish(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Publish a camera (with microphone) or a screen: ``{sdp, source}`` → the answer."""
        session_id, actor, state = await self._media_actor(sid)
        sdp, source = text_field(payload, "sdp"), (payload or {}).get("source", "camera")
        if actor.is_guest:
            raise RoomError("forbidden", _("Guests watch and ask questions; they do not publish."))
        if source == "screen" and not (actor.drives or actor.role == "unit"):
            raise RoomError("forbidden", _("Only hosts and the presenting unit share a screen."))
        if state["status"] == "ended":
            raise RoomError("not_live", _("The session has ended."))
        refuse_publish(state, actor.key)
        feed_id, answer = await self.sfu.publish(session_id, sid, actor.key, sdp, str(source))
        await self._left_meanwhile(session_id, sid)
        # Layers were offered (a=simulcast) and the media server forwards them one at a time.
        simulcast = self.sfu.simulcast and "a=simulcast:" in answer
        return {"ok": True, "feed_id": feed_id, "sdp": answer, "simulcast": simulcast}

    @socket_handler
    async def on_rtc_subscribe(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Receive a feed: ``{feed_id, kinds?}`` → the server's offer (answer with
        ``rtc.answer``). ``kinds`` (``["audio"]`` for a weak link) limits what is sent."""
        session_id, actor, _state = await self._media_actor(sid)
        feed_id = text_field(payload, "feed_id", 64)
        kinds = check_kinds(payload.get("kinds"))  # text_field made sure payload is a dict
        offer = await self.sfu.subscribe(session_id, sid, feed_id, actor.key, kinds)
        await self._left_meanwhile(session_id, sid)
        return {"ok": True, "sdp": offer}

    async def _left_meanwhile(self, session_id: int, sid: str) -> None:
        """The connection left while its media was being set up: its disconnect closed its
        media before this was booked, so close it again (nobody hears the answer)."""
        if sid not in self.attached:
            await self.sfu.leave(session_id, sid)

    @socket_handler
    async def on_rtc_unsubscribe(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Stop receiving ``{feed_id}`` (audio only, or only the floor holder's video)."""
        session_id, _actor, _state = await self._media_actor(sid)
        await self.sfu.unsubscribe(session_id, sid, text_field(payload, "feed_id", 64))
        return {"ok": True}

    @socket_handler
    async def on_rtc_layer(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Receive a subscribed feed's ``{feed_id, layer: "low"|"medium"|"high"}`` simulcast
        layer (a small tile or a weak link takes a smaller one). Without simulcast (the
        embedded SFU) it is accepted and changes nothing."""
        session_id, _actor, _state = await self._media_actor(sid)
        feed_id = text_field(payload, "feed_id", 64)
        layer = check_layer(payload.get("layer"))  # text_field made sure payload is a dict
        await self.sfu.layer(session_id, sid, feed_id, layer)
        return {"ok": True}

    @socket_handler
    async def on_rtc_answer(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Complete a subscription: ``{feed_id, sdp}``."""
        session_id, _actor, _state = await self._media_actor(sid)
        await self.sfu.answer(
            session_id, sid, text_field(payload, "feed_id", 64), text_field(payload, "sdp")
        )
        return {"ok": True}

    @socket_handler
    async def on_rtc_unpublish(self, sid: str, payload: Any = None) -> dict[str, Any]:
        """Stop publishing ``{feed_id}``."""
        session_id, _actor, _state = await self._media_actor(sid)
        await self.sfu.unpublish(session_id, sid, text_field(payload, "feed_id", 64))
        return {"ok": True}
