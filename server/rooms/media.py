"""The embedded SFU: aiortc peer connections that forward what publishers send, still encoded.

aiortc's stock ``MediaRelay`` decodes each published track and its senders encode it again for
every subscriber (~7 % of a core per 640x360 subscriber). Here nothing is decoded or encoded:

* A publisher's receiver reassembles each RTP frame (jitter buffer, NACKs, RTX) as usual, then
  hands it to its decoder thread through a queue. :class:`Tap` takes that queue's place: each
  complete encoded frame goes to the feed's :class:`Relay` and the decoder thread stays idle.
* Each subscriber gets a :class:`RelayTrack` per published track that yields ``av.Packet``s;
  aiortc's sender only packetises packets (``RTCRtpSender._next_encoded_frame``), so the cost per
  subscriber is packetising and sending.
* Keyframes: a new subscriber waits for a VP8 keyframe (others' delta frames are useless to its
  decoder) and the server asks the publisher for one (RTCP PLI); a subscriber's own PLI, which
  aiortc turns into ``RTCRtpSender._send_keyframe``, is passed on to the publisher the same way,
  at most every ``KEYFRAME_INTERVAL`` seconds per feed.
* Audio is forwarded only for people allowed to be heard (:meth:`Sfu.hear`): the room decides
  (whoever holds the floor, and hosts who are not muted); other microphones are dropped here,
  whatever the client does.
* Video is VP8 and audio Opus (both negotiated by every browser); publishers must offer them.

What this relies on inside aiortc (pinned to 1.16.*): the receiver's private decoder queue
(``_RTCRtpReceiver__decoder_queue``, replaced when the track appears, before ``receive()``
starts the decoder thread), ``RTCRtpReceiver._send_rtcp_pli`` and ``RTCRtpSender._send_keyframe``.
``tests/server/rooms/test_media.py`` checks each of them and that frames really arrive undecoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import queue
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiohttp import web
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.rooms.reducer import audible
from server.rooms.rules import RoomError

log = logging.getLogger(__name__)

KEYFRAME_INTERVAL = 0.5  # seconds between keyframe requests to one publisher
QUEUE_FRAMES = 60  # frames a slow subscriber may lag before it is resynced at a keyframe
SOURCES = ("camera", "screen")
CLOCK = {"video": 90_000, "audio": 48_000}
WANTED = {"video": "video/VP8", "audio": "audio/opus"}


def is_keyframe(data: bytes) -> bool:
    """A VP8 frame is a keyframe when bit 0 of its first byte is clear (RFC 6386 §9.1)."""
    return bool(data) and not data[0] & 0x01


class Relay:
    """One published track (video or audio): its frames go to every subscriber's track."""

    def __init__(self, kind: str, receiver: RTCRtpReceiver) -> None:
        self.kind, self.receiver = kind, receiver
        self.tracks: set[RelayTrack] = set()
        self.audible = kind == "video"  # audio is forwarded only when the room allows it
        self.frames = 0
        self._asked = 0.0

    def push(self, data: bytes, timestamp: int) -> None:
        self.frames += 1
        if not self.audible:
            return
        for track in list(self.tracks):
            track.offer(data, timestamp)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe (RTCP PLI), not more often than needed."""
        if self.kind != "video" or time.monotonic() - self._asked < KEYFRAME_INTERVAL:
            return
        self._asked = time.monotonic()
        for source in self.receiver.getSynchronizationSources():
            task = asyncio.ensure_future(self.receiver._send_rtcp_pli(source.source))
            task.add_done_callback(_quietly)

    def end(self) -> None:
        for track in list(self.tracks):
            track.finish()
        self.tracks.clear()


def _quietly(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("keyframe request failed: %s", task.exception())


class Tap(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: encoded frames go to the relay, not to a
    decoder. ``None`` (the receiver stopping) still reaches the idle decoder thread."""

    def __init__(self, relay: Relay) -> None:
        super().__init__()
        self.relay = relay

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None, block, timeout)
            return
        _codec, frame = item
        self.relay.push(frame.data, frame.timestamp)


