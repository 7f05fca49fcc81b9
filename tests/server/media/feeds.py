"""Per-feed recording files written directly with PyAV, in the recorder's format (WebM with
VP8 video at 15 frames a second and Opus audio at 48 kHz): a solid colour and a steady tone."""

from __future__ import annotations

import array
import fractions
import math
from pathlib import Path
from typing import Any

import av

RED, BLUE, GREEN = (220, 30, 30), (30, 30, 220), (30, 200, 60)


def _yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = rgb
    return (
        round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255),
        round(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255),
        round(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255),
    )


def write_feed(
    path: Path,
    colour: tuple[int, int, int],
    seconds: float,
    *,
    tone: float | None = 440.0,
    size: tuple[int, int] = (320, 240),
) -> None:
    """A feed file of ``seconds``: ``colour`` frames and (unless ``tone`` is None) a sine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="webm") as out:
        video: Any = out.add_stream("libvpx", rate=15)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        audio: Any = out.add_stream("libopus", rate=48000, layout="stereo") if tone else None
        for i in range(round(seconds * 15)):
            frame = av.VideoFrame(size[0], size[1], "yuv420p")
            for plane, value in zip(frame.planes, _yuv(colour), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            frame.pts, frame.time_base = i, fractions.Fraction(1, 15)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is None or tone is None:
            return
        step, done = 960, 0
        while done < seconds * 48000:
            samples = array.array(
                "h",
                (
                    int(8000 * math.sin(2 * math.pi * tone * (done + k) / 48000))
                    for k in range(step)
                    for _channel in range(2)
                ),
            )
            frame = av.AudioFrame(format="s16", layout="stereo", samples=step)
            frame.planes[0].update(samples.tobytes())
            frame.sample_rate, frame.pts = 48000, done
            frame.time_base = fractions.Fraction(1, 48000)
            out.mux(audio.encode(frame))
            done += step
        out.mux(audio.encode(None))


def pixel(frame: Any, x: int, y: int) -> tuple[int, int, int]:
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    at = y * plane.line_size + 3 * x
    data = bytes(plane)
    return data[at], data[at + 1], data[at + 2]


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 30) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))
