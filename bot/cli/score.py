"""`carebridge score`: score an answer set exactly as the instrument's paper defines."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import console, describe_answer_error, fail, instrument
from bot.instruments import AnswerError, score
from bot.instruments.answer_list import parse_answer_list


class Sex(str, Enum):
    female = "female"
    male = "male"


def score_command(
    instrument_id: Annotated[str, typer.Argument(metavar="ID", help="Instrument id, e.g. phq9")],
    answers: Annotated[
        str, typer.Option("--answers", help="Option values in item order, e.g. 1,0,2 ('-' for a skipped item)")
    ],
    sex: Annotated[Sex | None, typer.Option("--sex", help="For sex-specific cut-offs")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Score an answer set: total, band, positive and flags."""
    inst = instrument(instrument_id)
    try:
        result = score(inst, parse_answer_list(inst, answers), sex.value if sex else None)
    except AnswerError as exc:
        fail(describe_answer_error(inst, exc))
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    table = Table(title=f"{inst.short_title} score", show_header=False)
    table.add_row("total", "—" if result.total is None else str(result.total))
    table.add_row("band", result.band or "—")
    table.add_row("positive", "yes" if result.positive else "no")
    table.add_row("flags", ", ".join(result.flags) or "—")
    for name, value in result.subscales.items():
        table.add_row(f"subscale {name}", str(value))
    if result.skipped:
        table.add_row("skipped", ", ".join(result.skipped))
    console.print(table)
