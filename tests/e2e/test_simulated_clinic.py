"""A simulated clinic followed for 16 weeks, day by day with a fixed clock: registry flags, report, charts, FHIR."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from bot.adapters.console import ConsoleChat
from bot.adapters.trend_chart import trend_figure
from bot.cli import app
from bot.config import settings
from bot.services.care_start import care_start_note
from bot.services.enrollment import enroll_chat
from bot.services.patient_trend import patient_trend
from bot.services.registry import flags, registry
from bot.services.timers import fire_due_timers
from tests.integration.test_handoffs import press, slack_rows
from tests.store_fixtures import FIXTURES, START

DAYS = 112  # 16 weeks; the clock ticks once a day at 17:00 UTC (11:00 in Chicago, 12:00 after March 14)
RISK = "risk"  # this check-in's item 9 is "Several days": the crisis protocol, an urgent page
# name: (intake PHQ-9 total, what the intake leads to, the PHQ-9 totals of the check-ins at weeks 2, 4, ... 16;
# None: the check-in is left unanswered)
CLINIC = {
    "remits": (16, "accepted", [14, 11, 7, 4, 3, 3, 2, 2]),
    "stalls": (15, "accepted", [15, 14, 14, 13, 12, 12, 11, 11]),
    "responds": (20, "accepted", [18, 15, 12, 9, 8, 8, 8, 4]),  # remission only at the week-16 check-in
    "drops_out": (12, "accepted", [10, 8, 6, None, None, None, None, None]),
    "at_risk": (14, "accepted", [(12, RISK), 9, 6, 4, 4, 3, 3, 3]),
    "enrolled": (8, "clinician", [8, 9, 10, 11, 12, 12, 13, 13]),  # not offered; the care manager starts care
    "declined": (13, "declined", []),
}


def spread(total: int, items: int) -> list[int]:
    """Return item values (0-3) adding up to total, the larger first."""
    values = [min(3, max(0, total - 3 * i)) for i in range(items)]
    assert sum(values) == total
    return values


def typed(values: list[int]) -> list[str]:
    return [str(value + 1) for value in values]  # option numbers: "1" is "Not at all"


def intake(total: int) -> list[str]:
    """Return consent, the PHQ-2 (2, 2: positive) and the rest of the PHQ-9 with item 9 "Not at all"."""
    return ["I agree", "3", "3", *typed(spread(total - 4, 6)), "1", "2"]


def checkin(total: int, risk: bool) -> list[str]:
    """Return a PHQ-9 check-in's answers; a risk answer to item 9 is followed by "No" to the acuity question."""
    item9 = 1 if risk else 0
    return [*typed(spread(total - item9, 8)), str(item9 + 1), *(["2"] if risk else []), "2"]


def newest_page(services) -> str:
    """Return the ref of the page queued last."""
    return max(slack_rows(services, "page"), key=lambda row: row.id).ref


