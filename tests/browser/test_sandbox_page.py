"""The clinic sandbox in headless Chromium: a trainer plays the patient and the care team on one page."""

from __future__ import annotations

import pytest

playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[dev]'")
expect = playwright.expect

from tests.browser.drill import (  # noqa: E402  (after the skip, which needs no Playwright)
    answer_phq9_with_item9_positive,
    be,
    chat,
    fast_forward,
    new_patient,
    press,
    slack,
    slash,
)

BEN = "Ben Okafor, PhD (BH)"
PCP = "Dr. Pat Chen (PCP)"


def test_item9_shows_crisis_resources_pages_the_team_and_the_patient_hears_who_accepted(page):
    new_patient(page)
    answer_phq9_with_item9_positive(page)
    expect(chat(page)).to_contain_text("Call or text 988")
    page_message = slack(page).locator(".sl-msg", has_text="URGENT")
    expect(page_message).to_contain_text("@Dana Ortiz, LCSW")  # the primary on duty this morning
    be(page, BEN)
    page_message.get_by_role("button", name="Accept").click()
    expect(chat(page)).to_contain_text("Ben Okafor, PhD from the behavioral health team will contact you")
    expect(page_message).to_contain_text("Accepted by @Ben Okafor, PhD")
    expect(page_message.get_by_role("button", name="Contact made")).to_be_visible()


def test_fast_forward_reminds_a_quiet_patient_and_escalates_an_unanswered_consult(page):
    new_patient(page)
    press(page, "Do you agree", "I agree")
    expect(chat(page)).to_contain_text("1 of 2")
    be(page, PCP)
    slash(page, "/consult")
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("checkbox", name="New patient: send me an enrollment link").check()
    dialog.get_by_label("Reason (one line)").fill("Low mood, wants help today")
    dialog.get_by_label("Urgent (within the hour)").check()
    dialog.get_by_role("button", name="Page the team").click()
    expect(dialog).to_be_hidden()
    consult = slack(page).locator(".sl-msg", has_text="URGENT")
    expect(consult).to_contain_text("Consult requested by @Dr. Pat Chen")
    fast_forward(page, "+10 min")
    expect(consult.locator(".thread")).to_contain_text("Paging @Ben Okafor, PhD now")
    expect(page.get_by_test_id("clock-ahead")).to_have_text("(+10 min ahead)")
    fast_forward(page, "+1 day")
    expect(chat(page)).to_contain_text("Just a reminder")


def test_several_patients_each_keep_their_chat_and_reset_starts_a_fresh_day(page):
    new_patient(page)
    press(page, "Do you agree", "I agree")
    expect(chat(page)).to_contain_text("1 of 2")
    new_patient(page, how="with the clinic code")
    expect(chat(page)).not_to_contain_text("1 of 2")
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_count(2)
    tabs.first.click()
    expect(chat(page)).to_contain_text("1 of 2")
    fast_forward(page, "+1 h")
    expect(page.get_by_test_id("clock-ahead")).to_have_text("(+1 h ahead)")
    page.get_by_role("button", name="Reset clinic day").click()
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(page.get_by_test_id("clock-ahead")).to_have_text("")
    expect(slack(page)).to_contain_text("No messages yet")
    new_patient(page)
    expect(page.get_by_role("tab")).to_have_count(1)
