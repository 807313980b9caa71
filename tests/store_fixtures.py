"""Databases for store-touching tests: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.adapters.console import ConsoleChat
from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services.enrollment import enroll_chat
from bot.store import migrate
from bot.store.db import make_engine

FIXTURES = Path(__file__).resolve().parent / "fixtures"
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def database_backends() -> list[str]:
    """Return the backends store tests run on."""
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


def reset_postgresql(url: str) -> None:
    """Empty the test database so each test starts from no schema at all."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: datetime = START):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.moment += timedelta(**delta)


@pytest.fixture(params=database_backends())
def database_url(request, tmp_path) -> str:
    """Return a fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    reset_postgresql(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def make_services(database_url, clock):
    """Build services on the test database with the test clinic file, a fixed clock and sequential ids."""
    built = []

    def build(ids=None, config: Path = FIXTURES / "clinic.toml", **overrides):
        settings = Settings(DATABASE_URL=database_url, CAREBRIDGE_CONFIG=str(config), **overrides)
        services = bootstrap(settings, clock=clock, ids=ids or SequentialIds(start=1 + 1000 * len(built)))
        built.append(services)
        return services

    yield build
    for services in built:
        services.store.engine.dispose()


@pytest.fixture
def patient_chat(make_services):
    """Enroll a console patient at a test clinic and return their chat."""

    def open_chat(clinic: str = "mood", chat_id: str = "chat-1", services=None) -> ConsoleChat:
        services = services or make_services()
        enroll_chat(services, clinic, "console", chat_id)
        return ConsoleChat(services, chat_id)

    return open_chat
