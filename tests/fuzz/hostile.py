"""Shared parts of the hostile-input suite: strategies for nasty text, services on a scratch SQLite, state snapshots."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.adapters.console import ConsoleChat
from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.ids import SequentialIds
from bot.services.enrollment import enroll_chat
from bot.services.handle import Services
from tests.store_fixtures import FIXTURES, FixedClock

# Characters a reader cannot see: zero-width space/joiners, bidi marks, embeddings and isolates, word joiner, BOM,
# soft hyphen, grapheme joiner, variation selector, a combining accent, NUL, Mongolian vowel separator, a tag.
INVISIBLE = ("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
             "\u00ad\u034f\ufe0f\u0301\u0000\u180e\U000e0020")
RIGHT_TO_LEFT = "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u202e\u2067"
SQL_LOOKING = ("'; DROP TABLE patient; --", "1; DROP TABLE answer;--", "' OR '1'='1", "\" OR \"\"=\"",
               "1' UNION SELECT token_hash FROM enrollmenttoken --", "Robert'); DROP TABLE conversation;--",
               "%s %(code)s {0} {{ 7*7 }} {% raw %}", "\\x00\\n", "NULL", "<script>alert(1)</script>")

CRISIS_RESOURCE = "Call or text 988."  # the clinic file's first crisis resource in English
STALE = "That question was already answered."
QUIET_TABLES = {"inboundevent", "outbox"}  # every event is claimed and answered; nothing else may change


def _huge(char: str, size: int) -> str:
    return char * size


hostile_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(INVISIBLE + RIGHT_TO_LEFT + " 1aA.,"), max_size=60),
    st.sampled_from(SQL_LOOKING),
    st.lists(st.sampled_from(SQL_LOOKING + tuple(INVISIBLE)), min_size=1, max_size=8).map("".join),
    st.builds(_huge, st.characters(), st.integers(min_value=4_097, max_value=100_000)),
)


@st.composite
def hidden_in(draw, text: str) -> str:
    """Return text with invisible characters slipped in anywhere and its letters' case changed at random."""
    out = []
    for char in text:
        if draw(st.booleans()):
            out.append(draw(st.text(alphabet=st.sampled_from(INVISIBLE), min_size=1, max_size=3)))
        out.append(char.upper() if draw(st.booleans()) else char)
    return "".join(out) + draw(st.text(alphabet=st.sampled_from(INVISIBLE + " "), max_size=3))


@contextmanager
def scratch_services(config=FIXTURES / "clinic.toml") -> Iterator[Services]:
    """Yield services on a fresh SQLite file with the test clinic file, a still clock and sequential ids."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(DATABASE_URL=f"sqlite:///{folder}/fuzz.db", CAREBRIDGE_CONFIG=str(config))
        services = bootstrap(settings, clock=FixedClock(), ids=SequentialIds())
        try:
            yield services
        finally:
            services.store.engine.dispose()


_chats = count(1)


def new_chat(services: Services, clinic: str = "mood") -> ConsoleChat:
    """Enroll a console patient with a chat id never used before."""
    chat_id = f"fuzz-{next(_chats)}"
    enroll_chat(services, clinic, "console", chat_id)
    return ConsoleChat(services, chat_id)


STATES = ("consent", "question", "paused", "stopped", "acuity")  # where a patient can be, cheaply


def in_state(services, state: str) -> ConsoleChat:
    """Return a new mood-clinic patient brought cheaply to a state (the first PHQ-2 question is '1 of 2')."""
    chat = new_chat(services)
    chat.start()
    if state == "stopped":
        chat.type("stop")
        chat.type("1")  # yes, stop
    if state in ("consent", "stopped"):
        return chat
    chat.type("I agree")
    if state == "paused":
        chat.type("pause")
    elif state == "acuity":
        chat.type("kill myself")
    return chat


def snapshot(services: Services, skip: set[str] = QUIET_TABLES) -> dict[str, list[tuple]]:
    """Return every stored row of every table but the skipped ones (the conversation's version counter aside)."""
    found = {}
    with services.store.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in skip:
                continue
            columns = [c for c in table.columns if c.name != "version"]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            found[table.name] = [tuple(row) for row in rows]
    return found


def texts(received: list[dict]) -> list[str]:
    """Return the texts of the messages a patient received."""
    return [message["text"] for message in received]


def buttons(received: list[dict]) -> list[str]:
    """Return the callback data of every button in the messages a patient received."""
    return [button["data"] for message in received for button in message.get("buttons", [])]
