"""The caseload registry over simulated months: who is flagged, when, in what order, in the CLI and the Home tab."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from bot.adapters.console import ConsoleChat
from bot.cli import app, common
from bot.cli import registry as registry_cli
from bot.config import settings
from bot.services.home import home_view
from bot.services.enrollment import enroll_chat
from bot.services.registry import flags, next_due, registry
from bot.store.tables import PATIENT, SCORE, SCREENING
from tests.integration.test_handoffs import press, slack_rows
from tests.store_fixtures import FIXTURES

NORTH = """
[[clinics]]
slug = "north"
name = "North Clinic"
plan = "mood"
timezone = "America/Chicago"

[clinics.slack]
channel = "C0NORTHBH"
staff = [
  { slack_id = "U0NORA", name = "Nora Field, LCSW", role = "bh" },
  { slack_id = "U0DANA", name = "Dana Ortiz, LCSW", role = "pcp" },
]
shifts = [
  { days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start = "07:00", end = "19:00", primary = "U0NORA" },
]
"""
CONSENT = ["I agree"]
ROUTINE_END = ["Not at all", "somewhat difficult", "Yes, connect me"]  # item 9 no, difficulty, accept the offer
SEVERE = CONSENT + ["4", "4"] + ["4"] * 6 + ROUTINE_END  # PHQ-9 24
MODERATE = CONSENT + ["3", "3"] + ["3"] * 6 + ROUTINE_END  # PHQ-9 16
MILD = CONSENT + ["3", "3"] + ["2"] * 6 + ROUTINE_END  # PHQ-9 10
ITEM9 = CONSENT + ["3", "3", "2", "2", "2", "2", "2", "1", "2", "No", "somewhat difficult"]  # PHQ-9 10, item 9: urgent
WEEK = timedelta(weeks=1)
runner = CliRunner()
_screenings = count(1)


@dataclass
class Caseload:
    """The simulated clinic: services, the clock and each patient's code by role in the story."""

    services: object
    clock: object
    codes: dict[str, str]
    started: object  # when care started (every handoff accepted at the same moment)
    config: object  # the clinic file: the test clinics plus North

    def at(self, **since_care_started: float) -> None:
        """Move the clock to a time after care started."""
        self.clock.moment = self.started + timedelta(**since_care_started)

    def entries(self, clinic: str | None = None) -> dict[str, object]:
        """Return the registry by story role, in its order."""
        roles = {code: role for role, code in self.codes.items()}
        return {roles[entry.patient]: entry for entry in registry(self.services, clinic)}

    def checkin(self, role: str, total: int, instrument: str = "phq9", risk: bool = False) -> None:
        """Store a completed check-in score now (check-in screenings are not yet started by a timer)."""
        now = self.clock()
        with self.services.store.engine.begin() as conn:
            patient_id = conn.execute(select(PATIENT.c.id).where(PATIENT.c.code == self.codes[role])).scalar_one()
            screening_id = conn.execute(insert(SCREENING).values(
                ref=f"S-TEST-{next(_screenings)}", patient_id=patient_id, plan=f"checkin:{instrument}",
                trigger="checkin", status="completed", started_at=now, updated_at=now, ended_at=now,
            )).inserted_primary_key[0]
            conn.execute(insert(SCORE).values(
                screening_id=screening_id, patient_id=patient_id, instrument=instrument, total=total, band=None,
                positive=total >= 10, flags=["suicide_risk"] if risk else [], subscales={}, scored_at=now))


def screened(services, clinic: str, chat_id: str, replies: list[str]) -> tuple[ConsoleChat, str]:
    """Enroll a console patient, answer the clinic's plan and return the chat and the patient's code."""
    code = enroll_chat(services, clinic, "console", chat_id)
    chat = ConsoleChat(services, chat_id)
    chat.start()
    for text in replies:
        chat.type(text)
    chat.deliver()
    return chat, code


@pytest.fixture
def caseload(make_services, clock, tmp_path) -> Caseload:
    """Screen six patients, accept five handoffs at once (care starts), and let one of them opt out."""
    config = tmp_path / "clinic.toml"
    config.write_text((FIXTURES / "clinic.toml").read_text() + NORTH)
    services = make_services(config=config)
    story = {"improver": ("team", SEVERE), "stuck": ("team", MODERATE), "risk": ("team", ITEM9),
             "north": ("north", MILD), "quitter": ("team", MILD), "waiting": ("team", MILD)}
    screenings = {role: screened(services, clinic, f"chat-{role}", replies) for role, (clinic, replies) in story.items()}
    codes = {role: code for role, (_chat, code) in screenings.items()}
    pages = {row.payload["patient_code"]: row.ref for row in slack_rows(services, "page")}
    clock.advance(minutes=5)
    for role in ("improver", "stuck", "risk", "quitter", "north"):
        user = "U0NORA" if role == "north" else "U0DANA"
        assert press(services, user, pages[codes[role]], key=f"accept-{role}").status == "applied"
    quitter = screenings["quitter"][0]
    quitter.type("stop")
    quitter.type("Yes, stop")
    return Caseload(services, clock, codes, clock(), config)


