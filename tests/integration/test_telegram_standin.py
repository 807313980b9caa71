"""The Telegram Bot API stand-in, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler
from telegram.request import HTTPXRequest

from bot.standins.telegram_api import FakeBotApi, RateLimits

# PTB 22 warns inside RetryAfter() itself that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after`:telegram.warnings.PTBDeprecationWarning")

CHAT = 4242


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """Build a one-row inline keyboard whose labels equal their callback data."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d) for d in data]])


def with_bot(api: FakeBotApi, scenario, token: str | None = None):
    """Serve api in a fresh loop, run scenario(bot) with a real PTB Bot against it, and return its result."""

    async def main():
        async with api:
            requests = HTTPXRequest(), HTTPXRequest()  # closed below even if the bot never initialised
            bot = Bot(token or api.token, base_url=api.base_url, request=requests[0], get_updates_request=requests[1])
            try:
                return await scenario(bot)
            finally:
                for request in requests:
                    await request.shutdown()

    return asyncio.run(main())


def test_get_me_returns_the_test_bot():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        return await bot.get_me()

    me = with_bot(api, scenario)
    assert (me.id, me.is_bot, me.first_name, me.username) == (1000000001, True, "CareBridge", "carebridge_test_bot")
    assert me.can_join_groups is True and me.supports_inline_queries is False
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"
    assert [c.method for c in api.calls] == ["getMe"]


def test_send_message_with_keyboard_is_recorded_and_returned():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        first = await bot.send_message(CHAT, "How often?", reply_markup=keyboard("a0", "a1"))
        second = await bot.send_message(CHAT, "Thanks")
        other = await bot.send_message(7, "Elsewhere")
        return first, second, other

    first, second, other = with_bot(api, scenario)
    assert first.chat.id == CHAT and first.chat.type == "private" and first.from_user.id == 1000000001
    assert first.text == "How often?" and first.date is not None
    assert first.reply_markup.inline_keyboard[0][1].callback_data == "a1"
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)  # ids count per chat
    call = api.calls_of("sendMessage")[0]
    assert call.chat_id == CHAT and call.status == 200
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "A0", "callback_data": "a0"},
                                                                {"text": "A1", "callback_data": "a1"}]]}
    shown = api.sent(CHAT)
    assert [m.text for m in shown] == ["How often?", "Thanks"]
    assert shown[0].buttons == [("A0", "a0"), ("A1", "a1")] and shown[1].keyboard == []


def test_edits_change_what_the_user_sees():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        msg = await bot.send_message(CHAT, "Question 1", reply_markup=keyboard("yes", "no"))
        await bot.edit_message_text("Question 1 - answered: yes", chat_id=CHAT, message_id=msg.message_id,
                                    reply_markup=keyboard("undo"))
        after_text = api.sent(CHAT)[0]
        await bot.edit_message_reply_markup(chat_id=CHAT, message_id=msg.message_id)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("Question 1 - answered: yes", chat_id=CHAT, message_id=msg.message_id)
        with pytest.raises(BadRequest, match="not found"):
            await bot.edit_message_text("x", chat_id=CHAT, message_id=99)
        return after_text

    after_text = with_bot(api, scenario)
    assert after_text.text == "Question 1 - answered: yes" and after_text.buttons == [("UNDO", "undo")]
    [now] = api.sent(CHAT)
    assert now.text == "Question 1 - answered: yes" and now.keyboard == [] and now.edit_date is not None


def test_get_updates_delivers_user_messages_and_button_presses():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        question = await bot.send_message(CHAT, "Pick", reply_markup=keyboard("a", "b"))
        api.user_sends(CHAT, "/start tok123")
        api.user_sends(CHAT, "hello")
        pressed = api.user_presses(CHAT, question.message_id, "b")
        first = await bot.get_updates(timeout=1)
        again = await bot.get_updates()  # not confirmed yet: delivered again
        rest = await bot.get_updates(offset=first[-1].update_id + 1)
        await bot.answer_callback_query(first[2].callback_query.id, text="Saved", show_alert=False)
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query(first[2].callback_query.id)
        return first, again, rest, pressed

    first, again, rest, pressed = with_bot(api, scenario)
    assert [u.update_id for u in first] == [1, 2, 3] and len(again) == 3 and rest == ()
    start, hello, press = first
    assert isinstance(start, Update) and start.message.text == "/start tok123"
    assert start.message.entities[0].type == MessageEntity.BOT_COMMAND
    assert (start.message.entities[0].offset, start.message.entities[0].length) == (0, 6)
    assert start.effective_user.id == CHAT and start.effective_chat.type == "private"
    assert hello.message.text == "hello" and not hello.message.entities
    assert press.callback_query.data == "b" and press.callback_query.message.message_id == 1
    assert press.callback_query.message.reply_markup.inline_keyboard[0][0].callback_data == "a"
    assert pressed["callback_query"]["id"] == press.callback_query.id
    [answer] = api.answered_callbacks
    assert (answer.callback_query_id, answer.text, answer.show_alert) == (press.callback_query.id, "Saved", False)
    assert api.pending_updates() == 0


