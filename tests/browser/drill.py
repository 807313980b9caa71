"""What a trainer does on the sandbox page, as Playwright steps a test can read like the drill itself."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

PHQ2_POSITIVE = ["Nearly every day", "More than half the days"]
PHQ9_REST = ["Several days"] * 6  # items 3 to 8
ITEM9 = "Several days"


def chat(page: Page) -> Locator:
    """Return the patient's phone screen."""
    return page.get_by_test_id("chat")


def slack(page: Page) -> Locator:
    """Return the Slack window's message area."""
    return page.get_by_test_id("slack")


def new_patient(page: Page, how: str = "with a one-time link") -> None:
    """Enroll a new patient and wait for the consent question on their phone."""
    page.get_by_label("How the new patient joins").select_option(label=how)
    page.get_by_role("button", name="New patient").click()
    expect(chat(page).locator(".msg.bot").last).to_contain_text("Do you agree")


def press(page: Page, question: str, label: str) -> None:
    """Press an answer under the newest bot message that contains `question`."""
    message = chat(page).locator(".msg.bot", has_text=question).last
    message.get_by_role("button", name=label, exact=True).click()


def answer_phq9_with_item9_positive(page: Page) -> None:
    """Consent, then answer the PHQ-2 and the rest of the PHQ-9 by buttons, item 9 above 'Not at all'."""
    press(page, "Do you agree", "I agree")
    for number, label in enumerate(PHQ2_POSITIVE, start=1):
        press(page, f"{number} of 2", label)
    for number, label in enumerate(PHQ9_REST + [ITEM9], start=3):
        press(page, f"{number} of 9", label)


def be(page: Page, clinician: str) -> None:
    """Pick who the trainer is in Slack, by the roster's option label."""
    page.get_by_label("You are").select_option(label=clinician)


def slash(page: Page, line: str) -> None:
    """Type a slash command in the Slack composer."""
    page.get_by_label("Slack command").fill(line)
    page.get_by_label("Slack command").press("Enter")


def fast_forward(page: Page, label: str) -> None:
    """Press a clock button such as '+1 day'."""
    page.get_by_role("button", name=label, exact=True).click()
