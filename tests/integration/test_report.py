"""`carebridge report`: every seed KPI of a known data set, counted by hand, with its range, clinic and CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from bot.cli import app
from bot.config import settings
from bot.services.enrollment import enroll_chat
from bot.store.tables import ANSWER, AUDIT, CLINIC, HANDOFF, PATIENT, SCORE, SCREENING
from tests.integration.test_handoffs import press, slack_rows
from tests.store_fixtures import FIXTURES

runner = CliRunner()
refs = count(1)
A_REPLIES = ["I agree", "3", "3", "2", "2", "2", "2", "2", "1", "2", "No", "2"]  # item 9 = 1: crisis; PHQ-9 = 10
B_REPLIES = ["I agree", "3", "3", "2", "2", "2", "2", "2", "2", "1", "2", "Yes, connect me"]  # PHQ-9 = 10: offer


def t(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def cli(monkeypatch, database_url):
    """Run `carebridge report` on the test database, wide enough that no result wraps."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CAREBRIDGE_CONFIG", str(FIXTURES / "clinic.toml"))
    monkeypatch.setenv("COLUMNS", "250")
    settings.cache_clear()
    yield lambda *args: runner.invoke(app, ["report", *args])
    settings.cache_clear()


def replies(chat, clock, texts: list[str]) -> None:
    chat.start()
    for text in texts:
        clock.advance(minutes=1)
        chat.type(text)


class Rows:
    """Direct Core inserts for the bulk of the data set."""

    def __init__(self, services):
        self.services, self.engine = services, services.store.engine

    def patient(self, clinic: str, chat_id: str, care_started_at: datetime | None = None) -> int:
        code = enroll_chat(self.services, clinic, "console", chat_id)
        with self.engine.begin() as conn:
            patient_id = conn.execute(select(PATIENT.c.id).where(PATIENT.c.code == code)).scalar_one()
            conn.execute(update(PATIENT).where(PATIENT.c.id == patient_id).values(care_started_at=care_started_at))
        return patient_id

    def screening(self, patient_id: int, started_at: datetime, status: str = "completed", trigger: str = "checkin",
                  plan: str = "mood") -> int:
        with self.engine.begin() as conn:
            return conn.execute(insert(SCREENING).values(
                ref=f"S-R{next(refs)}", patient_id=patient_id, plan=plan, trigger=trigger, status=status,
                started_at=started_at, updated_at=started_at)).inserted_primary_key[0]

    def score(self, patient_id: int, instrument: str, total: int, positive: bool, at: datetime) -> int:
        """Insert a completed check-in screening started 30 minutes before, scored at `at`."""
        screening_id = self.screening(patient_id, at - timedelta(minutes=30))
        with self.engine.begin() as conn:
            conn.execute(insert(SCORE).values(screening_id=screening_id, patient_id=patient_id, instrument=instrument,
                                              total=total, positive=positive, flags=[], subscales={}, scored_at=at))
        return screening_id

    def answers(self, screening_id: int, *moments: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(ANSWER), [{"screening_id": screening_id, "instrument": "phq9", "item": f"q{i}",
                                           "value": 1, "seq": i, "answered_at": m} for i, m in enumerate(moments, 1)])

    def handoff(self, patient_id: int, clinic: str, urgency: str, source: str, created_at: datetime,
                accepted_at: datetime | None = None, screening_id: int | None = None) -> str:
        ref = f"H-R{next(refs)}"
        with self.engine.begin() as conn:
            clinic_id = conn.execute(select(CLINIC.c.id).where(CLINIC.c.slug == clinic)).scalar_one()
            conn.execute(insert(HANDOFF).values(
                ref=ref, patient_id=patient_id, clinic_id=clinic_id, screening_id=screening_id, urgency=urgency,
                reason="test", source=source, status="accepted" if accepted_at else "open", created_at=created_at,
                updated_at=created_at, accepted_at=accepted_at, accepted_by="U0DANA" if accepted_at else None))
        return ref

    def audit(self, patient_id: int, action: str, at: datetime, **detail) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(AUDIT).values(at=at, actor="system", action=action, patient_id=patient_id,
                                              detail=detail))


