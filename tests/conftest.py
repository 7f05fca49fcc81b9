"""Fixtures: a real server on 127.0.0.1 over a fresh database per test.

SQLite by default (a migrated template copied per test). Set XIESHANG_TEST_DATABASE_URL to run
the same tests on PostgreSQL (one database per xdist worker, truncated per test) and
XIESHANG_TEST_REDIS_URL for the tests that need Redis.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from server.app import create_app
from server.config import Config
from server.db import Database, make_engine
from server.migrate import upgrade
from server.models_registry import metadata

PG_URL = os.environ.get("XIESHANG_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("XIESHANG_TEST_REDIS_URL") or None
REQUIRE_SERVICES = os.environ.get("XIESHANG_TEST_REQUIRE_SERVICES") == "1"
PASSWORD = "correct horse battery"


# Tests that never touch the test database or Redis: the pure scheduling library, the packaging
# and installed-wheel checks, and the benchmark smokes (each runs its own server on SQLite). CI's
# second pass (PostgreSQL + Redis) deselects them with ``-m "not services_free"``: they would run
# exactly as in the first pass.
SERVICES_FREE = ("tests/scheduling/", "tests/test_packaging.py", "tests/web/test_installed.py")
# Tests of the pages themselves (accessibility on every page, whole journeys by keyboard): the
# server calls they make are the ones the API and page tests make on both databases, so CI's
# second pass leaves them out too (``-m "not frontend"``).
FRONTEND = ("tests/web/test_axe_pages.py", "tests/web/test_keyboard_journeys.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks the ``services_free`` tests; tests marked ``redis`` skip, with the reason, when no
    Redis is configured (locally)."""
    root = Path(str(config.rootpath))
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if "bench_smoke" in item.keywords or where.startswith(SERVICES_FREE):
            item.add_marker(pytest.mark.services_free)
        if where.startswith(FRONTEND):
            item.add_marker(pytest.mark.frontend)
    if REDIS_URL:
        return
    if REQUIRE_SERVICES:
        raise pytest.UsageError(
            "XIESHANG_TEST_REQUIRE_SERVICES=1 but XIESHANG_TEST_REDIS_URL is unset"
        )
    reason = pytest.mark.skip(reason="needs Redis: set XIESHANG_TEST_REDIS_URL (CI does)")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(reason)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_name() -> str:
    # One database per test run and xdist worker, so concurrent runs never touch each other's.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:10]
    return f"xieshang_test_{run}_{_worker()}"


async def _pg_admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: an SQLite file to copy, or a PostgreSQL database to truncate."""
    if not PG_URL:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
        asyncio.run(_migrate(url))
        yield url
        return
    name = _pg_name()
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(_pg_admin(PG_URL, drop, f'CREATE DATABASE "{name}"'))
    url = f"{PG_URL.rpartition('/')[0]}/{name}"
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_pg_admin(PG_URL, drop))


@pytest.fixture
async def db_url(database_template: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if database_template.startswith("postgresql"):
        engine = make_engine(database_template)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()
        return database_template
    source = Path(database_template.removeprefix("sqlite+aiosqlite:///"))
    target = tmp_path / "xieshang.db"
    shutil.copyfile(source, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> Config:
    """Settings for a test server: cheap password hashing, no Redis unless a test adds it."""
    return Config(
        db_url=db_url,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        api_rate=1_000_000,  # every test client is 127.0.0.1; test_abuse_limits sets its own
        api_burst=10_000_000,
        token_ttl_hours=1,
        secret_key="test-signing-key-" + "k" * 32,
        mail_dir=tmp_path / "mail",
        secret_file=tmp_path / "secret.key",
        mail_from="tian@xieshang.example",
        recording_dir=tmp_path / "recordings",
    )


@pytest.fixture
async def database(config: Config) -> AsyncIterator[Database]:
    """Direct access to the test database, for seeding through the services."""
    database = Database.from_url(config.db_url)
    yield database
    await database.close()


@dataclass
class Reply:
    """An HTTP answer, read in full."""

    status: int
    body: Any
    text: str
    content_type: str
    headers: dict[str, str]


class ApiClient:
    """A small JSON client for the server under test.

    It asks for English (``Accept-Language: en``) unless a request says otherwise, so tests
    can check the server's words; tests/server/test_i18n.py checks the zh-CN default.
    """

    def __init__(self, http: ClientSession, base: str, token: str | None = None) -> None:
        self.http, self.base, self.token = http, base, token

    def as_(self, token: str | None) -> ApiClient:
        """The same client, signed in with another token (or anonymous)."""
        return ApiClient(self.http, self.base, token)

    async def request(self, method: str, path: str, **kw: Any) -> Reply:
        headers = dict(kw.pop("headers", {}))
        headers.setdefault("Accept-Language", "en")
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        async with self.http.request(method, self.base + path, headers=headers, **kw) as resp:
            raw = await resp.text()
            body = None
            if resp.content_type.endswith("json") and raw:
                body = await resp.json(content_type=None)
            return Reply(resp.status, body, raw, resp.content_type, dict(resp.headers))

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.request("POST", path, json=json, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.request("PATCH", path, json=json, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.request("PUT", path, json=json, **kw)

    async def download(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        """A binary answer: status, body bytes, headers."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.get(self.base + path, headers=headers) as resp:
            return resp.status, await resp.read(), dict(resp.headers)


