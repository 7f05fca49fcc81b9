"""Which Janus instance serves a room: chosen by load, sticky for the room's life, stored in
``media_placements`` so every server process agrees, and moved when the instance fails.

Each Janus room gets a random number and a random secret (kept in the database, never sent to
clients); rooms are created on first use by whichever process needs them first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from server.db import Database, utcnow
from server.i18n import _
from server.media.base import MediaError
from server.media.janus import store
from server.media.janus.client import JanusDown, JanusError, JanusInstance
from server.media.janus.models import MediaPlacement

log = logging.getLogger(__name__)

ROOM_EXISTS = 427  # JANUS_VIDEOROOM_ERROR_ROOM_EXISTS
NO_SUCH_FEED = 428  # JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED
FEED_WAIT = 5.0  # seconds a subscription waits for a publisher that is still connecting
MAX_PUBLISHERS = 100
# Janus asks each publisher for a keyframe this often (seconds), besides when a subscriber needs
# one. A busy browser may not answer a keyframe request, and then sends none until asked again:
# with two busy loops on a two-core machine, Chromium counted Janus's PLI on every simulcast
# layer and encoded no keyframe after it, and a subscriber switching up a layer (which waits for
# a keyframe of it) waited for minutes; with this, 10.4 s. A keyframe of the low layer is a few
# KB, of the full one some tens.
KEYFRAME_EVERY = 10
SPEAKING_DBOV = 40  # average level (-dBov) under which a microphone counts as speech
SPEAKING_PACKETS = 25  # 20 ms Opus packets: ~0.5 s of speech before "talking"


def unavailable() -> MediaError:
    return MediaError("unavailable", _("The media servers cannot be reached; try again shortly."))


@dataclass(frozen=True)
class Place:
    """A room on an instance."""

    instance: JanusInstance
    room: int
    secret: str = field(repr=False)  # never in logs


class Placer:
    """Places rooms on instances and makes sure the Janus room exists there."""

    def __init__(
        self,
        *,
        database: Database,
        instances: dict[str, JanusInstance],
        admin_key: str | None,
        recording_dir: Path,
    ) -> None:
        self.database, self.instances = database, instances
        self.admin_key, self.recording_dir = admin_key, recording_dir
        self.created: set[tuple[str, int]] = set()  # rooms made on the current connection
        self.control: dict[str, tuple[int, int]] = {}  # url -> (session, handle)
        self._locks: dict[str, asyncio.Lock] = {}

    def forget(self, url: str) -> None:
        """The connection to ``url`` was lost or renewed: its sessions and rooms are gone."""
        self.control.pop(url, None)
        self.created = {key for key in self.created if key[0] != url}

    async def place(self, session_id: int) -> Place:
        """Where the room is (placing or moving it first if needed)."""
        for _attempt in range(3):
            async with self.database.read() as db:
                row = await store.placement_of(db, session_id)
            instance = self.instances.get(row.instance) if row is not None else None
            if instance is not None and instance.reconnecting:
                raise unavailable()  # a short break: the room stays where its media is
            if row is not None and instance is not None and instance.up:
                place = Place(instance, row.janus_room, row.secret)
            else:
                place_or_none = await self._choose(session_id, row)
                if place_or_none is None:
                    continue  # another process placed or moved it: read again
                place = place_or_none
            await self._ensure(place, session_id)
            return place
        raise unavailable()

    async def _choose(self, session_id: int, row: MediaPlacement | None) -> Place | None:
        up = [i for i in self.instances.values() if i.up]
        if not up:
            raise unavailable()
        async with self.database.read() as db:
            load = await store.placement_load(db)
        target = min(up, key=lambda i: load.get(i.url, 0))
        place = Place(target, secrets.randbelow(2**52) + 1, secrets.token_urlsafe(24))
        try:
            async with self.database.transaction() as db:
                if row is None:
                    await store.add_placement(
                        db,
                        MediaPlacement(
                            session_id=session_id,
                            instance=target.url,
                            janus_room=place.room,
                            secret=place.secret,
                            placed_at=utcnow(),
                        ),
                    )
                    moved = True
                else:
                    moved = await store.move_placement(
                        db, session_id, row.instance, target.url, place.room, place.secret, utcnow()
                    )
        except IntegrityError:
            return None
        if not moved:
            return None
        log.info("room %s placed on Janus %s", session_id, target.url)
        return place

    async def _handle(self, instance: JanusInstance) -> tuple[int, int]:
        """This process's own session and handle on an instance, for room requests."""
        lock = self._locks.setdefault(instance.url, asyncio.Lock())
        async with lock:
            if instance.url not in self.control:
                session = await instance.create_session()
                self.control[instance.url] = (session, await instance.attach(session))
            return self.control[instance.url]

    async def _ensure(self, place: Place, session_id: int) -> None:
        key = (place.instance.url, place.room)
        if key in self.created:
            return
        folder = self.recording_dir / str(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        body = {
            "request": "create",
            "room": place.room,
            "description": f"xieshang session {session_id}",
            "is_private": True,
            "publishers": MAX_PUBLISHERS,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "audiolevel_event": True,
            "audio_active_packets": SPEAKING_PACKETS,
            "audio_level_average": SPEAKING_DBOV,
            "notify_joining": False,
            "fir_freq": KEYFRAME_EVERY,
            "rec_dir": str(folder.resolve()),
            "permanent": False,
        }
        try:
            await self.request(place, body, with_admin=True)
        except JanusError as exc:
            if exc.code != ROOM_EXISTS:
                reason = _("The media server refused the room: {exc}", exc=str(exc))
                raise MediaError("unavailable", reason) from None
        except (JanusDown, TimeoutError):
            raise unavailable() from None
        self.created.add(key)

    async def request(
        self, place: Place, body: dict[str, Any], *, with_admin: bool = False
    ) -> dict[str, Any]:
        """A room request (create, moderate, destroy ...) with the room's secret."""
        session, handle = await self._handle(place.instance)
        full = {**body, "room": place.room, "secret": place.secret}
        if with_admin and self.admin_key:
            full["admin_key"] = self.admin_key
        data, _jsep = await place.instance.message(session, handle, full)
        return data

    async def open(self, place: Place) -> tuple[int, int]:
        """A new Janus session with a VideoRoom handle (one per feed and per subscription)."""
        try:
            session = await place.instance.create_session()
        except (JanusDown, JanusError, TimeoutError):
            raise unavailable() from None
        try:
            return session, await place.instance.attach(session)
        except (JanusDown, JanusError, TimeoutError):
            with contextlib.suppress(JanusDown, JanusError, TimeoutError):
                await place.instance.destroy(session)
            raise unavailable() from None

    async def join_subscriber(
        self, place: Place, session: int, handle: int, body: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Join as a subscriber; Janus's answer (``streams``: what it offers, each with its
        ``type`` and the publisher's ``feed_mid``) and offer, or None when there is no such
        feed. A publisher that joined but whose media is not flowing yet (its client is still
        connecting) is waited for, up to ``FEED_WAIT`` seconds."""
        deadline = asyncio.get_running_loop().time() + FEED_WAIT
        while True:
            try:
                data, jsep = await place.instance.message(session, handle, body)
                return None if jsep is None else (data, jsep)
            except JanusError as exc:
                late = asyncio.get_running_loop().time() > deadline
                if exc.code != NO_SUCH_FEED or late or not await self._joined(place, body):
                    return None
            await asyncio.sleep(0.1)

    async def _joined(self, place: Place, body: dict[str, Any]) -> bool:
        feed = body["streams"][0]["feed"]
        data = await self.request(place, {"request": "listparticipants"})
        return any(p.get("id") == feed for p in data.get("participants", []))

    async def release(self, session_id: int) -> None:
        """The session ended: destroy its Janus room and forget the placement."""
        async with self.database.read() as db:
            row = await store.placement_of(db, session_id)
        if row is None:
            return
        instance = self.instances.get(row.instance)
        if instance is not None and instance.up:
            place = Place(instance, row.janus_room, row.secret)
            with contextlib.suppress(JanusError, JanusDown, TimeoutError):
                await self.request(place, {"request": "destroy"})
            self.created.discard((row.instance, row.janus_room))
        async with self.database.transaction() as db:
            await store.drop_placement(db, session_id)
