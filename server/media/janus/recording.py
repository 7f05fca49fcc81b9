"""Recordings made by Janus: its ``.mjr`` files (one per stream) converted with ``janus-pp-rec``
and joined into one WebM per feed by remuxing (PyAV; nothing is decoded or encoded again)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av

from server.db import utcnow
from server.media.janus.client import JanusDown, JanusError
from server.media.janus.state import JanusFeed

log = logging.getLogger(__name__)

PP_REC = "janus-pp-rec"


async def _pp_rec(tool: str, source: Path, target: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        tool,
        str(source),
        str(target),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()


def _packets(container: Any, index: int) -> Iterator[tuple[float, int, Any]]:
    for packet in container.demux():
        if packet.dts is None or packet.stream.type not in ("audio", "video"):
            continue
        yield float(packet.dts * packet.time_base), index, packet


def remux(parts: list[Path], target: Path) -> int:
    """Join the streams of ``parts`` into ``target`` (WebM) in time order; its duration in ms."""
    inputs = [av.open(str(p)) for p in parts]
    end = 0.0
    try:
        with av.open(str(target), "w", format="webm") as output:
            streams: dict[tuple[int, int], Any] = {}
            for i, container in enumerate(inputs):
                for stream in container.streams:
                    if stream.type in ("audio", "video"):
                        streams[(i, stream.index)] = output.add_stream_from_template(stream)
            demuxed = (_packets(c, i) for i, c in enumerate(inputs))
            merged = heapq.merge(*demuxed, key=lambda x: x[0])
            for at, i, packet in merged:
                out = streams.get((i, packet.stream.index))
                if out is None:
                    continue
                duration = float((packet.duration or 0) * packet.time_base)
                end = max(end, at + duration)
                packet.stream = out
                output.mux(packet)
    finally:
        for container in inputs:
            container.close()
    return int(end * 1000)


def _parts(base: Path) -> list[tuple[Path, Path]]:
    """Each ``.mjr`` file of a feed with the file ``janus-pp-rec`` makes of it. A file Janus
    was still writing when it died keeps its temporary ``.mjr.tmp`` name; it is used too."""
    pairs = []
    for pattern in ("-*.mjr", "-*.mjr.tmp"):
        for source in sorted(base.parent.glob(base.name + pattern)):
            stem = source.name.removesuffix(".tmp").removesuffix(".mjr")
            suffix = ".webm" if "-video-" in source.name else ".opus"
            pairs.append((source, source.with_name(stem + suffix)))
    return pairs


def _join(pairs: list[tuple[Path, Path]], target: Path) -> dict[str, Any] | None:
    parts = []
    for source, part in pairs:
        if part.exists() and part.stat().st_size > 0:
            parts.append(part)
        else:  # e.g. Janus was killed before it flushed the file's start
            size = source.stat().st_size if source.exists() else 0
            log.warning("%s could not convert %s (%d bytes)", PP_REC, source.name, size)
    try:
        if not parts:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        duration_ms = remux(parts, target)
    finally:
        for source, part in pairs:
            source.unlink(missing_ok=True)
            part.unlink(missing_ok=True)
    return {"path": target, "size": target.stat().st_size, "duration_ms": duration_ms}


async def convert(base: Path, target: Path) -> dict[str, Any] | None:
    """Turn the ``.mjr`` files starting with ``base`` into ``target``; what was recorded, or
    None when nothing was. The ``.mjr`` files and the intermediate ones are removed."""
    tool = shutil.which(PP_REC)
    if tool is None:
        log.error("cannot convert %s: %s is not installed (package janus-tools)", base, PP_REC)
        return None
    pairs = await asyncio.to_thread(_parts, base)
    for source, part in pairs:
        await _pp_rec(tool, source, part)
    return await asyncio.to_thread(_join, pairs, target)


async def start(feed: JanusFeed, folder: Path) -> None:
    """Have Janus record ``feed`` into ``folder`` (the room's ``rec_dir``)."""
    if feed.recording is not None:
        return
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    base = folder / f"{stamp}-{feed.who.replace(':', '')}-{feed.source}-{feed.feed_id}"
    # Janus wants a name relative to the room's rec_dir. It records a simulcast camera's
    # highest layer from that layer's next keyframe, which Chromium sends only when asked
    # (``keyframe``): without it the video file stayed empty.
    body = {"request": "configure", "record": True, "filename": base.name, "keyframe": True}
    try:
        await feed.place.instance.message(feed.session, feed.handle, body)
    except (JanusDown, JanusError, TimeoutError) as exc:
        log.warning("could not record feed %s: %s", feed.feed_id, exc)
        return
    feed.recording, feed.record_started = base, utcnow()


async def finish(feed: JanusFeed, folder: Path) -> dict[str, Any] | None:
    """Stop recording ``feed`` and make its WebM in ``folder``; what was recorded, if anything."""
    base, feed.recording = feed.recording, None
    if base is None:
        return None
    body = {"request": "configure", "record": False}
    with contextlib.suppress(JanusDown, JanusError, TimeoutError):  # gone: convert what it wrote
        await feed.place.instance.message(feed.session, feed.handle, body)
    done = await convert(base, folder / (base.name + ".webm"))
    if done is not None:
        done.update(started_at=feed.record_started, ended_at=utcnow())
    return done
