"""Create the database engine: SQLite in WAL with busy_timeout and foreign keys, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Connection, Engine, create_engine, event

_BEGIN_MODE: ContextVar[str] = ContextVar("sqlite_begin", default="IMMEDIATE")


def make_engine(url: str) -> Engine:
    """Return an engine; SQLite connections get WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE (see reading())."""
    if url.startswith("sqlite"):
        # Last in, first out: the loop's next transaction gets the connection it just used, whose page cache is
        # still valid (SQLite drops a connection's cache whenever another connection has written since).
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_use_lifo=True)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def is_sqlite(engine: Engine) -> bool:
    """Say whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    # Writers take the write lock at the start, so events apply one at a time, in order; readers inside
    # reading() begin DEFERRED and read without blocking them. This is the dialect's own begin step: a "begin"
    # event listener would do the same, but any listener makes every statement pass through the event system.
    engine.dialect.do_begin = _begin


def _begin(dbapi_connection) -> None:
    dbapi_connection.execute(f"BEGIN {_BEGIN_MODE.get()}")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """Open a connection for reading: on SQLite its transactions begin DEFERRED, so they never wait for writers."""
    token = _BEGIN_MODE.set("DEFERRED")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        _BEGIN_MODE.reset(token)