def test_care_starts_on_acceptance_and_the_registry_holds_only_patients_in_care(caseload):
    entries = caseload.entries()
    assert set(entries) == {"improver", "stuck", "risk", "north"}  # not the opted-out, not the unaccepted
    baselines = {role: entry.trends[0].baseline.total for role, entry in entries.items()}
    assert baselines == {"improver": 24, "stuck": 16, "risk": 10, "north": 10}
    assert all(entry.weeks_in_care == 0 and [t.instrument for t in entry.trends] == ["phq9"]
               for entry in entries.values())
    assert flags(entries["risk"]) == ["suicide_risk"] and not any(flags(e) for r, e in entries.items() if r != "risk")
    assert next_due(entries["stuck"]) == caseload.started + 2 * WEEK


# Check-ins every two weeks (PHQ-9 totals); "risk" stops answering after week 2.
CHECKINS = {
    2: {"improver": 20, "stuck": 15, "risk": 9, "north": 7},
    4: {"improver": 14, "stuck": 14, "north": 4},
    6: {"improver": 9, "stuck": 13, "north": 4},
    8: {"improver": 4, "stuck": 12, "north": 3},
}


def months_of_checkins(caseload: Caseload, until_week: int = 8, after_week: int = 0) -> None:
    """Store the check-ins of the weeks after one week up to another, each at its time."""
    for week, totals in CHECKINS.items():
        if after_week < week <= until_week:
            caseload.at(weeks=week)
            for role, total in totals.items():
                caseload.checkin(role, total)


def test_response_and_remission_follow_the_phq9_from_its_baseline(caseload):
    months_of_checkins(caseload, until_week=4)
    caseload.at(weeks=4)
    entries = caseload.entries()
    improver = entries["improver"].trends[0]
    assert (improver.baseline.total, improver.latest.total, improver.change) == (24, 14, -10)
    assert not improver.response and improver.important_change  # 24 -> 14: better, but not yet half
    north = entries["north"].trends[0]
    assert north.response and north.remission  # 10 -> 4
    months_of_checkins(caseload, after_week=4)
    caseload.at(weeks=8)
    improver = caseload.entries()["improver"].trends[0]
    assert (improver.latest.total, improver.change, improver.response, improver.remission) == (4, -20, True, True)
    assert [m.total for m in improver.scores] == [24, 20, 14, 9, 4]
    assert improver.next_due == caseload.started + timedelta(weeks=10)


def test_not_improving_by_week_10_puts_exactly_the_non_responders_on_case_review_and_not_before(caseload):
    months_of_checkins(caseload)
    caseload.at(weeks=9, days=6, hours=23)
    assert not any(entry.not_improving for entry in caseload.entries().values())
    caseload.at(weeks=10)
    entries = caseload.entries()
    assert {role for role, entry in entries.items() if entry.not_improving} == {"stuck", "risk"}
    assert entries["stuck"].weeks_in_care == 10 and not entries["stuck"].overdue  # due today: not late yet
    caseload.at(weeks=11)
    caseload.checkin("stuck", 7)  # 16 -> 7: a response takes them off the list
    assert not caseload.entries()["stuck"].not_improving


def test_a_missed_check_in_is_overdue_three_days_after_it_was_due(caseload):
    months_of_checkins(caseload, until_week=4)  # "risk" answered at week 2, so was due at week 4
    caseload.at(weeks=4, days=3)
    assert not any(entry.overdue for entry in caseload.entries().values())
    caseload.at(weeks=4, days=3, minutes=1)
    assert {role for role, entry in caseload.entries().items() if entry.overdue} == {"risk"}
    caseload.checkin("risk", 8)
    assert not caseload.entries()["risk"].overdue


def test_suicide_risk_is_remembered_and_the_registry_puts_case_review_then_overdue_first(caseload):
    months_of_checkins(caseload)
    caseload.at(weeks=10)
    entries = caseload.entries()
    assert list(entries) == ["risk", "stuck", "improver", "north"]
    assert flags(entries["risk"]) == ["case_review", "overdue", "suicide_risk"]  # item 9 at intake, none since
    assert flags(entries["stuck"]) == ["case_review"]
    assert flags(entries["improver"]) == flags(entries["north"]) == []
    caseload.checkin("north", 3, risk=True)
    assert flags(caseload.entries()["north"]) == ["suicide_risk"]


