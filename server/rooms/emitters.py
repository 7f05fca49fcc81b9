"""How the hub and the media backends reach clients: room broadcasts, their delivery in order
across server processes, and media restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import socketio

from server.realtime import RedisManager
from server.rooms.crowd import REDUCED
from server.rooms.events import AUDIENCES, NAMESPACE, audience_room, guest_room, room_name
from server.rooms.service import Event, RoomHub
from server.rooms.views import DRAFT_EVENTS, event_view, lobby_guests
from server.tasks import finish

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5  # how often a process that cannot hear Redis reads the room logs itself


def make_emitter(sio: socketio.AsyncServer) -> Any:
    """The hub's broadcast: every event to the room (draft minutes in full only to those who
    read drafts), lobby events also to the guest concerned.

    On Redis, each process's :class:`RoomDelivery` gate takes the room's one message and
    splits it into what each audience on that process may see.
    """

    async def emit(session_id: int, event: Event) -> None:
        view = event_view(event, drafts=True)
        if getattr(sio.manager, "gate", None) is not None:
            await sio.emit("event", view, room=room_name(session_id), namespace=NAMESPACE)
        else:
            await send_room_event(sio, session_id, view)

    return emit


async def send_room_event(
    sio: socketio.AsyncServer, session_id: int, view: Event, *, ignore_queue: bool = False
) -> None:
    """Deliver one room event as each audience may see it: a draft-minutes edit in full to
    those who read drafts and empty to the others; a crowd room's presence change in full to
    its hosts and as counts to the crowd; a lobby event also to its guest."""
    kw: dict[str, Any] = {"namespace": NAMESPACE, "ignore_queue": ignore_queue}
    crowded = view["type"] in REDUCED and "crowd" in view["data"]
    if view["type"] in DRAFT_EVENTS or crowded:
        for drafts, crowd in AUDIENCES:
            shown = event_view(view, drafts=drafts, crowd=crowd)
            await sio.emit("event", shown, room=audience_room(session_id, drafts, crowd), **kw)
    else:
        await sio.emit("event", view, room=room_name(session_id), **kw)
    guests = lobby_guests(view)
    shown = event_view(view, drafts=False) if guests else view
    for guest in guests:
        await sio.emit("event", shown, room=guest_room(session_id, guest), **kw)


def addressee(room: Any) -> tuple[int, bool] | None:
    """(session id, whether it is one guest's room) of a room event broadcast, else None."""
    kind, _, rest = room.partition(":") if isinstance(room, str) else ("", "", "")
    session, _, guest = rest.partition(":")
    if not session.isdigit():
        return None
    if kind == "room" and room == room_name(int(session)):
        return int(session), False
    if kind == "guest" and guest and room == guest_room(int(session), guest):
        return int(session), True
    return None


class RoomDelivery:
    """With several processes on Redis: every room event reaches this process's clients once,
    in seq order, even when Redis loses messages.

    Redis pub/sub delivers at most once (nothing while Redis is away, nothing a process
    publishes while another is not subscribed); the room log in the database has everything.
    So each process remembers, per room with clients here, the last seq it delivered, and every
    room broadcast passes through :meth:`gate`: an event already delivered is dropped, and a gap
    before it is filled from the log first. While this process cannot hear Redis it reads the
    logs itself every ``poll_seconds``; when it hears Redis again it reads them once more and
    publishes the newest event of each room it could not publish to, so that the other
    processes find and fill their gap. A room further behind than a ``sync`` answers with
    events gets ``resync {session_id}``: its clients sync and receive a snapshot.

    Lobby events reach a waiting guest as part of the room's sequence (the copy the hub sends
    to the guest's own room is dropped), so they too arrive once and in order.
    """

    def __init__(
        self, *, sio: socketio.AsyncServer, hub: RoomHub, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.sio, self.hub, self.poll_seconds = sio, hub, poll_seconds
        self.delivered: dict[int, int] = {}  # session id → last seq delivered to clients here
        self._locks: dict[int, asyncio.Lock] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        manager = sio.manager
        self.redis = manager if isinstance(manager, RedisManager) else None

    def start(self) -> None:
        """Take over room broadcasts (when on Redis) and start watching the connection."""
        if self.redis is not None:
            self.redis.gate = self.gate
            self._task = asyncio.ensure_future(self._watch(self.redis))

    async def close(self) -> None:
        """Stop watching (application shutdown)."""
        self._closing.set()
        if self.redis is not None:
            self.redis.gate = None
            self.redis.changed.set()
        if self._task is not None:
            await finish([self._task])

    def baseline(self, session_id: int, seq: int) -> None:
        """A client here got a snapshot at ``seq``: the room's events are delivered from there
        on (unless this process is already delivering them)."""
        if self.redis is not None:
            self.delivered.setdefault(session_id, seq)

    # ---- the gate every room broadcast passes on its way to this process's clients

    async def gate(self, namespace: str, event: str, room: Any, data: Any) -> bool:
        """Deliver a room event here in seq order; False for any other broadcast."""
        target = addressee(room) if namespace == NAMESPACE and event == "event" else None
        if target is None or not isinstance(data, dict) or not isinstance(data.get("seq"), int):
            return False
        session_id, to_guest = target
        if to_guest:
            return True  # delivered with the room's events, in their order
        try:
            async with self._lock(session_id):
                await self._deliver(session_id, data)
        except Exception:  # a bug here must not fail the command whose event this is
            # Not handed back for plain delivery (it would show draft minutes to everyone):
            # the next event finds the gap and fills it from the log.
            log.exception("room %s: delivering event %s in order failed", session_id, data["seq"])
        return True

    def _lock(self, session_id: int) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def _deliver(self, session_id: int, view: Event) -> None:
        if not self._has_clients(session_id):
            self.delivered.pop(session_id, None)  # nobody to deliver to; a newcomer starts anew
            return
        last = self.delivered.get(session_id, view["seq"] - 1)
        if view["seq"] > last + 1:
            self.delivered[session_id] = last
            await self._fill(session_id)
            last = self.delivered[session_id]
        if view["seq"] > last:
            await self._send(session_id, view)

    async def _fill(self, session_id: int) -> None:
        """Deliver from the log what this process's clients have not received yet (never
        raises: the event that needed it was logged already, whatever happens here)."""
        last = self.delivered[session_id]
        try:
            events = await self.hub.events_since(session_id, last)
            if events is None:
                await self._tell_to_resync(session_id)
                return
            for event in events:
                await self._send(session_id, event_view(event, drafts=True))
        except Exception:
            log.exception("could not deliver room %s's events after %s", session_id, last)

    async def _send(self, session_id: int, view: Event) -> None:
        await send_room_event(self.sio, session_id, view, ignore_queue=True)
        self.delivered[session_id] = view["seq"]

    async def _tell_to_resync(self, session_id: int) -> None:
        newest = await self.hub.newest(session_id)
        if newest is not None:
            self.delivered[session_id] = max(newest["seq"], self.delivered[session_id])
        await self.sio.emit(
            "resync",
            {"session_id": session_id},
            room=room_name(session_id),
            namespace=NAMESPACE,
            ignore_queue=True,
        )

    def _has_clients(self, session_id: int) -> bool:
        rooms: dict[str, Any] = self.sio.manager.rooms.get(NAMESPACE, {})
        if rooms.get(room_name(session_id)):
            return True
        prefix = guest_room(session_id, "")
        return any(
            isinstance(name, str) and name.startswith(prefix) and sids  # None: the namespace
            for name, sids in rooms.items()
        )

    # ---- watching the connection to the other processes

    async def _watch(self, redis: RedisManager) -> None:
        behind = False  # events may have been lost since the last catch-up
        while not self._closing.is_set():  # a flag, not a cancellation: see server.tasks
            redis.changed.clear()
            await redis.probe()
            linked = redis.linked
            try:
                if behind or not linked:
                    await self.catch_up()  # polling while degraded, and once more when linked
                    # Linked before the catch-up began: nothing escaped it. Following no room,
                    # nothing was missed.
                    behind = not linked and bool(self.delivered)
                if redis.linked:
                    await self._announce(redis)
            except Exception:
                log.exception("could not catch the rooms up after a Redis outage")
                behind = True
            if self._closing.is_set():
                return
            if redis.linked and not behind:
                await redis.changed.wait()  # close() sets it too
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.poll_seconds)

    async def catch_up(self) -> None:
        """Deliver from the log every event the clients here missed."""
        for session_id in list(self.delivered):
            async with self._lock(session_id):
                if session_id not in self.delivered:
                    continue
                if not self._has_clients(session_id):
                    del self.delivered[session_id]
                    continue
                await self._fill(session_id)

    async def _announce(self, redis: RedisManager) -> None:
        """Publish again the newest event of each room whose broadcast was lost: the other
        processes see the gap before it and fill it from the log."""
        pending = set(redis.unpublished)  # one round: what fails again waits for the next
        redis.unpublished -= pending
        try:
            for namespace, name in pending:
                target = addressee(name) if namespace == NAMESPACE else None
                if target is None or target[1]:
                    continue  # not a room's sequence (a guest's copy comes with it)
                newest = await self.hub.newest(target[0])
                if newest is not None:
                    view = event_view(newest, drafts=True)
                    await self.sio.emit("event", view, room=name, namespace=NAMESPACE)
        except Exception:
            redis.unpublished |= pending  # announcing twice does no harm; not at all would
            raise


def make_restarter(sio: socketio.AsyncServer) -> Any:
    """Tell one connection its media moved (a media server failed): ``rtc.restart`` asks it to
    publish again and to subscribe again to the room's feeds."""

    async def restart(sid: str, data: dict[str, Any]) -> None:
        await sio.emit("rtc.restart", data, to=sid, namespace=NAMESPACE)

    return restart
