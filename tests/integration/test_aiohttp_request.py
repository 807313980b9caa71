"""AiohttpRequest under the real python-telegram-bot Bot, against the Bot API stand-in and raw sockets."""

from __future__ import annotations

import asyncio
import io
import json
from urllib.parse import parse_qsl
import re
import socket
import time
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.adapters.telegram.aiohttp_request import POOL_TIMEOUT_MESSAGE, AiohttpRequest
from bot.standins.telegram_api import BOT_USER, FakeBotApi

# do_api_request("sendDocument", ...) is what puts raw RequestData on the wire; PTB suggests the named method.
pytestmark = pytest.mark.filterwarnings("ignore:Please use 'Bot.:telegram.warnings.PTBUserWarning")

CHAT = 4242


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """Build a one-row inline keyboard whose labels are the upper-cased callback data."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d) for d in data]])


def run(api: FakeBotApi, scenario, **options):
    """Run scenario(bot) in a fresh loop with a real PTB Bot on two AiohttpRequests built with options."""

    async def main():
        requests = AiohttpRequest(**options), AiohttpRequest(**options)
        bot = Bot(api.token, base_url=api.base_url, request=requests[0], get_updates_request=requests[1])
        try:
            async with bot:
                return await scenario(bot)
        finally:
            for request in requests:
                await request.shutdown()

    return asyncio.run(main())


@pytest.fixture(scope="module")
def api():
    """Serve one stand-in for the whole module (each test uses its own chat ids and methods)."""
    with FakeBotApi().running() as served:
        yield served


def test_get_me(api):
    async def scenario(bot: Bot):
        return await bot.get_me()

    me = run(api, scenario)
    assert (me.id, me.is_bot, me.username) == (1000000001, True, "carebridge_test_bot")
    assert api.calls_of("getMe")[-1].status == 200


def test_send_message_with_inline_keyboard_is_form_encoded_and_recorded(api):
    text = "Score 10 & rising = +1? 100% ü 😀"

    async def scenario(bot: Bot):
        return await bot.send_message(CHAT, text, reply_markup=keyboard("a0", "a1"))

    sent = run(api, scenario)
    assert sent.chat.id == CHAT and sent.text == text
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "a1"
    call = api.calls_of("sendMessage")[-1]
    assert call.status == 200 and call.params["text"] == text
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "A0", "callback_data": "a0"},
                                                                {"text": "A1", "callback_data": "a1"}]]}
    assert api.sent(CHAT)[-1].buttons == [("A0", "a0"), ("A1", "a1")]


def test_edit_message_text_changes_what_the_user_sees(api):
    chat = CHAT + 1

    async def scenario(bot: Bot):
        question = await bot.send_message(chat, "Question 1", reply_markup=keyboard("yes", "no"))
        return await bot.edit_message_text("Question 1 - answered: yes", chat_id=chat,
                                           message_id=question.message_id, reply_markup=keyboard("undo"))

    edited = run(api, scenario)
    assert edited.text == "Question 1 - answered: yes" and edited.edit_date is not None
    [shown] = api.sent(chat)
    assert shown.text == "Question 1 - answered: yes" and shown.buttons == [("UNDO", "undo")]


def test_get_updates_returns_queued_and_long_polled_messages(api):
    chat = CHAT + 2

    async def scenario(bot: Bot):
        api.user_sends(chat, "/start tok123")
        queued = await bot.get_updates(timeout=0)
        offset = queued[-1].update_id + 1
        # A long poll outlives read_timeout (0.5 s): PTB adds the poll timeout to it per call.
        started = time.monotonic()
        empty = await bot.get_updates(offset=offset, timeout=1)
        waited = time.monotonic() - started
        asyncio.get_running_loop().call_later(0.2, api.user_sends, chat, "hello")
        started = time.monotonic()
        woken = await bot.get_updates(offset=offset, timeout=5)
        return queued, empty, waited, woken, time.monotonic() - started

    queued, empty, waited, woken, woke_after = run(api, scenario, read_timeout=0.5)
    assert [u.message.text for u in queued] == ["/start tok123"] and queued[0].effective_chat.id == chat
    assert empty == () and 0.9 < waited < 3
    assert [u.message.text for u in woken] == ["hello"] and woke_after < 2


def test_429_raises_retry_after_with_the_servers_delay(api):
    api.fail_next("sendMessage", status=429, retry_after=7)

    async def scenario(bot: Bot):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "flood")
        return caught.value

    error = run(api, scenario)
    assert error.retry_after in (7, timedelta(seconds=7))
    assert api.calls_of("sendMessage")[-1].status == 429


def test_403_raises_forbidden(api):
    chat = CHAT + 3
    api.block(chat)

    async def scenario(bot: Bot):
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(chat, "hello?")

    run(api, scenario)
    assert api.calls_of("sendMessage")[-1].status == 403 and api.sent(chat) == []


def test_a_slow_answer_raises_timed_out_and_the_request_stays_usable(api):
    async def scenario(bot: Bot):
        api.delay_next("getMyCommands", 1)
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.get_my_commands()  # constructor read_timeout: 0.3 s
        by_default = time.monotonic() - started
        api.delay_next("getMyCommands", 1)
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.get_my_commands(read_timeout=0.2)  # per-call value wins over DEFAULT_NONE
        per_call = time.monotonic() - started
        api.delay_next("getMyCommands", 0.5)
        slow_but_allowed = await bot.get_my_commands(read_timeout=3)
        return by_default, per_call, slow_but_allowed, await bot.get_my_commands()

    by_default, per_call, slow_but_allowed, after = run(api, scenario, read_timeout=0.3, connection_pool_size=1)
    assert 0.25 < by_default < 1.5 and 0.15 < per_call < 1.5
    assert slow_but_allowed == () and after == ()  # the pool's one slot was released after each timeout


def test_unreachable_port_raises_network_error_without_the_token():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "123:SECRET"

    async def main():
        request = AiohttpRequest(connect_timeout=2)
        bot = Bot(token, base_url=f"http://127.0.0.1:{port}/bot", request=request, get_updates_request=request)
        try:
            with pytest.raises(NetworkError) as caught:
                await bot.get_me()
            return caught.value
        finally:
            await request.shutdown()

    error = asyncio.run(main())
    assert type(error) is NetworkError  # not TimedOut, its subclass
    assert error.message.startswith("aiohttp.ClientConnectorError: ") and f":{port}" in error.message
    assert "SECRET" not in error.message and "SECRET" not in str(error.__cause__)


def test_error_messages_that_would_show_the_url_are_scrubbed():
    async def main():
        request = AiohttpRequest()
        try:
            with pytest.raises(NetworkError) as caught:  # aiohttp's message for a host-less URL is the URL
                await Bot("123:SECRET", base_url="http:///bot", request=request, get_updates_request=request).get_me()
            return caught.value
        finally:
            await request.shutdown()

    error = asyncio.run(main())
    assert error.message == "aiohttp.InvalidUrlClientError: <url>"
    assert "SECRET" not in repr(error.__cause__) and error.__cause__.__cause__ is None


def test_pool_timeout_is_reported_with_ptbs_message_and_nothing_is_sent(api):
    async def scenario(bot: Bot):
        api.delay_next("getWebhookInfo", 0.6)
        results = await asyncio.gather(bot.get_webhook_info(), bot.get_webhook_info(), return_exceptions=True)
        return results, await bot.get_webhook_info()

    before = len(api.calls_of("getWebhookInfo"))
    (first, second), after = run(api, scenario, connection_pool_size=1, pool_timeout=0.1)
    assert first.url == "" and isinstance(second, TimedOut) and second.message == POOL_TIMEOUT_MESSAGE
    assert after.url == ""
    assert len(api.calls_of("getWebhookInfo")) - before == 2  # the pool-timed-out call never reached the API


def test_cancellation_propagates_and_frees_the_connection(api):
    async def scenario(bot: Bot):
        api.delay_next("getMyCommands", 1)
        call = asyncio.create_task(bot.get_my_commands())
        await asyncio.sleep(0.2)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        return await bot.get_my_commands()

    assert run(api, scenario, connection_pool_size=1, pool_timeout=0.5) == ()


def test_initialize_and_shutdown_twice_are_harmless(api):
    url = f"{api.base_url}{api.token}/getMe"

    async def main():
        request = AiohttpRequest()
        await request.initialize()
        session = request._session
        await request.initialize()
        assert request._session is session  # still the one session
        first = await request.post(url)
        await request.shutdown()
        await request.shutdown()
        with pytest.raises(RuntimeError, match="not initialized"):
            await request.do_request(url, "POST")
        await request.initialize()  # reopens
        async with request:  # BaseRequest's context manager: initialize (no-op), then shutdown
            second = await request.post(url)
        await request.shutdown()
        return first, second, session.closed, request._session.closed

    first, second, first_closed, second_closed = asyncio.run(main())
    assert first["id"] == second["id"] == 1000000001 and first_closed and second_closed
    assert AiohttpRequest(read_timeout=2.5).read_timeout == 2.5
    assert AiohttpRequest(read_timeout=None).read_timeout is None


# -- the bytes on the wire, compared with HTTPXRequest ------------------------------------------------------


async def serve_raw(handler):
    """Start a loopback server whose connections go to handler(reader, writer); return it and its base URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/bot"


