"""The Telegram webhook: without the secret header, or with any wrong one, nothing is stored; the secret is compared
in constant time; with the secret, no body makes the endpoint fail."""

from __future__ import annotations

import hmac
import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.applications import Starlette
from telegram import Bot

from bot.adapters.telegram import webhook
from bot.adapters.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, webhook_route
from bot.services.enrollment import create_enrollment_token
from bot.standins.server import LoopbackServer
from bot.store.tables import PATIENT
from tests.fuzz.hostile import hostile_text, scratch_services, snapshot

pytestmark = pytest.mark.fuzz
SECRET = "s3cret-Webhook_value-42"
NOTHING = set()
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)


def text_update(update_id: int, chat_id: int, text: str) -> dict:
    """Return the update Telegram posts for a private text message (a leading /command gets its entity)."""
    command = text.split(" ", 1)[0] if text.startswith("/") else ""
    entities = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}] if command else []
    user = {"id": chat_id, "is_bot": False, "first_name": "Pat"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "from": user, "text": text,
                                                "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
                                                "entities": entities}}


@contextmanager
def served(services, secret: str) -> Iterator[httpx.Client]:
    """Serve the webhook route alone on loopback (uvicorn, as in production) and yield a client for it."""
    bot = Bot("123456:" + "A" * 35, base_url="http://127.0.0.1:9/bot")  # never called for text updates
    with LoopbackServer(Starlette(routes=[webhook_route(services, bot, secret)])).running() as web, \
            httpx.Client(base_url=web.origin, trust_env=False, timeout=10) as client:
        yield client


@contextmanager
def webhook_app() -> Iterator[tuple]:
    """Yield (services, client) for the webhook with SECRET."""
    with scratch_services() as services, served(services, SECRET) as client:
        yield services, client


def wrong_secrets() -> st.SearchStrategy[dict]:
    """Headers without the secret: none, empty, junk, and near misses (case, one character, prefix, suffix)."""
    near = st.sampled_from([SECRET.upper(), SECRET[:-1], SECRET + "x", SECRET[1:], SECRET + "\t-", "\u00e9" + SECRET,
                            SECRET.replace("W", "w"), SECRET[:-1] + "3", SECRET * 2, SECRET + "\u00e9"])
    wrong = (header_text.map(str.strip) | near).filter(lambda value: value != SECRET)
    return st.one_of(st.just({}), wrong.map(lambda value: {SECRET_HEADER: value}),
                     wrong.map(lambda value: {SECRET_HEADER.lower() + "-x": SECRET, SECRET_HEADER: value}))


def test_without_the_secret_nothing_is_stored_and_with_it_the_patient_joins():
    with webhook_app() as (services, client):
        token = create_enrollment_token(services, "mood", None, 7)
        update = json.dumps(text_update(1, 4242, f"/start {token}")).encode()

        @FUZZ
        @given(headers=wrong_secrets())
        def check(headers: dict) -> None:
            before = snapshot(services, NOTHING)
            sent = {name: value.encode("latin-1") for name, value in headers.items()}
            response = client.post(WEBHOOK_PATH, content=update, headers=sent)
            assert response.status_code == 401, (headers, response.status_code)
            assert snapshot(services, NOTHING) == before  # no event key, no patient, the token still unused

        check()
        assert client.post(WEBHOOK_PATH, content=update, headers={SECRET_HEADER: SECRET}).status_code == 200
        with services.store.engine.connect() as conn:
            assert len(conn.execute(select(PATIENT.c.id)).all()) == 1  # the same request, with the secret: it works


def test_an_empty_configured_secret_lets_nothing_in():
    with scratch_services() as services:
        with served(services, "") as client:
            before = snapshot(services, NOTHING)
            update = text_update(1, 4242, "/start c-intake")  # open enrollment: would join anyone
            for headers in ({}, {SECRET_HEADER: ""}):
                assert client.post(WEBHOOK_PATH, json=update, headers=headers).status_code == 401
            assert snapshot(services, NOTHING) == before


def test_the_secret_is_compared_in_constant_time():
    with webhook_app() as (_services, client), mock.patch.object(webhook.hmac, "compare_digest",
                                                                 wraps=hmac.compare_digest) as compare:
        for given_secret in ("", "x", SECRET[:-1] + "?", SECRET * 3, SECRET):
            client.post(WEBHOOK_PATH, json=text_update(7, 4243, "hello"), headers={SECRET_HEADER: given_secret})
    # Every request, whatever the length of what it sent, goes through hmac.compare_digest (never ==, which stops
    # at the first differing character and so tells an attacker how much of a guess was right).
    assert [call.args for call in compare.call_args_list] == [
        (value.encode(), SECRET.encode()) for value in ("", "x", SECRET[:-1] + "?", SECRET * 3, SECRET)]
    source = inspect.getsource(webhook.webhook_route)
    assert "compare_digest" in source and "== expected" not in source and "expected ==" not in source


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                        max_size=4), max_leaves=12)


def test_with_the_secret_no_body_makes_the_webhook_fail():
    with webhook_app() as (_services, client):
        update_ids = iter(range(100, 10_000))

        @FUZZ
        @given(body=st.one_of(
            st.binary(max_size=200),
            json_values.map(lambda value: json.dumps(value).encode()),
            st.dictionaries(st.sampled_from(["update_id", "message", "callback_query", "edited_message"]),
                            json_values, max_size=3).map(lambda value: json.dumps(value).encode()),
            hostile_text.map(lambda text: json.dumps(text_update(next(update_ids), 4244, text)).encode()),
            hostile_text.map(lambda text: json.dumps(text_update(next(update_ids), 4245, "/start " + text)).encode()),
        ))
        def check(body: bytes) -> None:
            response = client.post(WEBHOOK_PATH, content=body, headers={SECRET_HEADER: SECRET})
            assert response.status_code in (200, 400), (body[:80], response.status_code)

        check()
