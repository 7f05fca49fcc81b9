"""The Janus tier: rooms served by Meetecho Janus VideoRoom instances, driven by the server.

Clients speak the same ``rtc.*`` as with the embedded SFU (``embedded/sfu.py``). Per published
feed and per subscription this process opens a Janus session with a VideoRoom handle: a
publisher ``joinandconfigure``s with the client's offer (Janus answers); a subscriber ``join``s
with ``streams: [{feed}]`` (Janus offers) and ``start``s with the client's answer. A feed id is
the Janus publisher id, so any server process can subscribe anyone to any feed of the room.

* Microphones follow the room (:meth:`JanusSfu.hear`) through the VideoRoom ``moderate`` request
  (Janus drops a muted stream whatever the client sends); each process moderates its own feeds.
* Active speaker: Janus's ``talking`` events. Recording: see ``recording``.
* Simulcast: browsers publish their camera as three layers (rids ``h``/``m``/``l``, full, half
  and quarter size; Janus takes them from the offer, no room setting is needed); each
  subscriber gets the highest unless it asks for another (``rtc.layer``), which becomes a
  VideoRoom ``configure`` of its handle with that ``substream`` (0 lowest) and every
  ``temporal`` layer.
* Failover: when an instance's connection drops for longer than a short break (see ``client``),
  its feeds end (``feed.remove``), the room is placed on another instance and every connection
  with media there gets ``rtc.restart``. After a short break the same sessions carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from server.db import Database
from server.i18n import _
from server.media.base import (
    KINDS,
    LAYERS,
    FeedChanged,
    FeedRooms,
    MediaError,
    Recorded,
    check_source,
    no_such_feed,
    subscribe_first,
)
from server.media.janus import recording as janus_recording
from server.media.janus.client import JanusDown, JanusError, JanusInstance
from server.media.janus.failover import Failover, Refresh, Restart
from server.media.janus.placement import Place, Placer, unavailable
from server.media.janus.state import JanusFeed, JanusRoom, Subscription, mids
from server.tasks import finish

log = logging.getLogger(__name__)


class JanusSfu(FeedRooms[JanusRoom, JanusFeed]):
    """Rooms on Janus instances (``XIESHANG_JANUS_URLS``), with the embedded SFU's interface."""

    def __init__(
        self,
        *,
        urls: tuple[str, ...],
        api_secret: str | None,
        admin_key: str | None,
        database: Database,
        ice_servers: list[dict[str, Any]],
        on_feed: FeedChanged,
        on_recorded: Recorded | None = None,
        on_restart: Restart | None = None,
        refresh: Refresh | None = None,
        recording_dir: Path = Path("var/recordings"),
    ) -> None:
        super().__init__(on_feed=on_feed, on_recorded=on_recorded)
        self.ice_servers, self.refresh = ice_servers, refresh
        self.simulcast = True  # browsers publish three layers; subscribers pick (rtc.layer)
        self.instances = {
            url: JanusInstance(
                url,
                api_secret=api_secret,
                on_event=self._on_event,
                on_down=self._on_down,
                on_up=self._on_up,
                on_back=self._on_back,
            )
            for url in urls
        }
        self.recording_dir = recording_dir
        self.placer = Placer(
            database=database,
            instances=self.instances,
            admin_key=admin_key,
            recording_dir=recording_dir / "janus",
        )
        self.failover = Failover(
            rooms=self.rooms,
            placer=self.placer,
            drop=self._drop,
            on_restart=on_restart,
            refresh=refresh,
        )
        self.publishers: dict[tuple[str, int], tuple[int, str]] = {}  # (url, handle) -> feed
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Connect to every instance (those that are down are retried in the background)."""
        await asyncio.gather(*(i.start() for i in self.instances.values()))

    def _new_room(self) -> JanusRoom:
        return JanusRoom()

    async def _on_down(self, instance: JanusInstance) -> None:
        await self.failover.on_down(instance)

    async def _on_up(self, instance: JanusInstance) -> None:
        await self.failover.on_up(instance)

    async def _on_back(self, instance: JanusInstance) -> None:
        """A short break ended with the same sessions: apply the floor changes it held up."""
        for room in self.rooms.values():
            self._follow_audible(room)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Janus task failed", exc_info=task.exception())

    # ---- publishing and subscribing

    async def publish(
        self, session_id: int, sid: str, who: str, sdp: str, source: str
    ) -> tuple[str, str]:
        """Take a publisher's offer; returns the feed id and Janus's answer."""
        check_source(source)
        if "m=audio" not in sdp and "m=video" not in sdp:
            raise MediaError("invalid", _("The offer carries no audio or video to publish."))
        self._may_publish(self._room(session_id), who, source)
        place = await self.placer.place(session_id)
        janus_id = secrets.randbelow(2**52) + 1
        body = {
            "request": "joinandconfigure",
            "ptype": "publisher",
            "room": place.room,
            "id": janus_id,
            "display": who,
            "audio": True,
            "video": True,
        }
        session, handle = await self.placer.open(place)
        try:
            _data, jsep = await place.instance.message(
                session, handle, body, {"type": "offer", "sdp": sdp, "trickle": False}
            )
            if jsep is None or jsep.get("type") != "answer":
                raise JanusError(0, "no answer")
        except JanusError as exc:
            await _quietly(place.instance.destroy(session))
            raise MediaError(
                "invalid", _("That offer cannot be used: {reason}", reason=exc.reason)
            ) from None
        except (JanusDown, TimeoutError):
            await _quietly(place.instance.destroy(session))
            raise unavailable() from None
        feed = JanusFeed(
            str(janus_id), who, source, sid, place, session, handle, mids(sdp, "audio")
        )
        room = self._room(session_id)
        self._book(room, feed)
        self.publishers[(place.instance.url, handle)] = (session_id, feed.feed_id)
        if self.refresh is not None and room.following is None:
            room.following = asyncio.ensure_future(self.failover.follow(session_id, room))
        await self._moderate(room, feed)  # silent from the start unless they may be heard
        if room.recording:
            await self._record(session_id, feed)
        await self._announce(session_id, feed)
        return feed.feed_id, str(jsep["sdp"])

    async def subscribe(
        self, session_id: int, sid: str, feed_id: str, who: str = "", kinds: frozenset[str] = KINDS
    ) -> str:
        """Janus's offer that sends feed ``feed_id`` (its streams of ``kinds``) to this
        connection. Audio only subscribes to the feed's audio streams by their mids when this
        process published the feed and knows them. Otherwise, when Janus's offer carries a kind
        not asked for (a feed published through another process, or video only), its answer
        names each stream's kind and mid, and the subscriber joins again for the kinds asked
        alone: nothing else is offered or sent, whatever the client answers."""
        if not feed_id.isdigit():
            raise no_such_feed()
        room = self._room(session_id)
        key = (sid, feed_id)
        ticket = self._ask(room, key)  # before any await: the order they were asked in
        session: int | None = None
        try:
            await self._unsubscribe(room, key)  # what it received so far
            place = await self.placer.place(session_id)
            known = room.feeds.get(feed_id)
            only = known.audio_mids if known is not None and kinds == {"audio"} else None
            session, handle, offered, jsep = await self._join_subscriber(place, feed_id, only)
            if any(mids(str(jsep["sdp"]), kind) for kind in KINDS - kinds):
                await _quietly(place.instance.destroy(session))
                session = None
                streams = offered.get("streams", [])
                only = tuple(
                    str(s["feed_mid"])
                    for s in streams
                    if s.get("type") in kinds and "feed_mid" in s
                )
                session, handle, offered, jsep = await self._join_subscriber(place, feed_id, only)
            # A later rtc.subscribe (or rtc.unsubscribe, or leaving) of this feed may have come
            # meanwhile: then it counts, not this one.
            room = self._booking(session_id, key, ticket)
        except BaseException:  # refused, superseded, or the request was cancelled
            self._unask(room, key, ticket)
            if session is not None:
                await _quietly(place.instance.destroy(session))
            raise
        # One booked meanwhile (begun earlier): this one replaces it.
        await self._unsubscribe(room, key)
        room.subscriptions[key] = Subscription(
            place, session, handle, mids(str(jsep["sdp"]), "video")
        )
        room.owners[sid] = who
        return str(jsep["sdp"])

    async def _join_subscriber(
        self, place: Place, feed_id: str, feed_mids: tuple[str, ...] | None
    ) -> tuple[int, int, dict[str, Any], dict[str, Any]]:
        """A Janus session and handle subscribed to the feed (its streams ``feed_mids`` alone
        when given), Janus's answer and its offer; nothing is left open when it fails."""
        if feed_mids == ():  # none of the kinds asked for: a camera without a microphone
            raise MediaError("invalid", _("That feed carries none of the kinds asked for."))
        streams: list[dict[str, Any]] = [{"feed": int(feed_id)}]
        if feed_mids:
            streams = [{"feed": int(feed_id), "mid": mid} for mid in feed_mids]
        body = {"request": "join", "ptype": "subscriber", "room": place.room, "streams": streams}
        session, handle = await self.placer.open(place)
        try:
            try:
                joined = await self.placer.join_subscriber(place, session, handle, body)
            except (JanusDown, TimeoutError):
                joined = None
                if not place.instance.up:
                    raise unavailable() from None
            if joined is None:
                raise no_such_feed()
        except BaseException:
            await _quietly(place.instance.destroy(session))
            raise
        return session, handle, *joined

    async def answer(self, session_id: int, sid: str, feed_id: str, sdp: str) -> None:
        """The subscriber's answer to :meth:`subscribe`'s offer."""
        sub = self._room(session_id).subscriptions.get((sid, feed_id))
        if sub is None:
            raise subscribe_first()
        try:
            await sub.place.instance.message(
                sub.session, sub.handle, {"request": "start"}, {"type": "answer", "sdp": sdp}
            )
        except JanusError as exc:
            raise MediaError(
                "invalid", _("That answer cannot be used: {reason}", reason=exc.reason)
            ) from None
        except (JanusDown, TimeoutError):
            raise unavailable() from None
        sub.started = True
        if sub.layer != "high":  # asked for before the answer
            await self._configure_layer(sub)

    async def _set_layer(self, room: JanusRoom, key: tuple[str, str], layer: str) -> None:
        sub = room.subscriptions[key]
        sub.layer = layer
        if sub.started:
            await self._configure_layer(sub)

    async def _configure_layer(self, sub: Subscription) -> None:
        """Tell Janus which substream to send this subscriber (a feed published without
        simulcast has one, which Janus sends whatever is asked). Janus switches on the next
        keyframe of that layer (it asks the publisher for one): measured with Chromium, up to
        a larger layer within 0.2 s, down to a smaller one only after 40-90 s, so
        the web client asks for a subscription's layer before it answers (``answer``)."""
        if not sub.video_mids:
            return  # audio only: no picture to choose
        substream = LAYERS.index(sub.layer)  # Janus: 0 is the lowest
        streams = [{"mid": mid, "substream": substream, "temporal": 2} for mid in sub.video_mids]
        try:
            await sub.place.instance.message(
                sub.session, sub.handle, {"request": "configure", "streams": streams}
            )
        except JanusError as exc:
            raise MediaError(
                "invalid", _("That layer cannot be chosen: {reason}", reason=exc.reason)
            ) from None
        except (JanusDown, TimeoutError):
            raise unavailable() from None

    async def _unsubscribe(self, room: JanusRoom, key: tuple[str, str]) -> None:
        sub = room.subscriptions.pop(key, None)
        if sub is not None:
            await _quietly(sub.place.instance.destroy(sub.session))

    async def _close_feed(self, room: JanusRoom, feed: JanusFeed) -> None:
        self.publishers.pop((feed.place.instance.url, feed.handle), None)
        await _quietly(feed.place.instance.destroy(feed.session))

    # ---- microphones and the active speaker

    def _follow_audible(self, room: JanusRoom) -> None:
        for feed in room.feeds.values():
            if feed.muted != (feed.who not in room.audible):
                self._spawn(self._moderate(room, feed))

    async def _moderate(self, room: JanusRoom, feed: JanusFeed) -> None:
        async with feed.lock:
            mute = feed.who not in room.audible
            if mute == feed.muted or not feed.audio_mids:
                return
            for mid in feed.audio_mids:
                body = {"request": "moderate", "id": int(feed.feed_id), "mid": mid, "mute": mute}
                try:
                    await self.placer.request(feed.place, body)
                except (JanusDown, JanusError, TimeoutError) as exc:
                    log.warning("could not moderate feed %s: %s", feed.feed_id, exc)
                    return
            feed.muted = mute

    def _on_event(self, instance: JanusInstance, message: dict[str, Any]) -> None:
        key = (instance.url, int(message.get("sender") or 0))
        if key not in self.publishers:
            return
        session_id, feed_id = self.publishers[key]
        room = self.rooms.get(session_id)
        feed = room.feeds.get(feed_id) if room is not None else None
        if room is None or feed is None:
            return
        if message.get("janus") == "hangup":  # the publisher's connection failed or closed
            self._spawn(self._drop(session_id, room, feed))
            return
        data = message.get("plugindata", {}).get("data", {})
        talking = data.get("videoroom") == "talking" and str(data.get("id")) == feed_id
        if talking and feed.who in room.audible and room.speaker != feed.who:
            room.speaker = feed.who
            self._spawn(self.on_feed(session_id, "speaker.active", {"who": feed.who}))

    # ---- recording

    def _record_later(self, session_id: int, room: JanusRoom, feed: JanusFeed) -> None:
        self._spawn(self._record(session_id, feed))

    async def _record(self, session_id: int, feed: JanusFeed) -> None:
        folder = (self.recording_dir / "janus" / str(session_id)).resolve()
        await janus_recording.start(feed, folder)

    async def _recorded(
        self, session_id: int, room: JanusRoom, feed: JanusFeed
    ) -> dict[str, Any] | None:
        return await janus_recording.finish(feed, self.recording_dir / str(session_id))

    # ---- the end

    async def end_room(self, session_id: int) -> None:
        """The session ended: finish recordings, close the room's media, destroy its Janus room."""
        await super().end_room(session_id)
        try:
            await self.placer.release(session_id)
        except Exception:
            log.exception("could not release the Janus room of session %s", session_id)

    async def close(self) -> None:
        """Shutdown: finish recordings and close every Janus session of this process."""
        for session_id in list(self.rooms):
            with contextlib.suppress(Exception):
                await self.stop_recording(session_id)
        following = [room.following for room in self.rooms.values() if room.following]
        self.rooms.clear()  # each follow loop ends at its next look, without a database call
        # Not cancelled at once: a follow loop may be reading the room log, and its feed tasks
        # may be recording events (see server.tasks); a cancelled read can leave its connection
        # open, and one that outlived the database's close reopened the pool (a CI failure).
        await finish([*following, *self._tasks])
        await asyncio.gather(*(i.close() for i in self.instances.values()))


async def _quietly(request: Awaitable[Any]) -> None:
    """A clean-up request that may fail (the instance may be gone)."""
    with contextlib.suppress(JanusDown, JanusError, TimeoutError):
        await request
