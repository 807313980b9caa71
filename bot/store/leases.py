"""What several workers share on PostgreSQL: leases on chats (one sender per chat) and rate buckets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Engine, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bot.store import models as m
from bot.store.tables import OUTBOX

LEASE = m.DeliveryLease.__table__
BUCKET = m.RateBucket.__table__
CHUNK = 500


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


class SqlLeases:
    """Lease chats to one worker at a time, by the database's clock, so that its rows go out in order, once."""

    def __init__(self, engine: Engine, holder: str, seconds: float):
        self.engine = engine
        self.holder = holder
        self.seconds = seconds

    def _until(self):
        return func.clock_timestamp() + timedelta(seconds=self.seconds)

    def claim(self, platform: str, limit: int, most_urgent: int | None = None) -> list[str]:
        """Lease the chats of up to `limit` pending rows, most urgent first, that no worker holds; return them."""
        leased = exists().where(LEASE.c.platform == OUTBOX.c.platform, LEASE.c.recipient == OUTBOX.c.recipient,
                                LEASE.c.until > func.clock_timestamp())
        rows = (select(OUTBOX.c.recipient)
                .where(OUTBOX.c.status == "pending", OUTBOX.c.platform == platform, ~leased)
                .order_by(OUTBOX.c.priority, OUTBOX.c.id).limit(limit)
                .with_for_update(of=OUTBOX, skip_locked=True))  # rows another worker is looking at are skipped
        if most_urgent is not None:
            rows = rows.where(OUTBOX.c.priority <= most_urgent)
        with self.engine.begin() as conn:
            chats = list(dict.fromkeys(conn.execute(rows).scalars()))
            if not chats:
                return []
            lease = pg_insert(LEASE).values([{"platform": platform, "recipient": chat, "holder": self.holder,
                                              "until": self._until()} for chat in chats])
            # A chat is taken over only when its lease has run out; a concurrent claim of the same chat waits for
            # ours to commit, then finds it held and gets nothing.
            lease = lease.on_conflict_do_update(
                index_elements=["platform", "recipient"],
                set_={"holder": lease.excluded.holder, "until": lease.excluded.until},
                where=or_(LEASE.c.holder == self.holder, LEASE.c.until <= func.clock_timestamp()))
            return list(conn.execute(lease.returning(LEASE.c.recipient)).scalars())

    def pending_ids(self, platform: str) -> list[int]:
        """Return the ids of pending rows in the chats we hold."""
        query = (select(OUTBOX.c.id)
                 .select_from(OUTBOX.join(LEASE, (LEASE.c.platform == OUTBOX.c.platform)
                                          & (LEASE.c.recipient == OUTBOX.c.recipient)))
                 .where(LEASE.c.holder == self.holder, LEASE.c.until > func.clock_timestamp(),
                        OUTBOX.c.platform == platform, OUTBOX.c.status == "pending"))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def renew(self, platform: str, chats: Iterable[str]) -> set[str]:
        """Extend our leases on these chats; return those still ours (another worker may have taken one over)."""
        kept: set[str] = set()
        with self.engine.begin() as conn:
            for chunk in _chunks(chats):
                query = (update(LEASE).where(LEASE.c.platform == platform, LEASE.c.holder == self.holder,
                                             LEASE.c.recipient.in_(chunk))
                         .values(until=self._until()).returning(LEASE.c.recipient))
                kept.update(conn.execute(query).scalars())
        return kept

    def release(self, platform: str) -> None:
        """Give up every lease we hold on a platform's chats (on a clean stop)."""
        with self.engine.begin() as conn:
            conn.execute(delete(LEASE).where(LEASE.c.platform == platform, LEASE.c.holder == self.holder))


class SqlRateBucket:
    """A token bucket in a row, refilled by the database's clock, shared by every worker that sends."""

    def __init__(self, engine: Engine, name: str, per_second: float, burst: int):
        self.engine = engine
        self.name = name
        self.per_second = per_second
        self.burst = burst
        self._created = False

    def take(self, wanted: int) -> tuple[int, float]:
        """Take up to `wanted` tokens; return how many were taken and, if short, seconds until the next one."""
        with self.engine.begin() as conn:
            if not self._created:
                conn.execute(pg_insert(BUCKET).values(name=self.name, tokens=self.burst,
                                                      updated_at=func.clock_timestamp()).on_conflict_do_nothing())
                self._created = True
            row = conn.execute(select(BUCKET.c.tokens, BUCKET.c.updated_at).where(BUCKET.c.name == self.name)
                               .with_for_update()).one()
            now = conn.scalar(select(func.clock_timestamp()))  # read after the lock: never before the last taker
            elapsed = max(0.0, (now - row.updated_at).total_seconds())
            tokens = min(float(self.burst), row.tokens + elapsed * self.per_second)
            taken = max(0, min(wanted, int(tokens)))
            conn.execute(update(BUCKET).where(BUCKET.c.name == self.name)
                         .values(tokens=tokens - taken, updated_at=max(now, row.updated_at)))
        short = 0.0 if taken == wanted else (taken + 1 - tokens) / self.per_second
        return taken, max(0.0, short)
