"""`carebridge sandbox`: CareBridge between local Telegram and Slack stand-ins, played from one web page."""

from __future__ import annotations

import logging
import signal
import threading
import webbrowser

import typer

from bot.cli.common import console, fail
from bot.config import settings
from bot.logs import configure_logging
from bot.sandbox.host import Sandbox
from bot.standins.server import check_loopback

DEFAULT_PORT = 8765


def sandbox(
    port: int = typer.Option(DEFAULT_PORT, help="Port of the page (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Loopback address to serve on; anything else is refused."),
    open_page: bool = typer.Option(False, "--open", help="Also open the page in the default web browser."),
) -> None:
    """Run the clinic sandbox until Ctrl-C: a patient's phone and the clinic's Slack, on this computer only."""
    try:
        host = check_loopback(host)
    except ValueError:
        fail(f"the sandbox serves loopback addresses only (127.0.0.1, ::1, localhost), not {host!r}")
    configure_logging(logging.WARNING, log_format="text")  # a person reads this terminal
    try:
        box = Sandbox(settings(), host=host, port=port)
    except OSError as exc:
        fail(f"cannot serve on {host}:{port} ({exc.strerror or exc}); pass --port 0 for any free port", code=1)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with box.running():
            console.print(f"CareBridge clinic sandbox: {box.url}", markup=False, highlight=False, soft_wrap=True)
            console.print("Telegram and Slack are local stand-ins; nothing leaves this computer. Ctrl-C to stop.",
                          soft_wrap=True)
            if open_page:
                webbrowser.open(box.url)
            while not stop.wait(0.5):
                pass
            console.print("Stopping the sandbox…")
    except RuntimeError as exc:
        fail(str(exc), code=1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("Stopped; the sandbox's database is deleted.")
