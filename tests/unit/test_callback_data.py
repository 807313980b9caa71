"""Button data stays within Telegram's 64 bytes and binds the screening, the question and a nonce."""

from __future__ import annotations

from bot.flows import prompts
from bot.flows.plan import Position
from bot.ids import RandomIds


def test_every_button_of_every_instrument_fits_in_64_bytes(catalog):
    ids = RandomIds()
    longest = 0
    for inst in catalog.values():
        for number, item in enumerate(inst.items, start=1):
            say = prompts.question(Position(inst, item, number, len(inst.items)), ids.new("S"), ids.new("n"), "en")
            for choice in say.choices:
                assert choice.data.startswith("a:S-")
                longest = max(longest, len(choice.data.encode("utf-8")))
    for name in prompts.PROMPTS:
        for choice in prompts.prompt(name, ids.new("n")).choices:
            longest = max(longest, len(choice.data.encode("utf-8")))
    assert 0 < longest < 64


def test_button_data_names_the_screening_and_the_nonce(catalog):
    inst = catalog["phq9"]
    say = prompts.question(Position(inst, inst.items[0], 1, 9), "S-AAAA2222", "NONCE1", "en")
    assert [c.data for c in say.choices] == [f"a:S-AAAA2222:NONCE1:{value}" for value in range(4)]
