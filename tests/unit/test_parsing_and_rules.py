"""Reading typed answers and evaluating the clinic's threshold rules."""

from __future__ import annotations

import pytest

from bot.adapters.presenter import load_words
from bot.clinic_config import Rule
from bot.config import data_dir
from bot.flows.parsing import contains_crisis_phrase, fold, parse_answer
from bot.flows.rules import matching_rules, reason_line, rule_matches
from bot.instruments import score

WORDS = load_words(data_dir("messages"))


@pytest.mark.parametrize(
    "typed, value",
    [("1", 0), (" 4 ", 3), ("Several days", 1), ("SEVERAL DAYS.", 1), ("varios dias", 1), ("Más de la mitad de los días", 2),
     ("0", None), ("5", None), ("several", None), ("", None), ("x" * 5000, None), ("1 2", None)],
)
def test_phq9_answers_typed_as_numbers_or_words(catalog, typed, value):
    phq9 = catalog["phq9"]
    assert parse_answer(phq9, phq9.item("q1"), typed, WORDS) == value


@pytest.mark.parametrize("typed, value", [("yes", 1), ("Sí", 1), ("si", 1), ("NO", 0), ("1", 1), ("2", 0), ("maybe", None)])
def test_yes_no_items_accept_yes_and_no_words_in_both_languages(catalog, typed, value):
    pcptsd5 = catalog["pcptsd5"]
    assert parse_answer(pcptsd5, pcptsd5.item("trauma"), typed, WORDS) == value


@pytest.mark.parametrize(
    "typed, chosen", [("1,3", {1, 3}), ("1 3 7", {1, 3, 7}), ("8", {0}), ("8,1", None), ("9", None), ("uno", None)]
)
def test_multiple_choice_answers(catalog, typed, chosen):
    hrsn = catalog["hrsn"]
    answer = parse_answer(hrsn, hrsn.item("q2"), typed, WORDS)
    assert (set(answer) if answer is not None else None) == chosen


def test_fold_removes_case_accents_and_invisible_characters():
    assert fold("  \u200bÁtRÁS!  ") == "atras"


@pytest.mark.parametrize(
    "text, found",
    [("I want to DIE", True), ("quiero morir", True), ("Quiero MORÍR", True), ("I want to dine out", False), ("", False)],
)
def test_crisis_phrases_match_without_case_or_accents(text, found):
    assert contains_crisis_phrase(text, ["want to die", "quiero morir"]) is found


@pytest.mark.parametrize("text", ["i want\u200bto\u200bdie", "I WANT\u2060TO\u200cDIE", "iwanttodie", "quiero\u200bmorir",
                                  "want to\u00a0die"])
def test_crisis_phrases_match_when_words_are_joined_or_split_only_by_invisible_characters(text):
    # A false alarm is safe, a missed one is not: "want⁠to⁠die" reads as words to the patient.
    assert contains_crisis_phrase(text, ["want to die", "quiero morir"]) is True


def phq9_score(catalog, total_answers):
    answers = {f"q{i}": v for i, v in enumerate(total_answers, start=1)}
    return score(catalog["phq9"], answers)


@pytest.mark.parametrize(
    "field, op, value, expected",
    [("total", ">=", 10, True), ("total", ">=", 11, False), ("band", "==", "moderate", True),
     ("band", "in", ["mild", "moderate"], True), ("positive", "==", True, True), ("flags", "contains", "suicide_risk", False),
     ("total", "<", "ten", False)],
)
def test_rule_comparisons(catalog, field, op, value, expected):
    result = phq9_score(catalog, [2, 2, 2, 2, 1, 1, 0, 0, 0])
    rule = Rule(instrument="phq9", field=field, op=op, value=value, action="offer", urgency="routine")
    assert rule_matches(rule, result) is expected


def test_rules_only_match_their_instrument_and_reason_line_reads_like_a_page(catalog):
    phq9 = phq9_score(catalog, [3, 3, 3, 3, 2, 2, 0, 0, 0])
    gad7 = score(catalog["gad7"], {f"q{i}": 2 for i in range(1, 8)})
    rules = [Rule(instrument="gad7", field="total", op=">=", value=10, action="offer", urgency="routine")]
    assert matching_rules(rules, [phq9]) == []
    assert matching_rules(rules, [phq9, gad7]) == rules
    assert reason_line([phq9, gad7], catalog) == "PHQ-9 16 · moderately severe · GAD-7 14 · moderate"
