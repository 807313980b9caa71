"""Claim due timers so that several workers fire each one once, without waiting on each other."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, or_, select, update

from bot.store.tables import TIMER

# A claimed timer is left to its worker this long; if that worker dies before firing it, another takes it over.
# Firing twice is harmless (each timer is a keyed event, applied once), so this only spares the others the work.
CLAIM_SECONDS = 10


def claim_due_timers(engine: Engine, now: datetime, limit: int) -> list[tuple[int, str]]:
    """Return (id, kind) of up to `limit` due, unclaimed timers, soonest first, claimed for a few seconds."""
    with engine.begin() as conn:
        rows = conn.execute(_claim(limit), {"b_now": now, "b_until": now + timedelta(seconds=CLAIM_SECONDS)}).all()
    return [(row.id, row.kind) for row in sorted(rows, key=lambda row: (row.due_at, row.id))]


@functools.lru_cache(maxsize=8)
def _claim(limit: int):
    """Build the claim once per limit (workers look every second)."""
    now = bindparam("b_now")
    due = (
        select(TIMER.c.id)
        .where(TIMER.c.due_at <= now, TIMER.c.fired_at.is_(None), TIMER.c.cancelled.is_(False),
               or_(TIMER.c.claimed_until.is_(None), TIMER.c.claimed_until <= now))
        .order_by(TIMER.c.due_at, TIMER.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: rows another worker is claiming are skipped, not waited for
    )
    return (update(TIMER).where(TIMER.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=bindparam("b_until"))
            .returning(TIMER.c.id, TIMER.c.kind, TIMER.c.due_at))
