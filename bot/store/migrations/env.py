"""Alembic environment: runs on the connection CareBridge hands it (see bot.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from bot.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run() -> None:
    """Run migrations on the given connection, or on a new engine for the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        from bot.store.db import make_engine

        engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _migrate(connection)
        return
    _migrate(connection)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