@pytest.fixture
def cli(monkeypatch, database_url):
    """Run the command line on the simulated clinic's database, as the clinic's staff would."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CAREBRIDGE_CONFIG", str(FIXTURES / "clinic.toml"))
    settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, list(args))
    settings.cache_clear()


@pytest.fixture
def followed(make_services, clock):
    """Run the clinic's 16 weeks; return the services, each patient's code and the day each flag first showed."""
    services = make_services()
    chats, codes = {}, {}
    for name, (total, path, _) in CLINIC.items():
        clock.advance(minutes=5)
        codes[name] = enroll_chat(services, "team", "console", name)
        chats[name] = ConsoleChat(services, name)
        chats[name].start()
        for text in intake(total):
            chats[name].type(text)
        if path in ("accepted", "declined"):
            chats[name].type("1" if path == "accepted" else "2")  # "Yes, connect me" or "Not now"
        if path == "accepted":
            clock.advance(minutes=10)
            assert press(services, "U0DANA", newest_page(services), key=name).status == "applied"
        if path == "clinician":
            assert care_start_note(services, "U0CARE", codes[name]).startswith(f"{codes[name]} is now in care")
    contact = {2: "remits", 40: "stalls"}  # the accepter reaches them on these days (the second one too late)
    answered = {name: 0 for name in CLINIC}
    first_flags: dict[tuple[str, str], int] = {}
    for day in range(1, DAYS + 1):
        clock.moment = START + timedelta(days=day, hours=2)
        fire_due_timers(services)
        for name, chat in chats.items():
            if not any(m["text"].startswith("Time for your regular check-in") for m in chat.deliver()):
                continue
            planned = CLINIC[name][2][answered[name]]
            answered[name] += 1
            if planned is None:
                continue
            total, risk = planned if isinstance(planned, tuple) else (planned, None)
            for text in checkin(total, risk == RISK):
                chat.type(text)
            if risk == RISK:
                clock.advance(minutes=20)
                assert press(services, "U0DANA", newest_page(services), key="crisis").status == "applied"
        if day in contact:
            ref = [r for r in slack_rows(services, "page") if codes[contact[day]] in str(r.payload)][0].ref
            assert press(services, "U0DANA", ref, "contact_made", key=f"contact-{day}").status == "applied"
        for entry in registry(services):
            for flag in flags(entry):
                first_flags.setdefault((entry.patient, flag), day)
    assert answered == {name: len(script) for name, (_, _, script) in CLINIC.items()}  # every check-in came
    return services, codes, first_flags


def test_the_registry_flags_exactly_the_patients_who_should_be_flagged_from_the_right_week(followed):
    services, codes, first_flags = followed
    entries = {entry.patient: entry for entry in registry(services)}
    name_of = {code: name for name, code in codes.items()}
    assert [name_of[code] for code in entries] == ["stalls", "enrolled", "drops_out", "at_risk", "remits", "responds"]
    assert {name_of[code]: flags(entry) for code, entry in entries.items()} == {
        "stalls": ["case_review"], "enrolled": ["case_review"], "drops_out": ["overdue"],
        "at_risk": ["suicide_risk"], "remits": [], "responds": []}
    assert {(name_of[code], flag): day for (code, flag), day in first_flags.items()} == {
        ("stalls", "case_review"): 70, ("enrolled", "case_review"): 70,  # week 10 without a response
        ("drops_out", "overdue"): 60,  # due on day 56, three days' grace
        ("at_risk", "suicide_risk"): 14,
    }
    remits = {t.instrument: t for t in entries[codes["remits"]].trends}["phq9"]
    assert (remits.baseline.total, remits.latest.total, remits.response, remits.remission) == (16, 2, True, True)


def test_the_report_matches_the_hand_count(followed, cli, tmp_path):
    out = tmp_path / "report.csv"
    result = cli("report", "--from", "2026-11-24", "--to", "2027-03-16", "--clinic", "team", "--csv", str(out))
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as source:
        found = {(row[0]): row[1:4] for row in list(csv.reader(source))[1:]}
    assert found["Screening rate"] == ["50", "55", "90.9"]  # 7 intakes + 48 check-ins; drops_out did 3 of 8
    assert found["Positive rate, PHQ-2"] == ["7", "7", "100.0"]
    assert found["Positive rate, PHQ-9"] == ["27", "50", "54.0"]  # intake 6 of 7; check-ins 2+8+3+1+1+6 of 43
    assert found["Handoffs created"][0] == "6"  # 5 accepted offers and the crisis page
    assert found["Acceptance rate"] == ["6", "6", "100.0"]
    assert found["Time to accept, p50"][1:] == ["6", "10.0"] and found["Time to accept, p90"][1:] == ["6", "20.0"]
    assert found["Engagement after referral"] == ["1", "5", "20.0"]  # remits on day 2; stalls on day 40 is late
    # at 8-16 weeks: remits 16->2, responds 20->4 (its late week-16 check-in counts), at_risk 14->3: response and
    # remission; stalls 15->11 and enrolled 8->13: neither; drops_out has no score after week 6
    assert found["Response at 8-16 weeks (PHQ-9)"] == ["3", "5", "60.0"]
    assert found["Remission at 8-16 weeks (PHQ-9)"] == ["3", "5", "60.0"]
    assert found["Crisis protocols started"][0] == "1"


def test_the_chart_shows_the_trend_with_its_thresholds(followed):
    services, codes, _ = followed
    found = patient_trend(services, "U0BEN", codes["remits"])
    care = services.flow.config.care
    figure = trend_figure(found.entry, found.title, {"remission": "{instrument} remission",
                          "response": "{instrument} response", "care_started": "care", "score": "score"},
                          care.remission_below, care.response_drop)
    [axes] = figure.axes
    scores, remission, response, started = axes.get_lines()
    assert list(scores.get_ydata()) == [16, 14, 11, 7, 4, 3, 3, 2, 2]
    assert set(remission.get_ydata()) == {4.5} and set(response.get_ydata()) == {8.0}
    assert axes.get_title().startswith(f"{codes['remits']} · Team Clinic · week 16 in care")


def test_every_patients_fhir_export_validates(followed, cli, tmp_path):
    services, codes, _ = followed
    result = cli("export", "fhir", "--all", "--clinic", "team", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for name, code in codes.items():
        bundle = Bundle.model_validate_json((tmp_path / f"{code}.json").read_text(encoding="utf-8"))
        observations = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"]
        phq9 = [o.valueInteger for o in observations if o.code.coding[0].code == "44261-6"]
        assert phq9 == [CLINIC[name][0]] + [p[0] if isinstance(p, tuple) else p for p in CLINIC[name][2] if p]
