"""`carebridge db`: manage the database schema."""

from __future__ import annotations

import typer

from bot.cli.common import console
from bot.config import settings
from bot.store import migrate
from bot.store.db import make_engine

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Upgrade the database to the newest schema (or to REVISION)."""
    engine = make_engine(settings().database_url)
    migrate.upgrade(engine, revision)
    console.print(f"database at revision {migrate.current_revision(engine)}")


@app.command("current")
def current() -> None:
    """Show the database's revision and the newest one this version ships."""
    engine = make_engine(settings().database_url)
    console.print(f"database: {migrate.current_revision(engine) or 'empty'} · newest: {migrate.head_revision(engine)}")
