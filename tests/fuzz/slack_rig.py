"""A team clinic with an open urgent handoff, its page in the Slack stand-in, and the real bolt app served on loopback."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from slack_sdk import WebClient
from sqlalchemy import select

from bot.adapters.slack import app as slack_app
from bot.services.handle import Services
from bot.standins.slack import FakeSlackApi
from bot.store.tables import HANDOFF, PATIENT
from tests.fuzz.hostile import new_chat, scratch_services
from tests.integration.slack_served import served_app

CHANNEL = "C0TEAMBH"
ROSTER = ("U0DANA", "U0BEN", "U0CARE", "U0NIGHT", "U0PCP")  # the team clinic's Slack people (see clinic.toml)
USERS = tuple((user, user.lower()) for user in ROSTER) + (("U0STRANGER", "stranger"),)


class Errors(logging.Handler):
    """Keep every ERROR record (bolt logs an exception in a listener; uvicorn one that escaped to it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Finished:
    """Count handoff-button listeners that ran to the end (they work after the HTTP 200)."""

    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, work):
        async def wrapped(*args, **kwargs):
            try:
                return await work(*args, **kwargs)
            finally:
                with self.lock:
                    self.count += 1

        return wrapped

    def wait_past(self, seen: int, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while self.count <= seen:
            assert time.monotonic() < deadline, "the press was never worked through"
            time.sleep(0.005)


@dataclass
class Rig:
    services: Services
    api: FakeSlackApi
    handoff: str  # the open urgent handoff's ref
    patient: str  # its patient's code
    page_ts: str
    finished: Finished
    errors: Errors

    def wait_for_responses(self, seen: int, seconds: float = 10.0) -> None:
        """Wait until the app posted to a response_url more than `seen` times (a slash command's answer)."""
        deadline = time.monotonic() + seconds
        while len(self.api.responses()) <= seen:
            assert time.monotonic() < deadline, "the command was never answered"
            time.sleep(0.005)


@contextmanager
def slack_clinic() -> Iterator[Rig]:
    """Yield the rig; a patient of the team clinic wrote a crisis phrase, so an urgent handoff is open."""
    with scratch_services() as services:
        chat = new_chat(services, "team")
        chat.start()
        chat.type("I agree")
        chat.type("I want to kill myself")
        with services.store.engine.connect() as conn:
            handoff = conn.execute(select(HANDOFF.c.ref)).scalar_one()
            patient = conn.execute(select(PATIENT.c.code)).scalar_one()
        finished, errors = Finished(), Errors()
        logging.getLogger().addHandler(errors)
        try:
            with mock.patch.object(slack_app, "press_handoff_button", finished.wrap(slack_app.press_handoff_button)), \
                    mock.patch.object(slack_app, "open_close_modal", finished.wrap(slack_app.open_close_modal)), \
                    served_app(services, USERS) as api:
                api.add_channel(CHANNEL, "team-bh")
                ts = WebClient(token=api.token, base_url=api.base_url).chat_postMessage(channel=CHANNEL,
                                                                                         text="Warm handoff")["ts"]
                yield Rig(services, api, handoff, patient, ts, finished, errors)
        finally:
            logging.getLogger().removeHandler(errors)
