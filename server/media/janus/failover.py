"""Keeping a room's media where the room is: when an instance fails, and (with several server
processes) when another process moved the room or changed its floor.

* An instance's control connection drops (for longer than a short break, see ``client``): every
  room with media of this process there is placed on another instance; its feeds end
  (``feed.remove``) and every connection that had media there gets ``rtc.restart`` (republish,
  resubscribe). The room's log is otherwise untouched.
* Several processes: a process with feeds in a room reads the room's log every ``FOLLOW_EVERY``
  seconds (a floor given through another process reaches the room state here, and the observer
  moderates this process's feeds), and looks where the room is placed: if another process moved
  it (it lost its connection to the instance while this one did not), this process's
  connections restart too, so the whole room ends up on one instance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from server.media.base import MediaError
from server.media.janus.client import JanusInstance
from server.media.janus.placement import Place, Placer
from server.media.janus.state import JanusFeed, JanusRoom

log = logging.getLogger(__name__)

FOLLOW_EVERY = 0.5  # seconds between looks at other processes' room events and placement
Drop = Callable[[int, JanusRoom, JanusFeed], Awaitable[None]]
Restart = Callable[[str, dict[str, Any]], Awaitable[None]]
Refresh = Callable[[int], Awaitable[Any]]


class Failover:
    """Moves this process's rooms off a failed instance, and (several processes) follows rooms
    that another process moved. Works on the tier's rooms and placer; ends feeds with ``drop``
    (which announces ``feed.remove``)."""

    def __init__(
        self,
        *,
        rooms: dict[int, JanusRoom],
        placer: Placer,
        drop: Drop,
        on_restart: Restart | None,
        refresh: Refresh | None,
    ) -> None:
        self.rooms, self.placer, self.drop = rooms, placer, drop
        self.on_restart, self.refresh = on_restart, refresh

    async def on_up(self, instance: JanusInstance) -> None:
        self.placer.forget(instance.url)  # a new connection: new sessions, rooms made again

    async def on_down(self, instance: JanusInstance) -> None:
        """Every room with media on ``instance`` moves; its connections are told to restart."""
        self.placer.forget(instance.url)
        for session_id, room in list(self.rooms.items()):
            await self.restart(session_id, room, lambda p: p.instance is instance)

    async def restart(
        self, session_id: int, room: JanusRoom, gone: Callable[[Place], bool]
    ) -> None:
        """End this process's media of the room where ``gone`` says; tell its owners."""
        lost = [f for f in room.feeds.values() if gone(f.place)]
        subs = [k for k, s in room.subscriptions.items() if gone(s.place)]
        if not lost and not subs:
            return
        sids = {f.owner_sid for f in lost} | {k[0] for k in subs}
        for key in subs:
            room.subscriptions.pop(key, None)
        for feed in lost:
            await self.drop(session_id, room, feed)
        try:
            place = await self.placer.place(session_id)
            log.warning("room %s is on Janus %s now", session_id, place.instance.url)
        except MediaError:
            log.error("room %s has lost its media server and no other is up", session_id)
        if self.on_restart is not None:
            for sid in sids:
                await self.on_restart(sid, {"session_id": session_id, "reason": "media_moved"})

    async def follow(self, session_id: int, room: JanusRoom) -> None:
        """While this process has feeds in the room (several processes only)."""
        refresh = self.refresh
        while refresh is not None and self.rooms.get(session_id) is room and room.feeds:
            await asyncio.sleep(FOLLOW_EVERY)
            if self.rooms.get(session_id) is not room or not room.feeds:
                break  # the room's media ended (or the server is stopping) meanwhile
            try:
                await refresh(session_id)
                await self.regroup(session_id, room)
            except MediaError as exc:  # e.g. a short break of the instance's connection
                log.debug("room %s not followed this time: %s", session_id, exc)
            except Exception:
                log.exception("could not follow room %s", session_id)
        room.following = None

    async def regroup(self, session_id: int, room: JanusRoom) -> None:
        """Restart this process's media of the room that is not where the room is placed."""
        place = await self.placer.place(session_id)

        def elsewhere(where: Place) -> bool:
            return where != place

        await self.restart(session_id, room, elsewhere)
