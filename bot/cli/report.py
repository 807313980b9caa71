"""`carebridge report`: the seed KPIs of collaborative care for a date range, as a table and optionally CSV."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from bot.cli.common import console, fail, services_or_exit
from bot.config import settings
from bot.services.report import COUNT, Figure, day_range, report_figures
from bot.store.report import report_rows

DAY = ["%Y-%m-%d"]


def labels() -> dict[str, Any]:
    """Read the report's words (figure names, definitions, result formats)."""
    path = settings().messages_dir / "en" / "team" / "report_labels.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def name_of(words: dict[str, Any], figure: Figure, titles: dict[str, str]) -> str:
    """Return a figure's label, naming its subject by instrument title or friendlier word."""
    subject = titles.get(figure.subject) or words["subjects"].get(figure.subject, figure.subject)
    return words["figures"][figure.name].format(subject=subject)


def number(value: float | None, unit: str) -> str:
    """Write a figure's value: whole for counts, one decimal otherwise; empty when there is none."""
    if value is None:
        return ""
    return f"{value:.0f}" if unit == COUNT else f"{value:.1f}"


def result_of(words: dict[str, Any], figure: Figure) -> str:
    """Write a figure's result with its numerator and denominator, or n/a when the denominator is zero."""
    formats = words["results" if figure.value is not None else "missing"]
    return formats[figure.unit].format(numerator=figure.numerator, denominator=figure.denominator,
                                       value=number(figure.value, figure.unit))


def write_csv(path: Path, words: dict[str, Any], figures: list[Figure], titles: dict[str, str]) -> None:
    """Write the same figures as CSV: one row each, n/a for a value over a zero denominator."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(words["csv_columns"])
        for figure in figures:
            writer.writerow([name_of(words, figure, titles), "" if figure.numerator is None else figure.numerator,
                             "" if figure.denominator is None else figure.denominator,
                             number(figure.value, figure.unit) or words["not_available"], words["units"][figure.unit],
                             words["notes"][figure.note]])


def report(
    first: Annotated[datetime, typer.Option("--from", formats=DAY, help="First day, an ISO date read as UTC")],
    last: Annotated[datetime, typer.Option("--to", formats=DAY, help="Last day, an ISO date read as UTC; "
                                                                      "the whole day is included")],
    clinic: Annotated[str | None, typer.Option("--clinic", help="Only this clinic (slug)")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the figures to this CSV file")] = None,
) -> None:
    """Print the seed KPIs of collaborative care for UTC days --from to --to (both whole days included)."""
    try:
        start, end = day_range(first.date(), last.date())
    except ValueError as exc:
        fail(str(exc))
    services = services_or_exit()
    config = services.flow.config
    known = {c.slug for c in config.clinics}
    if clinic is not None and clinic not in known:
        fail(f"unknown clinic '{clinic}' (known: {', '.join(sorted(known))})")
    try:
        with services.store.engine.connect() as conn:
            rows = report_rows(conn, start, end, clinic)
    finally:
        services.store.engine.dispose()
    figures = report_figures(rows, config.care, start, end)
    words = labels()
    titles = {key: inst.short_title for key, inst in services.flow.catalog.items()}
    table = Table(*words["columns"], title=words["title"].format(
        first=first.date().isoformat(), last=last.date().isoformat(), clinic=clinic or words["all_clinics"]))
    for figure in figures:
        table.add_row(name_of(words, figure, titles), result_of(words, figure), words["notes"][figure.note])
    console.print(table)
    if csv_file is not None:
        write_csv(csv_file, words, figures, titles)
