"""Join-storm benchmark: a public hall (民生议政厅) that N citizens enter from their phones at once.

Run from the project root::

    .venv/bin/python bench/hall/run.py                 # N = 200 and 500 (about 2 minutes)
    .venv/bin/python bench/hall/run.py --sizes 1000    # any sizes
    .venv/bin/python bench/hall/run.py --smoke         # N = 10, seconds; checks only
    .venv/bin/python bench/hall/run.py --json          # only the JSON line

For each N, on a fresh SQLite database, ``xieshang serve`` runs as a child process pinned to one
CPU (this runner, which plays every phone with python-socketio, on the others). A staff host
creates a public hall (lobby ``host_admits``), starts it and waits in the room. Then, phase by
phase, each phase starting when the previous one has finished for every guest:

1. **pass**: each guest asks for a guest pass (``POST /api/sessions/{id}/guest-join``), 16 at
   a time;
2. **lobby**: each guest connects to ``/room`` with its pass and is told to wait;
3. **admit**: the host sends ``lobby.admit_all`` once; each guest, told it is admitted, sends
   ``join`` and gets its snapshot (every guest's presence reaches everyone present: coalesced
   into a few ``presence.batch`` events, not one per guest);
4. **vote**: the host opens a poll guests may vote in; each guest votes once, acknowledged.

For each phase: wall time until the last guest finished it, server CPU (``/proc/<pid>/stat``
utime+stime, all threads) over the phase divided by N, and for the admit phase how many presence
events the host received. Nothing outside a temporary folder is changed (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("fanout_run", HERE.parent / "fanout" / "run.py")
assert _spec is not None and _spec.loader is not None
fanout = importlib.util.module_from_spec(_spec)
sys.modules["fanout_run"] = fanout
_spec.loader.exec_module(fanout)

PARALLEL = 16  # requests and connections in flight at once (a crowd scanning a QR code)
PRESENCE = ("presence.join", "presence.leave", "presence.batch")
HALL = {
    "kind": "livelihood_hall",
    "mode": "remote",
    "title": "民生议政厅 join-storm benchmark",
    "starts_at": "2026-12-01T09:30:00+08:00",
    "ends_at": "2026-12-01T11:30:00+08:00",
    "timezone": "Asia/Shanghai",
    "visibility": "public",
    "lobby": "host_admits",
    "stage": None,
    "agenda": [{"title": "加装电梯补贴", "planned_minutes": 60}],
    "allow_conflicts": True,
}


class Phone:
    """One citizen's phone: a guest pass and a room connection."""

    def __init__(self, index: int) -> None:
        self.name = f"市民{index:04d}"
        self.token = ""
        self.key = ""
        self.sio = socketio.AsyncClient(reconnection=False)
        self.waiting = asyncio.Event()
        self.admitted = asyncio.Event()
        self.snapshot: dict[str, Any] | None = None
        self.sio.on("lobby", self._lobby, namespace="/room")
        self.sio.on("event", self._event, namespace="/room")

    def _lobby(self, data: dict[str, Any]) -> None:
        if data.get("status") == "waiting":
            self.waiting.set()

    def _event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "lobby.admit_all" and any(
            g.get("who") == self.key for g in event["data"].get("guests", [])
        ):
            self.admitted.set()


async def in_batches(items: list[Any], work: Any, parallel: int = PARALLEL) -> None:
    queue = list(reversed(items))

    async def lane() -> None:
        while queue:
            await work(queue.pop())

    await asyncio.gather(*(lane() for _ in range(parallel)))


async def run_size(size: int, pin: Any) -> dict[str, Any]:
    with fanout.scratch(f"hall-{size}-") as workdir:
        port = fanout.free_port()
        prepared = await fanout.prepare(workdir, port, members=0)
        child = fanout.server_child(prepared, pin)
        # Every phone here comes from 127.0.0.1: lift the guest passes per address.
        child.env["XIESHANG_GUEST_JOINS"] = "100000"
        url = prepared.config.public_url
        child.start()
        try:
            await child.wait_http(f"{url}/api/health")
            return await storm(size, url, child.pid, workdir)
        finally:
            await child.stop()


