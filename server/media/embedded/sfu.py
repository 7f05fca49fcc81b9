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

What this relies on inside aiortc (pinned to 1.16.* in pyproject.toml): the receiver's private
decoder queue (``_RTCRtpReceiver__decoder_queue``, replaced when the track appears, before
``receive()`` starts the decoder thread), ``RTCRtpReceiver._send_rtcp_pli`` and
``RTCRtpSender._send_keyframe``.
``tests/server/media/test_media.py`` checks each of them and that frames really arrive undecoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from server.db import utcnow
from server.i18n import _
from server.media.base import (
    KINDS,
    FeedBase,
    FeedChanged,
    FeedRooms,
    MediaError,
    Recorded,
    RoomMedia,
    check_source,
    no_such_feed,
    subscribe_first,
)
from server.media.embedded.recorder import Recorder
from server.media.embedded.relay import Relay, RelayTrack, Tap

log = logging.getLogger(__name__)

SPEAKER_EVERY = 0.25  # seconds between looks at the microphones' levels
SPEAKER_HOLD = 0.5  # how long someone must be the loudest before they are announced
SPEAKING_LEVEL = 0.02  # RMS (full scale 1.0) above which a microphone counts as speech
WANTED = {"video": "video/VP8", "audio": "audio/opus"}


@dataclass
class Feed(FeedBase):
    """A published stream: its publisher's peer connection and a relay per track."""

    pc: RTCPeerConnection
    relays: dict[str, Relay] = field(default_factory=dict)


@dataclass
class MediaRoom(RoomMedia[Feed, RTCPeerConnection]):
    """A room's feeds, with subscriber peer connections by (sid, feed_id)."""

    recorders: dict[str, Recorder] = field(default_factory=dict)
    sub_tracks: dict[tuple[str, str], list[RelayTrack]] = field(default_factory=dict)
    listening: asyncio.Task[None] | None = None


def _prefer(pc: RTCPeerConnection) -> None:
    """Negotiate only VP8 for video and Opus for audio on every transceiver."""
    for transceiver in pc.getTransceivers():
        kind = transceiver.kind
        codecs = RTCRtpSender.getCapabilities(kind).codecs
        wanted = [c for c in codecs if c.mimeType == WANTED[kind]]
        rtx = [c for c in codecs if c.mimeType.endswith("/rtx")]
        transceiver.setCodecPreferences(wanted + rtx)