async def capture(request_class, scenario) -> list[dict]:
    """Run scenario(bot) with request_class against a server that records each request and answers ok."""
    seen: list[dict] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in head[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        seen.append({"line": head[0], "headers": headers, "body": body})
        result = BOT_USER if head[0].split()[1].endswith("/getMe") else True  # Bot.initialize() calls getMe
        answer = json.dumps({"ok": True, "result": result}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))
        await writer.drain()
        writer.close()

    server, base_url = await serve_raw(handler)
    request = request_class()
    try:
        async with Bot("1:T", base_url=base_url, request=request, get_updates_request=request_class()) as bot:
            await scenario(bot)
    finally:
        server.close()
    return seen


def normalised(call: dict) -> tuple:
    """Return what must match between transports: request line, content type and length, body."""
    content_type = call["headers"].get("content-type", "")
    body = call["body"]
    boundary = re.search(r"boundary=([0-9a-f]+)", content_type)
    if boundary:
        body = body.replace(boundary.group(1).encode(), b"BOUNDARY")
        content_type = content_type.replace(boundary.group(1), "BOUNDARY")
    return call["line"], content_type, call["headers"].get("content-length"), body


def test_bodies_carry_httpx_parameters_as_json_and_multipart_byte_for_byte():
    async def scenario(bot: Bot):
        await bot.do_api_request("getMe")
        await bot.do_api_request("sendMessage", api_kwargs={
            "chat_id": CHAT, "text": "a&b=c + ü 😀", "reply_markup": keyboard("x").to_dict()})
        await bot.do_api_request("sendDocument", api_kwargs={
            "chat_id": CHAT, "caption": 'Report "Q1"\n',
            "document": InputFile(b"%PDF-1.4 data\r\n--not-a-boundary", filename='résumé "1".pdf')})
        handle = io.BytesIO(b"x" * 200_000)
        handle.read(10)  # httpx rewinds file handles; so must we
        await bot.do_api_request("sendDocument", api_kwargs={
            "chat_id": CHAT, "document": InputFile(handle, filename="big.bin", read_file_handle=False)})

    ours = asyncio.run(capture(AiohttpRequest, scenario))
    theirs = asyncio.run(capture(HTTPXRequest, scenario))
    assert len(ours) == len(theirs) == 5  # with the getMe of Bot.initialize()
    assert [normalised(c) for c in ours[3:]] == [normalised(c) for c in theirs[3:]]  # uploads: byte for byte
    assert [c["line"] for c in ours] == [c["line"] for c in theirs]
    assert ours[2]["headers"]["content-type"] == "application/json"
    assert theirs[2]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    sent = json.loads(ours[2]["body"])
    assert sent == dict(parse_qsl(theirs[2]["body"].decode(), keep_blank_values=True))
    assert sent["text"] == "a&b=c + ü 😀" and json.loads(sent["reply_markup"]) == keyboard("x").to_dict()
    assert int(ours[2]["headers"]["content-length"]) == len(ours[2]["body"])
    assert ours[3]["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert len(ours[4]["body"]) > 200_000 and ours[1]["body"] == b"" and "content-type" not in ours[1]["headers"]
    assert all(c["headers"]["user-agent"] == AiohttpRequest.USER_AGENT for c in ours)


def test_redirects_are_not_followed_as_with_httpx():
    async def main(request_class):
        requested: list[bytes] = []

        async def redirect(reader, writer):
            requested.append((await reader.readuntil(b"\r\n\r\n")).split(b" ")[1])
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            await writer.drain()
            writer.close()

        server, base_url = await serve_raw(redirect)
        request = request_class()
        try:
            with pytest.raises(NetworkError, match=r"Found \(302\)"):
                await Bot("1:T", base_url=base_url, request=request, get_updates_request=request).get_me()
        finally:
            await request.shutdown()
            server.close()
        return requested

    assert asyncio.run(main(AiohttpRequest)) == asyncio.run(main(HTTPXRequest)) == [b"/bot1:T/getMe"]


def test_an_upload_the_server_does_not_read_times_out_on_the_media_write_timeout():
    async def main():
        stalled: list[asyncio.StreamWriter] = []

        async def never_read(reader, writer):
            stalled.append(writer)  # keep the connection open, read nothing

        server, base_url = await serve_raw(never_read)
        request = AiohttpRequest(write_timeout=30, media_write_timeout=0.3, read_timeout=30)
        bot = Bot("1:T", base_url=base_url, request=request, get_updates_request=AiohttpRequest())
        started = time.monotonic()
        try:
            with pytest.raises(TimedOut):
                async with asyncio.timeout(5):  # a transport without a write timeout fails here, not hangs
                    await bot.do_api_request("sendDocument", api_kwargs={
                        "chat_id": CHAT, "document": InputFile(b"\0" * (48 << 20), filename="huge.bin")})
            return time.monotonic() - started
        finally:
            await request.shutdown()
            for writer in stalled:
                writer.close()
            server.close()

    assert asyncio.run(main()) < 5
