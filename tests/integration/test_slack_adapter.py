"""The Slack adapter: the real slack_sdk client and slack-bolt app against the Slack Web API stand-in."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from bot.adapters.slack import app as slack_app
from bot.adapters.slack.app import build_slack_app
from bot.adapters.slack.blocks import mention_markup
from bot.adapters.slack.http import EVENTS_PATH, slack_route
from bot.adapters.slack.inbound import clinician_action
from bot.adapters.slack.outbound import EDIT_KINDS, SlackSender
from bot.adapters.telegram.outbound import Outcome
from bot.domain.events import ClinicianAction
from bot.services.handoffs import ClinicianReply
from bot.services.ports import OutboundMessage
from bot.standins.slack import FakeSlackApi, LoopbackServer, RateLimits, SlackRequest

DUTY, NURSE, OTHER_NURSE = "C0BHDUTY", "U0NURSE", "U0OTHER"
SECRET_LINE = "PHQ-9 16 · moderately severe · P-7Q2"  # stands for rendered words: never in a log record
BUTTONS = [{"action": "accept", "label": "Accept", "style": "primary"},
           {"action": "decline", "label": "Can't take it", "style": None}]
PAGE = {"channel": DUTY, "text": "Warm handoff P-7Q2", "lines": ["*Warm handoff* · urgent", SECRET_LINE],
        "mention": NURSE, "handoff": "H1", "buttons": BUTTONS}


def workspace(**kwargs) -> FakeSlackApi:
    """Return a stand-in with the duty channel and two clinicians."""
    api = FakeSlackApi(**kwargs)
    api.add_channel(DUTY, "bh-on-duty")
    api.add_user(NURSE, "nora", real_name="Nora Nurse")
    api.add_user(OTHER_NURSE, "otto", real_name="Otto Other")
    return api


def row(kind: str, payload: dict, row_id: int = 1, ref: str | None = "H1") -> OutboundMessage:
    """Return an outbox row for Slack."""
    return OutboundMessage(id=row_id, channel="clinician", platform="slack", recipient=payload.get("channel", ""),
                           kind=kind, priority=0, payload=payload, ref=ref)


def deliver_all(api: FakeSlackApi, steps, **client_kwargs) -> list[Outcome]:
    """Serve the stand-in in this loop and deliver (row, original or callable of earlier outcomes) in order."""

    async def scenario() -> list[Outcome]:
        async with api:
            sender = SlackSender(AsyncWebClient(token=client_kwargs.pop("token", api.token), base_url=api.base_url,
                                                **client_kwargs))
            outcomes: list[Outcome] = []
            for message, original in steps:
                original = original(outcomes) if callable(original) else original
                outcomes.append(await sender.deliver(message, original))
            return outcomes

    return asyncio.run(scenario())


def page_ts(outcomes: list[Outcome]) -> tuple[str, str]:
    """Return the delivered page as the worker hands it over: (ts, text)."""
    return outcomes[0].message_id, PAGE["text"]


# -- outbound ---------------------------------------------------------------------------------------------------


def test_page_posts_mention_lines_and_handoff_buttons():
    api = workspace()
    [sent] = deliver_all(api, [(row("page", PAGE), None)])
    [page] = api.messages(DUTY)
    assert sent == Outcome("sent", message_id=page.ts)
    assert page.text == "Warm handoff P-7Q2"
    section, actions = page.blocks
    assert section["text"] == {"type": "mrkdwn", "text": f"<@{NURSE}>\n*Warm handoff* · urgent\n{SECRET_LINE}"}
    assert page.buttons == [("handoff:accept", "H1", "Accept"), ("handoff:decline", "H1", "Can't take it")]
    assert [b.get("style") for b in actions["elements"]] == ["primary", None]
    assert api.calls_of("chat.postMessage")[0].params["channel"] == DUTY


def test_mentions_translate_to_slack_markup():
    assert mention_markup("U0NURSE") == "<@U0NURSE>"
    assert mention_markup("channel") == "<!channel>"
    assert mention_markup("S0BHTEAM") == "<!subteam^S0BHTEAM>"
    assert mention_markup(None) is None
    api = workspace()
    deliver_all(api, [(row("page", dict(PAGE, mention="channel")), None),
                      (row("page", dict(PAGE, mention=None), row_id=2), None)])
    first, second = api.messages(DUTY)
    assert first.blocks[0]["text"]["text"].startswith("<!channel>\n*Warm handoff*")
    assert second.blocks[0]["text"]["text"].startswith("*Warm handoff*")


def test_page_update_edits_the_same_message_and_removes_the_buttons():
    api = workspace()
    update = dict(PAGE, text="Accepted by Nora", lines=["*Accepted* by <@U0NURSE> after 2 min 13 s"], buttons=[],
                  mention=None)
    posted, edited = deliver_all(api, [(row("page", PAGE), None), (row("page_update", update, row_id=2), page_ts)])
    [page] = api.messages(DUTY)
    assert edited == Outcome("sent", message_id=posted.message_id) and page.ts == posted.message_id
    assert page.text == "Accepted by Nora" and page.buttons == []
    assert page.blocks == [{"type": "section", "text": {"type": "mrkdwn",
                                                        "text": "*Accepted* by <@U0NURSE> after 2 min 13 s"}}]
    assert page.edits[0]["text"] == "Warm handoff P-7Q2"
    assert "page_update" in EDIT_KINDS and "thread" in EDIT_KINDS and "page" not in EDIT_KINDS


def test_page_update_keeps_remaining_buttons():
    api = workspace()
    later = dict(PAGE, buttons=[{"action": "contact_made", "label": "Contact made", "style": None}])
    deliver_all(api, [(row("page", PAGE), None), (row("page_update", later, row_id=2), page_ts)])
    assert api.messages(DUTY)[0].buttons == [("handoff:contact_made", "H1", "Contact made")]


def test_page_update_without_a_delivered_page_fails_without_calling_slack():
    api = workspace()
    [outcome] = deliver_all(api, [(row("page_update", PAGE), None)])
    assert outcome == Outcome("failed", reason="no_page") and api.calls == []


def test_thread_reply_lands_in_the_page_thread_or_in_the_channel_without_a_page():
    api = workspace()
    note = {"channel": DUTY, "text": "Patient asks: *call me later*"}
    posted, reply, loose = deliver_all(api, [(row("page", PAGE), None), (row("thread", note, row_id=2), page_ts),
                                             (row("thread", note, row_id=3), None)])
    page, in_thread = api.thread(DUTY, posted.message_id)
    assert (reply.kind, reply.message_id) == ("sent", in_thread.ts)
    assert in_thread.text == note["text"] and in_thread.thread_ts == page.ts
    assert api.message(DUTY, loose.message_id).thread_ts is None


def test_dm_opens_a_conversation_and_posts_in_it():
    api = workspace()
    [sent] = deliver_all(api, [(row("dm", {"user": NURSE, "text": "Nora accepted P-7Q2"}, ref=None), None)])
    [dm] = api.messages(api.dm_channel(NURSE))
    assert sent == Outcome("sent", message_id=dm.ts) and dm.text == "Nora accepted P-7Q2"
    assert [c.method for c in api.calls] == ["conversations.open", "chat.postMessage"]
    assert api.calls_of("conversations.open")[0].params["users"] == NURSE


def test_429_is_a_retry_with_slacks_retry_after():
    api = workspace()
    api.fail_next("chat.postMessage", status=429, retry_after=7)
    [outcome] = deliver_all(api, [(row("page", PAGE), None)])
    assert outcome == Outcome("retry", retry_after=7.0, reason="ratelimited") and api.messages(DUTY) == []


def test_the_per_channel_limit_is_a_retry_too():
    api = workspace(limits=RateLimits(per_channel_per_second=1, per_channel_burst=1))
    first, second = deliver_all(api, [(row("page", PAGE), None), (row("page", PAGE, row_id=2), None)])
    assert first.kind == "sent" and (second.kind, second.retry_after) == ("retry", 1.0)


def test_server_errors_outages_and_timeouts_are_transient():
    api = workspace()
    api.fail_next("chat.postMessage", status=500)
    api.fail_next("chat.update", status=502)
    api.fail_next("chat.postMessage", error="internal_error")
    api.delay_next("chat.postMessage", 1.0)
    outcomes = deliver_all(api, [(row("page", PAGE), None), (row("page_update", PAGE, row_id=2), ("1.0", "x")),
                                 (row("page", PAGE, row_id=3), None), (row("page", PAGE, row_id=4), None)],
                           timeout=0.3)
    assert [o.kind for o in outcomes] == ["transient"] * 4
    down = workspace()
    down.down()
    assert deliver_all(down, [(row("dm", {"user": NURSE, "text": "x"}), None)])[0].kind == "transient"


def test_unreachable_slack_is_transient():
    api = workspace()
    port = api.port
    api.close()  # nothing listens there any more

    async def scenario() -> Outcome:
        sender = SlackSender(AsyncWebClient(token="xoxb-x", base_url=f"http://127.0.0.1:{port}/api/", timeout=2))
        return await sender.deliver(row("page", PAGE), None)

    assert asyncio.run(scenario()) == Outcome("transient", reason="network")


def test_slack_refusals_fail_for_good_and_log_only_codes(caplog):
    api = workspace()
    caplog.set_level(logging.DEBUG, logger="bot.adapters.slack")
    lost = dict(PAGE, channel="C0NOWHERE")
    outcomes = deliver_all(api, [(row("page", lost, row_id=41), None), (row("thread", lost, row_id=42), None),
                                 (row("telepathy", PAGE, row_id=43), None), (row("page", {"channel": DUTY}, 44), None)])
    assert [(o.kind, o.reason) for o in outcomes] == [("failed", "channel_not_found"), ("failed", "channel_not_found"),
                                                      ("failed", "unknown_kind"), ("failed", "bad_payload")]
    [refused] = deliver_all(workspace(), [(row("page", PAGE), None)], token="xoxb-revoked")
    assert refused == Outcome("failed", reason="invalid_auth")
    records = [r for r in caplog.records if r.name.startswith("bot.adapters.slack")]
    assert [getattr(r, "outbox_id", None) for r in records] == [41, 42, 43, 44, 1]
    assert [getattr(r, "error", None) for r in records][:2] == ["channel_not_found"] * 2
    for record in records:
        assert all(word not in json.dumps(record.__dict__, default=str) for word in (SECRET_LINE, "Warm handoff"))


# -- inbound ----------------------------------------------------------------------------------------------------


class FakeHandoffs:
    """Stand in for act_on_handoff: record each ClinicianAction, answer from a script, keep keys idempotent."""

    def __init__(self, *replies: ClinicianReply, hold: bool = False, fail: bool = False):
        self.replies, self.fail = list(replies), fail
        self.seen: list[ClinicianAction] = []
        self.services: list[object] = []
        self.released = threading.Event()
        if not hold:
            self.released.set()

    def __call__(self, services, action: ClinicianAction) -> ClinicianReply:
        """Record the press, wait if held, then answer (a key seen before answers 'duplicate')."""
        duplicate = any(seen.key == action.key for seen in self.seen)
        self.seen.append(action)
        self.services.append(services)
        self.released.wait(10)
        if self.fail:
            raise RuntimeError(f"boom for {action.handoff_ref}")
        if duplicate:
            return ClinicianReply("duplicate")
        return self.replies.pop(0) if self.replies else ClinicianReply("applied")


def wait_for(condition, seconds: float = 5.0) -> None:
    """Wait until condition() is true (the app works after its ack, in the background)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def slack(monkeypatch):
    """Serve the adapter's bolt app on loopback, wired to the stand-in, with a page ready to press."""

    class Rig:
        services = object()
        replies: list[ClinicianReply] = []

        def use(self, fake: FakeHandoffs) -> FakeHandoffs:
            monkeypatch.setattr(slack_app, "act_on_handoff", fake)
            self.fake = fake
            return fake

    rig = Rig()
    rig.api = workspace()
    with rig.api.running():
        client = AsyncWebClient(token=rig.api.token, base_url=rig.api.base_url)
        bolt = build_slack_app(rig.services, rig.api.signing_secret, client, rig.replies.append)
        with LoopbackServer(Starlette(routes=[slack_route(bolt, rig.api.signing_secret)])).running() as web:
            rig.api.events_url = f"{web.origin}{EVENTS_PATH}"
            sent = deliver_all_sync(rig.api)
            rig.ts = sent.message_id
            yield rig


