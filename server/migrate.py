"""Alembic migrations run from code: upgrade, and the check that refuses an old schema."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


class SchemaMismatch(RuntimeError):
    """The database schema is not the one this code needs; the message says what to run."""


def alembic_config() -> AlembicConfig:
    """Alembic settings pointing at ``server/migrations`` (works installed or from a checkout)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", "server:migrations")
    return cfg


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it has no schema yet."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(engine: AsyncEngine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (before, after)."""
    before = await current_revision(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
    return before, head_revision()


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


async def check_schema(engine: AsyncEngine, db_hint: str) -> None:
    """Raise :class:`SchemaMismatch` unless the database is at the newest revision."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaMismatch(
            f"The database has no xieshang schema yet. Run `xieshang migrate{db_hint}` first."
        )
    if not _known(current):
        raise SchemaMismatch(
            f"The database is at revision {current}, which this version of xieshang does not "
            f"know (it is newer, or from another program). Upgrade xieshang or use another db."
        )
    raise SchemaMismatch(
        f"The database is at revision {current} but this version needs {head}. "
        f"Run `xieshang migrate{db_hint}` to upgrade it (back it up first)."
    )
