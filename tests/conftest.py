"""Shared fixtures: the shipped catalog and a scoring helper driven by answer lists."""

from __future__ import annotations

import pytest

from bot.config import data_dir
from bot.instruments import Instrument, load_catalog, score
from bot.instruments.answer_list import parse_answer_list
from tests.store_fixtures import clock, database_url, make_services, patient_chat  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def catalog() -> dict[str, Instrument]:
    """Return every shipped instrument, loaded and validated."""
    return load_catalog(data_dir("instruments"))


@pytest.fixture(scope="session")
def score_list(catalog):
    """Score an instrument from option values in item order, as the CLI takes them."""

    def run(instrument_id: str, values, sex: str | None = None):
        inst = catalog[instrument_id]
        text = ",".join("-" if v is None else str(v) for v in values)
        return score(inst, parse_answer_list(inst, text), sex)

    return run
