"""`carebridge instruments`: list, show and export the shipped instruments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.adapters.fhir_questionnaire import questionnaire
from bot.adapters.messages import MessageRenderer
from bot.cli.common import catalog, console, fail, instrument
from bot.config import settings
from bot.instruments.schema import Instrument

app = typer.Typer(help="The validated instruments CareBridge ships.", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def list_instruments(ctx: typer.Context) -> None:
    """List the instruments: id, title, items, languages, licence."""
    if ctx.invoked_subcommand is None:
        console.print(instruments_table(catalog()))


def instruments_table(known: dict[str, Instrument]) -> Table:
    """Return the table of instruments: id, title, items, languages, licence."""
    table = Table(title="Instruments")
    for column in ("id", "title", "items", "languages", "licence"):
        table.add_column(column)
    for inst in sorted(known.values(), key=lambda i: i.id):
        table.add_row(inst.id, inst.title, str(len(inst.items)), ", ".join(inst.languages), inst.licence.name)
    return table


@app.command("show")
def show(
    instrument_id: Annotated[str, typer.Argument(metavar="ID", help="Instrument id, e.g. phq9")],
    lang: Annotated[str, typer.Option("--lang", help="Language to show (en, es)")] = "en",
    values: Annotated[bool, typer.Option("--values", help="Also show each option's scoring value")] = False,
) -> None:
    """Show the items and options as a patient would see them."""
    inst = instrument(instrument_id)
    if lang not in inst.languages:
        fail(f"{inst.short_title} has no '{lang}' text (languages: {', '.join(inst.languages)})")
    console.print(f"[bold]{inst.title}[/bold]")
    console.print(f"[dim]{inst.source.citation}[/dim]\n")
    for block in patient_view(inst, lang, values):
        console.print(block, markup=False, highlight=False)
        console.print()


def patient_view(inst: Instrument, lang: str, values: bool = False) -> list[str]:
    """Return each item rendered as the patient reads it in a chat."""
    renderer = MessageRenderer(settings().messages_dir)
    blocks = []
    for position, item in enumerate(inst.items, start=1):
        options = [
            f"{o.text[lang]}  [value {o.value}]" if values else o.text[lang] for o in inst.options(item)
        ]
        blocks.append(
            renderer.render(
                lang,
                "question",
                position=position,
                count=len(inst.items),
                stem=inst.stem[lang] if inst.stem and position == 1 else None,
                preamble=item.preamble[lang] if item.preamble else None,
                text=item.text[lang],
                multiple=item.multiple,
                options=options,
            )
        )
    return blocks


@app.command("export-fhir")
def export_fhir(
    instrument_id: Annotated[str, typer.Argument(metavar="ID", help="Instrument id, e.g. phq9")],
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of standard output")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the texts (en, es)")] = "en",
) -> None:
    """Export an instrument as a FHIR R4 Questionnaire (JSON)."""
    inst = instrument(instrument_id)
    try:
        resource = questionnaire(inst, lang)
    except ValueError as exc:
        fail(str(exc))
    text = resource.model_dump_json(indent=2, exclude_none=True)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    console.print(f"wrote {out}")
