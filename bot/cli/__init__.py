"""The `carebridge` command."""

from __future__ import annotations

import typer

from bot.cli import care, db, export, instruments
from bot.cli.chat import chat
from bot.cli.demo import demo
from bot.cli.enroll import enroll
from bot.cli.registry import registry_command
from bot.cli.report import report
from bot.cli.run import run, serve, worker
from bot.cli.sandbox import sandbox
from bot.cli.score import score_command

app = typer.Typer(help="CareBridge: behavioral health screening and warm handoffs.", no_args_is_help=True)
app.add_typer(instruments.app, name="instruments")
app.command("score")(score_command)
app.command("demo")(demo)
app.command("sandbox")(sandbox)
app.command("chat")(chat)
app.command("run")(run)
app.command("serve")(serve)
app.command("worker")(worker)
app.command("enroll")(enroll)
app.command("registry")(registry_command)
app.command("report")(report)
app.add_typer(db.app, name="db")
app.add_typer(export.app, name="export")
app.add_typer(care.app, name="care")


def main() -> None:
    """Run the command line."""
    app()