def test_pressing_a_button_that_is_not_there_is_refused():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        return await bot.send_message(CHAT, "Pick", reply_markup=keyboard("a"))

    msg = with_bot(api, scenario)
    with pytest.raises(ValueError):
        api.user_presses(CHAT, msg.message_id, "forged")
    with pytest.raises(LookupError):
        api.user_presses(CHAT, 99, "a")
    assert api.make_callback_update(CHAT, msg.message_id, "forged", require_button=False)["callback_query"]


def test_long_poll_returns_empty_after_timeout():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        started = time.monotonic()
        updates = await bot.get_updates(timeout=0.4)
        return updates, time.monotonic() - started

    updates, elapsed = with_bot(api, scenario)
    assert updates == ()
    assert 0.35 <= elapsed < 2


def test_long_poll_wakes_when_another_thread_queues_an_update():
    api = FakeBotApi()
    timer = threading.Timer(0.2, api.user_sends, args=(CHAT, "late hello"))

    async def poll():
        async with Bot(api.token, base_url=api.base_url) as bot:
            started = time.monotonic()
            timer.start()
            updates = await bot.get_updates(timeout=5)
            return updates, time.monotonic() - started

    with api.running():
        updates, elapsed = asyncio.run(poll())
        timer.join()
    assert [u.message.text for u in updates] == ["late hello"]
    assert 0.15 <= elapsed < 2


def test_blocked_chat_raises_forbidden():
    api = FakeBotApi()
    api.block(CHAT)

    async def scenario(bot: Bot):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(CHAT, "Reminder")
        return await bot.send_message(CHAT + 1, "Reminder")

    assert with_bot(api, scenario).text == "Reminder"
    assert api.sent(CHAT) == [] and [c.status for c in api.calls_of("sendMessage")] == [403, 200]


def test_fail_next_429_raises_retry_after_then_recovers():
    api = FakeBotApi()
    api.fail_next("sendMessage", status=429, retry_after=7)
    api.fail_next("sendChatAction", status=500, times=2)

    async def scenario(bot: Bot):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "one")
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_chat_action(CHAT, "typing")
        assert await bot.send_chat_action(CHAT, "typing") is True
        await bot.send_message(CHAT, "two")
        return caught.value

    retry_after = with_bot(api, scenario).retry_after
    assert retry_after == 7 or retry_after.total_seconds() == 7  # an int until PTB 23, then a timedelta
    assert api.too_many_requests == 1
    assert [m.text for m in api.sent(CHAT)] == ["two"]


def test_rate_limits_answer_429_over_the_per_chat_limit():
    api = FakeBotApi(limits=RateLimits(per_chat_per_second=1, per_chat_burst=1))

    async def scenario(bot: Bot):
        await bot.send_message(CHAT, "first")
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "second")
        await bot.send_message(CHAT + 1, "other chat is not limited")

    with_bot(api, scenario)
    assert api.too_many_requests == 1
    assert [m.text for m in api.sent(CHAT)] == ["first"]
    assert [c.status for c in api.calls_of("sendMessage")] == [200, 429, 200]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_non_loopback_host_is_refused(host):
    with pytest.raises(ValueError, match="loopback"):
        FakeBotApi(host=host)


def test_wrong_token_and_unknown_method():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        with pytest.raises(InvalidToken):
            await bot.get_me()
        async with httpx.AsyncClient() as client:
            unauthorized = await client.post(f"http://127.0.0.1:{api.port}/bot999:WRONG/getMe")
            unknown = await client.post(f"{api.base_url}{api.token}/sendHologram")
        return unauthorized, unknown

    unauthorized, unknown = with_bot(api, scenario, token="999:WRONG")
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_json_form_and_multipart_bodies_are_decoded_alike():
    api = FakeBotApi()
    markup = json.dumps({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]})
    with api.running():
        url = f"{api.base_url}{api.token}/sendMessage"
        with httpx.Client() as client:
            as_json = client.post(url, json={"chat_id": CHAT, "text": "123", "reply_markup": markup})
            as_form = client.post(url, data={"chat_id": str(CHAT), "text": "true", "reply_markup": markup})
            as_multipart = client.post(url, data={"chat_id": str(CHAT), "text": "multi"},
                                       files={"unused": ("a.txt", b"abc", "text/plain")})
            bad_id = client.post(f"{api.base_url}{api.token}/editMessageText",
                                 data={"chat_id": str(CHAT), "message_id": "first", "text": "x"})
    assert [r.status_code for r in (as_json, as_form, as_multipart, bad_id)] == [200, 200, 200, 400]
    assert as_json.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"
    assert [m.text for m in api.sent(CHAT)] == ["123", "true", "multi"]
    assert all(c.chat_id == CHAT for c in api.calls) and len(api.sent(CHAT)) == 3
    assert api.calls[2].params["unused"] == {"filename": "a.txt", "size": 3}


