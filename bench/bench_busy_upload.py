"""Benchmark: a costly busy-time upload, and how long /api/health waits meanwhile (issue #14).

Run from the project root::

    .venv/bin/python bench/bench_busy_upload.py           # the probe's file and a heavy one
    .venv/bin/python bench/bench_busy_upload.py --smoke   # a quick check that it runs

The whole application listens on 127.0.0.1 over a fresh SQLite file. A member uploads, to
``POST /api/people/{id}/busy`` for one week, each calendar below while an anonymous client asks
``GET /api/health`` 20 ms after each answer; client and server share one event loop, as in the
tests, so each check's latency counts from when it was due: a blocked loop shows. Rows:

- ``probe``: the outside probe's file, ten ``FREQ=DAILY;BYHOUR=0..23;BYMINUTE=0..59`` events
  from 2020-01-01 (3.8 KB). Refused with 413 after the fix; before it, expanded on the loop.
- ``heavy``: allowed but near the limits: three events every three hours since 1930.

Each row gives the upload's status and time, and the health checks' count, median and maximum.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from server.db import Database, make_engine
from server.directory import service as directory_service
from server.directory.schemas import PersonCreate
from server.migrate import upgrade

WEEK = {"from": "2026-11-30T00:00:00+08:00", "to": "2026-12-07T00:00:00+08:00"}
USERNAME, PASSWORD = "bench-member", "bench password 123"


def probe(events: int) -> str:
    """The outside probe's file: every minute of every hour, daily, from 2020."""
    hours = ",".join(str(h) for h in range(24))
    minutes = ",".join(str(m) for m in range(60))
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:probe-{i}@example.org\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART:20200101T000000Z\r\nDTEND:20200101T003000Z\r\n"
        f"RRULE:FREQ=DAILY;BYHOUR={hours};BYMINUTE={minutes}\r\nEND:VEVENT\r\n"
        for i in range(events)
    )
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Probe//EN\r\n" + body + "END:VCALENDAR\r\n"


def heavy(first_year: int) -> str:
    """Three staggered events every three hours since ``first_year``: allowed, but slow."""
    hours = [",".join(str(h) for h in range(i, 24, 3)) for i in range(3)]
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:heavy-{i}@example.org\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{first_year}010{i + 1}T0{i}0000Z\r\n"
        f"DTEND:{first_year}010{i + 1}T0{i + 1}0000Z\r\n"
        f"RRULE:FREQ=DAILY;BYHOUR={hours[i]}\r\nEND:VEVENT\r\n"
        for i in range(3)
    )
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Heavy//EN\r\n" + body + "END:VCALENDAR\r\n"


async def measure(
    http: ClientSession, base: str, token: str, person: int, text: str
) -> dict[str, Any]:
    """Upload ``text`` while asking for health every 20 ms; times in milliseconds."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/calendar"}

    async def upload() -> tuple[int, float]:
        began = time.perf_counter()
        async with http.post(
            f"{base}/api/people/{person}/busy",
            params=WEEK,
            data=io.BytesIO(text.encode()),
            headers=headers,
        ) as resp:
            await resp.read()
            return resp.status, (time.perf_counter() - began) * 1000

    work = asyncio.create_task(upload())
    health: list[float] = []
    due = time.perf_counter()
    while not work.done():  # a check's latency counts from when it was due: a blocked loop shows
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with http.get(f"{base}/api/health") as resp:
            await resp.read()
        health.append((time.perf_counter() - due) * 1000)
        due = time.perf_counter() + 0.02
    status, took = await work
    return {
        "bytes": len(text.encode()),
        "status": status,
        "upload_ms": round(took, 1),
        "health_checks": len(health),
        "health_median_ms": round(statistics.median(health), 1) if health else None,
        "health_max_ms": round(max(health), 1) if health else None,
    }


async def run(workdir: Path, smoke: bool) -> dict[str, dict[str, Any]]:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    config = Config(
        db_url=url,
        secret_key="x" * 40,
        mail_dir=workdir / "mail",
        secret_file=workdir / "secret.key",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        log_level="WARNING",
    )
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    database = Database.from_url(url)
    member = await directory_service.add_person(
        database,
        config.passwords(),
        PersonCreate.model_validate(
            {"username": USERNAME, "name": "张委员", "role": "member", "password": PASSWORD},
            strict=False,
        ),
    )
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as http:
            base = str(server.make_url("")).rstrip("/")
            login = {"username": USERNAME, "password": PASSWORD}
            async with http.post(f"{base}/api/auth/login", json=login) as resp:
                token = (await resp.json())["token"]
            calendars = {
                "probe": probe(2 if smoke else 10),
                "heavy": heavy(2020 if smoke else 1930),
            }
            return {
                name: await measure(http, base, token, member.id, text)
                for name, text in calendars.items()
            }
    finally:
        await server.close()
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small files: check that it runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(Path(tmp), args.smoke))
    if args.smoke:  # the fixed server refuses the probe and reads the allowed file
        assert rows["probe"]["status"] == 413 and rows["heavy"]["status"] == 200, rows
    print(f"{'row':<6} {'bytes':>6} {'status':>6} {'upload ms':>10} {'checks':>6} "
          f"{'health p50':>10} {'health max':>10}", file=sys.stderr)  # fmt: skip
    for name, row in rows.items():
        print(
            f"{name:<6} {row['bytes']:>6} {row['status']:>6} {row['upload_ms']:>10} "
            f"{row['health_checks']:>6} {row['health_median_ms']!s:>10} "
            f"{row['health_max_ms']!s:>10}",
            file=sys.stderr,
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