@pytest.fixture
async def server(config: Config) -> AsyncIterator[TestServer]:
    """The whole application listening on 127.0.0.1."""
    srv = TestServer(create_app(config), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
async def anon(server: TestServer) -> AsyncIterator[ApiClient]:
    """A client with no token."""
    async with ClientSession() as http:
        yield ApiClient(http, str(server.make_url("")).rstrip("/"))


def redis_url() -> str:
    assert REDIS_URL is not None
    return REDIS_URL


@dataclass
class Cast:
    """Signed-in clients for every role, and the ids of what was seeded."""

    staff: ApiClient
    leader: ApiClient
    member: ApiClient
    member2: ApiClient
    unit: ApiClient
    unit2: ApiClient
    guest: ApiClient
    anon: ApiClient
    ids: dict[str, int]
    unit_ids: dict[str, int]
    venue_id: int


CAST = [
    ("staff", "王秘书", "staff", None),
    ("leader", "李主席", "leader", None),
    ("member", "张委员", "member", None),
    ("member2", "陈委员", "member", None),
    ("unit", "住建局 赵处长", "unit", "a"),
    ("unit2", "教育局 孙科长", "unit", "b"),
    ("guest", "市民 刘先生", "guest", None),
]


@pytest.fixture
async def cast(anon: ApiClient, database: Database, config: Config) -> Cast:
    """Two units, a venue and one signed-in account per role."""
    from server.directory import service
    from server.directory.schemas import PersonCreate, UnitCreate, VenueCreate

    passwords = config.passwords()
    unit_ids = {
        "a": (await service.add_unit(database, UnitCreate(name="市住房和城乡建设局"))).id,
        "b": (await service.add_unit(database, UnitCreate(name="市教育局"))).id,
    }
    ids, clients = {}, {}
    for username, name, role, unit in CAST:
        person = await service.add_person(
            database,
            passwords,
            PersonCreate.model_validate(
                {
                    "username": username,
                    "name": name,
                    "role": role,
                    "password": PASSWORD,
                    "unit_id": unit_ids[unit] if unit else None,
                    "email": f"{username}@example.org",
                },
                strict=False,
            ),
        )
        ids[username] = person.id
        reply = await anon.post("/api/auth/login", {"username": username, "password": PASSWORD})
        assert reply.status == 200, reply.text
        clients[username] = anon.as_(reply.body["token"])
    venue = await service.add_venue(database, VenueCreate(name="政协第一会议室", capacity=40))
    return Cast(**clients, anon=anon, ids=ids, unit_ids=unit_ids, venue_id=venue.id)


@dataclass
class Inside:
    """How often a sampling thread found the event loop's thread, and any other thread, inside
    some code (:func:`watch_inside`)."""

    on_loop: int = 0
    elsewhere: int = 0


@contextmanager
def watch_inside(code: CodeType, every: float = 0.0005) -> Iterator[Inside]:
    """Sample every thread's stack from a thread of its own while the block runs: proof,
    independent of the machine's load, that ``code`` runs off the event loop (``on_loop``
    stays 0) and did run (``elsewhere`` counts the samples that found it in another thread).
    Sampling from its own thread, it sees the work wherever it runs, however briefly the
    loop gets the GIL."""
    loop_thread, seen, stop = threading.get_ident(), Inside(), threading.Event()

    def sample() -> None:
        me = threading.get_ident()
        while not stop.is_set():
            for ident, frame in sys._current_frames().items():
                walk: Any = frame if ident != me else None
                while walk is not None and walk.f_code is not code:
                    walk = walk.f_back
                if walk is not None:
                    if ident == loop_thread:
                        seen.on_loop += 1
                    else:
                        seen.elsewhere += 1
            stop.wait(every)

    sampler = threading.Thread(target=sample, name="watch-inside", daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join()
