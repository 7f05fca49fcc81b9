"""Fan-out benchmark: one live room with N listeners, against a bare aiohttp WebSocket floor.

Run from the project root, after ``npm install`` in ``bench/fanout``::

    .venv/bin/python bench/fanout/run.py                  # sizes 100, 500, 1000 (~6 min)
    .venv/bin/python bench/fanout/run.py --quick          # 100 only
    .venv/bin/python bench/fanout/run.py --smoke          # 10 clients, seconds; checks only
    .venv/bin/python bench/fanout/run.py --sizes 200 --events 50 --json

For each size N, on a fresh SQLite database: one staff host and N members (made through the
services), one session with all N+1 as participants; ``xieshang serve`` runs as a child process
pinned to one CPU, the Node clients (``clients.mjs``, 250 per process) and this runner on the
other. The host starts the session and sends ``chat.send`` 10 times a second for 10 s, the text
carrying the send time; every client records receive time minus send time. Server CPU time
(``/proc/<pid>/stat`` utime+stime) over the send window is divided by events x N, and the RSS
growth from connecting the N clients by N. The same is done with ``floor_server.py`` (encode
once, ``send_str`` to each socket). A last phase measures accepted commands per second of one
server process. ``--systems`` adds ``xieshang-nodeflate`` (clients that do not offer
permessage-deflate); ``--profile DIR`` records each server phase with py-spy. See README.md for
what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from sqlalchemy import insert

from server.app import calendaring
from server.auth import Principal, Role
from server.config import Config
from server.db import Database, make_engine
from server.directory import service as directory
from server.directory.schemas import PersonCreate
from server.migrate import upgrade
from server.sessions import service as sessions
from server.sessions.models import Attendance, Participant, ParticipantRole, Rsvp
from server.sessions.schemas import SessionCreate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PASSWORD = "bench password 1234"
SECRET = "fanout-bench-signing-key-" + "k" * 32
MARKER = "bench:"
MAX_PARTICIPANTS_PER_REQUEST = 500  # SessionSpec.participants; the rest are inserted directly
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


OPTIONS: dict[str, Any] = {"keep": False, "profile": None}


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder (database, logs), kept with --keep."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if OPTIONS["keep"]:
            log(f"  kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def server_errors(log_path: Path) -> list[str]:
    """Each error a server logged: its ERROR line, with the exception that ended its traceback."""
    if not log_path.exists():
        return []
    errors: list[str] = []
    in_traceback = False
    for line in log_path.read_text(errors="replace").splitlines():
        if " ERROR " in line or " CRITICAL " in line:
            errors.append(line)
        elif line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            in_traceback = False
            if errors:
                errors[-1] += f" -> {line}"
            else:
                errors.append(line)
    return errors


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- /proc


def cpu_split(pid: int) -> tuple[float, float]:
    """(utime, stime) of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    return sum(cpu_split(pid))


def rss_kb(pid: int) -> int:
    """Resident set size in KiB."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB


def cpu_times(cpus: set[int] | None) -> tuple[int, int]:
    """(busy, total) jiffies of some CPUs (all of them when None), from /proc/stat."""
    busy = total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        if cpus is not None and int(name[3:]) not in cpus:
            continue
        ticks = [int(v) for v in values[:8]]
        total += sum(ticks)
        busy += sum(ticks) - ticks[3] - ticks[4]  # minus idle and iowait
    return busy, total


async def settle(pid: int, *, idle: float = 0.05, window: float = 0.5, limit: float = 60.0) -> None:
    """Wait until the process uses less than ``idle`` of a CPU over ``window`` seconds."""
    deadline = time.monotonic() + limit
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(window)
        after = cpu_seconds(pid)
        if after - before <= idle * window:
            return
        before = after
    log(f"  (pid {pid} still busy after {limit:.0f} s; measuring anyway)")


# ---------------------------------------------------------------- processes


@dataclass
class Pinning:
    server: set[int] | None
    clients: set[int] | None

    @classmethod
    def choose(cls, server_cpu: int | None, client_cpus: str | None) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return cls(None, None)
        server = {server_cpu if server_cpu is not None else cpus[0]}
        clients = (
            {int(c) for c in client_cpus.split(",")}
            if client_cpus
            else {c for c in cpus if c not in server}
        )
        return cls(server, clients)

    def server_preexec(self) -> Callable[[], None] | None:
        if self.server is None:
            return None
        cpus = self.server
        return lambda: os.sched_setaffinity(0, cpus)


class Child:
    """A child process (a server) pinned to the server CPU, its output in a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, pin: Pinning) -> None:
        self.argv, self.env, self.log_path, self.pin = argv, env, log_path, pin
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=self.pin.server_preexec(),
            )

    async def wait_http(self, url: str, seconds: float = 30.0) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(int(seconds / 0.05)):
                if self.proc is not None and self.proc.poll() is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(url) as reply:
                        if reply.status == 200:
                            return
                await asyncio.sleep(0.05)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.argv[-1]} did not start; its log ends:\n{tail}")

    async def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        for _ in range(100):
            if self.proc.poll() is not None:
                return
            await asyncio.sleep(0.1)
        self.proc.kill()
        self.proc.wait()


