"""Shared pieces of the command line: console, catalog loading and clean failures."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from bot.config import settings
from bot.instruments import Instrument, InstrumentFileError, load_catalog
from bot.instruments.scoring import AnswerError

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error to stderr and exit with a status (2: bad usage or input)."""
    errors.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def catalog() -> dict[str, Instrument]:
    """Load every instrument, or exit 1 listing what is wrong in which file."""
    try:
        return load_catalog(settings().instruments_dir)
    except InstrumentFileError as exc:
        for line in exc.lines:
            errors.print(line, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def instrument(instrument_id: str) -> Instrument:
    """Return one instrument by id (case-insensitive), or exit 2 naming the known ones."""
    known = catalog()
    key = instrument_id.strip().lower()
    found = next(
        (
            inst
            for inst in known.values()
            if key in (inst.id, inst.short_title.lower()) or key.replace("-", "") == inst.id
        ),
        None,
    )
    if found is None:
        fail(f"unknown instrument '{instrument_id}' (known: {', '.join(sorted(known))})")
    return found


def services_or_exit(**kwargs):
    """Build the services on the configured database, or exit 1 with what is wrong."""
    from bot.bootstrap import SchemaOutOfDate, bootstrap
    from bot.clinic_config import ClinicConfigError

    try:
        return bootstrap(settings(), **kwargs)
    except (InstrumentFileError, ClinicConfigError) as exc:
        for line in exc.lines:
            errors.print(line, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except SchemaOutOfDate as exc:
        fail(str(exc), code=1)


def describe_answer_error(inst: Instrument, exc: AnswerError) -> str:
    """Return a one-line message naming the instrument and the item at fault."""
    if exc.item is None:
        return f"{inst.short_title}: {exc.message}"
    position = [i.id for i in inst.items].index(exc.item.id) + 1
    return f"{inst.short_title} item {position} ({exc.item.id}): {exc.message}"
