"""The migrations build exactly the schema the models describe, and old schemas are refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from server.db import make_engine
from server.migrate import SchemaMismatch, check_schema, head_revision
from server.models_registry import metadata


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_a_database_behind_its_migrations_is_refused_with_advice(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await check_schema(engine, "")
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
        with pytest.raises(SchemaMismatch, match="does not know"):
            await check_schema(engine, "")
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
        with pytest.raises(SchemaMismatch, match="xieshang migrate"):
            await check_schema(engine, "")
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
            await conn.execute(text(f"INSERT INTO alembic_version VALUES ('{head_revision()}')"))
        await engine.dispose()