class Profiler:
    """``py-spy record`` of a server over one phase, when --profile DIR is given."""

    def __init__(self, pid: int, name: str) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.output: Path | None = None
        folder = OPTIONS["profile"]
        spy = Path(sys.executable).with_name("py-spy")
        if folder is None:
            return
        if not spy.exists():
            log("  (--profile needs py-spy: .venv/bin/pip install py-spy)")
            return
        self.output = Path(folder) / f"{name}.txt"
        self.output.parent.mkdir(parents=True, exist_ok=True)
        argv = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--nonblocking", "--gil"]
        self.proc = subprocess.Popen(
            [*argv, "--rate", "200", "--output", str(self.output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        for _ in range(100):
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            self.proc.kill()
        if self.output is not None and self.output.exists():
            inclusive, own = top_frames(self.output)
            log(f"  profile: {self.output}; samples in (inclusive):")
            for share, name in inclusive:
                log(f"    {share:5.1f}%  {name}")
            log("  self time:")
            for share, name in own:
                log(f"    {share:5.1f}%  {name}")


MACHINERY = ("asyncio/", "<frozen runpy>", "threading.py", "selectors.py", "server/cli.py")


def top_frames(path: Path) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """From py-spy raw stacks: (share of samples in each function, inclusive; and self time)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [frame.rsplit(":", 1)[0] for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + n

    def ranked(counts: dict[str, int], skip: tuple[str, ...]) -> list[tuple[float, str]]:
        rows = sorted(counts.items(), key=lambda kv: -kv[1])
        return [(100 * n / total, k) for k, n in rows if not any(s in k for s in skip)]

    skip = (*MACHINERY, "aiohttp/web", "run_app", "<module>")
    return ranked(inclusive, skip)[:10], ranked(own, ())[:8]


class NodeClients:
    """``clients.mjs`` driven over stdin/stdout (one JSON object per output line)."""

    def __init__(self, config: dict[str, Any], workdir: Path, pin: Pinning) -> None:
        self.config_path = workdir / f"clients-{time.monotonic_ns()}.json"
        self.config_path.write_text(json.dumps(config))
        self.pin = pin
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.seen: dict[str, dict[str, Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        argv = ["node", str(HERE / "clients.mjs"), f"@{self.config_path}"]
        cpus = self.pin.clients
        preexec = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
        self.proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=HERE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,
            preexec_fn=preexec,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = json.loads(raw)
            self.seen[line["phase"]] = line
            await self.lines.put(line)
        await self.lines.put({"phase": "exit"})

    async def phase(self, name: str, within: float) -> dict[str, Any] | None:
        """The line of a phase, or None after ``within`` seconds."""
        if name in self.seen:
            return self.seen[name]
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = await asyncio.wait_for(self.lines.get(), left)
            except TimeoutError:
                return None
            if line["phase"] == name:
                return line
            if line["phase"] == "exit":
                raise RuntimeError("clients.mjs exited early (see its stderr above)")
        return None

    async def send(self, command: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"{command}\n".encode())
        await self.proc.stdin.drain()

    async def stop(self) -> dict[str, Any]:
        await self.send("stop")
        result = await self.phase("result", 60)
        if self.proc is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 10)
            if self.proc.returncode is None:
                self.proc.kill()
        if result is None:
            raise RuntimeError("clients.mjs gave no result")
        return result


# ---------------------------------------------------------------- xieshang setup


@dataclass
class Prepared:
    workdir: Path
    config: Config
    host_username: str
    member_usernames: list[str]
    session_ids: list[int]


def make_config(workdir: Path, port: int) -> Config:
    return Config(
        db_url=f"sqlite+aiosqlite:///{workdir / 'xieshang.db'}",
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        secret_key=SECRET,
        mail_dir=workdir / "mail",
        secret_file=workdir / "secret.key",
        log_level="WARNING",
    )


def session_body(participants: list[dict[str, Any]], title: str) -> SessionCreate:
    return SessionCreate.model_validate(
        {
            "kind": "micro",
            "mode": "remote",
            "title": title,
            "starts_at": "2026-12-01T09:30:00+08:00",
            "ends_at": "2026-12-01T11:00:00+08:00",
            "timezone": "Asia/Shanghai",
            "participants": participants,
            "agenda": [{"title": "协商交流", "planned_minutes": 60}],
            "allow_conflicts": True,
        },
        strict=False,
    )


async def prepare(workdir: Path, port: int, members: int, extra_sessions: int = 0) -> Prepared:
    """A migrated database with a staff host, ``members`` members and the benchmark session(s).

    Session 1 has every member (role member) and the host. ``extra_sessions`` more sessions
    have only the host (rooms for the throughput phase).
    """
    config = make_config(workdir, port)
    engine = make_engine(config.db_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    database = Database.from_url(config.db_url)
    try:
        passwords = config.passwords()

        async def person(username: str, name: str, role: str) -> int:
            body = PersonCreate.model_validate(
                {"username": username, "name": name, "role": role, "password": PASSWORD},
                strict=False,
            )
            return (await directory.add_person(database, passwords, body)).id

        host_id = await person("host", "王秘书", "staff")
        names = [f"m{i:05d}" for i in range(members)]
        member_ids = [await person(u, f"委员{u}", "member") for u in names]
        host = Principal(id=host_id, username="host", name="王秘书", role=Role.STAFF)
        ctx = calendaring(config, lambda: None)
        direct = member_ids[: MAX_PARTICIPANTS_PER_REQUEST - 1]
        participants = [{"person_id": host_id, "role": "host"}] + [
            {"person_id": pid, "role": "member", "attendance": "remote"} for pid in direct
        ]
        out = await sessions.add_session(
            database, ctx, host, session_body(participants, "扇出压测 fan-out benchmark")
        )
        rest = member_ids[len(direct) :]
        if rest:  # more than one request may name: the same rows, written directly
            async with database.transaction() as db:
                await db.execute(
                    insert(Participant),
                    [
                        {
                            "session_id": out.id,
                            "person_id": pid,
                            "role": ParticipantRole.MEMBER,
                            "attendance": Attendance.REMOTE,
                            "rsvp": Rsvp.NEEDS_ACTION,
                        }
                        for pid in rest
                    ],
                )
        ids = [out.id]
        for i in range(extra_sessions):
            extra = await sessions.add_session(
                database, ctx, host, session_body([], f"吞吐 throughput room {i}")
            )
            ids.append(extra.id)
    finally:
        await database.close()
    return Prepared(workdir, config, "host", names, ids)


def server_child(prepared: Prepared, pin: Pinning) -> Child:
    config = prepared.config
    env = {
        **os.environ,
        "XIESHANG_DB": config.db_url,
        "XIESHANG_HOST": "127.0.0.1",
        "XIESHANG_PORT": str(config.port),
        "XIESHANG_PUBLIC_URL": config.public_url,
        "XIESHANG_SECRET_KEY": SECRET,
        "XIESHANG_MAIL_DIR": str(config.mail_dir),
        "XIESHANG_ARGON2_TIME_COST": "1",
        "XIESHANG_ARGON2_MEMORY_KIB": "8",
        "XIESHANG_LOG_LEVEL": "WARNING",
        # Every benchmark client comes from 127.0.0.1: lift the per-address API limit.
        "XIESHANG_API_RATE": "1000000",
        "XIESHANG_API_BURST": "10000000",
    }
    env.pop("XIESHANG_REDIS_URL", None)
    argv = [sys.executable, "-m", "server.cli", "serve"]
    return Child(argv, env, prepared.workdir / "server.log", pin)


async def login_all(url: str, usernames: list[str], parallel: int = 8) -> dict[str, str]:
    """A token per username, from POST /api/auth/login."""
    tokens: dict[str, str] = {}
    queue = list(reversed(usernames))
    async with aiohttp.ClientSession() as http:

        async def one() -> None:
            while queue:
                username = queue.pop()
                body = {"username": username, "password": PASSWORD}
                async with http.post(f"{url}/api/auth/login", json=body) as reply:
                    if reply.status != 200:
                        raise RuntimeError(f"login {username}: {reply.status} {await reply.text()}")
                    tokens[username] = (await reply.json())["token"]

        await asyncio.gather(*(one() for _ in range(parallel)))
    return tokens


@contextlib.asynccontextmanager
async def host_client(url: str, token: str, session_id: int) -> AsyncIterator[socketio.AsyncClient]:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(
        url,
        auth={"token": token, "session_id": session_id},
        namespaces=["/room"],
        transports=["websocket"],
        wait_timeout=30,
    )
    try:
        yield sio
    finally:
        await sio.disconnect()


async def command(sio: socketio.AsyncClient, kind: str, **data: Any) -> dict[str, Any]:
    reply: dict[str, Any] = await sio.call(
        "command", {"type": kind, "data": data}, namespace="/room", timeout=60
    )
    return reply


def bench_text() -> str:
    return f"{MARKER}{time.time() * 1000:.3f}"


# ---------------------------------------------------------------- measurements


@dataclass
class Row:
    size: int
    system: str
    p50: float | None = None
    p99: float | None = None
    cpu_us: float | None = None  # server CPU per delivery
    kb_per_conn: float | None = None
    received: int = 0
    expected: int = 0
    accepted: int = 0
    connect_wall_s: float | None = None
    connect_p99_ms: float | None = None
    connect_cpu_ms: float | None = None
    drain_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def fan_out(
    *,
    size: int,
    system: str,
    pid: int,
    clients: dict[str, Any],
    send_one: Callable[[int], Any],
    workdir: Path,
    pin: Pinning,
    events: int,
    rate: float,
    before_send: Callable[[], Any] | None = None,
) -> Row:
    """Connect the clients, send ``events`` at ``rate``/s, and measure the server ``pid``."""
    row = Row(size, system)
    await settle(pid)
    rss_before = rss_kb(pid)
    node = NodeClients({**clients, "expect": events, "marker": MARKER}, workdir, pin)
    profiler = Profiler(pid, f"{size}-{system}-connect")
    connect_cpu0, connect_clients0 = sum(cpu_split(pid)), cpu_times(pin.clients)
    await node.start()
    try:
        ready = await node.phase("ready", 600)
        await profiler.stop()
        if ready is None:
            raise RuntimeError("the clients did not connect within 10 minutes")
        row.connect_wall_s = ready["connect_wall_ms"] / 1000
        # Server CPU per connection: steadier than the wall time on a shared machine, and the
        # same thing while the server's core is the bottleneck (connects queue behind it).
        row.connect_cpu_ms = (sum(cpu_split(pid)) - connect_cpu0) / max(1, ready["connected"]) * 1e3
        busy, total = (b - a for a, b in zip(connect_clients0, cpu_times(pin.clients), strict=True))
        row.extra["connect_client_cpus_busy_pct"] = round(100 * busy / total, 1) if total else None
        row.connect_p99_ms = ready["connect_ms"]["p99"]
        if ready["failed"]:
            log(f"  {ready['failed']} clients failed to connect: {ready['errors']}")
        await settle(pid)
        row.kb_per_conn = (rss_kb(pid) - rss_before) / max(1, ready["connected"])
        log(
            f"  {ready['connected']} connected in {row.connect_wall_s:.1f} s "
            f"({row.connect_cpu_ms:.2f} ms server CPU each; client CPUs "
            f"{row.extra['connect_client_cpus_busy_pct']}% busy), {row.kb_per_conn:.1f} KB/conn"
        )
        if before_send is not None:
            await before_send()
            await settle(pid)
        profiler = Profiler(pid, f"{size}-{system}-send")
        (user0, sys0), t0 = cpu_split(pid), time.monotonic()
        clients0 = cpu_times(pin.clients)
        acks = []
        for i in range(events):
            await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            acks.append(asyncio.ensure_future(send_one(i)))
        last_sent = time.monotonic()
        row.accepted = sum(1 for ok in await asyncio.gather(*acks) if ok)
        drained = await node.phase("drained", 120)
        if drained is None:
            log("  not every client got every message within 120 s")
        else:
            row.drain_ms = (time.monotonic() - last_sent) * 1000
            log(f"  {row.accepted} sent; all delivered {row.drain_ms:.0f} ms after the last")
        await settle(pid, limit=30)
        user1, sys1 = cpu_split(pid)
        cpu = (user1 - user0) + (sys1 - sys0)
        clients1 = cpu_times(pin.clients)
        window = time.monotonic() - t0
        await profiler.stop()
        result = await node.stop()
    finally:
        await profiler.stop()
        if node.proc is not None and node.proc.returncode is None:
            node.proc.kill()
    row.received, row.expected = result["received"], result["expected"] or 0
    row.p50, row.p99 = result["latency_ms"]["p50"], result["latency_ms"]["p99"]
    deliveries = row.accepted * ready["connected"]
    row.cpu_us = cpu / deliveries * 1e6 if deliveries else None
    row.extra = {
        **row.extra,
        "server_cpu_s": round(cpu, 3),
        "server_sys_s": round(sys1 - sys0, 3),
        "window_s": round(window, 2),
        # How busy the client CPUs were (Node clients, this runner): near 100% would mean the
        # load generator, not the server, limits the latency figures.
        "client_cpus_busy_pct": round(
            100 * (clients1[0] - clients0[0]) / max(1, clients1[1] - clients0[1]), 1
        ),
        "latency_ms": result["latency_ms"],
        "at_latency_ms": result.get("at_latency_ms"),
        "connect_ms": result["connect_ms"],
        "other_events": result["other_events"],
        "disconnects": result["disconnects"],
        "client_processes": result["processes"],
    }
    return row


async def run_xieshang(
    size: int, pin: Pinning, events: int, rate: float, deflate: bool, name: str
) -> Row:
    with scratch("fanout-") as tmp:
        started = time.monotonic()
        prepared = await prepare(tmp, free_port(), size)
        log(f"  seeded {size + 1} people in {time.monotonic() - started:.1f} s")
        server = server_child(prepared, pin)
        server.start()
        try:
            url = prepared.config.public_url
            await server.wait_http(f"{url}/api/health")
            started = time.monotonic()
            tokens = await login_all(url, [prepared.host_username, *prepared.member_usernames])
            log(f"  {len(tokens)} logins in {time.monotonic() - started:.1f} s")
            session_id = prepared.session_ids[0]
            async with host_client(url, tokens["host"], session_id) as host:

                async def start_session() -> None:
                    reply = await command(host, "session.start")
                    if not reply.get("ok"):
                        raise RuntimeError(f"session.start: {reply}")

                async def send_one(_i: int) -> bool:
                    reply = await command(host, "chat.send", text=bench_text())
                    if not reply.get("ok"):
                        log(f"  chat.send refused: {reply}")
                    return bool(reply.get("ok"))

                auths = [
                    {"token": tokens[u], "session_id": session_id}
                    for u in prepared.member_usernames
                ]
                clients = {
                    "mode": "sio",
                    "url": url,
                    "namespace": "/room",
                    "auths": auths,
                    "deflate": deflate,
                }
                row = await fan_out(
                    size=size,
                    system=name,
                    pid=server.pid,
                    clients=clients,
                    send_one=send_one,
                    workdir=tmp,
                    pin=pin,
                    events=events,
                    rate=rate,
                    before_send=start_session,
                )
        finally:
            await server.stop()
            row_errors = server_errors(server.log_path)
    if row_errors:
        log(f"  the server logged {len(row_errors)} errors, e.g. {row_errors[0]}")
    row.extra["server_errors"] = row_errors[:5]
    return row


async def run_floor(
    size: int, pin: Pinning, events: int, rate: float, durable: bool = False
) -> Row:
    with scratch("fanout-floor-") as tmp:
        port = free_port()
        argv = [sys.executable, str(HERE / "floor_server.py"), "--port", str(port)]
        if durable:  # the floor of a room command: INSERT + commit, then broadcast
            argv += ["--durable", str(tmp / "floor.db")]
        server = Child(argv, dict(os.environ), tmp / "floor.log", pin)
        server.start()
        url = f"http://127.0.0.1:{port}"
        try:
            await server.wait_http(f"{url}/health")
            async with aiohttp.ClientSession() as http:

                async def send_one(i: int) -> bool:
                    message = {
                        "seq": i + 3,
                        "type": "chat.send",
                        "data": {
                            "who": "p:1",
                            "name": "王秘书",
                            "text": bench_text(),
                            "kind": "chat",
                        },
                        "at": dt.datetime.now(dt.UTC).isoformat(),
                        "by": "p:1",
                    }
                    async with http.post(f"{url}/broadcast", json=message) as reply:
                        return reply.status == 200

                clients = {"mode": "ws", "wsUrl": f"ws://127.0.0.1:{port}/ws", "clients": size}
                return await fan_out(
                    size=size,
                    system="floor-durable" if durable else "floor",
                    pid=server.pid,
                    clients=clients,
                    send_one=send_one,
                    workdir=tmp,
                    pin=pin,
                    events=events,
                    rate=rate,
                )
        finally:
            await server.stop()


async def run_throughput(
    pin: Pinning, senders: int, seconds: float, deflate: bool
) -> dict[str, Any]:
    """Accepted commands/s of one server: one sender, then ``senders`` in their own rooms."""
    with scratch("fanout-tput-") as tmp:
        prepared = await prepare(tmp, free_port(), 0, extra_sessions=senders)
        server = server_child(prepared, pin)
        server.start()
        out: dict[str, Any] = {}
        try:
            url = prepared.config.public_url
            await server.wait_http(f"{url}/api/health")
            token = (await login_all(url, ["host"]))["host"]
            rooms = prepared.session_ids[1:]
            for label, auths in (
                ("one_sender", [{"token": token, "session_id": rooms[0]}]),
                ("many_senders", [{"token": token, "session_id": sid} for sid in rooms]),
            ):
                config = {
                    "mode": "send",
                    "url": url,
                    "namespace": "/room",
                    "auths": auths,
                    "deflate": deflate,
                    "concurrency": 4,
                }
                node = NodeClients(config, tmp, pin)
                await node.start()
                ready = await node.phase("ready", 300)
                if ready is None or ready["connected"] != len(auths):
                    raise RuntimeError(f"throughput clients did not connect: {ready}")
                await settle(server.pid)
                profiler = Profiler(server.pid, f"throughput-{label}")
                user0, sys0 = cpu_split(server.pid)
                await node.send("go")
                await asyncio.sleep(seconds)
                result = await node.stop()
                user1, sys1 = cpu_split(server.pid)
                cpu = (user1 - user0) + (sys1 - sys0)
                await profiler.stop()
                accepted = result["accepted"]
                ceiling = len(auths) * (10.0 + 20.0 / result["seconds"])  # RateLimiter(10, 20)
                out[label] = {
                    "connections": len(auths),
                    "seconds": result["seconds"],
                    "accepted": accepted,
                    "accepted_per_s": result["accepted_per_s"],
                    "refused": result["refused"],
                    "timeouts": result["timeouts"],
                    "ack_ms": result["ack_ms"],
                    "server_cpu_s": round(cpu, 3),
                    "server_sys_s": round(sys1 - sys0, 3),
                    "cpu_us_per_command": round(cpu / accepted * 1e6, 1) if accepted else None,
                    "rate_limit_ceiling_per_s": round(ceiling, 1),
                    "limited_by_rate_limiter": accepted / result["seconds"] > 0.9 * ceiling,
                }
                await settle(server.pid)
        finally:
            await server.stop()
            errors = server_errors(server.log_path)
    if errors:
        log(f"  the server logged {len(errors)} errors, e.g. {errors[0]}")
    out["server_errors"] = errors[:10]
    return out


# ---------------------------------------------------------------- report


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def table(rows: list[Row]) -> str:
    head = (
        f"{'size':>5}  {'system':<18} {'p50 ms':>8} {'p99 ms':>8} {'µs CPU/deliv':>12} "
        f"{'KB/conn':>8} {'CPU ×floor':>10} {'KB ×floor':>9} {'deliv/s/core':>12} "
        f"{'connect s':>9} {'conn ms CPU':>11} {'client CPU':>10} {'received':>15}"
    )
    lines = [head, "-" * len(head)]
    floors = {r.size: r for r in rows if r.system == "floor"}
    for r in rows:
        floor = floors.get(r.size)
        cpu_ratio = kb_ratio = None
        if floor is not None and r.cpu_us and floor.cpu_us:
            cpu_ratio = r.cpu_us / floor.cpu_us
        if floor is not None and r.kb_per_conn and floor.kb_per_conn and floor.kb_per_conn > 0:
            kb_ratio = r.kb_per_conn / floor.kb_per_conn
        capacity = 1e6 / r.cpu_us if r.cpu_us else None
        busy = r.extra.get("client_cpus_busy_pct")
        lines.append(
            f"{r.size:>5}  {r.system:<18} {fmt(r.p50, '.1f'):>8} {fmt(r.p99, '.1f'):>8} "
            f"{fmt(r.cpu_us):>12} {fmt(r.kb_per_conn):>8} {fmt(cpu_ratio, '.1f'):>10} "
            f"{fmt(kb_ratio, '.1f'):>9} {fmt(capacity, ',.0f'):>12} "
            f"{fmt(r.connect_wall_s):>9} {fmt(r.connect_cpu_ms, '.2f'):>11} "
            f"{fmt(busy, '.0f') + '%':>10} "
            f"{f'{r.received}/{r.expected}':>15}"
        )
    return "\n".join(lines)


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < need:
        log(f"warning: open files limited to {want}; {need} may be needed")


def smoke(args: argparse.Namespace) -> None:
    """`--smoke`: 10 clients, 10 events, 4 senders for 1 s: seconds, and every check still on."""
    args.sizes, args.quick, args.events, args.rate = "10", False, 10, 20.0
    args.senders, args.throughput_seconds, args.systems = 4, 1.0, "xieshang,floor"


def smoke_problems(rows: list[Row], throughput: dict[str, Any] | None) -> list[str]:
    """Every client got every event, no server logged an error, and commands were accepted."""
    problems = [
        f"{r.system} {r.size}: received {r.received}/{r.expected}"
        for r in rows
        if r.received != r.expected
    ]
    problems += [
        f"{r.system} {r.size}: {r.extra['server_errors']}"
        for r in rows
        if r.extra.get("server_errors")
    ]
    assert throughput is not None
    problems += [f"throughput: {e}" for e in throughput["server_errors"]]
    problems += [
        f"throughput {label}: nothing accepted"
        for label, t in throughput.items()
        if label != "server_errors" and not t["accepted_per_s"]
    ]
    return problems


async def main(args: argparse.Namespace) -> int:
    if args.smoke:
        smoke(args)
    if shutil.which("node") is None or not (HERE / "node_modules" / "socket.io-client").exists():
        log("needs Node.js and `npm install` (or `npm ci`) in bench/fanout first")
        return 2
    OPTIONS["keep"] = args.keep
    OPTIONS["profile"] = args.profile
    sizes = [100] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    systems = args.systems.split(",")
    raise_fd_limit(4 * max([*sizes, args.senders]) + 256)
    pin = Pinning.choose(args.server_cpu, args.client_cpus)
    if pin.clients is not None:
        os.sched_setaffinity(0, pin.clients)  # this runner and the Node clients
    log(
        f"server CPU {sorted(pin.server) if pin.server else 'unpinned'}, clients and runner "
        f"{sorted(pin.clients) if pin.clients else 'unpinned'}; {args.events} events at "
        f"{args.rate}/s per size"
    )
    rows: list[Row] = []
    begun = time.monotonic()
    for size in sizes:
        for system in systems:
            log(f"size {size}, {system} …")
            if system in ("floor", "floor-durable"):
                durable = system == "floor-durable"
                row = await run_floor(size, pin, args.events, args.rate, durable)
            elif system in ("xieshang", "xieshang-nodeflate"):
                deflate = system == "xieshang"
                row = await run_xieshang(size, pin, args.events, args.rate, deflate, system)
            else:
                raise SystemExit(f"unknown system {system!r}")
            log(
                f"  p50 {fmt(row.p50, '.2f')} ms, p99 {fmt(row.p99, '.2f')} ms, "
                f"{fmt(row.cpu_us)} µs CPU/delivery, {fmt(row.kb_per_conn)} KB/conn, "
                f"received {row.received}/{row.expected}, connect {fmt(row.connect_wall_s)} s, "
                f"client CPUs {row.extra['client_cpus_busy_pct']}% busy"
            )
            rows.append(row)
    throughput = None
    if not args.no_throughput:
        log(f"throughput: 1 sender, then {args.senders} senders in their own rooms …")
        throughput = await run_throughput(pin, args.senders, args.throughput_seconds, True)
    elapsed = time.monotonic() - begun
    report = {
        "rows": [r.__dict__ for r in rows],
        "throughput": throughput,
        "events": args.events,
        "rate": args.rate,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": round(elapsed, 1),
    }
    if args.smoke:
        problems = smoke_problems(rows, throughput)
        log("\n".join(problems) or "smoke: ok")
        return 1 if problems else 0
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(table(rows))
    durable = {r.size: r for r in rows if r.system == "floor-durable"}
    for r in rows:
        floor = durable.get(r.size)
        if r.system.startswith("xieshang") and floor and r.cpu_us and floor.cpu_us:
            print(
                f"room command at N={r.size}: {r.system} {fmt(r.cpu_us)} µs CPU/delivery against "
                f"the durable floor's {fmt(floor.cpu_us)} (×{r.cpu_us / floor.cpu_us:.1f}); "
                f"p50 {fmt(r.p50)} ms against {fmt(floor.p50)} ms"
            )
    if throughput:
        print()
        for label, t in throughput.items():
            if label == "server_errors":
                continue
            bound = " (rate-limiter bound)" if t["limited_by_rate_limiter"] else ""
            print(
                f"throughput {label}: {t['connections']} connection(s), "
                f"{t['accepted_per_s']} accepted commands/s{bound}, "
                f"{t['cpu_us_per_command']} µs server CPU per command, ack p50 "
                f"{t['ack_ms']['p50']} ms p99 {t['ack_ms']['p99']} ms, refused {t['refused']}"
            )
    print(f"\n({elapsed:.0f} s)")
    print(json.dumps(report, ensure_ascii=False))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,1000", help="comma-separated client counts")
    parser.add_argument("--quick", action="store_true", help="size 100 only")
    parser.add_argument(
        "--systems",
        default="xieshang,floor",
        help="comma-separated: xieshang (clients offer permessage-deflate, as browsers do), "
        "xieshang-nodeflate, floor, floor-durable (each message INSERTed and committed to "
        "SQLite in WAL mode before the broadcast: the floor of a room command)",
    )
    parser.add_argument("--events", type=int, default=100, help="messages per size")
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--senders", type=int, default=100, help="throughput phase connections")
    parser.add_argument("--throughput-seconds", type=float, default=8.0)
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--server-cpu", type=int, help="CPU for the server (default: the first)")
    parser.add_argument("--client-cpus", help="CPUs for the clients (default: all the others)")
    parser.add_argument("--json", action="store_true", help="print only the JSON report")
    parser.add_argument("--smoke", action="store_true", help="seconds, tiny sizes; checks only")
    parser.add_argument("--keep", action="store_true", help="keep databases and server logs")
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy record each server phase into DIR (raw stacks)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
