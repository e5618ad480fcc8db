"""Alembic environment: migrations run on a connection handed over by ``database.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cyberpeace.store.tables import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("run migrations through cyberpeace.store.migrate(engine)")
run_migrations(_connection)
