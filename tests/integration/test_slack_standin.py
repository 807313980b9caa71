"""The Slack Web API stand-in, driven by the real slack_sdk clients and a real slack_bolt app."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient
from starlette.applications import Starlette
from starlette.routing import Route

from bot.standins.slack_api import BOT_USER_ID, FakeSlackApi, LoopbackServer, RateLimits

DUTY, OTHER, NURSE, PCP = "C0BHDUTY", "C0PCP", "U0NURSE", "U0PCP"
ACCEPT = [{"type": "section", "block_id": "page", "text": {"type": "mrkdwn", "text": "*Warm handoff* P-7Q2"}},
          {"type": "actions", "block_id": "handoff",
           "elements": [{"type": "button", "action_id": "accept", "value": "h1",
                         "text": {"type": "plain_text", "text": "Accept"}},
                        {"type": "button", "action_id": "decline", "value": "h1",
                         "text": {"type": "plain_text", "text": "Can't take it"}}]}]
MODAL = {"type": "modal", "callback_id": "consult", "title": {"type": "plain_text", "text": "Request consult"},
         "submit": {"type": "plain_text", "text": "Send"}, "private_metadata": "clinic-1",
         "blocks": [{"type": "input", "block_id": "patient", "label": {"type": "plain_text", "text": "Patient"},
                     "element": {"type": "plain_text_input", "action_id": "code"}}]}
HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Caseload"}}]}


def workspace(**kwargs) -> FakeSlackApi:
    """Return a stand-in with two channels and two clinicians."""
    api = FakeSlackApi(**kwargs)
    api.add_channel(DUTY, "bh-on-duty")
    api.add_channel(OTHER, "pcp")
    api.add_user(NURSE, "nora", real_name="Nora Nurse", tz="America/Chicago")
    api.add_user(PCP, "pat", real_name="Pat Physician")
    return api


def client_for(api: FakeSlackApi, **kwargs) -> WebClient:
    """Return a real WebClient pointed at the stand-in."""
    return WebClient(token=api.token, base_url=api.base_url, **kwargs)


def test_post_update_thread_and_ephemeral_through_webclient():
    api = workspace()
    with api.running():
        client, pages = client_for(api), api.watch()
        me = client.auth_test()
        page = client.chat_postMessage(channel=DUTY, text="Warm handoff", blocks=ACCEPT)
        reply = client.chat_postMessage(channel="#bh-on-duty", text="PHQ-9 18", thread_ts=page["ts"])
        edited = client.chat_update(channel=DUTY, ts=page["ts"], text="Accepted by Nora", blocks=[])
        ephemeral = client.chat_postEphemeral(channel=DUTY, user=NURSE, text="Only you")
        link = client.chat_getPermalink(channel=DUTY, message_ts=reply["ts"])
        with pytest.raises(SlackApiError) as missing:
            client.chat_update(channel=DUTY, ts="1.000000", text="x")
        with pytest.raises(SlackApiError) as empty, pytest.warns(UserWarning, match="text"):
            client.chat_postMessage(channel=DUTY)
    assert (me["user_id"], me["team_id"], me["bot_id"]) == (BOT_USER_ID, "T0CAREBRDG", "B0CAREBOT")
    assert (page["channel"], page["ts"], reply["ts"]) == (DUTY, "1700000000.000100", "1700000000.000200")
    assert page["message"]["blocks"][1]["elements"][0]["action_id"] == "accept"
    assert edited["message"]["text"] == "Accepted by Nora" and "edited" in edited["message"]
    assert missing.value.response["error"] == "message_not_found" and empty.value.response["error"] == "no_text"
    assert link["permalink"].endswith(f"/archives/{DUTY}/p1700000000000200?thread_ts={page['ts']}&cid={DUTY}")
    first, second = api.messages(DUTY)
    assert (first.text, first.blocks, first.user) == ("Accepted by Nora", [], BOT_USER_ID)
    assert first.edits[0]["text"] == "Warm handoff" and first.edits[0]["blocks"] == ACCEPT
    assert second.thread_ts == page["ts"] and api.thread(DUTY, page["ts"]) == [first, second]
    assert api.message(DUTY, reply["ts"]).text == "PHQ-9 18"
    [only] = api.ephemerals(NURSE)
    assert (only.channel, only.text, only.message_ts) == (DUTY, "Only you", ephemeral["message_ts"])
    assert [pages.get_nowait().text for _ in range(3)] == ["Warm handoff", "PHQ-9 18", "Accepted by Nora"]
    assert api.calls_of("chat.postMessage")[0].params["blocks"] == ACCEPT  # JSON body decoded
    assert [c.error for c in api.calls_of("chat.update")] == [None, "message_not_found"]


def test_form_bodies_with_blocks_as_json_strings_are_decoded():
    api = workspace()
    with api.running():
        client = client_for(api)
        form = {"channel": DUTY, "text": "form", "blocks": json.dumps(ACCEPT)}
        sent = client.api_call("chat.postMessage", data=form)
        bad = httpx.post(f"{api.base_url}chat.postMessage", data={"channel": DUTY, "blocks": "[{"},
                         headers={"Authorization": f"Bearer {api.token}"})
    assert sent["ok"] and api.messages(DUTY)[0].blocks == ACCEPT
    assert api.messages(DUTY)[0].buttons == [("accept", "h1", "Accept"), ("decline", "h1", "Can't take it")]
    assert bad.status_code == 200 and bad.json() == {"ok": False, "error": "invalid_blocks_format"}


def test_auth_unknown_method_and_unknown_channel():
    api = workspace()
    with api.running():
        with pytest.raises(SlackApiError) as wrong:
            WebClient(token="xoxb-wrong", base_url=api.base_url).chat_postMessage(channel=DUTY, text="x")
        with pytest.raises(SlackApiError) as lost:
            client_for(api).chat_postMessage(channel="C0NOWHERE", text="x")
        with httpx.Client(trust_env=False) as raw:
            unsigned = raw.post(f"{api.base_url}auth.test")
            unknown = raw.post(f"{api.base_url}chat.hologram", headers={"Authorization": f"Bearer {api.token}"})
    assert wrong.value.response.status_code == 200 and wrong.value.response["error"] == "invalid_auth"
    assert lost.value.response["error"] == "channel_not_found"
    assert unsigned.status_code == 200 and unsigned.json() == {"ok": False, "error": "not_authed"}
    assert unknown.json() == {"ok": False, "error": "unknown_method"}
    assert api.messages(DUTY) == [] and [c.status for c in api.calls] == [200, 200, 200, 200]


def test_per_channel_rate_limit_answers_429_that_slack_sdk_reads_and_retries():
    api = workspace(limits=RateLimits(per_channel_per_second=1, per_channel_burst=1))
    with api.running():
        client = client_for(api)
        client.chat_postMessage(channel=DUTY, text="first")
        with pytest.raises(SlackApiError) as limited:
            client.chat_postMessage(channel=DUTY, text="second")
        client.chat_postMessage(channel=OTHER, text="other channel is not limited")
        patient = client_for(api, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
        started = time.monotonic()
        patient.chat_postMessage(channel=DUTY, text="third, after waiting")
        waited = time.monotonic() - started
    response = limited.value.response
    assert response.status_code == 429 and response["error"] == "ratelimited"
    assert int(response.headers["Retry-After"]) == 1
    assert [m.text for m in api.messages(DUTY)] == ["first", "third, after waiting"]
    assert api.too_many_requests >= 2 and waited >= 0.5
    assert [c.status for c in api.calls_of("chat.postMessage")][:3] == [200, 429, 200]


def test_fail_next_delay_next_and_outages():
    api = workspace()
    api.fail_next("chat.postMessage", status=500)
    api.fail_next("chat.postMessage", error="is_archived")
    api.fail_next("chat.update", status=429, retry_after=7)
    api.delay_next("auth.test", 0.6)
    with api.running():
        client = client_for(api)
        with pytest.raises(SlackApiError) as server_error:
            client.chat_postMessage(channel=DUTY, text="one")
        with pytest.raises(SlackApiError) as archived:
            client.chat_postMessage(channel=DUTY, text="one")
        posted = client.chat_postMessage(channel=DUTY, text="one")
        with pytest.raises(SlackApiError) as limited:
            client.chat_update(channel=DUTY, ts=posted["ts"], text="two")
        with pytest.raises(TimeoutError):
            client_for(api, timeout=0.2).auth_test()
        api.down()
        with pytest.raises(SlackApiError) as down:
            client.auth_test()
        api.up()
        client.auth_test()
        api.down(0.2)
        with pytest.raises(SlackApiError):
            client.auth_test()
        time.sleep(0.25)
        client.auth_test()
    assert server_error.value.response.status_code == 500
    assert archived.value.response.status_code == 200 and archived.value.response["error"] == "is_archived"
    assert limited.value.response.status_code == 429 and limited.value.response.headers["Retry-After"] == "7"
    assert down.value.response.status_code == 503 and down.value.response["error"] == "service_unavailable"
    assert [m.text for m in api.messages(DUTY)] == ["one"] and api.too_many_requests == 1


def test_async_webclient_works_unchanged():
    api = workspace(limits=RateLimits(per_channel_burst=1))

    async def scenario():
        async with api:
            client = AsyncWebClient(token=api.token, base_url=api.base_url)
            first = await client.chat_postMessage(channel=DUTY, text="async", blocks=ACCEPT)
            with pytest.raises(SlackApiError) as limited:
                await client.chat_postMessage(channel=DUTY, text="too soon")
            return first, limited.value.response

    first, limited = asyncio.run(scenario())
    assert first["ts"] == "1700000000.000100" and api.messages(DUTY)[0].blocks == ACCEPT
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"


def test_dm_users_views_and_home():
    api = workspace()
    with api.running():
        client = client_for(api)
        opened = client.conversations_open(users=NURSE)
        again = client.conversations_open(users=[NURSE])
        dm = client.chat_postMessage(channel=NURSE, text="Direct")  # a user id posts to the DM
        info = client.users_info(user=NURSE)["user"]
        with pytest.raises(SlackApiError) as nobody:
            client.users_info(user="U0GHOST")
        trigger = api.new_trigger_id(PCP)
        modal = client.views_open(trigger_id=trigger, view=MODAL)["view"]
        with pytest.raises(SlackApiError) as reused:
            client.views_open(trigger_id=trigger, view=MODAL)
        pushed = client.views_push(trigger_id=api.new_trigger_id(PCP), view=dict(MODAL, callback_id="step2"))["view"]
        updated = client.views_update(view_id=modal["id"], hash=modal["hash"], view=dict(MODAL, private_metadata="x"))
        with pytest.raises(SlackApiError) as stale:
            client.views_update(view_id=modal["id"], hash=modal["hash"], view=MODAL)
        home = client.views_publish(user_id=NURSE, view=HOME)["view"]
        api.trigger_ttl = 0.05
        late = api.new_trigger_id(PCP)
        time.sleep(0.1)
        with pytest.raises(SlackApiError) as expired:
            client.views_open(trigger_id=late, view=MODAL)
    assert opened["channel"]["id"] == again["channel"]["id"] == api.dm_channel(NURSE) == dm["channel"] == "D0NURSE"
    assert again["already_open"] is True and api.messages("D0NURSE")[0].text == "Direct"
    assert (info["real_name"], info["tz"], info["tz_offset"] in (-21600, -18000)) == ("Nora Nurse", "America/Chicago",
                                                                                       True)
    assert nobody.value.response["error"] == "user_not_found"
    assert modal["id"].startswith("V") and modal["callback_id"] == "consult" and modal["state"] == {"values": {}}
    assert reused.value.response["error"] == "exchanged_trigger_id"
    assert expired.value.response["error"] == "expired_trigger_id"
    assert pushed["root_view_id"] == modal["id"] and pushed["previous_view_id"] == modal["id"]
    assert updated["view"]["id"] == modal["id"] and stale.value.response["error"] == "hash_conflict"
    assert [v["private_metadata"] for v in api.views(PCP)] == ["x", "clinic-1"]
    assert api.home(NURSE)["id"] == home["id"] and api.home(NURSE)["blocks"] == HOME["blocks"]


def test_file_upload_v2_is_recorded_and_shared():
    api = workspace()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    with api.running():
        client = client_for(api)
        page = client.chat_postMessage(channel=DUTY, text="Page")
        done = client.files_upload_v2(channel=DUTY, content=png, filename="phq9-trend.png", title="PHQ-9 trend",
                                      initial_comment="Trend since intake", thread_ts=page["ts"])
    [upload] = api.files
    assert (upload.filename, upload.title, upload.size, upload.data) == ("phq9-trend.png", "PHQ-9 trend", len(png), png)
    assert (upload.channel_id, upload.thread_ts, upload.initial_comment) == (DUTY, page["ts"], "Trend since intake")
    assert done["file"]["id"] == upload.id and done["file"]["mimetype"] == "image/png"
    shared = api.thread(DUTY, page["ts"])[-1]
    assert shared.text == "Trend since intake" and shared.files[0]["name"] == "phq9-trend.png"
    assert [c.method for c in api.calls] == ["chat.postMessage", "files.getUploadURLExternal",
                                             "files.completeUploadExternal"]


def test_response_url_posts_are_recorded_and_applied():
    api = workspace()
    with api.running():
        page = client_for(api).chat_postMessage(channel=DUTY, text="Page", blocks=ACCEPT)
        bound = api.new_response_url(DUTY, page["ts"], NURSE)
        loose = api.new_response_url()
        hook = WebhookClient(bound)
        first = hook.send(text="Only you can see this")
        second = hook.send(text="Accepted by Nora", replace_original=True)
        third = hook.send(text="Nora is on it", response_type="in_channel")
        gone = httpx.post(f"http://127.0.0.1:{api.port}/response/R404", json={"text": "x"}, trust_env=False)
        WebhookClient(loose).send(text="unbound")
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200] and gone.status_code == 404
    assert [p.body["text"] for p in api.responses(bound)] == ["Only you can see this", "Accepted by Nora",
                                                             "Nora is on it"]
    assert api.responses(bound)[1].body["replace_original"] is True and len(api.responses()) == 4
    assert [m.text for m in api.messages(DUTY)] == ["Accepted by Nora", "Nora is on it"]
    assert api.messages(DUTY)[0].blocks == [] and api.ephemerals(NURSE)[0].source == "response_url"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_non_loopback_host_is_refused(host):
    with pytest.raises(ValueError, match="loopback"):
        FakeSlackApi(host=host)


def test_signed_requests_verify_and_stale_or_forged_ones_do_not():
    api = FakeSlackApi(signing_secret="s3cret")
    body = b'{"type":"event_callback"}'
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, api.sign(body))
    assert not verifier.is_valid_request(body, api.sign(body, timestamp=int(time.time()) - 600))
    assert not verifier.is_valid_request(body, api.sign(body, secret="other"))
    assert not verifier.is_valid_request(body + b" ", api.sign(body))
    api.close()


def bolt_app(api: FakeSlackApi, seen: list) -> App:
    """Build a slack_bolt App, as the Slack adapter might, that records what it handles."""
    app = App(token=api.token, signing_secret=api.signing_secret, client=client_for(api),
              process_before_response=True)

    @app.action("accept")
    def accept(ack, body, respond, client, request):
        ack()
        seen.append(("accept", body["actions"][0]["value"], request.headers.get("x-slack-retry-num", [None])[0]))
        respond(text=f"Accepted by <@{body['user']['id']}>", replace_original=True)
        client.chat_postMessage(channel=body["channel"]["id"], thread_ts=body["container"]["message_ts"],
                                text="Contact made?")

    @app.command("/consult")
    def consult(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("consult")
    def submitted(ack, view):
        code = view["state"]["values"]["patient"]["code"]["value"]
        if not code.startswith("P-"):
            ack(response_action="errors", errors={"patient": "Use the patient code"})
            return
        seen.append(("consult", code, view["private_metadata"]))
        ack()

    @app.event("app_home_opened")
    def home(event, client):
        seen.append(("home", event["user"], event["channel"]))
        client.views_publish(user_id=event["user"], view=HOME)

    return app


def test_a_bolt_app_handles_signed_presses_commands_modals_and_events():
    api, seen = workspace(), []
    with api.running():
        handler = SlackRequestHandler(bolt_app(api, seen))

        async def endpoint(request):
            return await handler.handle(request)

        with LoopbackServer(Starlette(routes=[Route("/slack/events", endpoint, methods=["POST"])])).running() as web:
            api.events_url = f"{web.origin}/slack/events"
            page = client_for(api).chat_postMessage(channel=DUTY, text="Page", blocks=ACCEPT)
            unsigned = api.send(api.make_button_press(NURSE, DUTY, page["ts"], "accept"), signing="unsigned")
            pressed = api.press_button(NURSE, DUTY, page["ts"], "accept")
            retried = api.redeliver(retry_num=1)
            stale = api.send(api.make_event("app_home_opened", {"user": NURSE}), signing="stale")
            forged = api.send(api.make_event("app_home_opened", {"user": NURSE}), signing="wrong")
            with pytest.raises(ValueError):
                api.press_button(NURSE, DUTY, page["ts"], "forged")
            command = api.slash_command(PCP, "/consult", "", OTHER)
            refused = api.submit_view(PCP, "consult", {"patient": {"code": "Jane Doe"}})
            still_open = api.views(PCP)
            accepted = api.submit_view(PCP, "consult", {"patient": {"code": "P-7Q2"}})
            opened = api.event("app_home_opened", user=NURSE)
    assert [r.status_code for r in (pressed, retried, command, accepted, opened)] == [200] * 5
    assert [r.status_code for r in (unsigned, stale, forged)] == [401, 401, 401]
    assert seen == [("accept", "h1", None), ("accept", "h1", "1"), ("consult", "P-7Q2", "clinic-1"),
                    ("home", NURSE, "D0NURSE")]
    assert refused.json() == {"response_action": "errors", "errors": {"patient": "Use the patient code"}}
    assert len(still_open) == 1 and api.views(PCP) == []
    parent, reply, reply_again = api.thread(DUTY, page["ts"])
    assert parent.text == f"Accepted by <@{NURSE}>" and parent.blocks == [] and reply.text == "Contact made?"
    assert reply_again.thread_ts == page["ts"]  # the redelivered press was handled again: the app must dedupe
    assert api.home(NURSE)["blocks"] == HOME["blocks"]
    assert all(call.ok for call in api.calls)
