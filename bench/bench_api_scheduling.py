"""Benchmark of the scheduling API: a real server over a database holding a year of sessions.

Run from the project root::

    .venv/bin/python bench/bench_api_scheduling.py            # fresh SQLite file in a temp dir
    .venv/bin/python bench/bench_api_scheduling.py --db postgresql+asyncpg://u@host/EMPTY_DB
    .venv/bin/python bench/bench_api_scheduling.py --smoke     # small sizes, the same checks

The database is migrated and filled (from a fixed seed) with 1,000 people, 20 venues and
10,000 sessions in 2026 (Asia/Shanghai office hours, 1-3 h, 2-12 participants, 30% with a
venue), written with SQLAlchemy Core ``insert()`` executemany. Then the whole application
listens on 127.0.0.1 and one aiohttp client, signed in as staff, sends requests one after
another; each row gives the median and p95 of a request's round trip (client and server share
one event loop, so this is latency, not throughput). Every answer's status code is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import func, insert, inspect, select, text

from scheduling.slots import DEFAULT_HOURS
from scheduling.workdays import shipped
from server.app import create_app
from server.auth import Role
from server.config import Config
from server.db import Database, make_engine, utcnow
from server.directory import service as directory_service
from server.directory.models import Person, Venue
from server.directory.schemas import PersonCreate
from server.mail import OutboxMessage
from server.migrate import upgrade
from server.sessions.models import Kind, Participant, Session, Stage

TZ_NAME = "Asia/Shanghai"
ZONE = ZoneInfo(TZ_NAME)
YEAR = 2026
SEED = 20260101

PEOPLE = 1_000  # one staff account made through the service, the rest inserted in bulk
EXTRA_STAFF = 4
VENUES = 20
SESSIONS = 10_000
VENUE_SHARE = 0.3
PUBLIC_SHARE = 0.1
DURATIONS = tuple(dt.timedelta(minutes=m) for m in (60, 90, 120, 150, 180))
STEP = dt.timedelta(minutes=30)
USERNAME, PASSWORD = "bench-staff", "bench password 123"

WARMUP = 3
CLASH_RUNS = 200
CREATE_RUNS = 100
CONFLICT_RUNS = 200
SLOT_RUNS = 50
LIST_RUNS = 100
GROUP = 8
SLOT_REQUIRED, SLOT_OPTIONAL = 8, 4

# The benchmark's one client sends its requests from 127.0.0.1 back to back, far above the
# per-address API limit (20/s, burst 100: server/config.py): lift it, as the fuzz runs do, so
# that every row times the route and not the 429 of the limiter (bench/flood measures that).
UNLIMITED = {"api_rate": 1_000_000, "api_burst": 10_000_000}


def _smoke_sizes() -> None:
    """`--smoke`: a few seconds over a small year; every row and status check still runs."""
    global PEOPLE, VENUES, SESSIONS, WARMUP, CLASH_RUNS, CREATE_RUNS, CONFLICT_RUNS
    global SLOT_RUNS, LIST_RUNS
    PEOPLE, VENUES, SESSIONS = 60, 4, 2_000  # enough for every week to hold sessions
    # 200 quick GETs, well past the API burst: the smoke fails if the limit is not lifted
    WARMUP, CLASH_RUNS, CREATE_RUNS, CONFLICT_RUNS, SLOT_RUNS, LIST_RUNS = 1, 5, 5, 200, 2, 10


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """A seeded session as the benchmark remembers it (to aim requests at)."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    people: tuple[int, ...]
    venue_id: int | None


@dataclass
class World:
    """What the seed created."""

    staff_id: int
    people: list[int]
    venues: list[int]
    sessions: dict[int, Planned] = field(default_factory=dict)
    participants: int = 0


