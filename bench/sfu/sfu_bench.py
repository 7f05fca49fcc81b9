"""SFU benchmark: server CPU per subscriber stream, frame rate, time to first frame, latency.

Scenarios (each with a fresh server process pinned to the first CPU; the aiortc clients run
here, pinned to the others):

* ``K``: one publisher (640x360, 15 fps VP8) and K subscribers, K = 1, 4, 8, 16, 32, for
  xieshang's forwarding SFU and for aiortc's stock ``MediaRelay`` (decode once, encode per
  subscriber; ``stock_server.py``) side by side.
* ``P``: P publishers (320x180, 15 fps, to keep P encoders within one client core) who all
  watch each other: P × (P − 1) subscriber streams, P = 2, 4, 8, xieshang only.

Subscribers count frames without decoding them (the client's decoder queue is swapped for a
counter, as the server does), except one per scenario that decodes: the publisher paints each
frame's number into the picture, so that subscriber measures end-to-end latency (capture →
encode → server → decode) on one clock.

    .venv/bin/python bench/sfu/sfu_bench.py            # about 4 minutes
    .venv/bin/python bench/sfu/sfu_bench.py --k 1,8 --p 2 --seconds 5
    .venv/bin/python bench/sfu/sfu_bench.py --smoke    # K=2, P=2, 2 s: checks the frames arrive
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import os
import queue
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import av
import socketio
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "fanout"))
import run as fanout  # noqa: E402  (the fan-out benchmark's seeding and process helpers)

sys.path.insert(0, str(ROOT / "bench" / "sfu"))
import janus_system  # noqa: E402

BLOCKS = 16  # bits of the frame number painted into the picture


class Numbered(VideoStreamTrack):
    """A camera whose frame n shows n in binary (16 black/white blocks across the top)."""

    def __init__(self, width: int, height: int, fps: int = 15) -> None:
        super().__init__()
        self.width, self.height, self.n, self.fps = width, height, 0, fps
        self.sent: dict[int, float] = {}
        self.start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.start is None:
            self.start = time.perf_counter()
        due = self.start + self.n / self.fps
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        pts, time_base = self.n * (90_000 // self.fps), fractions.Fraction(1, 90_000)
        n, self.n = self.n, self.n + 1
        block = self.width // BLOCKS
        row = bytearray(self.width)
        for bit in range(BLOCKS):
            if n >> bit & 1:
                row[bit * block : (bit + 1) * block] = b"\xff" * block
        luma = bytes(row) * (self.height // 4) + bytes([96]) * (
            self.width * (self.height - self.height // 4)
        )
        frame = av.VideoFrame(self.width, self.height, "gray")
        frame.planes[0].update(luma)
        frame = frame.reformat(format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        self.sent[n] = time.perf_counter()
        return frame


def read_number(frame: av.VideoFrame) -> int:
    gray = frame.reformat(format="gray")
    plane = gray.planes[0]
    row = bytes(plane)[(gray.height // 8) * plane.line_size :]
    block = gray.width // BLOCKS
    return sum(1 << bit for bit in range(BLOCKS) if row[bit * block + block // 2] > 128)


class Counter(queue.Queue[Any]):
    """Counts a receiver's complete frames instead of decoding them."""

    def __init__(self, sub: Sub) -> None:
        super().__init__()
        self.sub = sub

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None, block, timeout)
            return
        self.sub.frames += 1
        if self.sub.first is None:
            self.sub.first = time.perf_counter()


class Sub:
    def __init__(self) -> None:
        self.frames = 0
        self.first: float | None = None
        self.asked = 0.0
        self.latencies: list[float] = []


async def connect(url: str, auth: dict[str, Any]) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        url, auth=auth, namespaces=["/room"], transports=["websocket"], wait_timeout=10
    )
    return client


