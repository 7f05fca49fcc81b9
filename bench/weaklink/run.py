"""Weak-link measurement: Chromium receives a room's floor holder over a shaped link (issue 19).

Run from the project root, as root (network namespaces and a TUN device need it)::

    .venv/bin/python bench/weaklink/run.py               # 40 s unshaped, then 40 s shaped
    .venv/bin/python bench/weaklink/run.py --camera busy # a picture too big for the link
    .venv/bin/python bench/weaklink/run.py --seconds 60  # longer phases
    .venv/bin/python bench/weaklink/run.py --smoke       # a few seconds; checks only
    .venv/bin/python bench/weaklink/run.py --json        # only the JSON line

Topology. Three network namespaces made for the run, in a line joined by veth pairs:
``xs-weak-<pid>`` holds the xieshang server (its embedded aiortc SFU) and the publishing
Chromium; ``xs-weak-<pid>-c`` only the subscribing Chromium; ``xs-weak-<pid>-m`` between them
forwards. So the subscriber's whole path (page, signaling, media) crosses the middle and
nothing else does; nothing in the host's own network namespace changes. The shaped phase
applies ``netem rate 300kbit delay 100ms loss 3%`` to both directions (300 kbit/s each way,
a 200 ms round trip), as one netem qdisc on each end of a link would. This machine's kernel
has no ``sch_netem`` (``tc qdisc add ... netem`` answers "Specified qdisc kind is unknown"),
so the middle namespace's policy routing sends what it forwards through a TUN device served
by ``shaper.py``, a netem in user space (same rate, delay, loss and 1,000-packet queue). The
unshaped phase, in the same run, takes the same path with the rule off.

In each phase a fresh subscriber (a member, no camera) opens the room over the (still unshaped)
link and waits for the floor holder's first decoded frames; then the shaping goes on and the
measurement starts: ``getStats`` of every peer connection the page made (counted from that
moment), sampled every 2 s, for ``--seconds``. The page's own weak-link detector runs as it
would for anyone: when it falls back to audio only, the time is noted (the notice on screen).
The publisher is the host (staff) with Chromium's fake camera (640x360, 15 fps; ``--camera
busy`` gives it a hard-to-compress picture instead) and fake microphone (a beep), holding the
floor.

Without root, or where ``ip netns`` is refused, both phases run unshaped on the loopback
interface and the output says so (``"shaped": false``); ``--smoke`` then still checks the
whole path and exits 0. Everything made is removed on exit, on error too: the namespaces
(after killing what still runs in them, by process id), the server, the browsers, the
temporary folder (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_spec = importlib.util.spec_from_file_location("fanout_run", HERE.parent / "fanout" / "run.py")
assert _spec is not None and _spec.loader is not None
fanout = importlib.util.module_from_spec(_spec)
sys.modules["fanout_run"] = fanout
_spec.loader.exec_module(fanout)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NETEM_RATE, NETEM_DELAY, NETEM_LOSS = 300_000, 0.1, 0.03  # bit/s each way, s, share
NETEM = "rate 300kbit delay 100ms loss 3% (each way, user-space netem: shaper.py)"
SERVER_IP, CLIENT_IP = "10.213.0.1", "10.213.0.6"
INSIDE = "XIESHANG_WEAKLINK_INSIDE"  # in the re-executed runner: "<middle ns> <client ns>"
WORKDIR = "XIESHANG_WEAKLINK_DIR"
SAMPLE_EVERY = 2.0
NOTICE = "已自动切换为仅音频"
CONSENT = "我已知悉，同意录制"

# Every RTCPeerConnection the page makes, kept so the runner can read their statistics (the
# page itself only exposes a summary): a subclass, so the page's code is unchanged.
KEEP_CONNECTIONS = """(() => {
  const Native = window.RTCPeerConnection;
  const all = [];
  window.__xsConnections = all;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); all.push(this); }
  };
})();"""

# The inbound RTP reports of every connection (by its index), closed ones left out.
READ_STATS = """async () => {
  const out = [];
  const all = window.__xsConnections || [];
  for (let i = 0; i < all.length; i++) {
    const pc = all[i];
    if (pc.connectionState === "closed") continue;
    let stats;
    try { stats = await pc.getStats(); } catch { continue; }
    stats.forEach((r) => {
      if (r.type !== "inbound-rtp") return;
      out.push({ pc: i, id: r.id, kind: r.kind, packetsReceived: r.packetsReceived || 0,
        packetsLost: r.packetsLost || 0, bytesReceived: r.bytesReceived || 0,
        concealedSamples: r.concealedSamples || 0,
        silentConcealedSamples: r.silentConcealedSamples || 0,
        concealmentEvents: r.concealmentEvents || 0,
        totalSamplesReceived: r.totalSamplesReceived || 0,
        insertedSamplesForDeceleration: r.insertedSamplesForDeceleration || 0,
        removedSamplesForAcceleration: r.removedSamplesForAcceleration || 0,
        jitterBufferDelay: r.jitterBufferDelay || 0,
        jitterBufferEmittedCount: r.jitterBufferEmittedCount || 0,
        framesDecoded: r.framesDecoded || 0, framesDropped: r.framesDropped || 0,
        framesReceived: r.framesReceived || 0,
        freezeCount: r.freezeCount || 0, totalFreezesDuration: r.totalFreezesDuration || 0,
        pauseCount: r.pauseCount || 0, totalPausesDuration: r.totalPausesDuration || 0,
        frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0,
        framesPerSecond: r.framesPerSecond || 0 });
    });
  }
  return { reports: out, fellBack: document.body.innerText.includes(NOTICE),
           verdict: window.xieshang && window.xieshang.linkVerdict() };
}""".replace("NOTICE", json.dumps(NOTICE))

COUNTERS = (
    "packetsReceived",
    "packetsLost",
    "bytesReceived",
    "concealedSamples",
    "silentConcealedSamples",
    "concealmentEvents",
    "totalSamplesReceived",
    "insertedSamplesForDeceleration",
    "removedSamplesForAcceleration",
    "jitterBufferDelay",
    "jitterBufferEmittedCount",
    "framesDecoded",
    "framesDropped",
    "framesReceived",
    "freezeCount",
    "totalFreezesDuration",
    "pauseCount",
    "totalPausesDuration",
)


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- namespaces (root, outside)


def sh(*argv: str, netns: str | None = None) -> None:
    """Run a command (in ``netns`` when given); a failure raises CalledProcessError."""
    if netns is not None:
        argv = ("ip", "netns", "exec", netns, *argv)
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30)


class Namespaces:
    """The three namespaces, their veth pairs and the shaper; ``remove`` undoes ``make``.

    server (10.213.0.1) <-veth-> middle (10.213.0.2 | 10.213.0.5) <-veth-> client (10.213.0.6).
    The middle one forwards; while shaped, its policy routing sends what it forwards through
    the TUN device of ``shaper.py`` (the kernel here has no ``sch_netem``)."""

    def __init__(self, pid: int) -> None:
        self.server = f"xs-weak-{pid}"
        self.middle = f"xs-weak-{pid}-m"
        self.client = f"xs-weak-{pid}-c"
        self.made: list[str] = []
        self.shaper: subprocess.Popen[str] | None = None

    def make(self) -> None:
        s, m, c = self.server, self.middle, self.client
        for name in (s, m, c):
            sh("ip", "netns", "add", name)
            self.made.append(name)
            sh("ip", "link", "set", "lo", "up", netns=name)
        sh("ip", "link", "add", "xsw-s", "netns", s, "type", "veth", "peer", "xsw-ms", "netns", m)
        sh("ip", "link", "add", "xsw-c", "netns", c, "type", "veth", "peer", "xsw-mc", "netns", m)
        for key in ("ip_forward", "conf/all/rp_filter", "conf/default/rp_filter"):
            value = "1" if key == "ip_forward" else "0"
            sh("sh", "-c", f"echo {value} > /proc/sys/net/ipv4/{key}", netns=m)
        sh("ip", "tuntap", "add", "dev", "xsw-t", "mode", "tun", netns=m)
        for ns, dev, address in (
            (s, "xsw-s", SERVER_IP),
            (m, "xsw-ms", "10.213.0.2"),
            (m, "xsw-mc", "10.213.0.5"),
            (c, "xsw-c", CLIENT_IP),
        ):
            sh("ip", "addr", "add", f"{address}/30", "dev", dev, netns=ns)
            sh("ip", "link", "set", dev, "up", netns=ns)
        sh("ip", "link", "set", "xsw-t", "up", netns=m)
        sh("ip", "route", "add", "10.213.0.4/30", "via", "10.213.0.2", netns=s)
        sh("ip", "route", "add", "default", "via", "10.213.0.5", netns=c)
        sh("ip", "route", "add", "default", "dev", "xsw-t", "table", "100", netns=m)
        rate = str(int(NETEM_RATE)), str(NETEM_DELAY), str(NETEM_LOSS)
        self.shaper = subprocess.Popen(
            ["ip", "netns", "exec", m, sys.executable, str(HERE / "shaper.py"), "--dev", "xsw-t",
             "--rate", rate[0], "--delay", rate[1], "--loss", rate[2]],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.shaper.stdout is not None
        if self.shaper.stdout.readline().strip() != "ready":
            raise OSError("the shaper did not start")

    def remove(self) -> dict[str, Any] | None:
        counts = None
        if self.shaper is not None and self.shaper.poll() is None:
            self.shaper.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired, json.JSONDecodeError):
                out, _ = self.shaper.communicate(timeout=10)
                counts = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
            if self.shaper.poll() is None:
                self.shaper.kill()
                self.shaper.wait()
        for name in reversed(self.made):
            pids = subprocess.run(
                ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
            ).stdout.split()
            for pid in pids:  # what the run started in there and left behind
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        self.made.clear()
        return counts


def shaping(on: bool, middle: str | None) -> None:
    """Send what the middle namespace forwards through the shaper, or straight on."""
    if middle is None:
        return
    for dev in ("xsw-ms", "xsw-mc"):
        if on:
            sh("ip", "rule", "add", "iif", dev, "lookup", "100", netns=middle)
        else:
            with contextlib.suppress(subprocess.CalledProcessError):
                sh("ip", "rule", "del", "iif", dev, "lookup", "100", netns=middle)


# ---------------------------------------------------------------- the measurement (inside)


Reports = dict[tuple[int, str], dict[str, Any]]  # (connection index, stats id) -> report


def totals(first: Reports, last: Reports, kind: str) -> dict[str, float]:
    """Sum over every stream of ``kind`` of what its counters gained since the start."""
    out = dict.fromkeys(COUNTERS, 0.0)
    for key, now in last.items():
        if now["kind"] != kind:
            continue
        before = first.get(key, {})
        for name in COUNTERS:
            out[name] += now[name] - before.get(name, 0)
    return out


async def agree(consent: Any) -> None:
    """Accept recording when the room asks (a session whose template says ``recording: ask``)."""
    if await consent.count():
        with contextlib.suppress(Exception):
            await consent.click(timeout=2_000)


async def subscriber_phase(
    browser: Any, url: str, session: dict[str, Any], sid: int, seconds: float, shape: Any
) -> dict[str, Any]:
    context = await browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    try:
        await context.add_init_script("localStorage.setItem('xs.lang', 'zh-CN');")
        await context.add_init_script(
            f"localStorage.setItem('xs.session', {json.dumps(json.dumps(session))});"
        )
        await context.add_init_script(KEEP_CONNECTIONS)
        page = await context.new_page()
        begun = time.monotonic()
        await page.goto(f"{url}/#/rooms/{sid}")
        consent = page.get_by_role("button", name=CONSENT)
        for _ in range(300):  # the floor holder's first frames
            await agree(consent)
            got = await page.evaluate(READ_STATS)
            if any(r["kind"] == "video" and r["framesDecoded"] > 5 for r in got["reports"]):
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the subscriber decoded no video from the floor holder")
        joined_s = time.monotonic() - begun
        shape(True)
        try:
            return await measure(page, seconds, joined_s)
        finally:
            shape(False)
    finally:
        await context.close()


async def measure(page: Any, seconds: float, joined_s: float) -> dict[str, Any]:
    first: dict[tuple[int, str], dict[str, Any]] = {}
    last: dict[tuple[int, str], dict[str, Any]] = {}
    series: list[dict[str, Any]] = []
    fell_back_at: float | None = None
    verdicts: list[Any] = []
    start = time.monotonic()
    previous: dict[str, float] | None = None
    previous_t = 0.0
    while True:
        t = time.monotonic() - start
        got = await page.evaluate(READ_STATS)
        for r in got["reports"]:
            last[(r["pc"], r["id"])] = r
        if not series:  # the first sample is the zero point
            first = {k: dict(v) for k, v in last.items()}
        if got["fellBack"] and fell_back_at is None:
            fell_back_at = round(t, 1)
        verdicts.append(got["verdict"])
        video = totals(first, last, "video")
        audio = totals(first, last, "audio")
        live = [r for r in got["reports"] if r["kind"] == "video"]
        now = {
            "video_bytes": video["bytesReceived"],
            "audio_conc": audio["concealedSamples"],
            "audio_total": audio["totalSamplesReceived"],
            "frames": video["framesDecoded"],
        }
        point: dict[str, Any] = {"t": round(t, 1)}
        if previous is not None and t > previous_t:
            dt = t - previous_t
            kbit = (now["video_bytes"] - previous["video_bytes"]) * 8 / 1000
            point["video_kbps"] = round(kbit / dt, 1)
            point["fps"] = round((now["frames"] - previous["frames"]) / dt, 1)
            total = now["audio_total"] - previous["audio_total"]
            conc = now["audio_conc"] - previous["audio_conc"]
            point["audio_concealed_pct"] = round(100 * conc / total, 1) if total else None
        point["size"] = [f"{r['frameWidth']}x{r['frameHeight']}" for r in live if r["frameWidth"]]
        series.append(point)
        previous, previous_t = now, t
        if t >= seconds:
            break
        await asyncio.sleep(SAMPLE_EVERY)
    video = totals(first, last, "video")
    audio = totals(first, last, "audio")
    received = audio["totalSamplesReceived"]
    return {
        "joined_s": round(joined_s, 1),
        "seconds": round(time.monotonic() - start, 1),
        "audio": {
            "packets_received": int(audio["packetsReceived"]),
            "packets_lost": int(audio["packetsLost"]),
            "concealed_pct": round(100 * audio["concealedSamples"] / received, 2)
            if received
            else None,
            "concealed_samples": int(audio["concealedSamples"]),
            "total_samples_received": int(received),
            "concealment_events": int(audio["concealmentEvents"]),
            "inserted_for_deceleration": int(audio["insertedSamplesForDeceleration"]),
            "removed_for_acceleration": int(audio["removedSamplesForAcceleration"]),
            "jitter_buffer_ms": round(
                1000 * audio["jitterBufferDelay"] / audio["jitterBufferEmittedCount"], 1
            )
            if audio["jitterBufferEmittedCount"]
            else None,
        },
        "video": {
            "packets_received": int(video["packetsReceived"]),
            "packets_lost": int(video["packetsLost"]),
            "frames_decoded": int(video["framesDecoded"]),
            "frames_dropped": int(video["framesDropped"]),
            "freeze_count": int(video["freezeCount"]),
            "total_freezes_s": round(video["totalFreezesDuration"], 2),
            "pause_count": int(video["pauseCount"]),
            "kbps": round(video["bytesReceived"] * 8 / max(seconds, 1) / 1000, 1),
        },
        "fell_back_at_s": fell_back_at,
        "last_verdict": next((v for v in reversed(verdicts) if v), None),
        "series": series,
    }


async def publisher(browser: Any, url: str, session: dict[str, Any], sid: int) -> Any:
    context = await browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    await context.add_init_script("localStorage.setItem('xs.lang', 'zh-CN');")
    await context.add_init_script(
        f"localStorage.setItem('xs.session', {json.dumps(json.dumps(session))});"
    )
    page = await context.new_page()
    await page.goto(f"{url}/#/rooms/{sid}")
    await page.get_by_role("button", name="开始会议").click(timeout=30_000)
    camera = page.get_by_role("button", name="开启摄像头")
    for _ in range(300):
        await agree(page.get_by_role("button", name=CONSENT))
        if await camera.count():
            break
        await asyncio.sleep(0.1)
    await camera.click(timeout=30_000)
    await page.get_by_role("button", name="关闭摄像头").wait_for(timeout=30_000)
    return context


def busy_camera(path: Path, width: int = 640, height: int = 360, frames: int = 45) -> Path:
    """A Y4M file for Chromium's fake camera that is hard to compress: a random texture
    scrolling 4 px a frame, with a band of a quarter of the picture new noise every frame
    (Chromium's own fake picture, a still pattern with a clock, needs only ~150 kbit/s)."""
    chance = random.Random(19)
    texture = chance.randbytes((width + 4 * frames) * height)
    row = width + 4 * frames
    chroma = bytes([128]) * (width * height // 2)
    band = height // 4
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(frames):
            top = (n * 7) % (height - band)
            out.write(b"FRAME\n")
            for y in range(height):
                if top <= y < top + band:
                    out.write(chance.randbytes(width))
                else:
                    out.write(texture[y * row + 4 * n : y * row + 4 * n + width])
            out.write(chroma)
    return path


def chromium_args() -> list[str]:
    return [
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
        # Real host candidates (not mDNS names the SFU cannot resolve) on the namespaces' link.
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ]


async def inside(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    names = os.environ.get(INSIDE, "").split()
    middle, client_ns = (names[0], names[1]) if len(names) == 2 else (None, None)
    ip = SERVER_IP if middle else "127.0.0.1"
    seconds = 4.0 if args.smoke else args.seconds
    given = os.environ.get(WORKDIR)  # made (and removed) by the runner outside
    with contextlib.nullcontext(Path(given)) if given else fanout.scratch("weaklink-") as workdir:
        port = fanout.free_port()
        prepared = await fanout.prepare(workdir, port, members=1)
        url = f"http://{ip}:{port}"
        prepared.config = dataclasses.replace(prepared.config, public_url=url)
        child = fanout.server_child(prepared, fanout.Pinning(None, None))
        child.env["XIESHANG_HOST"] = ip
        child.start()
        try:
            await child.wait_http(f"{url}/api/health")
            tokens = await fanout.login_all(url, ["host", "m00000"])
            sessions = {}
            async with aiohttp.ClientSession() as http:
                for name, token in tokens.items():
                    headers = {"Authorization": f"Bearer {token}"}
                    async with http.get(f"{url}/api/me", headers=headers) as reply:
                        sessions[name] = {"token": token, "person": await reply.json()}
            sid = prepared.session_ids[0]
            wrapper = workdir / "chromium-client"
            if client_ns:
                wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {client_ns} {CHROMIUM} "$@"\n')
                wrapper.chmod(0o755)
            args_ = [*chromium_args(), f"--unsafely-treat-insecure-origin-as-secure={url}"]
            camera = []
            if args.camera == "busy":
                video = busy_camera(workdir / "busy.y4m")
                camera = [f"--use-file-for-fake-video-capture={video}"]
            async with async_playwright() as p:
                pub_browser = await p.chromium.launch(
                    executable_path=CHROMIUM, args=[*args_, *camera]
                )
                sub_browser = await p.chromium.launch(
                    executable_path=str(wrapper) if client_ns else CHROMIUM, args=args_
                )
                try:
                    await publisher(pub_browser, url, sessions["host"], sid)
                    host_key = f"p:{sessions['host']['person']['id']}"
                    async with fanout.host_client(url, tokens["host"], sid) as host:
                        granted = await fanout.command(
                            host, "floor.grant", who=host_key, seconds=3600
                        )
                        if not granted.get("ok"):
                            raise RuntimeError(f"floor.grant: {granted}")
                        phases = {}
                        second = (
                            "shaped" if middle else "unshaped again"
                        )  # no shaping here: said so
                        for name, shaped in (("unshaped", False), (second, True)):
                            log(f"  {name}: {seconds:.0f} s")

                            def shape(on: bool, shaped: bool = shaped) -> None:
                                shaping(on and shaped, middle)

                            phases[name] = await subscriber_phase(
                                sub_browser, url, sessions["m00000"], sid, seconds, shape
                            )
                finally:
                    await sub_browser.close()
                    await pub_browser.close()
        finally:
            await child.stop()
            errors = fanout.server_errors(child.log_path)
    return {
        "bench": "weaklink",
        "shaped": middle is not None,
        "camera": args.camera,
        "netem": NETEM if middle else None,
        "seconds": seconds,
        "phases": phases,
        "server_errors": errors,
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        ("audio packets received", lambda p: p["audio"]["packets_received"]),
        ("audio packets lost", lambda p: p["audio"]["packets_lost"]),
        ("audio concealed %", lambda p: p["audio"]["concealed_pct"]),
        ("audio concealment events", lambda p: p["audio"]["concealment_events"]),
        ("audio inserted for deceleration", lambda p: p["audio"]["inserted_for_deceleration"]),
        ("audio jitter buffer ms", lambda p: p["audio"]["jitter_buffer_ms"]),
        ("video packets received", lambda p: p["video"]["packets_received"]),
        ("video packets lost", lambda p: p["video"]["packets_lost"]),
        ("video kbit/s", lambda p: p["video"]["kbps"]),
        ("video frames decoded", lambda p: p["video"]["frames_decoded"]),
        ("video frames dropped", lambda p: p["video"]["frames_dropped"]),
        ("video freezes", lambda p: p["video"]["freeze_count"]),
        ("video freezes total s", lambda p: p["video"]["total_freezes_s"]),
        ("fell back to audio only at s", lambda p: p["fell_back_at_s"]),
    ]
    phases = result["phases"]
    names = list(phases)
    lines = [f"| {'':32} | " + " | ".join(f"{n:>10}" for n in names) + " |"]
    lines.append("| " + "-" * 32 + " | " + " | ".join("-" * 10 for _ in names) + " |")
    for label, get in rows:
        cells = [get(phases[n]) for n in names]
        shown = " | ".join(f"{'-' if c is None else c!s:>10}" for c in cells)
        lines.append(f"| {label:32} | {shown} |")
    for n in names:
        sizes = " ".join(
            f"{p['t']:.0f}s:{','.join(p['size']) or '-'}@{p.get('video_kbps', '-')}k"
            for p in phases[n]["series"]
        )
        lines.append(f"\n{n} (t: frame size @ video kbit/s): {sizes}")
    return "\n".join(lines)


def problems(result: dict[str, Any]) -> list[str]:
    found = [f"server error: {e}" for e in result["server_errors"]]
    for name, phase in result["phases"].items():
        if phase["audio"]["packets_received"] <= 0:
            found.append(f"{name}: no audio received")
        if name == "unshaped" and phase["video"]["frames_decoded"] <= 0:
            found.append(f"{name}: no video decoded")
    return found


# ---------------------------------------------------------------- entry


def run_inside(args: argparse.Namespace) -> int:
    result = asyncio.run(inside(args))
    if not args.json:
        print(table(result))
    print(json.dumps(result, ensure_ascii=False))
    if args.smoke and (found := problems(result)):
        log("smoke failed:", *found, sep="\n  ")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="length of each phase")
    parser.add_argument("--smoke", action="store_true", help="a few seconds; checks only")
    parser.add_argument("--json", action="store_true", help="only the JSON line")
    parser.add_argument(
        "--camera",
        choices=("fake", "busy"),
        default="fake",
        help="the publisher's picture: Chromium's own pattern, or a hard-to-compress one",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-netns", action="store_true", help="run unshaped on loopback")
    args = parser.parse_args(argv)
    fanout.OPTIONS["keep"] = args.keep
    if INSIDE in os.environ:
        return run_inside(args)
    spaces = Namespaces(os.getpid())
    why = None
    if args.no_netns:
        why = "--no-netns"
    elif os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("tc") is None:
        why = "not root, or no ip/tc"
    else:
        try:
            spaces.make()
        except (subprocess.SubprocessError, OSError) as error:
            detail = getattr(error, "stderr", "") or error
            why = f"ip netns refused: {str(detail).strip()}"
            spaces.remove()
    if why is not None:
        if not args.smoke:
            log(f"cannot shape the link ({why}); run as root for the measurement")
            return 2
        log(f"NOTE: not shaped ({why}): both phases run unshaped on loopback")
        os.environ[INSIDE] = ""
        return run_inside(args)
    # Terminated from outside: still clean up (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="weaklink-")
    try:
        env = {**os.environ, INSIDE: f"{spaces.middle} {spaces.client}", WORKDIR: workdir}
        argv_ = ["ip", "netns", "exec", spaces.server, sys.executable, __file__, *sys.argv[1:]]
        return subprocess.run(argv_, env=env, check=False).returncode
    finally:
        if (counts := spaces.remove()) is not None:
            log(f"shaper (per destination): {json.dumps(counts)}")
        if args.keep:
            log(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
