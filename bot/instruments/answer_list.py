"""Parse a comma-separated answer list ("1,0,2,-,1+3") into answers keyed by item id."""

from __future__ import annotations

import re

from bot.instruments.schema import Instrument
from bot.instruments.scoring import Answer, AnswerError, check_answer

SKIP = "-"
_INTEGER = re.compile(r"^-?[0-9]+$")


def parse_answer_list(inst: Instrument, text: str) -> dict[str, Answer]:
    """Map option values given in item order to items; '-' or a short list leaves items unanswered."""
    tokens = [t.strip() for t in text.split(",")] if text.strip() else []
    if len(tokens) > len(inst.items):
        raise AnswerError(None, f"{len(tokens)} answers given, but {inst.short_title} has {len(inst.items)} items")
    answers: dict[str, Answer] = {}
    for item, token in zip(inst.items, tokens):
        if token in ("", SKIP):
            continue
        parts = token.split("+")
        if not all(_INTEGER.match(p.strip()) for p in parts):
            raise AnswerError(item, f"'{token}' is not a number")
        if len(parts) > 1 and not item.multiple:
            raise AnswerError(item, f"'{token}': only one answer is allowed")
        values = [int(p) for p in parts]
        answer: Answer = frozenset(values) if item.multiple else values[0]
        check_answer(inst, item, answer)
        answers[item.id] = answer
    return answers

