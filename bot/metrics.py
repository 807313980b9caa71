"""Prometheus metrics: this process's counters, the database's gauges at scrape time, and the /metrics route."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.metrics_db import DatabaseCollector

METRICS_PATH = "/metrics"
HEALTHZ_PATH = "/healthz"
OTHER = "other"
# A label value is a word from the code (platform, status, outcome), never a chat id, code or text: anything else
# is counted as "other".
_WORD = re.compile(r"[a-z][a-z0-9_]{0,31}")

# Counters of this process; the worker and the adapters count, /metrics shows them.
REGISTRY = CollectorRegistry()
EVENTS = Counter("carebridge_events", "Inbound events handled, by source and how they were handled",
                 ["source", "status"], registry=REGISTRY)
DELIVERIES = Counter("carebridge_deliveries", "Outbox delivery attempts, by platform and outcome",
                     ["platform", "outcome"], registry=REGISTRY)
TIMERS_FIRED = Counter("carebridge_timers_fired", "Due timers fired", registry=REGISTRY)


def label(value: str) -> str:
    """Return a label value that is a short lowercase word, or "other"."""
    return value if isinstance(value, str) and _WORD.fullmatch(value) else OTHER


def count_event(source: str, status: str) -> None:
    """Count one inbound event (source: telegram, slack, timer...; status: applied, duplicate, ignored...)."""
    _series(EVENTS, label(source), label(status)).inc()


def count_delivery(platform: str, outcome: str, n: int = 1) -> None:
    """Count n delivery outcomes of a platform (sent, retry, transient, failed, unreachable)."""
    if n > 0:
        _series(DELIVERIES, label(platform), label(outcome)).inc(n)


@functools.lru_cache(maxsize=256)
def _series(counter: Counter, *values: str) -> Counter:
    """Return the counter's series for these label values (found once: counting is on every message's path)."""
    return counter.labels(*values)


def count_timers(n: int = 1) -> None:
    """Count n timers fired."""
    if n > 0:
        TIMERS_FIRED.inc(n)


def scrape(database: CollectorRegistry) -> bytes:
    """Return the exposition text of this process's counters followed by the database's gauges."""
    return generate_latest(REGISTRY) + generate_latest(database)


def metrics_route(engine_or_store: Engine | object, clock: Callable[[], datetime] | None = None) -> Route:
    """Return the GET /metrics route; give an engine or a store (anything with .engine) and optionally a clock."""
    engine = engine_or_store if isinstance(engine_or_store, Engine) else engine_or_store.engine
    database = CollectorRegistry()
    database.register(DatabaseCollector(engine, clock))

    def metrics(_request: Request) -> Response:  # sync: Starlette runs it in a thread, off the event loop
        return Response(scrape(database), media_type=CONTENT_TYPE_LATEST)

    return Route(METRICS_PATH, metrics, methods=["GET"])


def healthz_route() -> Route:
    """Return the GET /healthz route, answering "ok" while the process serves."""
    return Route(HEALTHZ_PATH, lambda _request: PlainTextResponse("ok"), methods=["GET"])