async def publish(client: socketio.AsyncClient, track: Numbered) -> tuple[str, RTCPeerConnection]:
    consent = {"type": "recording.consent", "data": {"answer": "accepted"}}  # may be recorded
    await client.call("command", consent, namespace="/room", timeout=10)
    pc = RTCPeerConnection()
    pc.addTrack(track)
    await pc.setLocalDescription(await pc.createOffer())
    ack = await client.call(
        "rtc.publish",
        {"sdp": pc.localDescription.sdp, "source": "camera"},
        namespace="/room",
        timeout=30,
    )
    assert ack["ok"], ack
    await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))
    return ack["feed_id"], pc


async def subscribe(
    client: socketio.AsyncClient, feed_id: str, decode: Numbered | None, tasks: list[Any]
) -> tuple[Sub, RTCPeerConnection]:
    sub = Sub()
    sub.asked = time.perf_counter()
    ack = await client.call("rtc.subscribe", {"feed_id": feed_id}, namespace="/room", timeout=30)
    assert ack["ok"], ack
    pc = RTCPeerConnection()

    @pc.on("track")
    def on_track(track: Any) -> None:
        if decode is None:
            receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
            setattr(receiver, "_RTCRtpReceiver__decoder_queue", Counter(sub))  # noqa: B010
        else:
            tasks.append(asyncio.ensure_future(measure(track, sub, decode)))

    await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    done = await client.call(
        "rtc.answer",
        {"feed_id": feed_id, "sdp": pc.localDescription.sdp},
        namespace="/room",
        timeout=30,
    )
    assert done["ok"], done
    return sub, pc


async def measure(track: Any, sub: Sub, source: Numbered) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            frame = await track.recv()
            now = time.perf_counter()
            sub.frames += 1
            if sub.first is None:
                sub.first = now
            sent = source.sent.get(read_number(frame))
            if sent is not None and now - sent < 5:
                sub.latencies.append(now - sent)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def client_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def scenario(
    system: str,
    url: str,
    pids: list[int],
    tokens: list[str],
    session_id: int,
    publishers: int,
    subscribers: int,
    size: tuple[int, int],
    seconds: float,
) -> dict[str, Any]:
    """Run one scenario; returns its measurements."""
    tasks: list[Any] = []
    pcs: list[RTCPeerConnection] = []
    clients = [await connect(url, {"token": tok, "session_id": session_id}) for tok in tokens]
    if system != "stock":
        await clients[0].call(
            "command", {"type": "session.start", "data": {}}, namespace="/room", timeout=10
        )
    cameras = [Numbered(*size) for _ in range(publishers)]
    feeds = []
    for i in range(publishers):
        feed_id, pc = await publish(clients[i], cameras[i])
        feeds.append(feed_id)
        pcs.append(pc)
    subs: list[Sub] = []
    if publishers == 1:  # one publisher, K watchers (clients 1..K)
        for k in range(subscribers):
            sub, pc = await subscribe(
                clients[1 + k], feeds[0], cameras[0] if k == 0 else None, tasks
            )
            subs.append(sub)
            pcs.append(pc)
    else:  # everyone watches everyone else
        for i in range(publishers):
            for j in range(publishers):
                if i != j:
                    first = i == 1 and j == 0
                    sub, pc = await subscribe(
                        clients[i], feeds[j], cameras[j] if first else None, tasks
                    )
                    subs.append(sub)
                    pcs.append(pc)
    for _ in range(400):
        if all(s.first is not None for s in subs):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    frames0 = [s.frames for s in subs]
    cpu0 = [fanout.cpu_seconds(pid) for pid in pids]
    mine0, t0 = client_cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu1 = [fanout.cpu_seconds(pid) for pid in pids]
    mine1, t1 = client_cpu(), time.perf_counter()
    memory = sum(rss_mb(pid) for pid in pids)
    frames1 = [s.frames for s in subs]
    window = t1 - t0
    # The server process, plus Janus for the janus system (the media goes through Janus).
    used = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    server_pct = 100 * sum(used) / window
    fps = [(b - a) / window for a, b in zip(frames0, frames1, strict=True)]
    firsts = [s.first - s.asked for s in subs if s.first is not None]
    latencies = [x for s in subs for x in s.latencies]
    for task in tasks:
        task.cancel()
    for pc in pcs:
        await pc.close()
    for client in clients:
        await client.disconnect()
    return {
        "system": system,
        "publishers": publishers,
        "streams": len(subs),
        "server_cpu_pct": round(server_pct, 1),
        "janus_cpu_pct": round(100 * sum(used[1:]) / window, 1) if len(used) > 1 else "-",
        "cpu_pct_per_stream": round(server_pct / max(1, len(subs)), 2),
        "fps_median": round(statistics.median(fps), 1) if fps else 0,
        "fps_min": round(min(fps), 1) if fps else 0,
        "first_frame_ms_median": round(1000 * statistics.median(firsts)) if firsts else None,
        "first_frame_ms_max": round(1000 * max(firsts)) if firsts else None,
        "latency_ms_p50": round(1000 * statistics.median(latencies)) if latencies else None,
        "latency_ms_p95": round(1000 * sorted(latencies)[int(0.95 * (len(latencies) - 1))])
        if latencies
        else None,
        "client_cpu_pct": round(100 * (mine1 - mine0) / window, 1),
        "server_mb": round(memory),
        "subscribed": sum(1 for s in subs if s.first is not None),
    }


