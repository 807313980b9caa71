"""Walk a screening plan: which instrument and item come next, reusing shared answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.clinic_config import Plan
from bot.instruments.schema import Instrument, Item
from bot.instruments.scoring import Answer, Score, is_asked, next_item, score


@dataclass(frozen=True)
class Position:
    """The next question: which instrument and item, and where it stands ("3 of 9")."""

    instrument: Instrument
    item: Item
    number: int
    count: int


def instruments_in_play(
    plan: Plan, catalog: Mapping[str, Instrument], answers: Mapping[str, Mapping[str, Answer]], sex: str | None
) -> list[str]:
    """Return the plan's instruments as far as the answers reach, follow-ups included."""
    sequence: list[str] = []
    for step in plan.steps:
        sequence.append(step.instrument)
        result = completed_score(catalog[step.instrument], effective_answers(catalog, step.instrument, answers), sex)
        if result is None:
            return sequence
        if step.if_positive and result.positive:
            sequence.append(step.if_positive)
            follow_up = catalog[step.if_positive]
            if completed_score(follow_up, effective_answers(catalog, step.if_positive, answers), sex) is None:
                return sequence
    return sequence


def next_position(
    plan: Plan, catalog: Mapping[str, Instrument], answers: Mapping[str, Mapping[str, Answer]], sex: str | None
) -> Position | None:
    """Return the next question of the plan, or None when every instrument in play is complete."""
    for instrument_id in instruments_in_play(plan, catalog, answers, sex):
        inst = catalog[instrument_id]
        given = effective_answers(catalog, instrument_id, answers)
        item = next_item(inst, given)
        if item is not None:
            shown = [i for i in inst.items if _counts(inst, i, given)]
            number = sum(1 for i in shown if i.id in given) + 1
            return Position(inst, item, number, max(len(shown), number))
    return None


def effective_answers(
    catalog: Mapping[str, Instrument], instrument_id: str, answers: Mapping[str, Mapping[str, Answer]]
) -> dict[str, Answer]:
    """Return an instrument's answers, including those reused from items declared the same."""
    merged: dict[str, Answer] = {}
    for other_id, given in answers.items():
        if other_id == instrument_id or other_id not in catalog:
            continue
        for item in catalog[other_id].items:
            if item.same_as and item.id in given:
                target_instrument, target_item = item.same_as.split(":")
                if target_instrument == instrument_id:
                    merged[target_item] = given[item.id]
    merged.update(answers.get(instrument_id, {}))
    return merged


def completed_score(inst: Instrument, given: Mapping[str, Answer], sex: str | None) -> Score | None:
    """Return the score once every item still to ask is answered, else None."""
    if next_item(inst, given) is not None:
        return None
    return score(inst, {k: v for k, v in given.items() if k in {i.id for i in inst.items}}, sex)


def _counts(inst: Instrument, item: Item, given: Mapping[str, Answer]) -> bool:
    """Say whether an item counts towards "n of m": answered, or still expected to be asked."""
    if item.id in given:
        return True
    if not item.required:
        return item.ask_if is not None and is_asked(inst, item, given)
    if item.ask_if is None:
        return True
    undecided = any(name not in given for name in item.ask_if.referenced_items())
    return undecided or is_asked(inst, item, given)
