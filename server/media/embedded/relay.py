"""Forwarding encoded frames from one publisher to many subscribers (see ``sfu.py``)."""

from __future__ import annotations

import array
import asyncio
import fractions
import logging
import math
import queue
import time
from typing import Any, Protocol

import av
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger(__name__)

KEYFRAME_INTERVAL = 0.5  # seconds between keyframe requests to one publisher
QUEUE_FRAMES = 60  # frames a slow subscriber may lag before it is resynced at a keyframe
CLOCK = {"video": 90_000, "audio": 48_000}


def is_keyframe(data: bytes) -> bool:
    """A VP8 frame is a keyframe when bit 0 of its first byte is clear (RFC 6386 §9.1)."""
    return bool(data) and not data[0] & 0x01


class FrameSink(Protocol):
    """Where a relay also writes what it forwards (a ``recorder.Recorder``)."""

    def write(self, relay: Relay, data: bytes, timestamp: int) -> None: ...


class Relay:
    """One published track (video or audio): its frames go to every subscriber's track."""

    def __init__(self, kind: str, receiver: RTCRtpReceiver) -> None:
        self.kind, self.receiver = kind, receiver
        self.tracks: set[RelayTrack] = set()
        self.audible = kind == "video"  # audio is forwarded only when the room allows it
        self.frames = 0
        self.recorder: FrameSink | None = None
        self.level = 0.0  # loudness of what is forwarded (audio), smoothed, 0..1
        self._decoder: Any = None
        self._asked = 0.0

    def push(self, data: bytes, timestamp: int) -> None:
        self.frames += 1
        if not self.audible:
            return
        if self.recorder is not None:
            self.recorder.write(self, data, timestamp)
        for track in list(self.tracks):
            track.offer(data, timestamp)
        if self.kind == "audio":
            self._measure(data)

    def _measure(self, data: bytes) -> None:
        """Decode the Opus frame (small, and only for microphones being heard) to follow how
        loud it is, for the active speaker."""
        if self._decoder is None:
            self._decoder = av.CodecContext.create("opus", "r")
        try:
            frames = self._decoder.decode(av.Packet(data))
        except av.FFmpegError:
            return
        for frame in frames:
            if frame.format.name not in ("flt", "fltp"):
                continue
            samples = array.array("f", bytes(frame.planes[0]))[::8]
            if samples:
                peak = math.sqrt(sum(x * x for x in samples) / len(samples))
                self.level = 0.7 * self.level + 0.3 * peak

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