def test_update_factories_parse_as_ptb_updates():
    api = FakeBotApi()
    bot = Bot(api.token, base_url=api.base_url)
    api.add_chat(-100500, "supergroup", title="Clinic staff")
    group = api.make_message_update(-100500, "/help@carebridge_test_bot", user_id=77)
    made = [api.user_sends_sticker(CHAT), api.user_sends_photo(CHAT, "rash"), api.user_edits(CHAT, 2, "fixed"),
            group, api.make_update(message=group["message"])]
    parsed = [Update.de_json(u, bot) for u in made]
    assert [u.update_id for u in parsed] == [2, 3, 4, 1, 5]  # numbered when built
    assert parsed[0].message.sticker.type == "regular"
    assert parsed[1].message.photo[-1].width == 800 and parsed[1].message.caption == "rash"
    assert parsed[2].edited_message.text == "fixed" and parsed[2].edited_message.edit_date is not None
    assert parsed[3].message.chat.type == "supergroup" and parsed[3].message.from_user.id == 77
    assert parsed[3].message.entities[0].length == len("/help@carebridge_test_bot")
    assert api.pending_updates() == 3  # make_* build without queueing; user_* queue
    api.close()


def test_commands_webhook_and_housekeeping_methods():
    api = FakeBotApi()

    async def scenario(bot: Bot):
        await bot.set_my_commands([("start", "Begin"), ("stop", "Pause reminders")])
        await bot.set_my_commands([("start", "Beginnen")], language_code="de")
        commands = await bot.get_my_commands()
        german = await bot.get_my_commands(language_code="de")
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await bot.set_my_commands([("Bad-Name", "x")])
        await bot.delete_my_commands()
        after_delete = await bot.get_my_commands()
        with pytest.raises(BadRequest, match="(?i)https url"):
            await bot.set_webhook("http://example.org/hook")
        await bot.set_webhook("http://127.0.0.1:8443/hook")  # plain http is allowed to loopback only
        loopback = api.webhook_url
        await bot.set_webhook("https://example.org/hook", secret_token="s3cret", max_connections=5)
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict):
            await bot.get_updates()
        await bot.delete_webhook()
        cleared = await bot.get_webhook_info()
        html = await bot.send_message(CHAT, "<b>Score</b>: 5 &lt; 10", parse_mode="HTML")
        with pytest.raises(BadRequest, match="parse entities"):
            await bot.send_message(CHAT, "<br>", parse_mode="HTML")
        flags = [await bot.send_chat_action(CHAT, "typing"), await bot.log_out(), await bot.close()]
        return commands, german, after_delete, loopback, info, cleared, html, flags

    commands, german, after_delete, loopback, info, cleared, html, flags = with_bot(api, scenario)
    assert [(c.command, c.description) for c in commands] == [("start", "Begin"), ("stop", "Pause reminders")]
    assert [c.description for c in german] == ["Beginnen"] and after_delete == ()
    assert loopback == "http://127.0.0.1:8443/hook"
    assert info.url == "https://example.org/hook" and info.max_connections == 5 and info.pending_update_count == 0
    assert cleared.url == "" and api.webhook_url == ""
    assert html.text == "Score: 5 < 10" and api.sent(CHAT)[0].text == "Score: 5 < 10"
    assert flags == [True, True, True]


def test_ptb_application_polls_handles_a_command_and_a_button_press():
    api = FakeBotApi()

    async def start(update: Update, context) -> None:
        await update.message.reply_text(f"welcome {' '.join(context.args)}", reply_markup=keyboard("ok"))

    async def press(update: Update, context) -> None:
        await update.callback_query.answer("noted")
        await update.callback_query.edit_message_text("done")

    async def until(condition) -> None:
        deadline = time.monotonic() + 3
        while not condition():
            assert time.monotonic() < deadline, "the application did not react in time"
            await asyncio.sleep(0.01)

    async def main() -> None:
        async with api:
            application = Application.builder().token(api.token).base_url(api.base_url).build()
            application.add_handler(CommandHandler("start", start))
            application.add_handler(CallbackQueryHandler(press))
            async with application:
                await application.updater.start_polling(poll_interval=0, timeout=1)
                await application.start()
                api.user_sends(CHAT, "/start tok")
                await until(lambda: api.sent(CHAT))
                api.user_presses(CHAT, api.sent(CHAT)[0].message_id, "ok")
                await until(lambda: api.sent(CHAT)[0].text == "done")
                await application.updater.stop()
                await application.stop()

    asyncio.run(main())
    [message] = api.sent(CHAT)
    assert message.text == "done" and message.keyboard == []
    assert [a.text for a in api.answered_callbacks] == ["noted"]
    assert api.calls_of("sendMessage")[0].params["text"] == "welcome tok"
    assert api.calls_of("deleteWebhook") and all(c.status == 200 for c in api.calls)
