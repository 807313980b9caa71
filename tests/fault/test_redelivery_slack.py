"""Slack retries a request it thinks was lost (X-Slack-Retry-Num: 1, http_timeout): the retry changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.services.enrollment import create_enrollment_token, enroll_chat
from bot.standins.slack import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi
from tests.e2e.telegram_harness import RunningBot, wait_for
from tests.e2e.test_slack_consults import chosen, consult_values
from tests.fault.redelivery import Claims, fresh_database, free_port, post_update, settle, steady_bot, stored

pytestmark = [pytest.mark.fault, pytest.mark.store]

CHANNEL, PATIENT_CHAT = "C0TEAMBH", 5580001
DANA, BEN, PCP = "U0DANA", "U0BEN", "U0PCP"
TOLD = "Ben Okafor"  # the patient hears the name of the clinician who will call


CONSULT = consult_values("MRN-9")
CLOSED = {"outcome": {"value": chosen("radio_buttons", "engaged_in_care")}}


def workspace() -> FakeSlackApi:
    api = FakeSlackApi(events_url=f"http://127.0.0.1:{free_port()}/slack/events")
    api.add_channel(CHANNEL, "team-bh")
    for user, name in ((DANA, "dana"), (BEN, "ben"), (PCP, "pat"), ("U0NIGHT", "night"), ("U0CARE", "cara")):
        api.add_user(user, name)
    return api


@dataclass
class Desk:
    """One run: the bot, both stand-ins, the keys claimed, and whether every Slack request is sent again."""

    bot: RunningBot
    slack: FakeSlackApi
    telegram: FakeBotApi
    claims: Claims
    again: bool

    def request(self, send: Callable[[], object], claims: int, done: Callable[[], object] = lambda: True) -> None:
        """Send one request (then Slack's retry of it), wait for its keyed work and what it shows, then quiet."""
        before = self.claims.count()
        assert send().status_code == 200
        if self.again:
            assert self.slack.redeliver(retry_num=1, reason="http_timeout").status_code == 200
        wait_for(done, what="the request's effect")
        settle(self.bot, self.claims, before + claims * (2 if self.again else 1))

    def patient(self, update: dict) -> None:
        """Post one Telegram update from the patient (twice when requests are sent again) and wait for quiet."""
        post_update(self.bot, update)
        if self.again:
            post_update(self.bot, update)
        settle(self.bot)

    def opened(self, method: str, count: int) -> Callable[[], bool]:
        """Return a check that `method` was called `count` times (twice when the request is sent again)."""
        return lambda: len(self.slack.calls_of(method)) >= count * (2 if self.again else 1)

    def notes(self, user: str, count: int) -> Callable[[], bool]:
        """Return a check that the user saw `count` notes only they can see."""
        return lambda: len(self.slack.ephemerals(user)) >= count


def clinic_day(desk: Desk) -> None:
    """A patient's crisis page is accepted, contacted and closed; a PCP asks for a consult; Ben takes primary."""
    bot, slack, telegram = desk.bot, desk.slack, desk.telegram
    enroll_chat(bot.services, "team", "console", "c-9", external_ref="MRN-9")
    token = create_enrollment_token(bot.services, "team", None, 7)
    for text in (f"/start {token}", "I agree", "I want to kill myself"):
        desk.patient(telegram.make_message_update(PATIENT_CHAT, text))
    page = wait_for(lambda: slack.messages(CHANNEL) and slack.messages(CHANNEL)[0], what="the page")
    ref = dict((action, value) for action, value, _ in page.buttons)["handoff:accept"]
    desk.request(lambda: slack.press_button(BEN, CHANNEL, page.ts, "handoff:accept", ref), claims=1)
    told = next(m for m in telegram.sent(PATIENT_CHAT) if TOLD in m.text)
    desk.patient(telegram.make_callback_update(PATIENT_CHAT, told.message_id, told.buttons[0][1]))  # call me later
    desk.request(lambda: slack.press_button(BEN, CHANNEL, page.ts, "handoff:contact_made", ref), claims=1,
                 done=desk.notes(BEN, 1))
    desk.request(lambda: slack.press_button(BEN, CHANNEL, page.ts, "handoff:closed", ref), claims=0,
                 done=desk.opened("views.open", 1))
    desk.request(lambda: slack.submit_view(BEN, "handoff_close", CLOSED), claims=1)
    desk.request(lambda: slack.slash_command(BEN, "/oncall", "take"), claims=1, done=desk.notes(BEN, 2))
    desk.request(lambda: slack.slash_command(PCP, "/consult"), claims=0, done=desk.opened("views.open", 2))
    desk.request(lambda: slack.submit_view(PCP, "consult", CONSULT), claims=1)
    desk.request(lambda: slack.slash_command(BEN, "/registry", "P-0002"), claims=1,
                 done=lambda: any(f.completed for f in slack.files))
    desk.request(lambda: slack.slash_command(BEN, "/registry", "start P-0001"), claims=1, done=desk.notes(BEN, 3))
    desk.request(lambda: slack.event("app_home_opened", user=BEN), claims=0, done=desk.opened("views.publish", 1))


@dataclass
class Outcome:
    """What a clinic day left behind, in the database and on both platforms."""

    rows: dict[str, list[dict]]
    slack: dict[str, list]
    telegram: list[tuple]


def run(database_url: str, name: str, again: bool) -> Outcome:
    slack = workspace()
    with FakeBotApi().running() as telegram, slack.running(), Claims().watching() as claims, \
            steady_bot(telegram, fresh_database(database_url, name), slack) as bot:
        clinic_day(Desk(bot, slack, telegram, claims, again))
        if again:  # every retry reached the services, which knew it by its key
            assert sorted(claims.duplicates()) == sorted(key for key, new in claims.seen if new)
        posts = slack.messages(CHANNEL)
        order = {m.ts: index for index, m in enumerate(posts)}  # ts depend on which conversation was posted first
        seen = {"channel": [(order.get(m.thread_ts), m.text, m.blocks) for m in posts],
                "dm": [(m.text,) for user in (PCP, BEN) for m in slack.messages(slack.dm_channel(user))],
                "notes": [(user, e.text) for user in (DANA, BEN, PCP) for e in slack.ephemerals(user)],
                "modals": [slack.views(user) for user in (BEN, PCP)], "home": [slack.home(BEN)["blocks"]],
                "files": [(f.title, f.channel_id, f.initial_comment, f.size) for f in slack.files]}
        calls = [(c.method, c.params.get("text")) for c in telegram.calls
                 if c.method in ("sendMessage", "editMessageText")]
        return Outcome(stored(bot), seen, calls)


def test_every_slack_request_sent_again_changes_nothing(database_url):
    expected = run(database_url, "once", again=False)
    got = run(database_url, "again", again=True)
    for table, rows in expected.rows.items():
        assert got.rows[table] == rows, table  # handoffs, consults, on-call, audit log, outbox rows, ...
    for surface, shown in expected.slack.items():
        assert got.slack[surface] == shown, surface
    assert got.telegram == expected.telegram
    assert sum(TOLD in (text or "") for method, text in got.telegram if method == "sendMessage") == 1
    handoffs = [(h["source"], h["status"], h["accepted_by"], h["outcome"]) for h in got.rows["handoffrequest"]]
    assert handoffs == [("crisis_phrase", "closed", BEN, "engaged_in_care"), ("consult", "open", None, None)]
