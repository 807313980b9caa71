"""Gauges read from the database at scrape time (the truth across processes); labels never carry PHI."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select

from bot.domain.effects import CHECKIN, CRISIS, REMINDER, REPLY
from bot.store.db import reading
from bot.store.tables import CLINIC, HANDOFF, OUTBOX, TIMER

log = logging.getLogger(__name__)

OVERDUE_AFTER = timedelta(seconds=60)  # a timer this late means no worker is firing timers
PLATFORMS = ("telegram", "slack")  # always reported by the oldest-pending gauge (0 when nothing waits)
PRIORITIES = {CRISIS: "crisis", REPLY: "reply", REMINDER: "reminder", CHECKIN: "checkin"}
WAITING = "open"  # a handoff paged and not yet accepted (store.handoffs.OPEN)


def _aware(moment: datetime) -> datetime:
    """Return a datetime read back from the database as UTC-aware (SQLite drops the zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DatabaseCollector(Collector):
    """Read the outbox, timers and handoffs on each scrape; a database that cannot be read gives database_up 0."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None):
        self.engine = engine
        self.clock = clock or _utc_now

    def describe(self) -> list[Metric]:
        """Describe nothing up front, so that registering does not query the database."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges, and whether the database answered."""
        up = GaugeMetricFamily("carebridge_database_up", "1 if the database answered this scrape, else 0")
        try:
            with reading(self.engine) as conn:
                families = self.read(conn, self.clock())
        except Exception as exc:  # a scrape must answer, whatever the database does
            log.warning("metrics could not read the database", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from families
        yield up

    def read(self, conn: Connection, now: datetime) -> list[Metric]:
        """Return the gauges, read in one connection."""
        return [*self.outbox(conn, now), self.timers(conn, now), self.handoffs(conn)]

    @staticmethod
    def outbox(conn: Connection, now: datetime) -> list[Metric]:
        """Return pending rows by platform and priority, and the age of the oldest pending row by platform."""
        pending = GaugeMetricFamily("carebridge_outbox_pending", "Outbox rows not yet delivered",
                                    labels=["platform", "priority"])
        waiting = OUTBOX.c.status == "pending"
        rows = conn.execute(select(OUTBOX.c.platform, OUTBOX.c.priority, func.count())
                            .where(waiting).group_by(OUTBOX.c.platform, OUTBOX.c.priority)
                            .order_by(OUTBOX.c.platform, OUTBOX.c.priority))
        for platform, priority, count in rows:
            pending.add_metric([platform, PRIORITIES.get(priority, str(priority))], count)
        oldest = GaugeMetricFamily("carebridge_outbox_oldest_pending_seconds",
                                   "Seconds since the oldest undelivered outbox row was queued", labels=["platform"])
        ages = dict.fromkeys(PLATFORMS, 0.0)
        for platform, created_at in conn.execute(select(OUTBOX.c.platform, func.min(OUTBOX.c.created_at))
                                                 .where(waiting).group_by(OUTBOX.c.platform)):
            ages[platform] = max(0.0, (now - _aware(created_at)).total_seconds())
        for platform, seconds in sorted(ages.items()):
            oldest.add_metric([platform], seconds)
        return [pending, oldest]

    @staticmethod
    def timers(conn: Connection, now: datetime) -> Metric:
        """Return how many timers are overdue: due over a minute ago, neither fired nor cancelled."""
        overdue = conn.execute(select(func.count()).select_from(TIMER).where(
            TIMER.c.due_at < now - OVERDUE_AFTER, TIMER.c.fired_at.is_(None), TIMER.c.cancelled.is_(False))).scalar_one()
        gauge = GaugeMetricFamily("carebridge_timers_overdue", "Timers due over a minute ago and not fired")
        gauge.add_metric([], overdue)
        return gauge

    @staticmethod
    def handoffs(conn: Connection) -> Metric:
        """Return, per clinic, the handoffs paged and not yet accepted (0 for a clinic with none)."""
        counts = conn.execute(
            select(CLINIC.c.slug, func.count(HANDOFF.c.id))
            .select_from(CLINIC.outerjoin(HANDOFF, (HANDOFF.c.clinic_id == CLINIC.c.id) & (HANDOFF.c.status == WAITING)))
            .group_by(CLINIC.c.slug).order_by(CLINIC.c.slug))
        gauge = GaugeMetricFamily("carebridge_handoffs_waiting", "Handoffs paged and not yet accepted",
                                  labels=["clinic"])
        for slug, count in counts:
            gauge.add_metric([slug], count)
        return gauge