@pytest.fixture
def data(make_services, patient_chat, clock):
    """Build the data set: four patients through the real flows (11-24 15:00 on), the rest by direct inserts."""
    services = make_services()
    a = patient_chat("team", "a", services=services)
    replies(a, clock, A_REPLIES)  # crisis at q9 15:10: urgent handoff from 'item'; screening completed
    b = patient_chat("team", "b", services=services)
    replies(b, clock, B_REPLIES)  # routine handoff from 'screening' at 15:24
    replies(patient_chat("team", "c", services=services), clock, ["I agree", "1", "1"])  # PHQ-2 negative
    replies(patient_chat("team", "d", services=services), clock, ["I agree", "3"])  # left open
    page_a, page_b = [row.ref for row in slack_rows(services, "page")]
    clock.moment = t(2026, 11, 24, 15, 30)
    assert press(services, "U0DANA", page_a).status == "applied"  # 20 min after 15:10
    clock.moment = t(2026, 11, 24, 15, 54)
    assert press(services, "U0BEN", page_b).status == "applied"  # 30 min after 15:24
    clock.moment = t(2026, 11, 26, 9, 0)
    assert press(services, "U0DANA", page_a, "contact_made").status == "applied"

    rows = Rows(services)
    e = rows.patient("team", "e")
    rows.score(e, "gad7", 12, True, t(2026, 11, 23, 23, 59, 59))  # out (screening out too)
    s_e_in = rows.score(e, "gad7", 11, True, t(2026, 11, 24))  # in; its screening 11-23 23:30 is out
    rows.score(e, "gad7", 3, False, t(2026, 11, 30, 23, 59, 59))  # in; screening in
    rows.score(e, "gad7", 14, True, t(2026, 12, 1))  # out; its screening 11-30 23:30 is in
    rows.screening(e, t(2026, 11, 24), status="stopped")  # in
    rows.screening(e, t(2026, 11, 30, 23, 59, 59), status="expired")  # in
    s_x3 = rows.screening(e, t(2026, 11, 23, 23, 59, 59))  # out
    rows.screening(e, t(2026, 12, 1))  # out
    rows.screening(e, t(2026, 11, 25, 8), trigger="crisis_phrase", plan="crisis")  # crisis protocol: not offered
    care = t(2026, 9, 15, 12)
    p1, p2, p3 = rows.patient("team", "p1", care), rows.patient("team", "p2", care), rows.patient("team", "p3", care)
    p4, p5 = rows.patient("team", "p4", t(2026, 10, 20, 12)), rows.patient("team", "p5", care)
    p6, p7 = rows.patient("team", "p6"), rows.patient("team", "p7", t(2026, 8, 4))
    for patient_id, total, positive, moment in [
        (p1, 20, True, t(2026, 9, 14, 12)), (p1, 14, True, t(2026, 10, 13, 12)), (p1, 9, False, t(2026, 11, 25, 12)),
        (p2, 16, True, t(2026, 9, 15, 12)), (p2, 4, False, t(2026, 11, 26, 12)), (p2, 2, False, t(2026, 12, 10, 12)),
        (p3, 12, True, t(2026, 9, 10, 12)), (p4, 15, True, t(2026, 10, 19, 12)), (p4, 3, False, t(2026, 11, 28, 12)),
        (p5, 18, True, t(2026, 9, 14, 12)), (p5, 4, False, t(2026, 11, 12, 12)),
        (p7, 18, True, t(2026, 8, 3)), (p7, 8, False, t(2026, 11, 24)), (p7, 2, False, t(2026, 11, 25)),
    ]:
        rows.score(patient_id, "phq9", total, positive, moment)
    s_p3 = rows.score(p3, "phq9", 10, True, t(2026, 11, 27, 12))
    s_p6 = rows.score(p6, "phq9", 12, True, t(2026, 11, 29, 12))
    rows.answers(s_p6, t(2026, 11, 29, 11, 40), t(2026, 11, 29, 11, 52), t(2026, 11, 29, 12, 30))
    rows.answers(s_e_in, t(2026, 11, 23, 23, 45), t(2026, 11, 23, 23, 58))
    rows.answers(s_x3, t(2026, 11, 23, 23, 49, 59))
    h1 = rows.handoff(p3, "team", "routine", "screening", t(2026, 11, 27, 12), t(2026, 11, 27, 12, 5), s_p3)
    h2 = rows.handoff(p6, "team", "urgent", "screening", t(2026, 11, 29, 12), t(2026, 11, 29, 13), s_p6)
    rows.handoff(e, "team", "routine", "screening", t(2026, 11, 24, 0, 0, 30), None, s_x3)
    rows.handoff(e, "team", "routine", "consult", t(2026, 11, 30, 23, 59, 59), t(2026, 12, 1, 0, 9, 59))
    rows.handoff(e, "team", "crisis", "item", t(2026, 11, 24), None, s_e_in)
    rows.handoff(e, "team", "urgent", "screening", t(2026, 11, 23, 23, 59, 59), t(2026, 11, 24, 0, 29, 59), s_x3)
    rows.handoff(e, "team", "routine", "consult", t(2026, 12, 1))
    rows.audit(p3, "handoff_contact_made", t(2026, 12, 27, 12), handoff=h1)  # exactly 30 days after the score
    rows.audit(p6, "handoff_contact_made", t(2026, 12, 29, 12, 1), handoff=h2)  # 30 days and a minute
    rows.audit(e, "crisis_protocol", t(2026, 11, 24), source="item")
    rows.audit(e, "crisis_protocol", t(2026, 11, 23, 23, 59, 59), source="item")

    m = rows.patient("mood", "m")
    s_m = rows.score(m, "phq9", 15, True, t(2026, 11, 26, 12))
    hm = rows.handoff(m, "mood", "routine", "screening", t(2026, 11, 26, 12), t(2026, 11, 26, 12, 40), s_m)
    rows.audit(m, "handoff_contact_made", t(2026, 11, 27), handoff=hm)
    rows.audit(m, "crisis_protocol", t(2026, 11, 26, 12), source="crisis_phrase")
    return services


