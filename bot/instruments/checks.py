"""Cross-field checks of an instrument that a field-by-field schema cannot express."""

from __future__ import annotations

from dataclasses import dataclass

from bot.instruments.schema import Condition, Instrument, Item


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an instrument file."""

    item: str | None
    field: str
    message: str


def check_instrument(inst: Instrument) -> list[Problem]:
    """Return every cross-field problem of one instrument."""
    problems = _check_languages(inst) + _check_items(inst)
    if problems:
        return problems  # scoring checks read the items' options
    return _check_scoring(inst)


def _check_languages(inst: Instrument) -> list[Problem]:
    problems: list[Problem] = []
    if "en" not in inst.languages:
        problems.append(Problem(None, "languages", "must include en"))
    for lang in inst.languages:
        if lang != "en" and lang not in inst.translations:
            problems.append(Problem(None, "translations", f"no source given for the '{lang}' translation"))
    if inst.languages == ["en"] and not inst.english_only_reason:
        problems.append(Problem(None, "english_only_reason", "an English-only instrument must say why"))
    return problems


def _check_items(inst: Instrument) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in inst.items:
        if item.id in seen:
            problems.append(Problem(item.id, "id", f"duplicate item id '{item.id}'"))
        if isinstance(item.options, str) and item.options not in inst.option_sets:
            problems.append(Problem(item.id, "options", f"unknown option set '{item.options}'"))
            seen.add(item.id)
            continue
        problems += _check_options(inst, item)
        if item.reversed and not item.scored:
            problems.append(Problem(item.id, "reversed", "only a scored item can be reversed"))
        if item.ask_if is not None:
            problems += _check_condition(item.ask_if, seen, item.id, "ask_if", earlier_only=True)
        seen.add(item.id)
    return problems


def _check_options(inst: Instrument, item: Item) -> list[Problem]:
    options = inst.options(item)
    values = [o.value for o in options]
    problems: list[Problem] = []
    if len(options) < 2:
        problems.append(Problem(item.id, "options", "an item needs at least two options"))
    if len(set(values)) != len(values):
        problems.append(Problem(item.id, "options", "option values must be unique"))
    if any(o.exclusive for o in options) and not item.multiple:
        problems.append(Problem(item.id, "options", "'exclusive' only makes sense on a multiple-choice item"))
    return problems


def _check_condition(
    cond: Condition, known: set[str], item: str | None, field: str, earlier_only: bool = False
) -> list[Problem]:
    unknown = sorted(cond.referenced_items() - known)
    where = "an earlier item" if earlier_only else "an item of this instrument"
    return [Problem(item, field, f"'{name}' is not {where}") for name in unknown]


def _check_scoring(inst: Instrument) -> list[Problem]:
    scoring = inst.scoring
    item_ids = {i.id for i in inst.items}
    flag_ids = [f.id for f in inst.flags]
    problems: list[Problem] = []
    if len(set(flag_ids)) != len(flag_ids):
        problems.append(Problem(None, "flags", "flag ids must be unique"))
    for flag in inst.flags:
        problems += _check_condition(flag.when, item_ids, None, f"flags.{flag.id}.when")
        if flag.when.total and not scoring.total:
            problems.append(Problem(None, f"flags.{flag.id}.when", "tests the total but scoring.total is false"))
    for name in scoring.positive.any_flag:
        if name not in flag_ids:
            problems.append(Problem(None, "scoring.positive.any_flag", f"unknown flag '{name}'"))
    for sub in scoring.subscales:
        for name in sub.items:
            if name not in item_ids:
                problems.append(Problem(None, f"scoring.subscales.{sub.id}", f"unknown item '{name}'"))
    if not scoring.total:
        if scoring.bands or scoring.positive.min_total is not None:
            problems.append(Problem(None, "scoring", "bands and min_total need scoring.total: true"))
        return problems
    if not any(i.scored for i in inst.items):
        problems.append(Problem(None, "scoring.total", "no scored item to sum"))
        return problems
    problems += _check_bands(inst)
    return problems


def _check_bands(inst: Instrument) -> list[Problem]:
    bands = sorted(inst.scoring.bands, key=lambda b: b.min)
    if not bands:
        return []
    low, high = inst.total_range()
    problems: list[Problem] = []
    expected = low
    for band in bands:
        field = f"scoring.bands.{band.id}"
        if band.min > band.max:
            problems.append(Problem(None, field, f"min {band.min} is above max {band.max}"))
        if band.min != expected:
            problems.append(Problem(None, field, f"starts at {band.min}, expected {expected} (gap or overlap)"))
        expected = band.max + 1
    if expected - 1 != high:
        problems.append(Problem(None, "scoring.bands", f"bands end at {expected - 1}, the highest total is {high}"))
    return problems
