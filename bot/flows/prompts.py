"""Build the messages that ask something: questions, consent, offer, acuity, stop, language."""

from __future__ import annotations

from bot.domain.effects import CRISIS, REPLY, Choice, Say
from bot.flows.plan import Position
from bot.instruments.schema import Instrument, Item

# Prompt name -> (template, choice keys). A choice key is also its word label in words.yaml.
PROMPTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "consent": ("consent", ("agree", "decline")),
    "offer": ("offer", ("connect", "not_now", "call_later")),
    "acuity": ("acuity", ("acuity_yes", "acuity_no")),
    "confirm_stop": ("stop_confirm", ("stop_yes", "stop_no")),
    "choose_language": ("language_choice", ("lang_en", "lang_es")),
}


def text_in(inst: Instrument, texts: dict[str, str], locale: str) -> str:
    """Return a text in the patient's locale, or in English where the instrument has no translation."""
    return texts.get(locale) or texts["en"]


def question(position: Position, screening_ref: str, nonce: str, locale: str, priority: int = REPLY) -> Say:
    """Ask one item, with its options as numbered lines and as buttons bound to this question."""
    inst, item = position.instrument, position.item
    labels = [text_in(inst, o.text, locale) for o in inst.options(item)]
    variables = {
        "position": position.number,
        "count": position.count,
        "stem": text_in(inst, inst.stem, locale) if inst.stem and item.id == first_item_id(inst) else None,
        "preamble": text_in(inst, item.preamble, locale) if item.preamble else None,
        "text": text_in(inst, item.text, locale),
        "multiple": item.multiple,
        "options": labels,
    }
    choices = tuple(
        Choice(data=f"a:{screening_ref}:{nonce}:{o.value}", text=label) for o, label in zip(inst.options(item), labels)
    )
    return Say("question", variables, choices, priority, ref=nonce)


def first_item_id(inst: Instrument) -> str:
    """Return the id of an instrument's first item."""
    return inst.items[0].id


def prompt(name: str, nonce: str, variables: dict | None = None, priority: int = REPLY) -> Say:
    """Ask a fixed-choice prompt with buttons bound to this prompt."""
    template, keys = PROMPTS[name]
    choices = tuple(Choice(data=f"c:{nonce}:{key}", word=key) for key in keys)
    return Say(template, variables or {}, choices, priority, ref=nonce)


def acuity_prompt(asq: Instrument, item: Item, nonce: str, locale: str) -> Say:
    """Ask the ASQ acuity question as part of the crisis protocol."""
    return prompt("acuity", nonce, {"text": text_in(asq, item.text, locale)}, priority=CRISIS)
