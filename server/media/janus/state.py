"""What one server process knows of its media on Janus: the feeds it published for its
connections, their subscriptions, and each room's rules (who may be heard, recording)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.media.base import FeedBase, RoomMedia
from server.media.janus.placement import Place


@dataclass
class JanusFeed(FeedBase):
    """A stream this process published on Janus for one of its connections (``feed_id`` is the
    Janus publisher id, as text)."""

    place: Place
    session: int
    handle: int
    audio_mids: tuple[str, ...]
    muted: bool = False  # as moderated on Janus
    recording: Path | None = None  # the files' common start while Janus records
    record_started: Any = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Subscription:
    place: Place
    session: int
    handle: int
    video_mids: tuple[str, ...] = ()  # of Janus's offer, for the simulcast layer (``configure``)
    layer: str = "high"  # as asked (rtc.layer); Janus starts every subscriber on the highest
    started: bool = False  # answered (``start``): a layer is set on Janus from then on


@dataclass
class JanusRoom(RoomMedia[JanusFeed, Subscription]):
    """What this process knows of one room's media on Janus."""

    following: asyncio.Task[None] | None = None  # keeps up with other processes' events


def mids(sdp: str, kind: str) -> tuple[str, ...]:
    """The ``a=mid`` of each ``m=<kind>`` section of an SDP."""
    found, current = [], None
    for line in sdp.splitlines():
        if line.startswith("m="):
            current = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and current == kind:
            found.append(line[6:].strip())
    return tuple(found)
