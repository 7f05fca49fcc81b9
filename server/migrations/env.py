"""Alembic environment: runs on a connection handed in by :mod:`server.migrate`."""

from __future__ import annotations

from alembic import context

from server.models_registry import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations with `xieshang migrate`, not the alembic command.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