async def storm(size: int, url: str, pid: int, workdir: Path) -> dict[str, Any]:
    token = (await fanout.login_all(url, ["host"]))["host"]
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as staff,
        staff.post(f"{url}/api/sessions", json=HALL) as reply,
    ):
        body = await reply.json()
        if reply.status != 201:
            raise RuntimeError(f"could not create the hall: {reply.status} {body}")
        session_id = body["id"]
    phones = [Phone(i) for i in range(size)]
    phases: dict[str, dict[str, float]] = {}
    presence_events: list[dict[str, Any]] = []

    failures: dict[str, list[str]] = {}

    def guarded(name: str, step: Any) -> Any:
        """A guest's step; a failure (refused, timed out) is counted, not fatal."""

        async def run(phone: Phone) -> None:
            try:
                await step(phone)
            except Exception as exc:  # reported per phase
                failures.setdefault(name, []).append(f"{type(exc).__name__}: {exc}"[:200])

        return run

    async def phase(name: str, work: Any) -> None:
        await fanout.settle(pid)
        cpu, begun = fanout.cpu_seconds(pid), time.monotonic()
        await work()
        await fanout.settle(pid)
        phases[name] = {
            "wall_s": round(time.monotonic() - begun, 3),
            "cpu_ms_per_guest": round((fanout.cpu_seconds(pid) - cpu) * 1000 / size, 2),
            "failed": len(failures.get(name, [])),
        }
        fanout.log(f"  {name}: {phases[name]}")

    async with fanout.host_client(url, token, session_id) as host:
        host.on(
            "event",
            lambda e: presence_events.append(e) if e.get("type") in PRESENCE else None,
            namespace="/room",
        )
        started = await fanout.command(host, "session.start")
        if not started.get("ok"):
            raise RuntimeError(f"session.start: {started}")

        async def passes() -> None:
            async with aiohttp.ClientSession() as anon:

                async def one(phone: Phone) -> None:
                    body = {"name": phone.name}
                    join = f"{url}/api/sessions/{session_id}/guest-join"
                    async with anon.post(join, json=body) as reply:
                        got = await reply.json()
                        if reply.status != 200:
                            raise RuntimeError(f"guest pass: {reply.status} {got}")
                    phone.token, phone.key = got["guest_token"], f"g:{got['guest_id']}"

                await in_batches(phones, guarded("pass", one))

        async def lobby() -> None:
            async def one(phone: Phone) -> None:
                await phone.sio.connect(
                    url,
                    auth={"guest_token": phone.token, "session_id": session_id},
                    namespaces=["/room"],
                    transports=["websocket"],
                    wait_timeout=60,
                )
                await asyncio.wait_for(phone.waiting.wait(), 60)

            await in_batches([p for p in phones if p.token], guarded("lobby", one))

        async def admit() -> None:
            presence_events.clear()
            answer = await fanout.command(host, "lobby.admit_all")
            if not answer.get("ok"):
                raise RuntimeError(f"lobby.admit_all: {answer}")

            async def one(phone: Phone) -> None:
                await asyncio.wait_for(phone.admitted.wait(), 60)
                joined = await phone.sio.call("join", namespace="/room", timeout=60)
                if not joined.get("ok"):
                    raise RuntimeError(f"join: {joined}")
                phone.snapshot = joined["snapshot"]

            waiting = [p for p in phones if p.waiting.is_set()]
            await asyncio.gather(*map(guarded("admit", one), waiting))  # all at once, as told

        poll_id: list[int] = []

        async def vote() -> None:
            opened = await fanout.command(
                host,
                "poll.open",
                question="是否赞成加装电梯补贴方案？",
                options=["赞成", "反对"],
                voters={"roles": [], "guests": True},
            )
            if not opened.get("ok"):
                raise RuntimeError(f"poll.open: {opened}")
            poll_id.append(opened["seq"])  # a poll is named by the seq of its poll.open

            async def one(phone: Phone) -> None:
                cmd = {"type": "poll.vote", "data": {"poll_id": poll_id[0], "choices": [0]}}
                answer = await phone.sio.call("command", cmd, namespace="/room", timeout=60)
                if not answer.get("ok"):
                    raise RuntimeError(f"poll.vote: {answer}")

            await asyncio.gather(*map(guarded("vote", one), [p for p in phones if p.snapshot]))

        try:
            await phase("pass", passes)
            await phase("lobby", lobby)
            await phase("admit", admit)
            admitted_presence = len(presence_events)
            await phase("vote", vote)
        finally:
            await asyncio.gather(
                *(p.sio.disconnect() for p in phones if p.sio.connected), return_exceptions=True
            )
    last = max(phones, key=lambda p: p.snapshot["seq"] if p.snapshot else -1).snapshot
    state = (last or {}).get("state", {})
    present = set(state.get("presence", {}))
    counted = state.get("crowd", {}).get("guest", 0)  # a public hall's crowd view counts them
    return {
        "size": size,
        "phases": phases,
        "presence_events_during_admit": admitted_presence,
        "guests_in_last_snapshot": len({p.key for p in phones} & present) + counted,
        "failures": {name: sorted(set(f))[:5] for name, f in failures.items()},
        "server_errors": fanout.server_errors(workdir / "server.log"),
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| N | phase | wall s | ms CPU/guest | failed |",
        "|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        for name, p in row["phases"].items():
            lines.append(
                f"| {row['size']} | {name} | {p['wall_s']} | {p['cpu_ms_per_guest']} "
                f"| {p['failed']} |"
            )
    lines.append("")
    lines += [
        f"N={r['size']}: {r['presence_events_during_admit']} presence events reached the host "
        f"while {r['size']} guests joined"
        for r in rows
    ]
    return "\n".join(lines)


def problems_of(rows: list[dict[str, Any]]) -> list[str]:
    problems = []
    for row in rows:
        if row["server_errors"]:
            problems.append(f"N={row['size']}: server errors {row['server_errors']}")
        if row["guests_in_last_snapshot"] != row["size"]:
            problems.append(
                f"N={row['size']}: the last snapshot holds {row['guests_in_last_snapshot']} guests"
            )
        if row["failures"]:
            problems.append(f"N={row['size']}: failed guests {row['failures']}")
        if set(row["phases"]) != {"pass", "lobby", "admit", "vote"}:
            problems.append(f"N={row['size']}: phases {sorted(row['phases'])}")
    return problems


async def main(args: argparse.Namespace) -> int:
    sizes = [10] if args.smoke else [int(s) for s in args.sizes.split(",") if s]
    fanout.OPTIONS["keep"] = args.keep
    fanout.raise_fd_limit(4 * max(sizes) + 256)
    pin = fanout.Pinning.choose(None, None)
    if pin.clients is not None:
        os.sched_setaffinity(0, pin.clients)
    rows = []
    begun = time.monotonic()
    for size in sizes:
        fanout.log(f"N = {size} …")
        rows.append(await run_size(size, pin))
    problems = problems_of(rows)
    report = {
        "rows": rows,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": round(time.monotonic() - begun, 1),
    }
    if args.smoke:
        fanout.log("\n".join(problems) or "smoke: ok")
        return 1 if problems else 0
    if not args.json:
        print(table(rows))
    print(json.dumps(report, ensure_ascii=False))
    if problems:
        fanout.log("\n".join(problems))
    return 1 if problems else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,500", help="comma-separated guest counts")
    parser.add_argument("--smoke", action="store_true", help="N = 10, seconds; checks only")
    parser.add_argument("--json", action="store_true", help="print only the JSON report")
    parser.add_argument("--keep", action="store_true", help="keep the database and server log")
    return parser.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main(parse_args())))
