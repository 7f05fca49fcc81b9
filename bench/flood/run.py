"""Flood benchmark: does one client's flood change everyone else's latency?

Run from the project root::

    .venv/bin/python bench/flood/run.py              # 20 listeners, 15 s per phase
    .venv/bin/python bench/flood/run.py --seconds 5  # quicker
    .venv/bin/python bench/flood/run.py --smoke      # seconds; checks the limits refuse the flood

``xieshang serve`` runs pinned to one CPU with the default limits (it is the real server, with
``XIESHANG_API_RATE``/``_BURST``, the room command rate and the sign-in limits at their
defaults), on a fresh SQLite database. This runner and the flooder run on the other CPU.

Each phase lasts ``--seconds``. The host sends ``chat.send`` five times a second; 20 listeners
record receive minus send time (room delivery). A polite HTTP client asks ``GET /api/me`` ten
times a second (HTTP latency). Phases:

- ``quiet``: nothing else.
- ``flood``: a flooder process (a signed-in member from another address: 127.0.0.2) sends room
  commands as fast as its connection takes them without waiting for answers, asks
  ``GET /api/sessions`` from 8 parallel connections as fast as it can, and tries wrong passwords
  for another account in a loop.
- ``flood-unlimited``: the same flood against a server whose API rate limit is lifted
  (``XIESHANG_API_RATE=1000000``), to show what the limit buys.

The table gives p50/p99 of both latencies per phase, the flooder's answered/refused counts and
the server's CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_spec = importlib.util.spec_from_file_location("fanout_run", HERE.parent / "fanout" / "run.py")
assert _spec and _spec.loader
fanout: Any = importlib.util.module_from_spec(_spec)
sys.modules["fanout_run"] = fanout
_spec.loader.exec_module(fanout)

LISTENERS = 20
FLOODER_TOKEN = "XIESHANG_FLOODER_TOKEN"  # the flooder process's sign-in, by environment
FLOOD_ADDRESS = "127.0.0.2"  # the flooder's own source address (loopback is all of 127/8)
# `--smoke` floods for a second and a half: on a loaded machine the flooder may not get past
# the default burst (100) in that time, so the smoke's limited phase has small limits that any
# flood passes; the check is that the limiter refuses it, not how soon.
SMOKE_SECONDS = 1.5
SMOKE_LIMITS = {"XIESHANG_API_BURST": "10", "XIESHANG_LOGIN_FAILURES_PER_ADDRESS": "3"}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def flooder(url: str, token: str, session_id: int, until: float) -> dict[str, int]:
    """Everything one misbehaving client can throw, from its own address, until ``until``."""
    counts = {
        "room_ok": 0, "room_refused": 0, "http_ok": 0, "http_429": 0, "http_other": 0,
        "login_429": 0,
    }  # fmt: skip
    sio = socketio.AsyncClient(reconnection=False)
    connector = aiohttp.TCPConnector(local_addr=(FLOOD_ADDRESS, 0), limit=16)
    await sio.connect(
        url,
        auth={"token": token, "session_id": session_id},
        namespaces=["/room"],
        transports=["websocket"],
        wait_timeout=30,
    )

    async def room() -> None:
        command = {"type": "chat.send", "data": {"text": "刷屏"}}
        while time.monotonic() < until:
            ack = await sio.call("command", command, namespace="/room", timeout=30)
            counts["room_ok" if ack.get("ok") else "room_refused"] += 1

    async def http(session: aiohttp.ClientSession) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        while time.monotonic() < until:
            async with session.get(f"{url}/api/sessions", headers=headers) as reply:
                await reply.read()
                key = {200: "http_ok", 429: "http_429"}.get(reply.status, "http_other")
                counts[key] += 1

    async def logins(session: aiohttp.ClientSession) -> None:
        body = {"username": "host", "password": "not the password"}
        while time.monotonic() < until:
            async with session.post(f"{url}/api/auth/login", json=body) as reply:
                await reply.read()
                counts["login_429"] += reply.status == 429

    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(
                *(room() for _ in range(8)), *(http(session) for _ in range(8)), logins(session)
            )
    finally:
        await sio.disconnect()
    return counts


async def flood_process(
    url: str, token: str, session_id: int, seconds: float, pin: Any
) -> dict[str, int]:
    """Run :func:`flooder` in a process of its own (on the clients' CPU), so that its work does
    not slow down the clients that measure."""
    # The token goes by environment: a token that starts with "-" (base64url can) would be read
    # by argparse as an option.
    argv = [sys.executable, __file__, "--flooder", url, str(session_id), str(seconds)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), FLOODER_TOKEN: token}
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, env=env)
    out, _ = await proc.communicate()
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


async def polite(url: str, token: str, until: float) -> list[float]:
    """GET /api/me ten times a second; the latencies in ms."""
    latencies = []
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < until:
            started = time.perf_counter()
            async with session.get(
                f"{url}/api/me", headers={"Authorization": f"Bearer {token}"}
            ) as reply:
                await reply.read()
                if reply.status == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.1)
    return latencies


async def listen(url: str, token: str, session_id: int, sink: list[float]) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)

    def on_event(event: dict[str, Any]) -> None:
        text = event.get("data", {}).get("text", "")
        if event.get("type") == "chat.send" and text.startswith(fanout.MARKER):
            sink.append(time.time() * 1000 - float(text.removeprefix(fanout.MARKER)))

    sio.on("event", on_event, namespace="/room")
    await sio.connect(
        url,
        auth={"token": token, "session_id": session_id},
        namespaces=["/room"],
        transports=["websocket"],
        wait_timeout=30,
    )
    return sio


async def phase(
    name: str, seconds: float, unlimited: bool, flood: bool, limits: dict[str, str]
) -> dict[str, Any]:
    pin = fanout.Pinning.choose(None, None)
    with fanout.scratch("xieshang-flood-") as workdir:
        port = fanout.free_port()
        prepared = await fanout.prepare(workdir, port, LISTENERS + 2)
        child = fanout.server_child(prepared, pin)
        if not unlimited:  # the fan-out bench lifts the API limit; here it is at its default
            child.env.pop("XIESHANG_API_RATE")
            child.env.pop("XIESHANG_API_BURST")
            child.env.update(limits)
        child.start()
        url = prepared.config.public_url
        try:
            await child.wait_http(f"{url}/api/health")
            names = prepared.member_usernames
            tokens = await fanout.login_all(url, ["host", *names])
            sid = prepared.session_ids[0]
            delivery: list[float] = []
            listeners = [await listen(url, tokens[n], sid, delivery) for n in names[:LISTENERS]]
            async with fanout.host_client(url, tokens["host"], sid) as host:
                await fanout.command(host, "session.start")
                await asyncio.sleep(1.0)
                cpu0 = fanout.cpu_seconds(child.pid)
                until = time.monotonic() + seconds
                tasks = [asyncio.create_task(polite(url, tokens[names[LISTENERS]], until))]
                if flood:
                    tasks.append(
                        asyncio.create_task(
                            flood_process(url, tokens[names[LISTENERS + 1]], sid, seconds, pin)
                        )
                    )
                while time.monotonic() < until:
                    await fanout.command(host, "chat.send", text=fanout.bench_text())
                    await asyncio.sleep(0.2)
                results = await asyncio.gather(*tasks)
                cpu = (fanout.cpu_seconds(child.pid) - cpu0) / seconds
                await asyncio.sleep(0.5)
            for sio in listeners:
                await sio.disconnect()
        finally:
            await child.stop()
    http = results[0]
    row = {
        "phase": name,
        "delivery_p50_ms": pct(delivery, 0.5),
        "delivery_p99_ms": pct(delivery, 0.99),
        "deliveries": len(delivery),
        "http_p50_ms": pct(http, 0.5),
        "http_p99_ms": pct(http, 0.99),
        "http_mean_ms": statistics.fmean(http) if http else None,
        "server_cpu": cpu,
    }
    if flood:
        row.update(results[1])
    return row


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def smoke_problems(rows: list[dict[str, Any]]) -> list[str]:
    """What a `--smoke` run must see: deliveries in every phase, the flood refused (429) only
    while the limit is on, and no answer the flooder did not expect."""
    _quiet, flood, unlimited = rows
    problems = [f"{r['phase']}: no room delivery" for r in rows if not r["deliveries"]]
    problems += [f"{r['phase']}: no polite answer" for r in rows if r["http_p50_ms"] is None]
    if not flood["http_429"] or not flood["login_429"]:
        problems.append(f"flood: the limits refused nothing: {flood}")
    if unlimited["http_429"]:
        problems.append(f"flood-unlimited: {unlimited['http_429']} API answers were 429")
    problems += [
        f"{r['phase']}: unexpected statuses" for r in (flood, unlimited) if r["http_other"]
    ]
    return problems


async def main(args: argparse.Namespace) -> int:
    if args.smoke:
        global LISTENERS
        LISTENERS = 3
        args.seconds = SMOKE_SECONDS
    limits = SMOKE_LIMITS if args.smoke else {}
    rows = [
        await phase("quiet", args.seconds, unlimited=False, flood=False, limits=limits),
        await phase("flood", args.seconds, unlimited=False, flood=True, limits=limits),
        await phase("flood-unlimited", args.seconds, unlimited=True, flood=True, limits={}),
    ]
    if args.smoke:
        problems = smoke_problems(rows)
        print("\n".join(problems) or "smoke: ok", file=sys.stderr)
        return 1 if problems else 0
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cols = [
        "phase", "delivery_p50_ms", "delivery_p99_ms", "http_p50_ms", "http_p99_ms",
        "server_cpu", "room_ok", "room_refused", "http_ok", "http_429", "login_429",
    ]  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(fmt(row.get(c)) for c in cols) + " |")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="3 listeners, 1.5 s phases, checks")
    parser.add_argument(
        "--flooder",
        nargs=3,
        metavar=("URL", "SESSION", "SECONDS"),
        help=f"token in ${FLOODER_TOKEN}",
    )
    return parser.parse_args(argv)


def run_flooder(url: str, session_id: str, seconds: str) -> None:
    token = os.environ[FLOODER_TOKEN]
    until = time.monotonic() + float(seconds)
    print(json.dumps(asyncio.run(flooder(url, token, int(session_id), until))))


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.flooder:
        run_flooder(*arguments.flooder)
        sys.exit(0)
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main(arguments)))
