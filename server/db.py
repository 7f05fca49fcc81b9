"""SQLAlchemy engine, session factory and the column types every feature shares.

SQLite (embedded, the default) and PostgreSQL run the same code. Instants are stored in UTC
and always come back timezone-aware.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from server import sqlite_trips

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant: refuses naive datetimes, stores UTC, returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a UTC column")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A string column limited to an enum's values (a portable CHECK constraint)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> dt.datetime:
    """The current instant; only shells call this, pure code takes ``now`` as a parameter."""
    return dt.datetime.now(dt.UTC)


# How long a write waits for SQLite's write lock before the request is answered 503 "busy". A
# write transaction holds the lock across every statement's trip to the driver's thread and back
# through the event loop, so on a busy process a transaction of a few dozen statements can hold
# it for seconds; 5 s (a common default) turned such moments into failed requests.
BUSY_TIMEOUT_MS = 15_000


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # SQLAlchemy emits BEGIN itself (below), so the driver must not start transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of an SQLite file database so a fresh checkout just works."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url.removeprefix(prefix).split("?")[0]).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock at BEGIN, so two read-check-write transactions cannot
    # interleave (SQLite ignores SELECT ... FOR UPDATE); readers stay concurrent under WAL.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: Any) -> None:
    # A connection back in the pool is rolled back only if a transaction is still open on it
    # (work that failed or was cut short): after a commit, or a read that began none, the
    # rollback would be a trip to the driver's thread for nothing. (Not asyncio-safe: found by
    # the garbage collector, it is closed rather than reused, as the pool's own reset does.)
    driver = record.driver_connection
    if state.asyncio_safe and driver is not None and driver.in_transaction:
        dbapi_connection.rollback()


# What a store's column reads accept: an ORM session, or a plain connection (read_columns).
Reader = AsyncSession | AsyncConnection

WRITE_OPTION = "xieshang_write"
CLOSE_GRACE = 2.0  # seconds closing waits for connections still in use to come back
CLOSE_TICK = 0.02


class DatabaseUnreachable(ConnectionError):
    """No connection to the database server could be made (refused, timed out, unknown host)."""


def _connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any) -> Any:
    # A driver's socket errors reach the caller unwrapped, like any other OSError; named here,
    # where they certainly come from connecting, the HTTP layer can answer 503 rather than 500.
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise DatabaseUnreachable(f"cannot connect to the database: {exc}") from exc


def make_engine(url: str) -> AsyncEngine:
    """An async engine with the settings each backend needs."""
    ensure_sqlite_folder(url)
    if not url.startswith("sqlite"):
        engine = create_async_engine(url, pool_pre_ping=True)
        event.listen(engine.sync_engine, "do_connect", _connect)
        return engine

    def one_trip_connection() -> Any:  # the URL's file and options, one trip per statement
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        return sqlite_trips.connect(*cargs, **cparams)

    # The pool's rollback of a returned connection happens in _sqlite_reset, only when needed.
    engine = create_async_engine(url, async_creator=one_trip_connection, pool_reset_on_return=None)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    event.listen(engine.sync_engine, "reset", _sqlite_reset)
    return engine


class Database:
    """The engine plus a session factory; services open transactions through it."""

    def __init__(self, *, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
        # Called with a committed transaction's ``db.info`` (e.g. to push what it told people:
        # what a transaction leaves there is acted on only once it is durable). Hooks must not
        # block or raise; they schedule their work.
        self.on_commit: list[Callable[[dict[Any, Any]], None]] = []

    @classmethod
    def from_url(cls, url: str) -> Database:
        """Connect lazily to ``url``."""
        return cls(engine=make_engine(url))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed on success, rolled back on any error."""
        async with self._sessions() as db:
            async with db.begin():
                await db.connection(execution_options={WRITE_OPTION: True})
                yield db
            if db.info:
                for hook in self.on_commit:
                    hook(db.info)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work (rolled back at the end)."""
        async with self._sessions() as db:
            yield db

    @asynccontextmanager
    async def read_columns(self) -> AsyncIterator[AsyncConnection]:
        """A read of plain columns through a connection, without an ORM session (what a crowd
        asks at once: a login token, a room's entry check); rolled back at the end."""
        async with self.engine.connect() as conn:
            yield conn

    async def close(self, grace: float = CLOSE_GRACE) -> None:
        """Release every pooled connection, once the work still using one has returned it (up
        to ``grace`` seconds): a connection closed or abandoned under a query in flight is
        left open on the database's side until the garbage collector finds it."""
        checked_out: Callable[[], int] = getattr(self.engine.pool, "checkedout", lambda: 0)
        for _tick in range(int(grace / CLOSE_TICK)):
            if checked_out() == 0:
                break
            await asyncio.sleep(CLOSE_TICK)  # polled: the pool has no awaitable "all returned"
        await self.engine.dispose()