class RelayTrack(MediaStreamTrack):
    """What one subscriber's sender reads: the publisher's frames as ``av.Packet``s."""

    def __init__(self, relay: Relay) -> None:
        super().__init__()
        self.kind = relay.kind
        self.relay = relay
        self.time_base = fractions.Fraction(1, CLOCK[relay.kind])
        self.queue: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue()
        self.waiting = relay.kind == "video"  # for a keyframe
        self.delivered = 0
        relay.tracks.add(self)
        if self.waiting:
            relay.request_keyframe()

    def offer(self, data: bytes, timestamp: int) -> None:
        if self.waiting:
            if not is_keyframe(data):
                self.relay.request_keyframe()
                return
            self.waiting = False
        if self.queue.qsize() >= QUEUE_FRAMES:  # a subscriber that cannot keep up
            while not self.queue.empty():
                self.queue.get_nowait()
            self.waiting = self.kind == "video"
            if self.waiting:
                self.relay.request_keyframe()
                return
        self.queue.put_nowait((data, timestamp))

    async def recv(self) -> av.Packet[Any]:
        item = await self.queue.get()
        if item is None or self.readyState != "live":
            raise MediaStreamError
        data, timestamp = item
        packet = av.Packet(data)
        packet.pts = timestamp
        packet.time_base = self.time_base
        self.delivered += 1
        return packet

    def finish(self) -> None:
        self.queue.put_nowait(None)

    def stop(self) -> None:
        self.relay.tracks.discard(self)
        super().stop()


@dataclass
class Feed:
    """One published stream (a camera with its microphone, or a screen)."""

    feed_id: str
    who: str
    source: str
    owner_sid: str
    pc: RTCPeerConnection
    relays: dict[str, Relay] = field(default_factory=dict)


@dataclass
class MediaRoom:
    feeds: dict[str, Feed] = field(default_factory=dict)
    # subscriber peer connections by (sid, feed_id)
    subscriptions: dict[tuple[str, str], RTCPeerConnection] = field(default_factory=dict)
    audible: frozenset[str] = frozenset()


def _prefer(pc: RTCPeerConnection) -> None:
    """Negotiate only VP8 for video and Opus for audio on every transceiver."""
    for transceiver in pc.getTransceivers():
        kind = transceiver.kind
        codecs = RTCRtpSender.getCapabilities(kind).codecs
        wanted = [c for c in codecs if c.mimeType == WANTED[kind]]
        rtx = [c for c in codecs if c.mimeType.endswith("/rtx")]
        transceiver.setCodecPreferences(wanted + rtx)


FeedChanged = Callable[[int, str, dict[str, Any]], Awaitable[None]]


