"""`carebridge care start`: put a patient in care without a handoff (check-ins and the registry)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import console, fail, services_or_exit
from bot.services.care_start import care_start_text, put_in_care

app = typer.Typer(help="Measurement-based care: put patients in care.", no_args_is_help=True)


@app.callback()
def care() -> None:
    """Measurement-based care: put patients in care."""


@app.command("start")
def start(
    code: Annotated[str, typer.Argument(help="The patient's CareBridge code, e.g. P-7K3Q")],
    clinic: Annotated[str | None, typer.Option("--clinic", help="Only look in this clinic (slug)")] = None,
) -> None:
    """Put a patient in care from now and schedule their check-ins from the clinic file."""
    services = services_or_exit()
    try:
        known = [c.slug for c in services.flow.config.clinics]
        if clinic is not None and clinic not in known:
            fail(f"unknown clinic '{clinic}' (known: {', '.join(sorted(known))})")
        started = put_in_care(services, [clinic] if clinic else known, code, "cli")
        console.print(care_start_text(services, started), markup=False, highlight=False, soft_wrap=True)
    finally:
        services.store.engine.dispose()
    if started.status in ("unknown", "stopped"):
        raise typer.Exit(1)
