"""Validated instruments as data, their loader and the generic scoring engine."""

from bot.instruments.loader import InstrumentFileError, load_catalog, load_instrument
from bot.instruments.schema import Instrument, Item, Option
from bot.instruments.scoring import AnswerError, Score, check_answer, is_asked, next_item, raised_flags, score

__all__ = [
    "AnswerError",
    "Instrument",
    "InstrumentFileError",
    "Item",
    "Option",
    "Score",
    "check_answer",
    "is_asked",
    "load_catalog",
    "load_instrument",
    "next_item",
    "raised_flags",
    "score",
]
