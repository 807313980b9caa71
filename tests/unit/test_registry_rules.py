"""The registry's arithmetic on hand-made score histories: response, remission, change, the flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.care_config import Care
from bot.domain.registry import Measure, registry_entry

START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # care starts (a handoff was accepted)
CARE = Care()


def week(n: float) -> datetime:
    return START + timedelta(weeks=n)


def phq9(total: int, at: datetime, **kw) -> Measure:
    return Measure("phq9", total, at, positive=total >= 10, **kw)


def entry(measures, now_week: float):
    return registry_entry(CARE, "P-1", "c", START, measures, week(now_week))


def test_a_patient_whose_phq9_halves_responds_and_below_5_remits():
    history = [phq9(18, week(-0.1)), phq9(12, week(2)), phq9(9, week(4)), phq9(4, week(8))]
    [phq] = entry(history, 8).trends
    assert (phq.baseline.total, phq.latest.total, phq.change) == (18, 4, -14)
    assert phq.response and phq.remission and phq.important_change
    assert entry(history[:3], 4).trends[0].response  # 18 -> 9 is exactly half: a response
    assert not entry(history[:2], 2).trends[0].response and entry(history[:2], 2).trends[0].important_change


def test_no_response_by_week_10_puts_the_patient_on_case_review_not_before():
    history = [phq9(16, week(0)), phq9(15, week(2)), phq9(14, week(4)), phq9(13, week(6)), phq9(12, week(8))]
    assert not entry(history, 9.9).not_improving
    assert entry(history, 10).not_improving
    improving = history + [phq9(7, week(9.5))]
    assert not entry(improving, 10).not_improving


def test_a_check_in_more_than_3_days_late_is_overdue():
    history = [phq9(16, week(0)), phq9(15, week(2))]
    assert not entry(history, 4 + 3 / 7).overdue  # due at week 4, three days of grace
    assert entry(history, 4 + 3.5 / 7).overdue


def test_gad7_is_followed_only_when_the_intake_was_positive_and_suicide_risk_is_remembered():
    gad_negative = [phq9(12, week(0), suicide_risk=True), Measure("gad7", 6, week(0), positive=False)]
    checked = entry(gad_negative + [phq9(11, week(2))], 2)
    assert [t.instrument for t in checked.trends] == ["phq9"] and checked.suicide_risk
    gad_positive = [phq9(12, week(0)), Measure("gad7", 15, week(0), positive=True), Measure("gad7", 7, week(2))]
    both = entry(gad_positive, 2)
    assert [t.instrument for t in both.trends] == ["phq9", "gad7"] and both.trends[1].response
    assert not both.suicide_risk


def test_the_registry_sorts_case_review_then_overdue_first():
    review = entry([phq9(16, week(0)), phq9(16, week(10))], 10.5)
    late = entry([phq9(16, week(0)), phq9(6, week(2))], 5)
    fine = entry([phq9(16, week(0)), phq9(6, week(2))], 2.5)
    assert sorted([fine, late, review], key=lambda e: e.sort_key()) == [review, late, fine]
