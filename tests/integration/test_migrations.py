"""Migrations: from empty and from every earlier revision to head, on each backend; head matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from bot.store import migrate
from bot.store import models  # noqa: F401  (registers the tables)
from bot.store.db import make_engine
from tests.store_fixtures import database_backends, reset_postgresql


@pytest.fixture(params=database_backends())
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
    else:
        import os

        reset_postgresql(os.environ["TEST_DATABASE_URL"])
        engine = make_engine(os.environ["TEST_DATABASE_URL"])
    yield engine
    engine.dispose()


def revisions(engine) -> list[str]:
    """Return every revision, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config(engine))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_from_empty_the_schema_is_exactly_the_models(empty_engine):
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision(empty_engine)
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


# revision -> a handoffrequest, patient or timer column the next revision adds (gone again after downgrading to that revision)
ADDED_AFTER = {"0001": "rung", "0002": "in_room", "0003": "care_started_at", "0004": "claimed_until"}


@pytest.mark.parametrize("start", sorted(ADDED_AFTER))
def test_from_each_earlier_revision_with_data_to_head_and_back(empty_engine, start):
    assert start in revisions(empty_engine)[:-1]
    migrate.upgrade(empty_engine, start)
    with empty_engine.begin() as connection:
        connection.execute(text("INSERT INTO clinic (slug, name) VALUES ('c', 'Clinic')"))
        connection.execute(text(
            "INSERT INTO patient (code, clinic_id, locale, status, created_at) VALUES ('P-1', 1, 'en', 'active', :at)"),
            {"at": "2026-01-01 00:00:00"})
        connection.execute(text(
            "INSERT INTO handoffrequest (ref, patient_id, clinic_id, urgency, reason, source, callback_requested, status,"
            " created_at, updated_at) VALUES ('H-1', 1, 1, 'urgent', 'r', 'screening', false, 'open', :at, :at)"),
            {"at": "2026-01-01 00:00:00"})
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        row = connection.execute(text("SELECT ref, rung, accepted_by FROM handoffrequest")).one()
    assert tuple(row) == ("H-1", 0, None)
    from alembic import command

    config = migrate.alembic_config(empty_engine)
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, start)
    columns = {c["name"] for table in ("handoffrequest", "patient", "timer") for c in inspect(empty_engine).get_columns(table)}
    assert ADDED_AFTER[start] not in columns and "ref" in columns
    assert ("oncall" in inspect(empty_engine).get_table_names()) == (start >= "0003")
    assert ("deliverylease" in inspect(empty_engine).get_table_names()) == (start >= "0005")
