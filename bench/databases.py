"""A fresh database per benchmark run: a SQLite file, or a scratch PostgreSQL database upgraded with `carebridge db`."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import CAREBRIDGE

RESERVED = {"test", "postgres", "template0", "template1"}  # the test suite's database and the server's own


def upgrade(url: str) -> None:
    """Bring a database to the newest schema with `carebridge db upgrade`."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([CAREBRIDGE, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def scratch_database(url: str | None, folder: Path, name: str) -> Iterator[str]:
    """Yield the URL of an empty, upgraded database: SQLite in folder, or a new PostgreSQL database dropped after.

    For PostgreSQL, url names a server and a database (e.g. .../bench); the run gets its own database beside
    it, called <database>_<name>_<pid>, so that every run starts empty and the named database is left alone.
    """
    if url is None or url.startswith("sqlite"):
        path = folder / f"{name}.db"
        yield f"sqlite:///{path}"
        return
    given = make_url(url)
    scratch = f"{given.database or 'bench'}_{name}_{os.getpid()}".lower().replace("-", "_")
    if scratch in RESERVED or given.database == "test":
        raise ValueError("refusing to touch the test suite's or the server's own database")
    server = create_engine(given.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        run_url = given.set(database=scratch).render_as_string(hide_password=False)
        upgrade(run_url)
        yield run_url
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        server.dispose()
