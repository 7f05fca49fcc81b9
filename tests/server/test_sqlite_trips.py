"""SQLite statements take one trip to aiosqlite's thread each (``server/sqlite_trips.py``), and
a connection goes back to the pool rolled back only when a transaction is still open on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from server import sqlite_trips
from server.db import Database


@pytest.fixture
async def sqlite(tmp_path: Path) -> Any:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with database.transaction() as db:
        await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield database
    await database.close()


@contextmanager
def trips(on: Callable[[list[tuple[int, str]]], int] | None = None) -> Iterator[list[str]]:
    """What is sent to aiosqlite's threads meanwhile, one entry per trip (the statement, or the
    call's name). ``on`` picks one connection's trips: it gets ``(connection id, entry)``s and
    returns the connection id; by default every connection's trips are listed."""
    seen: list[str] = []
    made: list[tuple[int, str]] = []
    original = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sql = next((a for a in args if isinstance(a, str)), getattr(fn, "__name__", ""))
        made.append((id(self), sql))
        if on is None:
            seen.append(sql)
        return await original(self, fn, *args, **kwargs)

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]
        if on is not None:
            connection = on(made)
            seen[:] = [sql for conn, sql in made if conn == connection]


async def test_the_aiosqlite_internals_used_are_there(tmp_path: Path) -> None:
    assert version("aiosqlite").startswith(("0.20.", "0.21.", "0.22.")), "re-check sqlite_trips"
    connection = await sqlite_trips.connect(str(tmp_path / "x.db"), check_same_thread=False)
    assert isinstance(connection, aiosqlite.Connection) and connection._thread.daemon
    assert type(connection._conn).__name__ == "Connection"  # the sqlite3 connection
    cursor = await connection.cursor().execute("SELECT 1 AS one")
    assert cursor.description[0][0] == "one" and await cursor.fetchall() == [(1,)]
    await connection.close()


async def test_each_statement_is_one_trip_and_results_are_kept(sqlite: Database) -> None:
    with trips() as seen:
        async with sqlite.transaction() as db:
            await db.execute(text("INSERT INTO t (name) VALUES ('甲'), ('乙'), ('丙')"))
            changed = await db.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert changed.rowcount == 2  # type: ignore[attr-defined]
        assert seen == [
            "BEGIN IMMEDIATE",
            "INSERT INTO t (name) VALUES ('甲'), ('乙'), ('丙')",
            "UPDATE t SET name = name || '!' WHERE id > 1",
            "commit",
        ]
        seen.clear()
        async with sqlite.read() as db:
            rows = (await db.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "甲"), (2, "乙!"), (3, "丙!")]
        assert seen == ["BEGIN", "SELECT id, name FROM t ORDER BY id", "rollback"]


async def test_errors_still_come_back_as_the_driver_raised_them(sqlite: Database) -> None:
    async with sqlite.transaction() as db:
        await db.execute(text("INSERT INTO t (name) VALUES ('甲')"))
    with pytest.raises(IntegrityError):
        async with sqlite.transaction() as db:
            await db.execute(text("INSERT INTO t (name) VALUES ('乙')"))
            await db.execute(text("INSERT INTO t (name) VALUES ('甲')"))
    async with sqlite.read() as db:  # the failed transaction left nothing
        assert (await db.execute(text("SELECT count(*) FROM t"))).scalar() == 1


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    sqlite: Database,
) -> None:
    """Work cut short can hand a connection back with its transaction open: the pool rolls it
    back then (it skips the rollback only when nothing is open)."""
    conn = await sqlite.engine.connect()

    def left_open(sync_conn: Any) -> Any:  # behind SQLAlchemy's back, as a cut could leave it
        cursor = sync_conn.connection.dbapi_connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("INSERT INTO t (name) VALUES ('未提交')")
        return sync_conn.connection.driver_connection

    driver = await conn.run_sync(left_open)
    assert driver.in_transaction
    await conn.close()
    assert not driver.in_transaction
    async with sqlite.read() as db:
        assert (await db.execute(text("SELECT count(*) FROM t"))).scalar() == 0
