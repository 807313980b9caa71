"""Wire CareBridge: real or stand-in parts, chosen in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.messages import MessageRenderer
from bot.adapters.presenter import TemplatePresenter, load_words
from bot.clinic_config import ClinicConfig, load_clinic_config
from bot.config import Settings, data_dir
from bot.flows.context import FlowContext, Ids
from bot.ids import RandomIds
from bot.instruments import Instrument, load_catalog
from bot.services.handle import Services
from bot.store import migrate
from bot.store.db import is_sqlite, make_engine
from bot.store.uow import SqlStore


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def clinic_config_path(settings: Settings) -> Path:
    """Return the clinic file in use: CAREBRIDGE_CONFIG, or the shipped example."""
    return settings.carebridge_config or data_dir("config") / "clinic.example.toml"


def load_flow_context(settings: Settings) -> FlowContext:
    """Load and validate instruments, the clinic file and the words of every locale."""
    catalog: dict[str, Instrument] = load_catalog(settings.instruments_dir)
    config: ClinicConfig = load_clinic_config(clinic_config_path(settings), catalog)
    return FlowContext(catalog=catalog, config=config, words=load_words(settings.messages_dir))


class SchemaOutOfDate(Exception):
    """The database is not at the newest schema and is not upgraded automatically."""


def bootstrap(settings: Settings, clock: Callable[[], datetime] = utc_now, ids: Ids | None = None) -> Services:
    """Build the services; a SQLite database is upgraded on the spot, PostgreSQL must be up to date."""
    flow = load_flow_context(settings)
    engine = make_engine(settings.database_url)
    if is_sqlite(engine):
        migrate.upgrade(engine)
    elif migrate.current_revision(engine) != migrate.head_revision(engine):
        raise SchemaOutOfDate("the database schema is not up to date: run 'carebridge db upgrade'")
    presenter = TemplatePresenter(MessageRenderer(settings.messages_dir), flow.words)
    return Services(store=SqlStore(engine), flow=flow, presenter=presenter, ids=ids or RandomIds(), clock=clock)