def deliver_all_sync(api: FakeSlackApi) -> Outcome:
    """Post the page through the adapter's sender while the stand-in serves from its own thread."""
    return asyncio.run(SlackSender(AsyncWebClient(token=api.token, base_url=api.base_url)).deliver(row("page", PAGE),
                                                                                                    None))


def test_press_is_acked_before_the_work_then_converted_applied_and_answered_ephemerally(slack):
    fake = slack.use(FakeHandoffs(ClinicianReply("taken", note="Already accepted by Otto"), hold=True))
    pressed = slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:accept")
    assert pressed.status_code == 200 and pressed.content == b""
    wait_for(lambda: fake.seen)
    assert slack.replies == [] and slack.api.ephemerals(NURSE) == []  # acked while the service still works
    fake.released.set()
    wait_for(lambda: slack.api.ephemerals(NURSE))
    action_ts = slack.api.last_request.payload["actions"][0]["action_ts"]
    assert fake.seen == [ClinicianAction(key=f"slack:action:{slack.ts}:{action_ts}:{NURSE}", user_id=NURSE,
                                         handoff_ref="H1", action="accept")]
    assert fake.services == [slack.services]
    assert slack.replies == [ClinicianReply("taken", note="Already accepted by Otto")]
    [note] = slack.api.ephemerals(NURSE)
    assert (note.text, note.source, note.channel) == ("Already accepted by Otto", "response_url", DUTY)
    [post] = slack.api.responses()
    assert post.body["response_type"] == "ephemeral" and post.body["replace_original"] is False
    page = slack.api.message(DUTY, slack.ts)
    assert page.text == PAGE["text"] and len(page.buttons) == 2  # the page is the outbox's to change
    assert slack.api.ephemerals(OTHER_NURSE) == []


