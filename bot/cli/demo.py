"""`carebridge demo`: a scripted clinic day, offline, on a fresh SQLite file."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from bot.adapters.console import PLATFORM, ConsoleChat
from bot.bootstrap import bootstrap
from bot.cli.common import console
from bot.config import settings
from bot.demo_script import DAY
from bot.ids import SequentialIds
from bot.services.enrollment import enroll_chat
from bot.store import models as m


class SimulatedClock:
    """A clinic-day clock that moves 20 seconds per message."""

    def __init__(self, start: datetime):
        self.moment = start

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=20)
        return self.moment


def demo() -> None:
    """Replay a clinic day: three patients, both sides of every chat, pages, and a summary."""
    with tempfile.TemporaryDirectory(prefix="carebridge-demo-") as folder:
        database = Path(folder) / "demo.db"
        demo_settings = settings().model_copy(update={"database_url": f"sqlite:///{database}"})
        services = bootstrap(demo_settings, clock=SimulatedClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC)), ids=SequentialIds())
        console.rule("[bold]CareBridge demo: a morning at the clinic[/bold]")
        console.print(f"[dim]fresh database {database}; Telegram and Slack replaced by the console[/dim]\n")
        for title, chat_id, clinic, replies in DAY:
            code = enroll_chat(services, clinic, PLATFORM, chat_id)
            console.rule(f"{code} at {services.flow.clinic(clinic).name}: {title}")
            chat = ConsoleChat(services, chat_id)
            _show(services, chat.start())
            for reply in replies:
                console.print("[bold cyan]patient>[/bold cyan] ", end="")
                console.print(reply, highlight=False, markup=False)
                _show(services, chat.type(reply))
        _summary(services)


def _show(services, messages: list[dict]) -> None:
    for message in messages:
        console.print("[green]bot>[/green] ", end="")
        console.print(message["text"], highlight=False, markup=False)
    for page in services.store.pending_messages("clinic"):
        console.print(f"[bold magenta]  → page to the behavioral health team:[/bold magenta] {page.payload['text']}", highlight=False)
        services.store.mark_sent(page.id, services.now())


def _summary(services) -> None:
    with Session(services.store.engine) as session:
        def count(model, *where) -> int:
            return session.exec(select(func.count()).select_from(model).where(*where)).one()

        console.rule("[bold]Summary[/bold]")
        console.print(f"patients enrolled: {count(m.Patient)}")
        console.print(f"screenings completed: {count(m.Screening, m.Screening.status == 'completed', m.Screening.plan != 'crisis')}")
        console.print(f"answers stored: {count(m.Answer)}")
        console.print(f"positive instruments: {count(m.Score, m.Score.positive.is_(True))}")
        for urgency in ("routine", "urgent", "crisis"):
            console.print(f"handoff requests ({urgency}): {count(m.HandoffRequest, m.HandoffRequest.urgency == urgency)}")
        console.print(f"crisis protocols started: {count(m.AuditLog, m.AuditLog.action == 'crisis_protocol')}")