def test_the_clinic_filter_keeps_each_clinics_patients_apart(caseload):
    assert list(caseload.entries("north")) == ["north"]
    assert set(caseload.entries("team")) == {"improver", "stuck", "risk"}
    assert caseload.entries("mood") == {}


@pytest.fixture
def cli(caseload, monkeypatch):
    """Run the command line on the caseload's database, clinic file and clock, in a wide terminal."""
    monkeypatch.setenv("DATABASE_URL", str(caseload.services.store.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("CAREBRIDGE_CONFIG", str(caseload.config))
    monkeypatch.setattr(registry_cli, "services_or_exit", lambda: common.services_or_exit(clock=caseload.clock))
    monkeypatch.setattr(common.console, "_width", 200)
    settings.cache_clear()
    yield lambda *args: runner.invoke(app, ["registry", *args])
    settings.cache_clear()


def row_of(output: str, code: str) -> str:
    [line] = [line for line in output.splitlines() if code in line]
    return line


def test_the_cli_prints_each_patient_with_trend_outcome_flags_and_next_check_in(caseload, cli, caplog):
    months_of_checkins(caseload)
    caseload.at(weeks=10)
    caplog.set_level(logging.DEBUG)
    result = cli()
    assert result.exit_code == 0, result.output
    codes = caseload.codes
    output = result.output
    assert "Caseload registry" in output and "PHQ-9 baseline → latest" in output and "Next check-in due" in output
    assert "GAD-7" not in output  # followed only after a positive GAD-7 at intake: nobody here
    assert [line for line in output.splitlines() if "P-" in line] == [
        row_of(output, codes[role]) for role in ("risk", "stuck", "improver", "north")]
    risk = row_of(output, codes["risk"])
    assert "10 → 9 (-1)" in risk and "case review, overdue, suicide risk in history" in risk
    assert "2026-12-22" in risk  # due at week 4 (in Chicago) and still not done
    stuck = row_of(output, codes["stuck"])
    assert " team " in stuck and " 10 " in stuck and "16 → 12 (-4)" in stuck and "case review" in stuck
    assert "overdue" not in stuck and "2027-02-02" in stuck
    improver = row_of(output, codes["improver"])
    assert "24 → 4 (-20)" in improver and "PHQ-9: response, remission" in improver
    assert codes["quitter"] not in output and codes["waiting"] not in output
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    assert not any(code in logged for code in codes.values()) and "→" not in logged


def test_the_cli_filters_by_clinic_and_refuses_an_unknown_one(caseload, cli):
    result = cli("--clinic", "north")
    assert result.exit_code == 0, result.output
    assert caseload.codes["north"] in result.output and caseload.codes["stuck"] not in result.output
    assert "Caseload registry · north" in result.output
    empty = cli("--clinic", "mood")
    assert empty.exit_code == 0 and "Nobody is in care at mood yet" in empty.output
    unknown = cli("--clinic", "nowhere")
    assert unknown.exit_code == 2 and "unknown clinic 'nowhere'" in unknown.output


def test_the_home_tab_shows_the_caseload_of_the_clinics_where_the_user_is_bh_or_care_manager(caseload, monkeypatch):
    months_of_checkins(caseload)
    caseload.at(weeks=10)
    codes, services = caseload.codes, caseload.services

    def caseload_of(user: str) -> list[str] | None:
        view = home_view(services, user)
        return {s["heading"]: s["items"] for s in view["sections"]}.get("Caseload")

    dana = caseload_of("U0DANA")  # bh at Team Clinic, only a PCP at North
    assert dana == [
        f"*{codes['risk']}* · Team Clinic · week 10 · PHQ-9 10 → 9 (-1) · *case review, overdue, suicide risk in history*",
        f"*{codes['stuck']}* · Team Clinic · week 10 · PHQ-9 16 → 12 (-4) · *case review*",
        f"*{codes['improver']}* · Team Clinic · week 10 · PHQ-9 24 → 4 (-20)",
    ]
    assert caseload_of("U0CARE") == dana
    assert caseload_of("U0NORA") == [f"*{codes['north']}* · North Clinic · week 10 · PHQ-9 10 → 3 (-7)"]
    assert caseload_of("U0PCP") is None
    monkeypatch.setattr("bot.services.home.CASELOAD_LIMIT", 2)
    assert caseload_of("U0DANA") == dana[:2] + ["…and 1 more patient in care not shown here."]