def test_a_reply_without_a_note_posts_nothing_back(slack):
    fake = slack.use(FakeHandoffs(ClinicianReply("applied", queued=())))
    assert slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:decline").status_code == 200
    wait_for(lambda: slack.replies)
    assert fake.seen[0].action == "decline" and slack.replies == [ClinicianReply("applied", queued=())]
    assert slack.api.responses() == [] and slack.api.ephemerals(NURSE) == []


@pytest.mark.parametrize("signing", ["unsigned", "stale", "wrong"])
def test_unsigned_stale_or_forged_presses_are_refused_before_any_work(slack, signing):
    fake = slack.use(FakeHandoffs())
    refused = slack.api.send(slack.api.make_button_press(NURSE, DUTY, slack.ts, "handoff:accept"), signing=signing)
    assert refused.status_code == 401
    assert slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:decline").status_code == 200  # a canary
    wait_for(lambda: slack.replies)
    assert [a.action for a in fake.seen] == ["decline"]


def test_a_redelivery_reaches_the_service_with_the_same_key(slack):
    # Decision: redeliveries (X-Slack-Retry-Num) are processed, not dropped. The first attempt may never have
    # reached the service, so dropping could lose a press; the key makes the service apply it once.
    fake = slack.use(FakeHandoffs(ClinicianReply("applied")))
    assert slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:accept").status_code == 200
    wait_for(lambda: len(slack.replies) == 1)
    assert slack.api.redeliver(retry_num=1).status_code == 200
    wait_for(lambda: len(slack.replies) == 2)
    first, again = fake.seen
    assert first == again and first.key.startswith(f"slack:action:{slack.ts}:")
    assert [r.status for r in slack.replies] == ["applied", "duplicate"]
    assert slack.api.ephemerals(NURSE) == []