class Sfu(FeedRooms[MediaRoom, Feed]):
    """Every media room this process serves."""

    def __init__(
        self,
        *,
        ice_servers: list[dict[str, Any]],
        on_feed: FeedChanged,
        on_recorded: Recorded | None = None,
        recording_dir: Path = Path("var/recordings"),
    ) -> None:
        super().__init__(on_feed=on_feed, on_recorded=on_recorded)
        self.recording_dir = recording_dir
        self.config = RTCConfiguration(
            iceServers=[
                RTCIceServer(
                    urls=s["urls"], username=s.get("username"), credential=s.get("credential")
                )
                for s in ice_servers
            ]
        )
        self.ice_servers = ice_servers  # what clients are told to use
        # One layer per feed: a publisher is told to send its camera once, and rtc.layer is
        # accepted and changes nothing (every subscriber gets the stream as published).
        self.simulcast = False

    def _new_room(self) -> MediaRoom:
        return MediaRoom()

    async def publish(
        self, session_id: int, sid: str, who: str, sdp: str, source: str
    ) -> tuple[str, str]:
        """Take a publisher's offer; returns the feed id and the answer."""
        check_source(source)
        room = self._room(session_id)
        self._may_publish(room, who, source)
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
            # Not when the room is no longer served here (the session ended, or shutdown): its
            # feeds are being closed by whoever let it go.
            if pc.connectionState in ("failed", "closed") and self.rooms.get(session_id) is room:
                await self._drop(session_id, room, feed)  # nothing if it ended already

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if "video" not in feed.relays and "audio" not in feed.relays:
                raise MediaError("invalid", _("The offer carries no audio or video to publish."))
            _prefer(pc)
            await pc.setLocalDescription(await pc.createAnswer())
        except MediaError:
            await pc.close()
            raise
        except Exception as exc:
            await pc.close()
            raise MediaError("invalid", _("That offer cannot be used: {exc}", exc=exc)) from None
        answer = pc.localDescription.sdp
        if "VP8" not in answer and "video" in feed.relays:
            await pc.close()
            raise MediaError("invalid", _("Publish video as VP8 (every browser can)."))
        room = self._room(session_id)  # the room may have been let go while we negotiated
        self._book(room, feed)
        if "audio" in feed.relays:
            feed.relays["audio"].audible = who in room.audible
        if room.recording:
            self._record(session_id, room, feed)
        if "audio" in feed.relays and room.listening is None:
            room.listening = asyncio.ensure_future(self._listen(session_id, room))
        await self._announce(session_id, feed)
        return feed.feed_id, answer

    async def subscribe(
        self, session_id: int, sid: str, feed_id: str, who: str = "", kinds: frozenset[str] = KINDS
    ) -> str:
        """An offer that sends feed ``feed_id`` (its tracks of ``kinds``) to this connection.
        A kind left out gets no track at all: no relay queue, no packet, no keyframe request."""
        room = self._room(session_id)
        feed = room.feeds.get(feed_id)
        if feed is None:
            raise no_such_feed()
        key = (sid, feed_id)
        ticket = self._ask(room, key)  # before any await: the order they were asked in
        pc = RTCPeerConnection(self.config)
        tracks = []
        try:
            await self._unsubscribe(room, key)  # what it received so far
            if not kinds & feed.relays.keys():  # then nothing of it (a camera without sound)
                raise MediaError("invalid", _("That feed carries none of the kinds asked for."))
            for kind in ("video", "audio"):
                relay = feed.relays.get(kind)
                if relay is None or kind not in kinds:
                    continue
                track = RelayTrack(relay)  # the relay forwards to it from now on
                tracks.append(track)
                sender = pc.addTrack(track)
                # The subscriber's PLI (its decoder lost a picture) goes on to the publisher.
                setattr(sender, "_send_keyframe", relay.request_keyframe)  # noqa: B010
            _prefer(pc)
            await pc.setLocalDescription(await pc.createOffer())
            now = self.rooms.get(session_id)
            if now is None or feed_id not in now.feeds:  # it ended while we made the offer
                raise no_such_feed()
            # A later rtc.subscribe (or rtc.unsubscribe, or leaving) of this feed may have come
            # meanwhile: then it counts, not this one.
            room = self._booking(session_id, key, ticket)
        except BaseException:  # refused, superseded, or the request was cancelled
            self._unask(room, key, ticket)
            for track in tracks:
                track.stop()
            await pc.close()
            raise
        # One booked meanwhile (begun earlier): this one replaces it.
        await self._unsubscribe(room, key)
        room.subscriptions[key] = pc
        room.sub_tracks[key] = tracks
        room.owners[sid] = who
        return str(pc.localDescription.sdp)

    async def _unsubscribe(self, room: MediaRoom, key: tuple[str, str]) -> None:
        """Close one subscription, answered or not (its relay tracks leave their relay)."""
        for track in room.sub_tracks.pop(key, []):
            track.stop()
        pc = room.subscriptions.pop(key, None)
        if pc is not None:
            await pc.close()

    async def answer(self, session_id: int, sid: str, feed_id: str, sdp: str) -> None:
        """The subscriber's answer to :meth:`subscribe`'s offer."""
        pc = self._room(session_id).subscriptions.get((sid, feed_id))
        if pc is None or pc.signalingState != "have-local-offer":
            raise subscribe_first()
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:
            raise MediaError("invalid", _("That answer cannot be used: {exc}", exc=exc)) from None

    async def _close_feed(self, room: MediaRoom, feed: Feed) -> None:
        for relay in feed.relays.values():
            relay.end()
        await feed.pc.close()

    def _let_go(self, room: MediaRoom) -> None:
        if room.listening is not None:
            room.listening.cancel()

    # ---- the active speaker

    async def _listen(self, session_id: int, room: MediaRoom) -> None:
        """Every ``SPEAKER_EVERY`` seconds: the loudest microphone being heard, if loud enough
        and not already announced, becomes the active speaker (a room event)."""
        candidate, since = None, 0.0
        while self.rooms.get(session_id) is room:
            await asyncio.sleep(SPEAKER_EVERY)
            levels = [
                (f.relays["audio"].level, f.who)
                for f in room.feeds.values()
                if "audio" in f.relays and f.relays["audio"].audible
            ]
            loudest = max(levels, default=(0.0, None))
            who = loudest[1] if loudest[0] >= SPEAKING_LEVEL else None
            if who != candidate:
                candidate, since = who, time.monotonic()
            held = time.monotonic() - since >= SPEAKER_HOLD
            if who is not None and who != room.speaker and held:
                room.speaker = who
                try:
                    await self.on_feed(session_id, "speaker.active", {"who": who})
                except Exception:
                    log.exception("could not announce the active speaker")

    # ---- recording

    def _record(self, session_id: int, room: MediaRoom, feed: Feed) -> None:
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{feed.who.replace(':', '')}-{feed.source}-{feed.feed_id}.webm"
        recorder = Recorder(self.recording_dir / str(session_id) / name, frozenset(feed.relays))
        room.recorders[feed.feed_id] = recorder
        for relay in feed.relays.values():
            relay.recorder = recorder

    def _record_later(self, session_id: int, room: MediaRoom, feed: Feed) -> None:
        self._record(session_id, room, feed)

    async def _recorded(
        self, session_id: int, room: MediaRoom, feed: Feed
    ) -> dict[str, Any] | None:
        recorder = room.recorders.pop(feed.feed_id, None)
        if recorder is None:
            return None
        for relay in feed.relays.values():
            relay.recorder = None
        return recorder.close()

    def _follow_audible(self, room: MediaRoom) -> None:
        for feed in room.feeds.values():
            relay = feed.relays.get("audio")
            if relay is not None:
                relay.audible = feed.who in room.audible

    async def close(self) -> None:
        """Shutdown: finish recordings and close every peer connection."""
        for session_id in list(self.rooms):
            with contextlib.suppress(Exception):
                await self.stop_recording(session_id)
            room = self.rooms.pop(session_id)
            self._let_go(room)
            for feed in room.feeds.values():
                for relay in feed.relays.values():
                    relay.end()
                with contextlib.suppress(Exception):
                    await feed.pc.close()
            for pc in room.subscriptions.values():
                with contextlib.suppress(Exception):
                    await pc.close()
