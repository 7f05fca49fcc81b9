"""Recording a feed: its encoded frames muxed into WebM as they arrive (see ``sfu.py``)."""

from __future__ import annotations

import fractions
import logging
from pathlib import Path
from typing import Any

import av

from server.db import utcnow
from server.media.embedded.relay import CLOCK, Relay, is_keyframe

log = logging.getLogger(__name__)


def vp8_size(data: bytes) -> tuple[int, int]:
    """Width and height from a VP8 keyframe header (RFC 6386 §9.1)."""
    return (data[6] | data[7] << 8) & 0x3FFF, (data[8] | data[9] << 8) & 0x3FFF


class Recorder:
    """Writes one feed into a WebM file as its frames arrive: the published VP8 and Opus
    packets themselves, muxed, never decoded or encoded again. Video starts at a keyframe;
    audio is what the room heard (a microphone that was not forwarded is not recorded)."""

    def __init__(self, path: Path, kinds: frozenset[str]) -> None:
        self.path, self.kinds = path, kinds  # the feed's tracks: "video", "audio" or both
        self.container: Any = None
        self.streams: dict[str, Any] = {}
        self.first: dict[str, int] = {}
        self.last: dict[str, int] = {}
        self.started_at = self.opened_at = utcnow()

    def _open(self, width: int, height: int) -> None:
        self.opened_at = utcnow()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), "w", format="webm")
        if "video" in self.kinds:
            video = self.container.add_stream("libvpx", rate=15)
            video.width, video.height = width or 640, height or 360
            video.time_base = fractions.Fraction(1, CLOCK["video"])
            self.streams["video"] = video
        if "audio" in self.kinds:
            audio = self.container.add_stream("libopus", rate=CLOCK["audio"])
            audio.time_base = fractions.Fraction(1, CLOCK["audio"])
            self.streams["audio"] = audio

    def write(self, relay: Relay, data: bytes, timestamp: int) -> None:
        kind = relay.kind
        if self.container is None:
            if kind == "video" and not is_keyframe(data):
                relay.request_keyframe()
                return
            if kind == "audio" and "video" in self.kinds:
                return  # start with the video's first keyframe
            self._open(*(vp8_size(data) if kind == "video" else (0, 0)))
        stream = self.streams.get(kind)
        if stream is None:
            return
        if kind not in self.first:
            # Line the two clocks up at the moment this kind starts.
            elapsed = (utcnow() - self.opened_at).total_seconds()
            self.first[kind] = timestamp - int(elapsed * CLOCK[kind]) if self.first else timestamp
        pts = timestamp - self.first[kind]
        if pts < 0 or pts <= self.last.get(kind, -1):
            return
        self.last[kind] = pts
        packet = av.Packet(data)
        packet.stream = stream
        packet.pts = packet.dts = pts
        packet.time_base = fractions.Fraction(1, CLOCK[kind])  # mux rescales to the file's
        try:
            self.container.mux(packet)
        except av.FFmpegError as exc:
            log.warning("recording %s: dropped a %s frame: %s", self.path.name, kind, exc)

    def close(self) -> dict[str, Any] | None:
        """Finish the file; what was recorded, or None when nothing was."""
        if self.container is None:
            return None
        self.container.close()
        self.container = None
        durations = [self.last[k] / CLOCK[k] for k in self.last if k in self.streams]
        return {
            "path": self.path,
            "size": self.path.stat().st_size,
            "duration_ms": int(max(durations, default=0) * 1000),
            "started_at": self.started_at,
            "ended_at": utcnow(),
        }
