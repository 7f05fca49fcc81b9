"""One video of a recorded session, made from its per-feed files (PyAV, after the session).

The layout, 1280×720 at 15 frames a second: the floor holder's camera large at the top (or the
screen share, when one is shown, with the floor holder's camera first in the strip), everyone
else's camera small in a strip along the bottom; a feed with no frame yet is a dark tile. The
sound is every feed's audio mixed (FFmpeg's ``amix``, no normalisation: a feed's level is what
the room heard). H.264 (libx264) and AAC in MP4, which every browser and player opens.

The time line is the recorded wall time with the pauses cut out: stretches when no feed was
being recorded (recording stopped, then started again) are left out of the file.

This module imports nothing of the server: :func:`plan` is a pure function of the recordings
and the room's events, and :func:`compose` runs in a process of its own (``python -m
server.media.composite`` reads the plan as JSON on stdin and writes the result on stdout), so a
long encode neither holds the server's event loop nor its interpreter lock, and is killed when
it overruns its time budget.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fractions
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from av.filter import Graph
from av.video.reformatter import VideoReformatter

WIDTH, HEIGHT, FPS, RATE = 1280, 720, 15, 48000
LARGE = (0, 0, WIDTH, 540)  # the large region: x, y, width, height
STRIP_Y, STRIP_H, STRIP_MAX = 540, 180, 8
STEP = RATE // FPS  # audio samples per video frame
GAP = 2.0  # seconds without any recording that are cut out of the time line
BLACK, EMPTY = 16, 40  # luma of the background and of a tile whose feed has no frame yet
VIDEO_CODEC, AUDIO_CODEC, SUFFIX = "libx264", "aac", ".mp4"


@dataclass(frozen=True)
class FeedIn:
    """A per-feed file as the plan sees it."""

    path: str
    who: str
    source: str  # "camera" or "screen"
    started_at: dt.datetime
    seconds: float


def _segments(feeds: Sequence[FeedIn]) -> list[tuple[dt.datetime, dt.datetime]]:
    spans = sorted((f.started_at, f.started_at + dt.timedelta(seconds=f.seconds)) for f in feeds)
    merged: list[list[dt.datetime]] = []
    for start, end in spans:
        if merged and (start - merged[-1][1]).total_seconds() <= GAP:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def plan(
    feeds: Sequence[FeedIn], events: Sequence[tuple[dt.datetime, str, dict[str, Any]]]
) -> dict[str, Any]:
    """What :func:`compose` needs: each feed's place on the composite's time line (seconds),
    who held the floor from when, and the duration. ``events`` are the room's, in order."""
    segments = _segments(feeds)
    starts, total = [], 0.0
    for start, end in segments:
        starts.append(total)
        total += (end - start).total_seconds()

    def place(at: dt.datetime) -> float:
        """The composite's time of the wall time ``at`` (a time in a pause: the next start)."""
        for (start, end), offset in zip(segments, starts, strict=True):
            if at <= end:
                return offset + max(0.0, (at - start).total_seconds())
        return total

    floor: list[tuple[float, str | None]] = [(0.0, None)]
    for at, kind, data in events:
        holder = floor[-1][1]
        if kind == "floor.grant":
            holder = str(data.get("who"))
        elif kind in ("floor.revoke", "floor.expire", "session.end"):
            holder = None
        if holder != floor[-1][1]:
            floor.append((round(place(at), 3), holder))
    return {
        "duration": round(total, 3),
        "feeds": [
            {
                "path": f.path,
                "who": f.who,
                "source": f.source,
                "offset": round(place(f.started_at), 3),
                "seconds": f.seconds,
            }
            for f in sorted(feeds, key=lambda f: (f.started_at, f.who))
        ],
        "floor": floor,
    }


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _fit(size: tuple[int, int], box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Where a ``size`` picture goes in ``box``, kept in proportion and centred."""
    bx, by, bw, bh = box
    scale = min(bw / size[0], bh / size[1])
    w, h = min(bw, _even(size[0] * scale)), min(bh, _even(size[1] * scale))
    return bx + (bw - w) // 4 * 2, by + (bh - h) // 4 * 2, w, h


class _Video:
    """A feed's pictures: the latest frame at a time, scaled to a tile on demand."""

    def __init__(self, feed: dict[str, Any]) -> None:
        self.offset, self.seconds = float(feed["offset"]), float(feed["seconds"])
        self.who, self.source = feed["who"], feed["source"]
        self.container: Any = av.open(feed["path"])
        streams = self.container.streams.video
        self.frames: Iterator[Any] = iter(self.container.decode(streams[0]) if streams else ())
        self.next: Any = self._read()
        self.current: Any = None
        self.scaled: dict[tuple[int, int], Any] = {}
        self.scalers: dict[tuple[int, int], VideoReformatter] = {}

    def _read(self) -> Any:
        try:
            return next(self.frames)
        except (StopIteration, av.FFmpegError):
            return None

    def shows(self, t: float) -> bool:
        return self.offset <= t <= self.offset + self.seconds

    def at(self, t: float) -> Any:
        local = t - self.offset
        while self.next is not None and (self.next.time or 0.0) <= local + 1e-3:
            self.current, self.next, self.scaled = self.next, self._read(), {}
        return self.current

    def tile(self, width: int, height: int) -> Any:
        key = (width, height)
        if key not in self.scaled:
            scaler = self.scalers.setdefault(key, VideoReformatter())  # keeps its context
            self.scaled[key] = scaler.reformat(
                self.current, width, height, "yuv420p", interpolation="FAST_BILINEAR"
            )
        return self.scaled[key]

    def close(self) -> None:
        self.container.close()


class _Audio:
    """A feed's sound, resampled to 48 kHz stereo, handed out in steps of the time line."""

    def __init__(self, feed: dict[str, Any]) -> None:
        self.offset = float(feed["offset"])
        self.container: Any = av.open(feed["path"])
        self.frames: Iterator[Any] = iter(self.container.decode(self.container.streams.audio[0]))
        self.resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE)
        self.buffer = bytearray()
        self.start: int | None = None  # the time line's sample of the buffer's first
        self.done = False

    def _more(self) -> None:
        try:
            frame = next(self.frames)
        except (StopIteration, av.FFmpegError):
            self.done = True
            return
        at = round((self.offset + (frame.time or 0.0)) * RATE)
        if self.start is None:
            self.start = at
        gap = at - (self.start + len(self.buffer) // 4)
        if gap > STEP:  # a pause in the feed's sound: silence
            self.buffer += bytes(gap * 4)
        for out in self.resampler.resample(frame):
            self.buffer += memoryview(out.planes[0])[: out.samples * 4]

    def take(self, start: int, count: int) -> bytes:
        """Samples ``start`` to ``start + count`` of the time line (silence where none)."""
        while not self.done and (
            self.start is None or self.start + len(self.buffer) // 4 < start + count
        ):
            self._more()
        if self.start is None:
            return bytes(count * 4)
        if self.start < start:
            drop = min(start - self.start, len(self.buffer) // 4)
            del self.buffer[: drop * 4]
            self.start += drop
        lead = min(count, max(0, self.start - start))
        have = min(count - lead, len(self.buffer) // 4)
        out = bytes(lead * 4) + bytes(self.buffer[: have * 4]) + bytes((count - lead - have) * 4)
        del self.buffer[: have * 4]
        self.start = max(self.start + have, start + count)
        return out

    def close(self) -> None:
        self.container.close()


def _has(path: str, kind: str) -> bool:
    with av.open(path) as container:
        return any(s.type == kind for s in container.streams)


class _Canvas:
    """The 1280×720 picture being drawn, as its three YUV 4:2:0 planes."""

    def __init__(self) -> None:
        template = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        self.strides = [p.line_size for p in template.planes]
        heights = [HEIGHT, HEIGHT // 2, HEIGHT // 2]
        blank = [BLACK, 128, 128]
        self.clear = [
            bytes([v]) * (s * h) for v, s, h in zip(blank, self.strides, heights, strict=True)
        ]
        self.planes = [bytearray(c) for c in self.clear]

    def reset(self) -> None:
        self.planes = [bytearray(c) for c in self.clear]

    def fill(self, box: tuple[int, int, int, int], luma: int) -> None:
        x, y, w, h = box
        for i, (plane, stride) in enumerate(zip(self.planes, self.strides, strict=True)):
            d = 1 if i == 0 else 2
            row = bytes([luma if i == 0 else 128]) * (w // d)
            for r in range(y // d, (y + h) // d):
                plane[r * stride + x // d : r * stride + (x + w) // d] = row

    def paste(self, frame: Any, x: int, y: int) -> None:
        for i, (plane, stride) in enumerate(zip(self.planes, self.strides, strict=True)):
            d = 1 if i == 0 else 2
            src, size = memoryview(frame.planes[i]), frame.planes[i].line_size
            w, h = frame.width // d, frame.height // d
            for r in range(h):
                at = (y // d + r) * stride + x // d
                plane[at : at + w] = src[r * size : r * size + w]

    def frame(self, index: int) -> Any:
        out = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        for plane, data in zip(out.planes, self.planes, strict=True):
            plane.update(bytes(data))
        out.pts, out.time_base = index, fractions.Fraction(1, FPS)
        return out


def _holder(floor: list[list[Any]], t: float) -> str | None:
    holder = None
    for at, who in floor:
        if at > t:
            break
        holder = who
    return holder


def _draw(canvas: _Canvas, videos: list[_Video], floor: list[list[Any]], t: float) -> None:
    canvas.reset()
    shown = [v for v in videos if v.shows(t)]
    for video in shown:
        video.at(t)
    screens = [v for v in shown if v.source == "screen"]
    cameras = [v for v in shown if v.source != "screen"]
    holder = _holder(floor, t)
    speaker = next((v for v in cameras if v.who == holder), None)
    strip = list(cameras)
    if screens:
        large: _Video | None = screens[-1]
        if speaker is not None:
            strip.remove(speaker)
            strip.insert(0, speaker)
    else:
        large = speaker or (cameras[0] if cameras else None)
        if large is not None:
            strip.remove(large)
    if large is not None:
        _tile(canvas, large, LARGE)
    strip = strip[:STRIP_MAX]
    if strip:
        width = min(320, _even(WIDTH / len(strip)))
        height = _even(width * 9 / 16)
        left, top = (WIDTH - width * len(strip)) // 4 * 2, STRIP_Y + (STRIP_H - height) // 4 * 2
        for i, video in enumerate(strip):
            _tile(canvas, video, (left + i * width, top, width, height))


def _tile(canvas: _Canvas, video: _Video, box: tuple[int, int, int, int]) -> None:
    if video.current is None:
        canvas.fill(box, EMPTY)
        return
    x, y, w, h = _fit((video.current.width, video.current.height), box)
    canvas.paste(video.tile(w, h), x, y)


def _mixer(count: int) -> tuple[Any, list[Any], Any]:
    graph = Graph()
    tb = fractions.Fraction(1, RATE)
    sources = [
        graph.add_abuffer(format="s16", sample_rate=RATE, layout="stereo", time_base=tb)
        for _ in range(count)
    ]
    mix = graph.add("amix", inputs=str(count), normalize="0", duration="longest")
    sink = graph.add("abuffersink")
    for i, source in enumerate(sources):
        source.link_to(mix, 0, i)
    mix.link_to(sink)
    graph.configure()
    return graph, sources, sink


def _pcm(data: bytes, start: int) -> Any:
    frame = av.AudioFrame(format="s16", layout="stereo", samples=len(data) // 4)
    frame.planes[0].update(data)
    frame.sample_rate, frame.pts, frame.time_base = RATE, start, fractions.Fraction(1, RATE)
    return frame


def compose(spec: dict[str, Any], target: Path) -> dict[str, Any]:
    """Write the composite of ``spec`` (see :func:`plan`) to ``target``; its size and
    duration in ms."""
    feeds = spec["feeds"]
    frames = max(1, round(float(spec["duration"]) * FPS))
    videos = [_Video(f) for f in feeds if _has(f["path"], "video")]
    audios = [_Audio(f) for f in feeds if _has(f["path"], "audio")]
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video: Any = out.add_stream(VIDEO_CODEC, rate=FPS)
            video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            video.options = {"preset": "veryfast", "crf": "26", "g": str(FPS * 4)}
            sound: Any = out.add_stream(AUDIO_CODEC, rate=RATE, layout="stereo")
            mixer: tuple[Any, list[Any], Any] = _mixer(len(audios)) if audios else (None, [], None)
            graph, sources, sink = mixer
            canvas = _Canvas()
            for index in range(frames):
                t = index / FPS
                _draw(canvas, videos, spec["floor"], t)
                out.mux(video.encode(canvas.frame(index)))
                start = index * STEP
                if not audios:
                    out.mux(sound.encode(_pcm(bytes(STEP * 4), start)))
                    continue
                for source, audio in zip(sources, audios, strict=True):
                    source.push(_pcm(audio.take(start, STEP), start))
                while True:
                    try:
                        mixed = sink.pull()
                    except (av.BlockingIOError, av.EOFError):
                        break
                    out.mux(sound.encode(mixed))
            del graph
            out.mux(video.encode(None))
            out.mux(sound.encode(None))
    finally:
        closing: Any
        for closing in [*videos, *audios]:
            with contextlib.suppress(av.FFmpegError):
                closing.close()
    return {"size": target.stat().st_size, "duration_ms": round(frames * 1000 / FPS)}


def main() -> None:
    """``python -m server.media.composite TARGET``: the plan as JSON on stdin, the result
    as JSON on stdout. Runs at a lower priority than the server."""
    with contextlib.suppress(OSError):
        os.nice(10)
    spec = json.load(sys.stdin)
    print(json.dumps(compose(spec, Path(sys.argv[1]))))


if __name__ == "__main__":
    main()