async def run_system(system: str, args: argparse.Namespace, pin: Any) -> list[dict[str, Any]]:
    rows = []
    plans = [(1, k, (640, 360)) for k in args.k]
    if system != "stock":
        plans += [(p, p - 1, (320, 180)) for p in args.p]
    for publishers, subscribers, size in plans:
        people = max(publishers, 1 + subscribers)
        with fanout.scratch("xs-sfu-") as workdir:
            port = fanout.free_port()
            prepared = await fanout.prepare(workdir, port, people)
            janus, pids = None, []
            if system == "janus":
                janus, settings = await janus_system.start(workdir, pin.server)
                pids.append(janus.process.pid)
                child = fanout.server_child(prepared, pin)
                child.env.update(settings)
            elif system == "xieshang":
                child = fanout.server_child(prepared, pin)
            if system != "stock":  # a client subscribes to up to P - 1 feeds at once
                child.env["XIESHANG_ROOM_COMMAND_BURST"] = "1000"
            else:
                child = fanout.Child(
                    [sys.executable, str(Path(__file__).with_name("stock_server.py")), str(port)],
                    dict(os.environ),
                    workdir / "stock.log",
                    pin,
                )
            child.start()
            url = f"http://127.0.0.1:{port}"
            try:
                await child.wait_http(f"{url}/api/health")
                usernames = [prepared.host_username, *prepared.member_usernames]
                tokens_by_name = (
                    await fanout.login_all(url, usernames[:people]) if system != "stock" else {}
                )
                tokens = [tokens_by_name.get(u, "-") for u in usernames[:people]]
                streams = subscribers if publishers == 1 else publishers * (publishers - 1)
                fanout.log(f"{system}: {publishers} publisher(s), {streams} streams …")
                row = await scenario(
                    system,
                    url,
                    [child.pid, *pids],
                    tokens,
                    prepared.session_ids[0],
                    publishers,
                    subscribers,
                    size,
                    args.seconds,
                )
                row["video"] = f"{size[0]}x{size[1]}"
                rows.append(row)
                fanout.log("  ", json.dumps(row, ensure_ascii=False))
            finally:
                await child.stop()
                janus_system.stop(janus)
    return rows


