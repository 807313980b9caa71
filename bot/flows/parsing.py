"""Read what a patient typed: a command word, a crisis phrase, or an answer to the open question."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from bot.instruments.schema import Instrument, Item
from bot.instruments.scoring import Answer, AnswerError, check_answer

MAX_ANSWER_CHARS = 200
# Characters that change nothing a person reads: format characters (zero-width, bidi marks and isolates, soft
# hyphen, BOM, tags), combining marks (accents after NFKD, variation selectors, the grapheme joiner) and control
# characters other than whitespace (NUL). Inside a crisis phrase they must not hide it.
_IGNORED_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
_NUMBER = re.compile(r"^[0-9]{1,3}$")


@dataclass(frozen=True)
class Words:
    """The words of every locale: command keywords, yes/no words and button labels."""

    keywords: Mapping[str, Mapping[str, tuple[str, ...]]]  # locale -> command -> words
    yes: Mapping[str, tuple[str, ...]]
    no: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, Mapping[str, str]]
    commands: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # locale -> command -> menu text

    @cached_property
    def _commands_by_word(self) -> dict[str, str]:
        return {fold(w): command for by_command in self.keywords.values() for command, words in by_command.items()
                for w in words}

    @cached_property
    def _yes(self) -> frozenset[str]:
        return frozenset(fold(w) for words in self.yes.values() for w in words)

    @cached_property
    def _no(self) -> frozenset[str]:
        return frozenset(fold(w) for words in self.no.values() for w in words)

    def command(self, text: str) -> str | None:
        """Return the command a whole message names in any locale ('/pause', 'pausa'), if any."""
        return self._commands_by_word.get(fold(text).lstrip("/"))

    def is_yes(self, text: str) -> bool:
        """Say whether a message means yes in any locale."""
        return fold(text) in self._yes

    def is_no(self, text: str) -> bool:
        """Say whether a message means no in any locale."""
        return fold(text) in self._no


def fold(text: str) -> str:
    """Return text without case, accents, invisible characters, edge punctuation or extra spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not _ignored(c))
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .!¡¿,;:\"'()[]")


def reply_number(folded: str) -> int | None:
    """Return the number a folded reply is (one to three ASCII digits; '⓵' or the Ethiopic '፩' is not one), or None."""
    return int(folded) if _NUMBER.fullmatch(folded) else None


def _ignored(char: str) -> bool:
    category = unicodedata.category(char)
    return category in _IGNORED_CATEGORIES or (category == "Cc" and not char.isspace())


def contains_crisis_phrase(text: str, phrases: Iterable[str]) -> bool:
    """Say whether the text contains any crisis phrase, ignoring case and accents."""
    return contains_folded_phrase(text, [p for p in map(fold, phrases) if p])


def contains_folded_phrase(text: str, folded_phrases: Iterable[str]) -> bool:
    """Say whether the text contains any of these already-folded phrases, with or without the spaces between words."""
    joined = fold(text).replace(" ", "")  # words joined by a zero-width space (dropped by fold) or typed together
    return any(phrase.replace(" ", "") in joined for phrase in folded_phrases)


def parse_answer(inst: Instrument, item: Item, text: str, words: Words) -> Answer | None:
    """Return the answer a typed message gives to this item, or None if it is not one."""
    if len(text) > MAX_ANSWER_CHARS:
        return None
    options = inst.options(item)
    if item.multiple:
        return _parse_multiple(inst, item, text)
    folded = fold(text)
    index = reply_number(folded)
    if index is not None:
        return options[index - 1].value if 1 <= index <= len(options) else None
    for option in options:
        if folded in {fold(t) for t in option.text.values()}:
            return option.value
    english = {fold(o.text.get("en", "")): o.value for o in options}
    if words.is_yes(text) and "yes" in english:
        return english["yes"]
    if words.is_no(text) and "no" in english:
        return english["no"]
    return None


def _parse_multiple(inst: Instrument, item: Item, text: str) -> Answer | None:
    options = inst.options(item)
    parts = [p for p in re.split(r"[\s,;y+&]+", fold(text)) if p]
    if not parts or not all(_NUMBER.match(p) for p in parts):
        return None
    indexes = {int(p) for p in parts}
    if not all(1 <= i <= len(options) for i in indexes):
        return None
    answer = frozenset(options[i - 1].value for i in indexes)
    try:
        check_answer(inst, item, answer)
    except AnswerError:
        return None
    return answer