class Sfu:
    """Every media room this process serves."""

    def __init__(self, *, ice_servers: list[dict[str, Any]], on_feed: FeedChanged) -> None:
        self.config = RTCConfiguration(
            iceServers=[
                RTCIceServer(
                    urls=s["urls"], username=s.get("username"), credential=s.get("credential")
                )
                for s in ice_servers
            ]
        )
        self.ice_servers = ice_servers  # what clients are told to use
        self.on_feed = on_feed
        self.rooms: dict[int, MediaRoom] = {}

    def _room(self, session_id: int) -> MediaRoom:
        return self.rooms.setdefault(session_id, MediaRoom())

    async def publish(
        self, session_id: int, sid: str, who: str, sdp: str, source: str
    ) -> tuple[str, str]:
        """Take a publisher's offer; returns the feed id and the answer."""
        if source not in SOURCES:
            raise RoomError("invalid", "source must be camera or screen.")
        room = self._room(session_id)
        if any(f.who == who and f.source == source for f in room.feeds.values()):
            raise RoomError("conflict", f"You already publish your {source}; unpublish it first.")
        pc = RTCPeerConnection(self.config)
        feed = Feed(uuid.uuid4().hex[:16], who, source, sid, pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
            relay = Relay(track.kind, receiver)
            setattr(receiver, "_RTCRtpReceiver__decoder_queue", Tap(relay))  # noqa: B010
            feed.relays[track.kind] = relay

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and feed.feed_id in room.feeds:
                await self.unpublish(session_id, sid, feed.feed_id)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if "video" not in feed.relays and "audio" not in feed.relays:
                raise RoomError("invalid", "The offer carries no audio or video to publish.")
            _prefer(pc)
            await pc.setLocalDescription(await pc.createAnswer())
        except RoomError:
            await pc.close()
            raise
        except Exception as exc:
            await pc.close()
            raise RoomError("invalid", f"That offer cannot be used: {exc}") from None
        answer = pc.localDescription.sdp
        if "VP8" not in answer and "video" in feed.relays:
            await pc.close()
            raise RoomError("invalid", "Publish video as VP8 (every browser can).")
        room.feeds[feed.feed_id] = feed
        if "audio" in feed.relays:
            feed.relays["audio"].audible = who in room.audible
        await self.on_feed(
            session_id, "feed.add", {"feed_id": feed.feed_id, "who": who, "source": source}
        )
        return feed.feed_id, answer

    async def subscribe(self, session_id: int, sid: str, feed_id: str) -> str:
        """An offer that sends feed ``feed_id`` to this connection."""
        room = self._room(session_id)
        feed = room.feeds.get(feed_id)
        if feed is None:
            raise RoomError("not_found", "There is no such feed (it may have ended).")
        old = room.subscriptions.pop((sid, feed_id), None)
        if old is not None:
            await old.close()
        pc = RTCPeerConnection(self.config)
        for kind in ("video", "audio"):
            relay = feed.relays.get(kind)
            if relay is None:
                continue
            sender = pc.addTrack(RelayTrack(relay))
            # The subscriber's PLI (its decoder lost a picture) goes on to the publisher.
            setattr(sender, "_send_keyframe", relay.request_keyframe)  # noqa: B010
        _prefer(pc)
        await pc.setLocalDescription(await pc.createOffer())
        room.subscriptions[(sid, feed_id)] = pc
        return str(pc.localDescription.sdp)

    async def answer(self, session_id: int, sid: str, feed_id: str, sdp: str) -> None:
        """The subscriber's answer to :meth:`subscribe`'s offer."""
        pc = self._room(session_id).subscriptions.get((sid, feed_id))
        if pc is None or pc.signalingState != "have-local-offer":
            raise RoomError("conflict", "Subscribe to that feed first (rtc.subscribe).")
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:
            raise RoomError("invalid", f"That answer cannot be used: {exc}") from None

    async def unpublish(self, session_id: int, sid: str, feed_id: str) -> None:
        room = self._room(session_id)
        feed = room.feeds.get(feed_id)
        if feed is None or feed.owner_sid != sid:
            raise RoomError("not_found", "You publish no such feed.")
        await self._drop(session_id, room, feed)

    async def _drop(self, session_id: int, room: MediaRoom, feed: Feed) -> None:
        if room.feeds.pop(feed.feed_id, None) is None:
            return
        for relay in feed.relays.values():
            relay.end()
        for key in [k for k in room.subscriptions if k[1] == feed.feed_id]:
            await room.subscriptions.pop(key).close()
        await feed.pc.close()
        await self.on_feed(session_id, "feed.remove", {"feed_id": feed.feed_id, "who": feed.who})

    async def leave(self, session_id: int, sid: str) -> None:
        """A connection left the room: its feeds and subscriptions end."""
        room = self.rooms.get(session_id)
        if room is None:
            return
        for feed in [f for f in room.feeds.values() if f.owner_sid == sid]:
            await self._drop(session_id, room, feed)
        for key in [k for k in room.subscriptions if k[0] == sid]:
            await room.subscriptions.pop(key).close()
        if not room.feeds and not room.subscriptions:
            self.rooms.pop(session_id, None)

    def hear(self, session_id: int, audible: frozenset[str]) -> None:
        """Forward the microphones of exactly these people (``p:``/``g:``/``h:`` keys)."""
        room = self.rooms.get(session_id)
        if room is None:
            if audible:
                self._room(session_id).audible = audible
            return
        room.audible = audible
        for feed in room.feeds.values():
            relay = feed.relays.get("audio")
            if relay is not None:
                relay.audible = feed.who in audible

    async def end_room(self, session_id: int) -> None:
        """The session ended: close every peer connection of its room."""
        room = self.rooms.pop(session_id, None)
        if room is None:
            return
        for feed in list(room.feeds.values()):
            await self._drop(session_id, room, feed)
        for pc in room.subscriptions.values():
            await pc.close()

    async def close(self) -> None:
        """Shutdown: close every peer connection."""
        for session_id in list(self.rooms):
            room = self.rooms.pop(session_id)
            for feed in room.feeds.values():
                for relay in feed.relays.values():
                    relay.end()
                with contextlib.suppress(Exception):
                    await feed.pc.close()
            for pc in room.subscriptions.values():
                with contextlib.suppress(Exception):
                    await pc.close()


def follow_room(sfu: Sfu, hub: Any) -> Callable[[int, dict[str, Any], dict[str, Any]], None]:
    """A room observer: microphones follow the floor and mutes; the end of the session closes
    its media."""

    def observe(session_id: int, state: dict[str, Any], event: dict[str, Any]) -> None:
        if event["type"] == "session.end":
            hub.spawn(sfu.end_room(session_id))
        elif event["type"].split(".")[0] in AUDIO_NOUNS:
            sfu.hear(session_id, audible(state))

    return observe


AUDIO_NOUNS = frozenset({"floor", "audio", "presence", "participant", "feed", "room"})
SFU = web.AppKey("sfu", Sfu)
