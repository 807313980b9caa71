"""Every shipped instrument scores answer vectors exactly as its source paper defines."""

from __future__ import annotations

import itertools
import random

import pytest

RNG_SEED = 20261124


def phq9_band(total: int) -> str:
    """Return the PHQ-9 severity band of Kroenke 2001."""
    for upper, band in ((4, "minimal"), (9, "mild"), (14, "moderate"), (19, "moderately_severe"), (27, "severe")):
        if total <= upper:
            return band
    raise AssertionError(total)


def gad7_band(total: int) -> str:
    """Return the GAD-7 severity band of Spitzer 2006."""
    for upper, band in ((4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe")):
        if total <= upper:
            return band
    raise AssertionError(total)


def phq9_vectors() -> list[tuple[int, ...]]:
    """Return a sample of PHQ-9 answer vectors that includes every total and both item-9 states."""
    rng = random.Random(RNG_SEED)
    vectors = {tuple(rng.randint(0, 3) for _ in range(9)) for _ in range(4000)}
    for total in range(28):
        for item9 in range(4):
            rest = total - item9
            if 0 <= rest <= 24:
                first8 = [3] * (rest // 3) + ([rest % 3] if rest % 3 else [])
                vectors.add(tuple(first8 + [0] * (8 - len(first8)) + [item9]))
    return sorted(vectors)


def test_phq9_total_band_cut_off_and_item9_flag(score_list):
    mismatches = []
    for answers in phq9_vectors():
        result = score_list("phq9", answers)
        total = sum(answers)
        expected = (total, phq9_band(total), total >= 10, ("suicide_risk",) if answers[8] >= 1 else ())
        got = (result.total, result.band, result.positive, result.flags)
        if got != expected:
            mismatches.append((answers, got, expected))
    assert mismatches == []


@pytest.mark.parametrize("difficulty", [None, 0, 1, 2, 3])
def test_phq9_difficulty_item_is_not_scored(score_list, difficulty):
    answers = (1, 1, 1, 1, 1, 1, 1, 1, 0)
    assert score_list("phq9", answers + (difficulty,)).total == 8


def test_phq9_item9_alone_raises_suicide_risk_with_a_minimal_total(score_list):
    result = score_list("phq9", (0, 0, 0, 0, 0, 0, 0, 0, 1))
    assert (result.total, result.band, result.positive, result.flags) == (1, "minimal", False, ("suicide_risk",))


def test_gad7_every_answer_vector(score_list):
    mismatches = []
    for answers in itertools.product(range(4), repeat=7):
        result = score_list("gad7", answers)
        total = sum(answers)
        expected = (total, gad7_band(total), total >= 10, ())
        got = (result.total, result.band, result.positive, result.flags)
        if got != expected:
            mismatches.append((answers, got, expected))
    assert mismatches == []


@pytest.mark.parametrize("instrument_id", ["phq2", "gad2"])
@pytest.mark.parametrize("answers", list(itertools.product(range(4), repeat=2)))
def test_two_item_screens_positive_at_three(score_list, instrument_id, answers):
    result = score_list(instrument_id, answers)
    total = sum(answers)
    assert (result.total, result.band, result.positive, result.flags) == (total, None, total >= 3, ())


@pytest.mark.parametrize("sex", [None, "female", "male"])
@pytest.mark.parametrize("answers", list(itertools.product(range(5), repeat=3)))
def test_auditc_sex_specific_cut_off_and_never_drinker_rule(score_list, answers, sex):
    result = score_list("auditc", answers, sex)
    total = 0 if answers[0] == 0 else sum(answers)
    cut_off = 4 if sex == "male" else 3
    assert (result.total, result.band, result.positive) == (total, None, total >= cut_off)


def test_auditc_never_drinker_may_skip_the_other_questions(score_list):
    result = score_list("auditc", (0,))
    assert (result.total, result.positive) == (0, False)


@pytest.mark.parametrize("answer", [0, 1, 2])
def test_single_question_drug_screen_positive_at_any_use(score_list, answer):
    result = score_list("drug_use", (answer,))
    assert (result.total, result.positive) == (answer, answer >= 1)


@pytest.mark.parametrize("answers", list(itertools.product(range(2), repeat=6)))
def test_pcptsd5_trauma_gate_and_cut_off_three(score_list, answers):
    result = score_list("pcptsd5", answers)
    exposed, symptoms = answers[0], answers[1:]
    total = sum(symptoms) if exposed else 0
    assert (result.total, result.positive) == (total, exposed == 1 and total >= 3)


def test_pcptsd5_without_trauma_asks_nothing_more(score_list):
    result = score_list("pcptsd5", (0,))
    assert (result.total, result.positive) == (0, False)
    assert len(result.skipped) == 5


@pytest.mark.parametrize("answers", list(itertools.product(range(2), repeat=4)))
@pytest.mark.parametrize("acute", [0, 1])
def test_asq_positive_on_any_yes_and_acute_on_question_five(score_list, answers, acute):
    screen_positive = sum(answers) >= 1
    values = answers + ((acute,) if screen_positive else (None,))
    result = score_list("asq", values)
    expected_flags = []
    if screen_positive:
        expected_flags.append("suicide_risk")
        if acute:
            expected_flags.append("acute_suicide_risk")
    assert result.positive is screen_positive
    assert sorted(result.flags) == sorted(expected_flags)


def test_asq_acuity_question_is_required_after_a_yes(score_list):
    from bot.instruments import AnswerError

    with pytest.raises(AnswerError) as raised:
        score_list("asq", (0, 1, 0, 0))
    assert raised.value.item.id == "q5"


HRSN_NONE = (0, "0", 0, 0, 0, 0, 1, 1, 1, 1)


def hrsn_expected(v) -> set[str]:
    """Return the domain flags of the CMS AHC HRSN tool for one answer vector."""
    flags = set()
    if v[0] in (1, 2):
        flags.add("housing_instability")
    if v[1] != "0":
        flags.add("housing_quality")
    if v[2] in (1, 2) or v[3] in (1, 2):
        flags.add("food_insecurity")
    if v[4] == 1:
        flags.add("transportation_need")
    if v[5] in (1, 2):
        flags.add("utility_need")
    if sum(v[6:10]) > 10:
        flags.add("interpersonal_safety")
    return flags


def hrsn_vectors() -> list[tuple]:
    """Return HRSN answer vectors: every single-domain change and a random sample."""
    rng = random.Random(RNG_SEED)
    vectors = {HRSN_NONE}
    problems = ["0", "1", "3", "1+2", "2+5+7", "4+6"]
    for index, choices in ((0, [0, 1, 2]), (1, problems), (2, [0, 1, 2]), (3, [0, 1, 2]), (4, [0, 1]), (5, [0, 1, 2])):
        for choice in choices:
            vectors.add(HRSN_NONE[:index] + (choice,) + HRSN_NONE[index + 1 :])
    for safety in itertools.product(range(1, 6), repeat=4):
        if sum(safety) in (4, 10, 11, 20) or rng.random() < 0.05:
            vectors.add(HRSN_NONE[:6] + safety)
    for _ in range(300):
        vectors.add(
            (rng.randint(0, 2), rng.choice(problems), rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 1),
             rng.randint(0, 2)) + tuple(rng.randint(1, 5) for _ in range(4))
        )
    return sorted(vectors, key=str)


@pytest.mark.parametrize("answers", hrsn_vectors(), ids=str)
def test_hrsn_domains_and_interpersonal_safety_sum(score_list, answers):
    result = score_list("hrsn", answers)
    expected = hrsn_expected(answers)
    assert set(result.flags) == expected
    assert result.positive is bool(expected)
    assert result.total is None
    assert result.subscales["safety"] == sum(answers[6:10])
