"""The clinic sandbox's page API without a browser: what each click does to the patient's chat and to Slack."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.config import data_dir, settings
from bot.sandbox.host import Sandbox
from tests.e2e.telegram_harness import wait_for

CHANNEL = "C0RIVERBH"  # config/clinic.example.toml, what the sandbox runs when CAREBRIDGE_CONFIG is unset
EXAMPLE = data_dir("config") / "clinic.example.toml"
BEN, DANA, PCP = "U0RBEN001", "U0RDANA01", "U0RPCP001"
ITEM9_POSITIVE = ["I agree", "3", "3", "2", "2", "2", "2", "2", "2", "2"]  # consent, PHQ-2, PHQ-9 items 3-9


class Page:
    """Drive the sandbox's JSON API as the page's script does."""

    def __init__(self, sandbox: Sandbox):
        self.http = httpx.Client(base_url=sandbox.url, trust_env=False, timeout=30)
        self.sandbox = sandbox

    def state(self, chat: int | None = None, user: str = BEN, where: str = CHANNEL) -> dict:
        response = self.http.get("/api/state", params={"chat": chat or "", "user": user, "where": where})
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict | None = None, status: int = 200) -> dict:
        response = self.http.post(path, json=body or {})
        assert response.status_code == status, response.text
        return response.json()

    def texts(self, chat: int) -> list[str]:
        return [m["text"] for m in self.state(chat)["chat"]["messages"]]

    def says(self, chat: int, words: str, what: str) -> list[str]:
        return wait_for(lambda: [t for t in self.texts(chat) if words in t], what=what)

    def type(self, chat: int, text: str) -> None:
        before = len(self.texts(chat))
        self.post(f"/api/patients/{chat}/messages", {"text": text})
        wait_for(lambda: len(self.texts(chat)) > before + 1, what=f"an answer to {text!r}")


def example_settings():
    return settings().model_copy(update={"carebridge_config": EXAMPLE})


@pytest.fixture
def sandbox():
    with Sandbox(example_settings(), port=0).running() as running:
        yield running


@pytest.fixture
def page(sandbox):
    return Page(sandbox)


def new_patient(page: Page, how: str = "link") -> int:
    chat = page.post("/api/patients", {"clinic": "riverside", "how": how})["chat_id"]
    page.says(chat, "Do you agree", "the consent question")
    return chat


def test_a_warm_handoff_drill_reaches_the_patient_and_a_late_press_is_told_who_has_it(page):
    chat = new_patient(page)
    for text in ITEM9_POSITIVE:
        page.type(chat, text)
    page.says(chat, "Call or text 988", "the crisis resources")
    pages = wait_for(lambda: page.state()["slack"]["messages"], what="the page in the channel")
    assert "@Dana Ortiz, LCSW" in pages[0]["parts"][0]["text"] and "*URGENT*" in pages[0]["parts"][0]["text"]
    accept = pages[0]["parts"][1]["buttons"][0]
    assert accept["label"] == "Accept"
    press = {"channel": CHANNEL, "ts": pages[0]["ts"], "action_id": accept["action_id"], "value": accept["value"]}
    page.post("/api/slack/presses", {"user": BEN, **press})
    told = page.says(chat, "Ben Okafor, PhD", "the patient told who will call")
    assert "within the hour" in told[0]
    wait_for(lambda: "Accepted by @Ben Okafor, PhD" in str(page.state()["slack"]["messages"][0]), what="the update")
    page.post("/api/slack/presses", {"user": DANA, **press}, status=409)  # her page no longer shows Accept
    assert page.state(user=DANA)["slack"]["messages"][0]["parts"][1]["buttons"][0]["label"] == "Contact made"


def test_the_consult_modal_shows_field_errors_then_pages_and_sends_the_pcp_a_link(page):
    page.post("/api/slack/commands", {"user": PCP, "line": "/consult", "channel": CHANNEL})
    modal = wait_for(lambda: page.state(user=PCP)["slack"]["modal"], what="the consult modal")
    assert modal["title"] == "Request a BH consult"
    errors = page.post(f"/api/slack/modals/{modal['id']}/submit", {"user": PCP, "values": {"urgency": "routine"}})
    assert "reason" in errors["errors"]
    answers = {"new_patient": ["yes"], "reason": "Low mood", "urgency": "routine"}
    assert page.post(f"/api/slack/modals/{modal['id']}/submit", {"user": PCP, "values": answers})["errors"] == {}
    assert page.state(user=PCP)["slack"]["modal"] is None
    dm = wait_for(lambda: page.state(user=PCP, where="dm")["slack"]["messages"], what="the PCP's DM")
    link = dm[0]["parts"][0]["text"].rsplit("/start ", 1)[1].split()[0]
    chat = page.post("/api/patients", {"clinic": "riverside", "how": "blank"})["chat_id"]
    assert page.texts(chat) == []
    page.post(f"/api/patients/{chat}/messages", {"text": f"/start {link}"})
    page.says(chat, "Do you agree", "the consent question for the consult's patient")


def test_home_tab_shows_who_is_on_duty(page):
    page.post("/api/slack/home", {"user": DANA})
    home = wait_for(lambda: page.state(user=DANA, where="home")["slack"]["home"], what="the Home tab")
    assert "Primary: @Dana Ortiz, LCSW" in str(home["parts"])


def test_fast_forward_fires_the_reminder_and_the_clock_only_moves_ahead(page):
    chat = new_patient(page)
    page.type(chat, "I agree")
    before = page.state()["clock"]
    page.post("/api/clock", {"minutes": -60}, status=400)
    page.post("/api/clock", {"minutes": 24 * 60})
    page.says(chat, "Just a reminder", "the reminder after a day")
    after = page.state()["clock"]
    assert after["ahead"] == "+1 d" and after["now"] > before["now"]


def test_reset_starts_a_fresh_day_and_deletes_the_old_database(page, sandbox):
    chat = new_patient(page, how="code")
    old_folder = Path(sandbox.day.folder.name)
    page.post("/api/clock", {"minutes": 60})
    assert page.post("/api/reset")["day"] == 2
    state = page.state(chat)
    assert (state["day"], state["patients"], state["chat"], state["clock"]["ahead"]) == (2, [], None, "")
    assert state["slack"]["messages"] == [] and not old_folder.exists()
    page.post(f"/api/patients/{chat}/messages", {"text": "hello"}, status=409)  # yesterday's patient is gone
    new_patient(page)


def test_the_page_answers_loopback_names_and_json_only(page, sandbox):
    assert page.http.get("/api/state", headers={"Host": "carebridge.example.org"}).status_code == 403
    assert page.http.post("/api/reset", data={"x": "1"}).status_code == 400
    assert page.http.get("/").status_code == 200 and "clinic sandbox" in page.http.get("/").text
    closed = next(c for c in sandbox.day.services.flow.config.clinics if not c.open_enrollment)
    refused = page.post("/api/patients", {"clinic": closed.slug, "how": "code"}, status=409)
    assert refused["error"] == f"{closed.name} does not allow open enrollment: use a link"


def test_the_sandbox_refuses_to_serve_anything_but_loopback():
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(example_settings(), host="0.0.0.0")