COLUMNS = [
    ("system", "system", 9),
    ("publishers", "pub", 3),
    ("streams", "streams", 7),
    ("video", "video", 8),
    ("server_cpu_pct", "srv CPU%", 8),
    ("janus_cpu_pct", "janus%", 6),
    ("cpu_pct_per_stream", "%/stream", 8),
    ("fps_median", "fps p50", 7),
    ("fps_min", "fps min", 7),
    ("first_frame_ms_median", "1st ms", 7),
    ("latency_ms_p50", "lat p50", 7),
    ("latency_ms_p95", "lat p95", 7),
    ("server_mb", "srv MB", 6),
    ("client_cpu_pct", "cli CPU%", 8),
]


def table(rows: list[dict[str, Any]]) -> str:
    head = " ".join(f"{label:>{width}}" for _key, label, width in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(" ".join(f"{r[key]!s:>{width}}" for key, _label, width in COLUMNS))
    return "\n".join(lines)


def smoke_problems(rows: list[dict[str, Any]]) -> list[str]:
    """Every subscriber got a first frame, frames kept coming, and latency was measured."""
    problems = [
        f"{r['system']} {r['streams']} streams: {r['subscribed']} subscribed"
        for r in rows
        if r["subscribed"] != r["streams"]
    ]
    problems += [
        f"{r['system']} {r['streams']} streams: no frames" for r in rows if not r["fps_min"]
    ]
    problems += [
        f"{r['system']} {r['streams']} streams: no latency"
        for r in rows
        if r["latency_ms_p50"] is None
    ]
    return problems


async def main(args: argparse.Namespace) -> int:
    pin = fanout.Pinning.choose(None, None)
    if pin.clients:
        os.sched_setaffinity(0, pin.clients)
    rows = []
    for system in args.systems:
        rows += await run_system(system, args, pin)
    if args.smoke:
        problems = smoke_problems(rows)
        fanout.log("\n".join(problems) or "smoke: ok")
        return 1 if problems else 0
    print(table(rows))
    by = {(r["system"], r["streams"]): r for r in rows if r["publishers"] == 1}
    for system in args.systems:
        ks = sorted(k for (s, k) in by if s == system)
        if len(ks) > 1:
            lo, hi = by[(system, ks[0])], by[(system, ks[-1])]
            slope = (hi["server_cpu_pct"] - lo["server_cpu_pct"]) / (ks[-1] - ks[0])
            print(
                f"{system}: {slope:.2f}% of a core per added subscriber stream (K={ks[0]}→{ks[-1]})"
            )
    for k in args.k:
        ours, stock = by.get(("xieshang", k)), by.get(("stock", k))
        if ours and stock and ours["server_cpu_pct"]:
            ratio = stock["server_cpu_pct"] / ours["server_cpu_pct"]
            print(f"K={k}: stock MediaRelay uses {ratio:.1f}x the server CPU of xieshang")
        janus = by.get(("janus", k))
        if ours and janus and janus["server_cpu_pct"]:
            ratio = ours["server_cpu_pct"] / janus["server_cpu_pct"]
            print(f"K={k}: the embedded SFU uses {ratio:.1f}x the CPU of Janus + server")
    print(json.dumps(rows, ensure_ascii=False))
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--k", default="1,4,8,16,32", help="subscriber counts for one publisher")
    parser.add_argument("--p", default="5,10", help="publisher counts, all watching each other")
    parser.add_argument("--systems", default="xieshang,janus,stock")
    parser.add_argument("--seconds", type=float, default=8.0, help="measurement window")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="K=2 and P=2 for 2 s, xieshang (and janus if installed); checks only",
    )
    args = parser.parse_args(argv)
    if args.smoke:  # the stock relay is a comparison, not the product: the smoke leaves it out
        args.k, args.p, args.seconds = "2", "2", 2.0
        args.systems = "xieshang,janus" if shutil.which("janus") else "xieshang"
    args.k = [int(x) for x in args.k.split(",") if x]
    args.p = [int(x) for x in args.p.split(",") if x]
    args.systems = args.systems.split(",")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
