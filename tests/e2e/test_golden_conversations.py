"""Golden conversations: replies in, messages out, replayed with a fixed clock and ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, select

from bot.services.timers import fire_due_timers
from bot.store import models as m

GOLDEN = Path(__file__).resolve().parent / "golden"


def first_lines(messages: list[dict]) -> list[str]:
    return [message["text"].splitlines()[0] for message in messages]


def send(chat, line: str, last_buttons: list[dict]) -> list[dict]:
    """Send one scripted line: '/cmd' is a command, '[press N]' presses button N, else typed text."""
    if line.startswith("[press "):
        index = int(line.removeprefix("[press ").removesuffix("]")) - 1
        return chat.press(last_buttons[index]["data"])
    if line.startswith("/"):
        from bot.domain.events import PatientCommand

        return chat._handle(PatientCommand(chat._key(), "console", chat.chat_id, line[1:]))
    return chat.type(line)


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_conversation(path, patient_chat, clock):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    chat = patient_chat(case["clinic"])
    services = chat.services
    buttons: list[dict] = []
    for number, step in enumerate(case["steps"], start=1):
        if "advance_hours" in step:
            clock.advance(hours=step["advance_hours"])
            fire_due_timers(services)
            received = chat.deliver()
        else:
            received = send(chat, step["send"], buttons)
        buttons = next((msg["buttons"] for msg in reversed(received) if msg["buttons"]), buttons)
        assert first_lines(received) == step["expect"], f"step {number}: {step.get('send', step)}"
        if "buttons" in step:
            assert [b["text"] for b in received[-1]["buttons"]] == step["buttons"], f"step {number} buttons"
    pages = [p.payload["text"] for p in services.store.pending_messages("clinic")]
    assert pages == case.get("pages", [])
    with Session(services.store.engine) as session:
        stored = {
            "answers": len(session.exec(select(m.Answer)).all()),
            "scores": {s.instrument: [s.total, s.positive] for s in session.exec(select(m.Score)).all()},
            "screenings": sorted(s.status for s in session.exec(select(m.Screening)).all()),
        }
    for key, expected in case.get("store", {}).items():
        assert stored[key] == expected, key
