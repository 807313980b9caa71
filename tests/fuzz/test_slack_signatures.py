"""Requests that Slack did not sign, signed long ago, or signed with another secret: refused with 401 before any
work (not even the event key is stored), never a 5xx, whatever the body and headers. A replay within the five
minutes is applied once; after them it is refused."""

from __future__ import annotations

import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.store.tables import HANDOFF, ONCALL
from tests.e2e.telegram_harness import wait_for
from tests.fuzz.hostile import snapshot
from tests.fuzz.slack_rig import CHANNEL, Rig, slack_clinic

pytestmark = pytest.mark.fuzz
NOTHING = set()  # refused before any work: every table, the inbound event keys and the audit log included
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80)
KINDS = ("accept", "take", "consult")


def consult_values(patient: str) -> dict:
    return {"patient": {"value": patient}, "reason": {"value": "Panic attacks"},
            "urgency": {"value": {"type": "radio_buttons", "selected_option": {"value": "urgent"}}}}


def make(rig: Rig, kind: str):
    """Build a request that would change something if Slack had signed it."""
    api = rig.api
    if kind == "accept":
        return api.make_button_press("U0DANA", CHANNEL, rig.page_ts, "handoff:accept", rig.handoff,
                                     require_button=False)
    if kind == "take":
        return api.make_slash_command("U0BEN", "/oncall", "take")
    return api.make_view_submission("U0PCP", "consult", consult_values(rig.patient))


def post(request, headers: dict, body: bytes | None = None) -> httpx.Response:
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.post(request.url, content=request.body if body is None else body,
                           headers={**raw, "Content-Type": request.content_type})


# How a request can be badly signed (the headers are made from one of these for the request's body).
bad_signing = st.one_of(
    st.tuples(st.just("unsigned")),
    st.tuples(st.just("half"), st.sampled_from(["X-Slack-Request-Timestamp", "X-Slack-Signature"])),
    st.tuples(st.just("junk"), header_text | st.just("right"), header_text | st.just("right")),
    st.tuples(st.just("wrong"), st.text(min_size=1, max_size=40).filter(str.strip)),
    st.tuples(st.just("stale"), st.integers(310, 10**8) | st.integers(-(10**8), -310)),  # replayed later, or future
    st.tuples(st.just("other body"), st.text("ab=&%+", min_size=1, max_size=20)),
)


def headers_for(api, body: bytes, plan: tuple) -> dict:
    """Return headers Slack would not send with this body: none, half, junk, another secret, stale, another body."""
    mode, *args = plan
    signed = api.sign(body)
    if mode == "unsigned":
        return {}
    if mode == "half":
        return {args[0]: signed[args[0]]}
    if mode == "junk":  # one of the two may be right, not both
        stamp, signature = (signed[name] if value == "right" else value for value, name in zip(
            args, ("X-Slack-Request-Timestamp", "X-Slack-Signature"), strict=True))
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature + ("0" if args == ["right"] * 2
                                                                                       else "")}
    if mode == "wrong":
        return api.sign(body, secret=args[0] if args[0] != api.signing_secret else args[0] + "x")
    if mode == "stale":
        return api.sign(body, timestamp=int(time.time()) + args[0])
    return api.sign(body + args[0].encode())


def open_consult_modal(rig: Rig) -> None:
    assert rig.api.slash_command("U0PCP", "/consult").status_code == 200
    wait_for(lambda: rig.api.views("U0PCP"), what="the consult modal")


def test_badly_signed_requests_are_refused_before_any_work():
    with slack_clinic() as rig:
        open_consult_modal(rig)
        responses = len(rig.api.responses())

        @FUZZ
        @given(kind=st.sampled_from(KINDS), plan=bad_signing)
        def check(kind: str, plan: tuple) -> None:
            request = make(rig, kind)
            before = snapshot(rig.services, NOTHING)
            response = post(request, headers_for(rig.api, request.body, plan))
            assert response.status_code == 401, (kind, plan, response.status_code)
            assert snapshot(rig.services, NOTHING) == before

        check()
        assert len(rig.api.responses()) == responses and rig.finished.count == 0 and rig.errors.records == []


def test_unsigned_junk_bodies_are_refused_with_401_not_a_server_error():
    with slack_clinic() as rig:
        request = make(rig, "take")

        @FUZZ
        @given(body=st.one_of(st.binary(max_size=300), st.sampled_from([
                   b"payload=%7B", b"payload=null", b"payload=%5B%5D", b"\xff\xfe", b"[]", b"{", b"payload=%ff"])),
               content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
               timestamp=header_text, signature=header_text)
        def check(body: bytes, content_type: str, timestamp: str, signature: str) -> None:
            before = snapshot(rig.services, NOTHING)
            for headers in ({}, {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}):
                with httpx.Client(trust_env=False, timeout=10) as client:
                    raw = {name: value.encode("latin-1") for name, value in headers.items()}
                    response = client.post(request.url, content=body, headers={**raw, "Content-Type": content_type})
                assert response.status_code == 401, (body[:40], headers, response.status_code)
            assert snapshot(rig.services, NOTHING) == before

        check()
        assert rig.errors.records == []


def test_a_replay_within_five_minutes_is_applied_once_and_after_them_refused():
    with slack_clinic() as rig:
        open_consult_modal(rig)
        for kind in KINDS:
            request = make(rig, kind)
            headers = rig.api.sign(request.body)
            done, answered = rig.finished.count, len(rig.api.responses())
            assert post(request, headers).status_code == 200, kind  # Slack's own request: applied
            if kind == "accept":
                rig.finished.wait_past(done)
            elif kind == "take":
                rig.wait_for_responses(answered)
            applied, done = snapshot(rig.services, NOTHING), rig.finished.count
            assert post(request, headers).status_code == 200, kind  # the same bytes again (Slack's retries look so)
            rig.finished.wait_past(done) if kind == "accept" else time.sleep(0.2)
            assert snapshot(rig.services, NOTHING) == applied, kind
            later = rig.api.sign(request.body, timestamp=int(time.time()) - 301)
            assert post(request, later).status_code == 401, kind
            assert snapshot(rig.services, NOTHING) == applied, kind
        with rig.services.store.engine.connect() as conn:
            handoffs = conn.execute(select(HANDOFF.c.accepted_by, HANDOFF.c.requested_by).order_by(HANDOFF.c.id)).all()
            covers = conn.execute(select(ONCALL.c.slack_id)).scalars().all()
        assert handoffs == [("U0DANA", None), (None, "U0PCP")]  # accepted once; one consult, not two
        assert covers.count("U0BEN") == 1 and rig.errors.records == []  # took primary once
