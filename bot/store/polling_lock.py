"""One poller of Telegram among many processes: a PostgreSQL advisory lock held on its own connection."""

from __future__ import annotations

import contextlib

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.store.db import is_sqlite

LOCK_KEY = 0x43415245_42524944 >> 1  # "CAREBRID", as a positive bigint


class PollingLock:
    """Held by the process that polls Telegram until it stops or its connection drops (SQLite: always granted)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        """Take the lock, or check that it is still held; return whether this process holds it now."""
        if is_sqlite(self.engine):
            return True
        if self._conn is not None:
            try:
                self._conn.scalar(text("SELECT 1"))
                return True
            except SQLAlchemyError:  # the session, and the lock with it, is gone: take it again if it is free
                self._forget()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")  # no transaction left open
        except SQLAlchemyError:  # the database is away: do not poll (updates taken now could not be stored)
            return False
        try:
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}))
        except SQLAlchemyError:
            got = False
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def release(self) -> None:
        """Give the lock up."""
        if self._conn is None:
            return
        with contextlib.suppress(SQLAlchemyError):
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        self._forget()

    def _forget(self) -> None:
        with contextlib.suppress(SQLAlchemyError):
            self._conn.close()
        self._conn = None
