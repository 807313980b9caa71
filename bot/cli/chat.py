"""`carebridge chat`: be the patient, in the terminal, on the real services."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from bot.adapters.console import PLATFORM, ConsoleChat
from bot.cli.common import console, fail, services_or_exit
from bot.services.enrollment import enroll_chat
from bot.services.timers import fire_due_timers

DEFAULT_CHAT = "local"


def chat(
    clinic: Annotated[str, typer.Option("--clinic", help="Clinic slug from the clinic file")] = "riverside",
    chat_id: Annotated[str, typer.Option("--chat-id", help="Console chat to use; the same id resumes it")] = DEFAULT_CHAT,
    new: Annotated[bool, typer.Option("--new", help="Start as a new patient")] = False,
) -> None:
    """Chat as a patient in the terminal: numbered answers, resumes where you left off."""
    services = services_or_exit()
    if clinic not in {c.slug for c in services.flow.config.clinics}:
        fail(f"unknown clinic '{clinic}'")
    if new:
        chat_id = f"{chat_id}-{secrets.token_hex(3)}"
    code = enroll_chat(services, clinic, PLATFORM, chat_id)
    console.print(f"[dim]patient {code} · chat '{chat_id}' · type your answers; Ctrl-D to leave (you can resume)[/dim]")
    session = ConsoleChat(services, chat_id)
    show(session.start(), services)
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        fire_due_timers(services)
        show(session.type(line), services)


def show(messages: list[dict], services) -> None:
    """Print the patient's messages, then any page the step sent to the clinic's team."""
    for message in messages:
        console.print(message["text"], markup=False, highlight=False)
        console.print()
    for page in services.store.pending_messages("clinic"):
        console.print(f"[bold magenta]→ behavioral health team:[/bold magenta] {page.payload['text']}", highlight=False)
        services.store.mark_sent(page.id, services.now())