def figures(path) -> dict[str, list[str]]:
    with path.open(encoding="utf-8", newline="") as source:
        table = list(csv.reader(source))
    assert table[0] == ["figure", "numerator", "denominator", "value", "unit", "definition"]
    return {row[0]: row[1:5] for row in table[1:]}


def test_the_team_clinics_week_matches_the_hand_count(cli, data, tmp_path):
    out = tmp_path / "team.csv"
    result = cli("--from", "2026-11-24", "--to", "2026-11-30", "--clinic", "team", "--csv", str(out))
    assert result.exit_code == 0, result.output
    assert figures(out) == {
        # offered: intake A B C D + check-ins: 8 scored (E 2, P1-P4, P6, P7 11-25) + stopped + expired; crisis not
        "Screening rate": ["11", "14", "78.6", "%"],
        "Screening rate, checkin": ["8", "10", "80.0", "%"],
        "Screening rate, intake": ["3", "4", "75.0", "%"],  # D left open
        "Positive rate, GAD-7": ["1", "2", "50.0", "%"],  # E 11-24 00:00 +, 11-30 23:59:59 -
        "Positive rate, PHQ-2": ["2", "3", "66.7", "%"],  # A +, B +, C -
        "Positive rate, PHQ-9": ["4", "9", "44.4", "%"],  # A B P3 P6 +; P1 P2 P4 P7 P7 -
        "Handoffs created": ["7", "", "7", "count"],  # A B H1 H2 + E: 00:00:30, consult 23:59:59, crisis 00:00
        "Handoffs, routine": ["4", "7", "57.1", "%"],  # B H1 E E
        "Handoffs, urgent": ["2", "7", "28.6", "%"],  # A H2
        "Handoffs, crisis": ["1", "7", "14.3", "%"],  # E
        "Handoffs from consults": ["1", "7", "14.3", "%"],
        "Handoffs from a suicide-risk item": ["2", "7", "28.6", "%"],
        "Handoffs from screenings": ["4", "7", "57.1", "%"],
        "Acceptance rate": ["5", "7", "71.4", "%"],  # all but E's two open ones
        "Time to accept, p50": ["", "5", "20.0", "minutes"],  # sorted 5 10 20 30 60: rank ceil(2.5) = 3
        "Time to accept, p90": ["", "5", "60.0", "minutes"],  # rank ceil(4.5) = 5
        "Engagement after referral": ["2", "5", "40.0", "%"],  # A, P3 (30 days); not B, P6 (30 d 1 min), E
        "Response at 8-16 weeks (PHQ-9)": ["3", "4", "75.0", "%"],  # P1 20->9, P2 16->4, P7 18->8; not P3 12->10
        "Remission at 8-16 weeks (PHQ-9)": ["1", "4", "25.0", "%"],  # P2 (4 < 5); P7's 2 is past week 16
        "Crisis protocols started": ["2", "", "2", "count"],  # A, E 00:00
        "Answer to page, p50": ["", "3", "2.0", "minutes"],  # A 0, E 2 (23:58), P6 8 (11:52): rank 2
        "Answer to page, p90": ["", "3", "8.0", "minutes"],  # rank ceil(2.7) = 3
    }
    assert "Screening rate" in result.output and "11/14 = 78.6%" in result.output
    assert "20.0 min (n=5)" in result.output and "2026-11-24 to 2026-11-30" in result.output
    assert "the screening's last answer at or before it" in out.read_text(encoding="utf-8")