def _random_interval(
    rng: random.Random, workdays: Sequence[dt.date]
) -> tuple[dt.datetime, dt.datetime]:
    """A 1-3 h stretch on a working day, inside the morning or afternoon office hours."""
    duration = rng.choice(DURATIONS)
    day = rng.choice(workdays)
    fitting = [
        (begin, end)
        for begin, end in DEFAULT_HOURS
        if dt.datetime.combine(day, begin) + duration <= dt.datetime.combine(day, end)
    ]
    begin, end = rng.choice(fitting)
    first = dt.datetime.combine(day, begin, ZONE)
    room = dt.datetime.combine(day, end, ZONE) - duration - first
    start = first + rng.randint(0, room // STEP) * STEP
    return start, start + duration


def _mondays(days: int) -> list[dt.date]:
    """Mondays of 2026 from which ``days`` days still end inside the year."""
    first = dt.date(YEAR, 1, 1)
    return [
        d for d in (first + dt.timedelta(days=i) for i in range(366 - days)) if d.weekday() == 0
    ]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), ZONE)


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        if tables:
            raise SystemExit(f"the database is not empty (has {', '.join(sorted(tables)[:5])}…)")
        await upgrade(engine)
    finally:
        await engine.dispose()


async def seed(database: Database, config: Config, rng: random.Random) -> World:
    """People, venues, sessions and participants; the bulk rows by Core executemany."""
    passwords = config.passwords()
    staff = await directory_service.add_person(
        database,
        passwords,
        PersonCreate(
            username=USERNAME,
            name="基准 工作人员",
            role=Role.STAFF,
            email="staff@bench.example",
            password=PASSWORD,
        ),
    )
    shared_hash = await passwords.hash("not a password anyone uses")
    now = utcnow()
    people_t, venues_t = Person.__table__, Venue.__table__
    sessions_t, participants_t = Session.__table__, Participant.__table__
    people_rows = [
        {
            "username": f"p{i:04d}",
            "name": f"委员{i:04d}",
            "email": f"p{i:04d}@bench.example",
            "phone": None,
            "role": Role.STAFF if i < EXTRA_STAFF else Role.MEMBER,
            "unit_id": None,
            "password_hash": shared_hash,
            "active": True,
            "created_at": now,
            "feed_version": 0,
        }
        for i in range(1, PEOPLE)
    ]
    venue_rows = [
        {
            "name": f"会议室 {i:02d}",
            "address": f"政协大楼 {i:02d} 室",
            "capacity": 40,
            "created_at": now,
        }
        for i in range(VENUES)
    ]
    async with database.engine.begin() as conn:
        await conn.execute(insert(people_t), people_rows)
        await conn.execute(insert(venues_t), venue_rows)
        people = [row[0] for row in await conn.execute(select(people_t.c.id).order_by("id"))]
        venues = [row[0] for row in await conn.execute(select(venues_t.c.id).order_by("id"))]
    world = World(staff_id=staff.id, people=people, venues=venues)

    workdays = shipped([YEAR]).workdays(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))
    kinds, stages = list(Kind), list(Stage)
    planned: list[Planned] = []
    session_rows = []
    for i in range(SESSIONS):
        start, end = _random_interval(rng, workdays)
        venue = rng.choice(venues) if rng.random() < VENUE_SHARE else None
        kind = rng.choice(kinds)
        who = tuple(rng.sample(people, rng.randint(2, 12)))
        uid = f"bench-{i:05d}@bench.example"
        planned.append(Planned(uid, start, end, who, venue))
        session_rows.append(
            {
                "kind": kind,
                "mode": "remote" if venue is None else rng.choice(("in_person", "hybrid")),
                "title": f"基准会议 {i:05d}",
                "topic": None,
                "starts_at": start,
                "ends_at": end,
                "timezone": TZ_NAME,
                "venue_id": venue,
                "stage": rng.choice(stages) if kind is Kind.HANDLING else None,
                "visibility": "public" if rng.random() < PUBLIC_SHARE else "private",
                "status": "scheduled",
                "created_by_id": staff.id,
                "created_at": now,
                "updated_at": now,
                "uid": uid,
                "sequence": 0,
                "rrule": None,
                "until_at": end,
                "rdates": [],
                "exdates": [],
                "series_parent_id": None,
                "cancel_reason": None,
                "conflicts_accepted_by_id": None,
                "conflicts_accepted_at": None,
            }
        )
    async with database.engine.begin() as conn:
        await conn.execute(insert(sessions_t), session_rows)
        ids = dict((await conn.execute(select(sessions_t.c.uid, sessions_t.c.id))).all())
        participant_rows = [
            {
                "session_id": ids[p.uid],
                "person_id": person,
                "role": "host" if n == 0 else "member",
                "attendance": "remote" if p.venue_id is None else "in_person",
                "rsvp": "needs_action",
                "rsvp_at": None,
                "rsvp_sequence": None,
            }
            for p in planned
            for n, person in enumerate(p.people)
        ]
        await conn.execute(insert(participants_t), participant_rows)
    if database.engine.dialect.name == "postgresql":
        # what autovacuum does soon after a bulk load (without statistics the planner scans
        # participants in full); SQLite has no such habit and the server never runs ANALYZE
        async with database.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    world.sessions = {ids[p.uid]: p for p in planned}
    world.participants = len(participant_rows)
    return world


