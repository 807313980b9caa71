"""What a flow step may read besides the conversation: instruments, clinic config, words, ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from bot.clinic_config import Clinic, ClinicConfig, Plan, PlanStep
from bot.flows.parsing import Words, fold
from bot.instruments.schema import Instrument

ACUITY_INSTRUMENT, ACUITY_ITEM = "asq", "q5"
CHECKIN_PLAN = "checkin:"  # a check-in screening's plan name, and its timer's kind: checkin:<instrument>


class Ids(Protocol):
    """Make new opaque references (random in production, a counter in tests)."""

    def new(self, prefix: str) -> str: ...


@dataclass(frozen=True)
class FlowContext:
    """Read-only inputs of every step."""

    catalog: Mapping[str, Instrument]
    config: ClinicConfig
    words: Words

    def clinic(self, slug: str) -> Clinic:
        """Return a clinic's settings."""
        return self.config.clinic(slug)

    def plan(self, name: str) -> Plan:
        """Return a screening plan by name; 'checkin:<instrument>' is the one-instrument plan of a check-in."""
        if name.startswith(CHECKIN_PLAN):
            return Plan(steps=[PlanStep(instrument=name.removeprefix(CHECKIN_PLAN))])
        return self.config.plans[name]

    def crisis_phrases(self) -> list[str]:
        """Return the crisis phrases of every locale (a patient may write in either language)."""
        return [p for phrases in self.config.crisis.phrases.values() for p in phrases]

    @cached_property
    def folded_crisis_phrases(self) -> tuple[str, ...]:
        """Return the crisis phrases folded for matching (computed once)."""
        return tuple(p for p in (fold(phrase) for phrase in self.crisis_phrases()) if p)

    def crisis_resources(self, locale: str) -> list[str]:
        """Return the crisis resources in a locale, or in English where the clinic has none."""
        return self.config.crisis.resources.get(locale) or self.config.crisis.resources["en"]