def test_all_clinics_add_the_mood_clinics_rows(cli, data, tmp_path):
    out = tmp_path / "all.csv"
    assert cli("--from", "2026-11-24", "--to", "2026-11-30", "--csv", str(out)).exit_code == 0
    found = figures(out)
    assert found["Screening rate"] == ["12", "15", "80.0", "%"]  # team 11/14 + M's check-in
    assert found["Positive rate, PHQ-9"] == ["5", "10", "50.0", "%"]
    assert found["Handoffs created"] == ["8", "", "8", "count"]
    assert found["Acceptance rate"] == ["6", "8", "75.0", "%"]
    assert found["Time to accept, p50"] == ["", "6", "20.0", "minutes"]  # 5 10 20 30 40 60: rank 3
    assert found["Time to accept, p90"] == ["", "6", "60.0", "minutes"]  # rank ceil(5.4) = 6
    assert found["Engagement after referral"] == ["3", "6", "50.0", "%"]
    assert found["Crisis protocols started"] == ["3", "", "3", "count"]


def test_the_days_either_side_of_the_range_hold_exactly_the_boundary_rows(cli, data, tmp_path):
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    assert cli("--from", "2026-11-23", "--to", "2026-11-23", "--clinic", "team", "--csv", str(before)).exit_code == 0
    assert cli("--from", "2026-12-01", "--to", "2026-12-01", "--clinic", "team", "--csv", str(after)).exit_code == 0
    day_before, day_after = figures(before), figures(after)
    # 11-23: E's screenings of 23:29:59, 23:30 (gad7 11-24 00:00) and 23:59:59, P7's of 23:30
    assert day_before["Screening rate"] == ["4", "4", "100.0", "%"]
    assert day_before["Positive rate, GAD-7"] == ["1", "1", "100.0", "%"]
    assert day_before["Handoffs created"] == ["1", "", "1", "count"]
    assert day_before["Time to accept, p50"] == ["", "1", "30.0", "minutes"]  # 23:59:59 -> 00:29:59
    assert day_before["Answer to page, p90"] == ["", "1", "10.0", "minutes"]  # 23:49:59 -> 23:59:59
    assert day_before["Crisis protocols started"] == ["1", "", "1", "count"]
    assert day_after["Screening rate"] == ["1", "1", "100.0", "%"]  # 12-01 00:00
    assert day_after["Positive rate, GAD-7"] == ["1", "1", "100.0", "%"]
    assert day_after["Acceptance rate"] == ["0", "1", "0.0", "%"]
    assert day_after["Crisis protocols started"] == ["0", "", "0", "count"]


def test_a_range_with_nothing_shows_n_a_for_every_zero_denominator(cli, data, tmp_path):
    out = tmp_path / "empty.csv"
    result = cli("--from", "2025-01-01", "--to", "2025-01-31", "--csv", str(out))
    assert result.exit_code == 0
    assert figures(out) == {
        "Screening rate": ["0", "0", "n/a", "%"], "Handoffs created": ["0", "", "0", "count"],
        "Acceptance rate": ["0", "0", "n/a", "%"], "Time to accept, p50": ["", "0", "n/a", "minutes"],
        "Time to accept, p90": ["", "0", "n/a", "minutes"], "Engagement after referral": ["0", "0", "n/a", "%"],
        "Response at 8-16 weeks (PHQ-9)": ["0", "0", "n/a", "%"], "Remission at 8-16 weeks (PHQ-9)": ["0", "0", "n/a", "%"],
        "Crisis protocols started": ["0", "", "0", "count"], "Answer to page, p50": ["", "0", "n/a", "minutes"],
        "Answer to page, p90": ["", "0", "n/a", "minutes"],
    }
    assert "0/0 = n/a" in result.output and "n/a (n=0)" in result.output


@pytest.mark.parametrize("args, message", [
    (("--from", "2026-11-30", "--to", "2026-11-24"), "--to is before --from"),
    (("--from", "2026-11-24", "--to", "2026-11-30", "--clinic", "nowhere"), "unknown clinic 'nowhere'"),
    (("--from", "2026-13-01", "--to", "2026-11-30"), "Invalid value"),
])
def test_bad_usage_exits_2_saying_why(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2 and message in result.output