def _tampered(api: FakeSlackApi, ts: str, change) -> SlackRequest:
    request = api.make_button_press(NURSE, DUTY, ts, "handoff:accept")
    payload = json.loads(json.dumps(request.payload))
    change(payload)
    return SlackRequest(request.url, urlencode({"payload": json.dumps(payload)}).encode(), request.content_type,
                        payload)


MALFORMED = {
    "no value": lambda p: p["actions"][0].pop("value"),
    "empty value": lambda p: p["actions"][0].update(value=""),
    "no action_ts": lambda p: p["actions"][0].pop("action_ts"),
    "no message ts": lambda p: (p.pop("container"), p.pop("message")),
    "bare prefix": lambda p: p["actions"][0].update(action_id="handoff:"),
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_presses_are_acked_and_ignored(slack, change):
    fake = slack.use(FakeHandoffs())
    assert slack.api.send(_tampered(slack.api, slack.ts, change)).status_code == 200
    assert slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:decline").status_code == 200  # a canary
    wait_for(lambda: slack.replies)
    assert [a.action for a in fake.seen] == ["decline"]


def test_a_button_without_a_value_is_acked_and_ignored(slack):
    fake = slack.use(FakeHandoffs())
    missing = slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:closed", require_button=False)
    assert missing.status_code == 200
    slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:accept")
    wait_for(lambda: slack.replies)
    assert [a.action for a in fake.seen] == ["accept"]


def test_a_failing_service_is_logged_by_key_and_the_app_keeps_working(slack, caplog):
    caplog.set_level(logging.INFO, logger="bot.adapters.slack")
    slack.use(FakeHandoffs(fail=True))
    assert slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:accept").status_code == 200
    wait_for(lambda: any(r.msg == "slack handoff action failed" for r in caplog.records))
    [record] = [r for r in caplog.records if r.msg == "slack handoff action failed"]
    assert record.error == "RuntimeError" and "H1" not in record.getMessage() and slack.replies == []
    fake = slack.use(FakeHandoffs(ClinicianReply("applied", note="Accepted")))
    slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:accept")
    wait_for(lambda: slack.api.ephemerals(NURSE))
    assert len(fake.seen) == 1 and slack.api.ephemerals(NURSE)[0].text == "Accepted"


def test_a_press_is_applied_while_the_web_api_is_failing_because_bolt_never_calls_auth_test(slack):
    fake = slack.use(FakeHandoffs())
    slack.api.fail_next("auth.test", status=500, times=5)
    assert slack.api.press_button(NURSE, DUTY, slack.ts, "handoff:accept").status_code == 200
    wait_for(lambda: fake.seen)
    assert [a.action for a in fake.seen] == ["accept"] and slack.api.calls_of("auth.test") == []


def test_other_action_ids_are_not_the_adapters(slack):
    fake = slack.use(FakeHandoffs())
    other = slack.api.press_button(NURSE, DUTY, slack.ts, "triage:open", "H1", require_button=False)
    assert other.status_code == 404  # bolt: no listener for it
    assert fake.seen == []


def test_the_converter_reads_only_what_it_needs():
    body = {"user": {"id": NURSE}, "container": {"message_ts": "1.2"},
            "actions": [{"action_id": "handoff:scheduled", "value": "H9", "action_ts": "3.4"}]}
    assert clinician_action(body) == ClinicianAction("slack:action:1.2:3.4:U0NURSE", NURSE, "H9", "scheduled")
    assert clinician_action({**body, "container": {}, "message": {"ts": "5.6"}}).key == "slack:action:5.6:3.4:U0NURSE"
    for broken in ({}, {"actions": []}, {**body, "user": None}, {**body, "actions": ["x"]},
                   {**body, "actions": [{"action_id": "other", "value": "H9", "action_ts": "3.4"}]}):
        assert clinician_action(broken) is None
