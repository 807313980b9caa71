"""Score any instrument from its data: sums, reversed items, skip rules, bands, cut-offs, flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.instruments.schema import Condition, Instrument, Item

Answer = int | frozenset[int]
Answers = Mapping[str, Answer]


class AnswerError(ValueError):
    """An answer set an instrument cannot score; names the item at fault."""

    def __init__(self, item: Item | None, message: str):
        super().__init__(message)
        self.item = item
        self.message = message


@dataclass(frozen=True)
class Score:
    """The result of scoring one completed instrument."""

    instrument: str
    total: int | None
    band: str | None
    positive: bool
    flags: tuple[str, ...]
    subscales: dict[str, int] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """Return the score as the JSON object the CLI prints."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "positive": self.positive,
            "flags": list(self.flags),
        }


def check_answer(inst: Instrument, item: Item, answer: Answer) -> None:
    """Raise AnswerError unless the answer is one this item offers."""
    values = {o.value for o in inst.options(item)}
    if item.multiple:
        chosen = answer if isinstance(answer, frozenset) else frozenset([answer])
        if not chosen:
            raise AnswerError(item, "choose at least one option")
        unknown = sorted(chosen - values)
        if unknown:
            raise AnswerError(item, f"{unknown[0]} is not one of the options {_listing(values)}")
        exclusive = [o for o in inst.options(item) if o.exclusive and o.value in chosen]
        if exclusive and len(chosen) > 1:
            raise AnswerError(item, f"{exclusive[0].value} cannot be combined with other options")
        return
    if isinstance(answer, frozenset) or answer not in values:
        shown = "+".join(map(str, sorted(answer))) if isinstance(answer, frozenset) else answer
        raise AnswerError(item, f"{shown} is not one of the options {_listing(values)}")


def item_score(inst: Instrument, item: Item, answer: Answer) -> int:
    """Return what an answered item adds to a sum, reversal applied."""
    chosen = answer if isinstance(answer, frozenset) else frozenset([answer])
    points = sum(o.points for o in inst.options(item) if o.value in chosen)
    if item.reversed:
        low, high = inst.item_score_range(item)
        return low + high - points
    return points


def is_asked(inst: Instrument, item: Item, answers: Answers) -> bool:
    """Say whether the skip rules ask this item given the answers so far."""
    return item.ask_if is None or _holds(inst, item.ask_if, answers, None)


def next_item(inst: Instrument, answers: Answers) -> Item | None:
    """Return the first item still to ask, or None when the instrument is complete."""
    for item in inst.items:
        if item.id not in answers and is_asked(inst, item, answers):
            return item
    return None


def raised_flags(inst: Instrument, answers: Answers, total: int | None = None) -> tuple[str, ...]:
    """Return the flags the answers raise; without a total, only those decidable so far."""
    return tuple(f.id for f in inst.flags if _holds(inst, f.when, answers, total))


def score(inst: Instrument, answers: Answers, sex: str | None = None) -> Score:
    """Score a complete answer set, or raise AnswerError naming the first faulty item."""
    asked: dict[str, Answer] = {}
    skipped: list[str] = []
    known = {i.id for i in inst.items}
    for item_id in answers:
        if item_id not in known:
            raise AnswerError(None, f"{inst.short_title} has no item '{item_id}'")
    for item in inst.items:
        if not is_asked(inst, item, asked):
            skipped.append(item.id)
            continue
        if item.id not in answers:
            if item.required:
                raise AnswerError(item, "no answer given")
            continue
        check_answer(inst, item, answers[item.id])
        asked[item.id] = answers[item.id]
    total = None
    if inst.scoring.total:
        total = sum(item_score(inst, i, asked[i.id]) for i in inst.items if i.scored and i.id in asked)
    flags = raised_flags(inst, asked, total)
    return Score(
        instrument=inst.id,
        total=total,
        band=_band(inst, total),
        positive=_positive(inst, total, flags, sex),
        flags=flags,
        subscales={s.id: _sum(inst, s.items, asked) for s in inst.scoring.subscales},
        skipped=tuple(skipped),
    )


def _band(inst: Instrument, total: int | None) -> str | None:
    if total is None:
        return None
    return next((b.id for b in inst.scoring.bands if b.min <= total <= b.max), None)


def _positive(inst: Instrument, total: int | None, flags: tuple[str, ...], sex: str | None) -> bool:
    rule = inst.scoring.positive
    if any(f in flags for f in rule.any_flag):
        return True
    if rule.min_total is None or total is None:
        return False
    cut_off = rule.min_total_by_sex.get(sex, rule.min_total) if sex else rule.min_total
    return total >= cut_off


def _sum(inst: Instrument, item_ids: list[str], answers: Answers) -> int:
    return sum(item_score(inst, inst.item(i), answers[i]) for i in item_ids if i in answers)


def _holds(inst: Instrument, cond: Condition, answers: Answers, total: int | None) -> bool:
    """Evaluate a condition; anything it reads that is not known yet makes it false."""
    if cond.any_of is not None:
        return any(_holds(inst, c, answers, total) for c in cond.any_of)
    if cond.all_of is not None:
        return all(_holds(inst, c, answers, total) for c in cond.all_of)
    if cond.total:
        return total is not None and _in_range(cond, total)
    if cond.item is not None:
        if cond.item not in answers:
            return False
        answer = answers[cond.item]
        if cond.in_ is not None:
            chosen = answer if isinstance(answer, frozenset) else frozenset([answer])
            if not chosen & set(cond.in_):
                return False
        return _in_range(cond, item_score(inst, inst.item(cond.item), answer))
    items = [inst.item(i) for i in cond.sum_of or []]
    if any(i.id not in answers and is_asked(inst, i, answers) for i in items):
        return False
    return _in_range(cond, _sum(inst, [i.id for i in items], answers))


def _in_range(cond: Condition, value: int) -> bool:
    return (cond.min is None or value >= cond.min) and (cond.max is None or value <= cond.max)


def _listing(values: set[int]) -> str:
    return ", ".join(map(str, sorted(values)))