# --- requests -------------------------------------------------------------------------------


@dataclass
class Result:
    key: str
    label: str
    runs: int
    median_ms: float
    p95_ms: float
    note: str = ""


def _p95(samples: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class Client:
    """JSON requests to the server under test, each checked for the expected status."""

    def __init__(self, http: ClientSession, base: str) -> None:
        self.http, self.base, self.token = http, base, ""

    async def call(self, method: str, path: str, expect: int, **kw: Any) -> tuple[float, Any]:
        """(milliseconds for the whole round trip, parsed JSON body)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        began = time.perf_counter()
        async with self.http.request(method, self.base + path, headers=headers, **kw) as resp:
            raw = await resp.read()
        elapsed = (time.perf_counter() - began) * 1e3
        if resp.status != expect:
            raise AssertionError(
                f"{method} {path}: expected {expect}, got {resp.status}: {raw[:500]!r}"
            )
        return elapsed, json.loads(raw) if raw else None


Call = Callable[[], Awaitable[tuple[float, Any]]]


async def timed(
    key: str,
    label: str,
    calls: Sequence[Call],
    check: Callable[[list[Any]], str],
    warmup: Sequence[Call] | None = None,
) -> Result:
    """Run each call once, in order, after untimed ``warmup`` calls (default: the first few).

    ``check`` sees every timed answer's body and returns the row's note.
    """
    for call in calls[:WARMUP] if warmup is None else warmup:
        await call()
    samples, bodies = [], []
    for call in calls:
        ms, body = await call()
        samples.append(ms)
        bodies.append(body)
    note = check(bodies)
    result = Result(key, label, len(samples), statistics.median(samples), _p95(samples), note)
    print(
        f"  {label}: median {result.median_ms:.1f} ms, {sum(samples) / 1e3:.1f} s", file=sys.stderr
    )
    return result


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(ZONE).isoformat()


def _session_body(
    people: Sequence[int], start: dt.datetime, end: dt.datetime, venue: int | None, title: str
) -> dict[str, Any]:
    return {
        "kind": "micro",
        "mode": "remote" if venue is None else "in_person",
        "title": title,
        "starts_at": _iso(start),
        "ends_at": _iso(end),
        "timezone": TZ_NAME,
        "venue_id": venue,
        "participants": [
            {"person_id": p, "role": "host" if n == 0 else "member"} for n, p in enumerate(people)
        ],
        "allow_conflicts": False,
    }


async def measure(client: Client, world: World, rng: random.Random) -> list[Result]:
    ids = sorted(world.sessions)
    results: dict[str, Result] = {}

    # (a) an 8-person session at the time of an existing one, with one of its people: 409
    clash_calls: list[Call] = []
    for _ in range(CLASH_RUNS):
        target = world.sessions[rng.choice(ids)]
        anchor = rng.choice(target.people)
        others = rng.sample([p for p in world.people if p != anchor], GROUP - 1)
        body = _session_body(
            [anchor, *others], target.start, target.end, target.venue_id, "冲突检查"
        )
        clash_calls.append(lambda body=body: client.call("POST", "/api/sessions", 409, json=body))

    def clash_note(bodies: list[Any]) -> str:
        counts = [len(b["conflicts"]) for b in bodies]
        assert all(counts), "a 409 without conflicts"
        return f"409 every time, {statistics.mean(counts):.1f} conflicts listed"

    results["a"] = await timed(
        "a_create_conflicting", "a  POST /sessions, clash", clash_calls, clash_note
    )

    # (c) the conflicts of existing sessions
    conflict_calls: list[Call] = [
        lambda sid=sid: client.call("GET", f"/api/sessions/{sid}/conflicts", 200)
        for sid in rng.sample(ids, CONFLICT_RUNS)
    ]

    def conflicts_note(bodies: list[Any]) -> str:
        counts = [len(b["items"]) for b in bodies]
        with_any = sum(1 for c in counts if c)
        return f"{statistics.mean(counts):.2f} conflicts/session, {with_any} with any"

    results["c"] = await timed(
        "c_session_conflicts", "c  GET /sessions/{id}/conflicts", conflict_calls, conflicts_note
    )

    # (d) free slots, 8 required + 4 optional people, over 2 weeks and over 3 months
    for key, label, days in (
        ("d_slots_2_weeks", "d  POST find-slots, 2 wk", 14),
        ("d_slots_3_months", "d' POST find-slots, 3 mo", 91),
    ):
        slot_calls: list[Call] = []
        for _ in range(SLOT_RUNS):
            first = rng.choice(_mondays(days))
            group = rng.sample(world.people, SLOT_REQUIRED + SLOT_OPTIONAL)
            body = {
                "required_ids": group[:SLOT_REQUIRED],
                "optional_ids": group[SLOT_REQUIRED:],
                "duration_minutes": 60,
                "window_start": _iso(_midnight(first)),
                "window_end": _iso(_midnight(first + dt.timedelta(days=days))),
                "timezone": TZ_NAME,
                "limit": 10,
            }
            slot_calls.append(
                lambda body=body: client.call("POST", "/api/schedule/find-slots", 200, json=body)
            )

        def slots_note(bodies: list[Any]) -> str:
            counts = [len(b["items"]) for b in bodies]
            return f"{min(counts)}-{max(counts)} slots returned"

        results[key] = await timed(key, label, slot_calls, slots_note)

    # (e) one week of sessions (default page: the first 100 by start)
    list_calls: list[Call] = []
    for _ in range(LIST_RUNS):
        first = rng.choice(_mondays(7))
        query = {
            "from": _iso(_midnight(first)),
            "to": _iso(_midnight(first + dt.timedelta(days=7))),
        }
        list_calls.append(
            lambda query=query: client.call("GET", "/api/sessions", 200, params=query)
        )

    def list_note(bodies: list[Any]) -> str:
        totals = [b["total"] for b in bodies]
        items = [len(b["items"]) for b in bodies]
        empty = sum(1 for t in totals if t == 0)  # weeks of public holidays have none
        assert empty < len(totals) // 10, f"{empty} empty weeks: was the query understood?"
        return f"{min(totals)}-{max(totals)} in the week, {max(items)} returned"

    results["e"] = await timed(
        "e_list_week", "e  GET /sessions?from&to, 1 wk", list_calls, list_note
    )

    # (b) last, so the mail it queues is sent while nothing else is timed: 8 people on distinct
    # days of 2027 (nothing booked there), allow_conflicts false, invites to all 8: 201
    create_calls: list[Call] = []
    days_2027 = [
        dt.date(YEAR + 1, 1, 4) + dt.timedelta(days=i) for i in range(WARMUP + CREATE_RUNS)
    ]
    for day in days_2027:
        start = dt.datetime.combine(day, dt.time(10), ZONE)
        venue = rng.choice(world.venues) if rng.random() < VENUE_SHARE else None
        body = _session_body(
            rng.sample(world.people, GROUP), start, start + dt.timedelta(hours=1), venue, "新会议"
        )
        create_calls.append(lambda body=body: client.call("POST", "/api/sessions", 201, json=body))

    def create_note(bodies: list[Any]) -> str:
        sizes = {len(b["participants"]) for b in bodies}
        assert sizes == {GROUP}, sizes
        return f"201 every time, {GROUP} invites queued each"

    results["b"] = await timed(
        "b_create_free",
        "b  POST /sessions, free",
        create_calls[WARMUP:],
        create_note,
        warmup=create_calls[:WARMUP],  # these create sessions too, each on a day of its own
    )
    return [results[k] for k in ("a", "b", "c", "d_slots_2_weeks", "d_slots_3_months", "e")]


async def _outbox_count(database: Database) -> int:
    async with database.read() as db:
        return int((await db.execute(select(func.count()).select_from(OutboxMessage))).scalar_one())


async def _server_version(database: Database) -> str:
    async with database.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return "SQLite " + str((await conn.execute(text("select sqlite_version()"))).scalar())
        return str((await conn.execute(text("select version()"))).scalar()).split(" on ")[0]


async def run(
    db_url: str | None, seed_value: int, workdir: Path
) -> tuple[list[Result], dict[str, Any]]:
    url = db_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    config = Config(
        db_url=url,
        secret_key="x" * 40,
        mail_dir=workdir / "mail",
        secret_file=workdir / "secret.key",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        log_level="WARNING",
        **UNLIMITED,
    )
    rng = random.Random(seed_value)

    began = time.perf_counter()
    await _migrate(url)
    migrated_s = time.perf_counter() - began
    database = Database.from_url(url)
    try:
        began = time.perf_counter()
        world = await seed(database, config, rng)
        seed_s = time.perf_counter() - began
        print(
            f"seeded {len(world.people) + 1:,} people, {len(world.venues)} venues, "
            f"{len(world.sessions):,} sessions, {world.participants:,} participants "
            f"in {seed_s:.1f} s (migration {migrated_s:.1f} s)",
            file=sys.stderr,
        )
        version = await _server_version(database)

        server = TestServer(create_app(config), host="127.0.0.1")
        await server.start_server()
        try:
            async with ClientSession() as http:
                client = Client(http, str(server.make_url("")).rstrip("/"))
                _ms, login = await client.call(
                    "POST",
                    "/api/auth/login",
                    200,
                    json={"username": USERNAME, "password": PASSWORD},
                )
                client.token = login["token"]
                began = time.perf_counter()
                results = await measure(client, world, rng)
                measured_s = time.perf_counter() - began
        finally:
            await server.close()
        queued = await _outbox_count(database)
        assert queued == (WARMUP + CREATE_RUNS) * GROUP, f"{queued} invites in the outbox"
    finally:
        await database.close()

    meta: dict[str, Any] = {
        "database": version,
        "seed": seed_value,
        "people": len(world.people) + 1,
        "venues": len(world.venues),
        "sessions": len(world.sessions),
        "participants": world.participants,
        "migrate_s": round(migrated_s, 2),
        "seed_s": round(seed_s, 2),
        "requests_s": round(measured_s, 2),
        "invites_queued": queued,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    return results, meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        help="database URL; postgresql+asyncpg://… must name an EMPTY database "
        "(default: a fresh SQLite file in a temporary folder)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, a few seconds: checks, no timings"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        _smoke_sizes()

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        results, meta = asyncio.run(run(args.db, args.seed, Path(tmp)))
    meta["total_s"] = round(time.perf_counter() - began, 1)

    if not args.json:
        width = max(len(r.label) for r in results)
        print(f"{meta['database']}")
        print(f"{'request':<{width}}  {'runs':>4}  {'median':>9}  {'p95':>9}  note")
        for r in results:
            print(
                f"{r.label:<{width}}  {r.runs:>4}  {r.median_ms:>6.1f} ms  {r.p95_ms:>6.1f} ms"
                f"  {r.note}"
            )
        print(
            f"({meta['sessions']:,} sessions, seed {meta['seed']}, seeding {meta['seed_s']} s, "
            f"total {meta['total_s']} s)"
        )
    report = {
        "meta": meta,
        "results": {
            r.key: {
                "label": r.label,
                "runs": r.runs,
                "median_ms": round(r.median_ms, 2),
                "p95_ms": round(r.p95_ms, 2),
                "note": r.note,
            }
            for r in results
        },
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
