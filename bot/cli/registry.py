"""`carebridge registry`: the caseload registry as a table, the patients needing attention first."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from bot.cli.common import console, fail, services_or_exit
from bot.domain.registry import RegistryEntry
from bot.services.handle import Services
from bot.services.registry import flags, next_due, registry, trend_text


def registry_command(
    clinic: Annotated[str | None, typer.Option("--clinic", help="Only patients of this clinic (slug)")] = None,
) -> None:
    """Show every patient in care: weeks in care, baseline → latest score, response, remission and flags."""
    services = services_or_exit()
    try:
        known = {c.slug for c in services.flow.config.clinics}
        if clinic is not None and clinic not in known:
            fail(f"unknown clinic '{clinic}' (known: {', '.join(sorted(known))})")
        entries = registry(services, clinic)
    finally:
        services.store.engine.dispose()
    render = services.presenter.team
    if not entries:
        console.print(render("team/registry_empty", clinic=clinic), markup=False, highlight=False, soft_wrap=True)
        return
    console.print(registry_table(services, entries, clinic))


def registry_table(services: Services, entries: list[RegistryEntry], clinic: str | None = None) -> Table:
    """Return the registry as a table: one row per patient, one trend column per followed instrument."""
    render = services.presenter.team
    followed = {t.instrument for entry in entries for t in entry.trends}
    instruments = [c.instrument for c in services.flow.config.care.checkins if c.instrument in followed]
    titles = {i: services.flow.catalog[i].short_title if i in services.flow.catalog else i for i in instruments}
    table = Table(title=render("team/registry_heading", column="title", clinic=clinic))
    for column in ("patient", "clinic", "weeks"):
        table.add_column(render("team/registry_heading", column=column), no_wrap=True)
    for instrument in instruments:
        table.add_column(render("team/registry_heading", column="trend", instrument=titles[instrument]), no_wrap=True)
    for column in ("outcome", "flags", "next_due"):
        table.add_column(render("team/registry_heading", column=column))
    for entry in entries:
        trends = {t.instrument: t for t in entry.trends}
        outcomes = [{"instrument": titles[t.instrument], "response": t.response, "remission": t.remission}
                    for t in entry.trends]
        due = next_due(entry)
        zone = ZoneInfo(services.flow.clinic(entry.clinic).timezone)
        cells = [entry.patient, entry.clinic, str(int(entry.weeks_in_care))]
        cells += [trend_text(render, trends[i]) if i in trends else "" for i in instruments]
        cells += [render("team/registry_outcome", outcomes=outcomes),
                  render("team/registry_flags", flags=flags(entry)),
                  due.astimezone(zone).date().isoformat() if due else ""]
        table.add_row(*(Text(cell) for cell in cells))
    return table

