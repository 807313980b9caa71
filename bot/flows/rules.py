"""Evaluate the clinic's threshold rules (data) against scores."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping

from bot.clinic_config import URGENCY_ORDER, Rule
from bot.instruments.schema import Instrument
from bot.instruments.scoring import Score

_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne}


def rule_matches(rule: Rule, result: Score) -> bool:
    """Say whether one rule holds for one instrument's score."""
    if rule.instrument != result.instrument:
        return False
    if rule.field == "flags":
        actual: object = list(result.flags)
    elif rule.field.startswith("subscale:"):
        actual = result.subscales.get(rule.field.split(":", 1)[1])
    else:
        actual = getattr(result, rule.field)
    if actual is None:
        return False
    if rule.op == "contains":
        return isinstance(actual, list) and rule.value in actual
    if rule.op == "in":
        return isinstance(rule.value, list) and actual in rule.value
    try:
        return bool(_COMPARE[rule.op](actual, rule.value))
    except TypeError:
        return False


def matching_rules(rules: Iterable[Rule], scores: Iterable[Score]) -> list[Rule]:
    """Return every rule that holds for any of the scores."""
    scores = list(scores)
    return [rule for rule in rules if any(rule_matches(rule, s) for s in scores)]


def highest_urgency(rules: Iterable[Rule]) -> str:
    """Return the most urgent urgency among rules."""
    return max((r.urgency for r in rules), key=URGENCY_ORDER.__getitem__)


def reason_line(scores: Iterable[Score], catalog: Mapping[str, Instrument]) -> str:
    """Summarise positive scores for clinicians in one line: 'PHQ-9 16 · moderately severe · GAD-7 12'."""
    parts: list[str] = []
    for result in scores:
        if not result.positive:
            continue
        inst = catalog[result.instrument]
        if result.total is None:
            labels = [f.label["en"] for f in inst.flags if f.id in result.flags]
            parts.append(f"{inst.short_title}: {', '.join(labels)}")
            continue
        parts.append(f"{inst.short_title} {result.total}")
        band = next((b for b in inst.scoring.bands if b.id == result.band), None)
        if band is not None:
            parts.append(band.label["en"].lower())
    return " · ".join(parts) or "screening result"
