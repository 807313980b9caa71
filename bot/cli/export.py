"""`carebridge export`: patients' results for other systems (FHIR R4 Bundles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.adapters.fhir_bundle import patient_bundle
from bot.cli.common import console, fail, services_or_exit
from bot.store.results import instrument_results, patients

app = typer.Typer(help="Export patients' results.", no_args_is_help=True)


@app.callback()
def export() -> None:
    """Export patients' results."""


@app.command("fhir")
def fhir(
    out: Annotated[Path, typer.Option("--out", help="Folder to write one <CODE>.json Bundle per patient into")],
    patient: Annotated[str | None, typer.Option("--patient", help="One patient's CareBridge code")] = None,
    all_patients: Annotated[bool, typer.Option("--all", help="Every patient (of --clinic, if given)")] = False,
    clinic: Annotated[str | None, typer.Option("--clinic", help="Only patients of this clinic (slug)")] = None,
) -> None:
    """Write each patient's completed screenings and scores as a FHIR R4 collection Bundle (MRN only if allowed)."""
    if (patient is None) == (not all_patients):
        fail("give either --patient CODE or --all")
    services = services_or_exit()
    known = {c.slug for c in services.flow.config.clinics}
    if clinic is not None and clinic not in known:
        fail(f"unknown clinic '{clinic}' (known: {', '.join(sorted(known))})")
    catalog = services.flow.catalog
    try:
        with services.store.engine.connect() as conn:
            chosen = patients(conn, code=patient, clinic=clinic)
            if patient is not None and not chosen:
                fail(f"unknown patient code '{patient}'" + (f" in clinic '{clinic}'" if clinic else ""))
            bundles = [(p.code, patient_bundle(p, instrument_results(conn, p.code, catalog), catalog,
                                               _identifiers_allowed(services, p.clinic)))
                       for p in chosen]
    except ValueError as exc:
        fail(str(exc), code=1)
    finally:
        services.store.engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    for code, bundle in bundles:
        (out / f"{code}.json").write_text(bundle.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8")
    console.print(f"wrote {len(bundles)} bundle{'' if len(bundles) == 1 else 's'} to {out}", markup=False, highlight=False,
                  soft_wrap=True)


def _identifiers_allowed(services, clinic: str) -> bool:
    """Say whether the clinic file lets this clinic's exports carry the MRN."""
    try:
        return services.flow.config.clinic(clinic).identifiers_in_exports
    except KeyError:  # a clinic no longer in the file: the safe default
        return False
