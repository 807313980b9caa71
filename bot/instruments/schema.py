"""Pydantic models of an instrument file (see instruments/README.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

LOINC_PATTERN = r"^\d{1,8}-\d$"
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
LOCALE_PATTERN = r"^[a-z]{2}$"
SEXES = ("female", "male")


def _check_locales(text: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    """Require exactly the instrument's languages, each with non-blank text."""
    languages = (info.context or {}).get("languages")
    if languages is not None:
        missing = [lang for lang in languages if lang not in text]
        extra = [lang for lang in text if lang not in languages]
        if missing:
            raise ValueError(f"missing text for language(s) {', '.join(missing)}")
        if extra:
            raise ValueError(f"text for undeclared language(s) {', '.join(extra)}")
    blank = [lang for lang, value in text.items() if not value.strip()]
    if blank:
        raise ValueError(f"blank text for language(s) {', '.join(blank)}")
    return text


LocalText = Annotated[dict[str, str], AfterValidator(_check_locales)]


class Strict(BaseModel):
    """Refuse unknown fields so a typo in a file is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Licence(Strict):
    name: str
    note: str
    url: str | None = None


class Source(Strict):
    citation: str
    doi: str | None = None
    url: str | None = None
    also: list[str] = []


class Translation(Strict):
    source: str


class Loinc(Strict):
    panel: Annotated[str, Field(pattern=LOINC_PATTERN)] | None = None
    total: Annotated[str, Field(pattern=LOINC_PATTERN)] | None = None


class Option(Strict):
    value: int
    text: LocalText
    score: int | None = None
    exclusive: bool = False

    @property
    def points(self) -> int:
        """Return what this option adds to a sum."""
        return self.value if self.score is None else self.score


class Condition(Strict):
    item: str | None = None
    sum_of: list[str] | None = None
    total: bool = False
    any_of: list[Condition] | None = None
    all_of: list[Condition] | None = None
    in_: list[int] | None = Field(default=None, alias="in")
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> Condition:
        subjects = [
            name
            for name, present in (
                ("item", self.item is not None),
                ("sum_of", self.sum_of is not None),
                ("total", self.total),
                ("any_of", self.any_of is not None),
                ("all_of", self.all_of is not None),
            )
            if present
        ]
        if len(subjects) != 1:
            raise ValueError("a condition needs exactly one of item, sum_of, total, any_of, all_of")
        tests = [t for t in (self.in_, self.min, self.max) if t is not None]
        if subjects[0] in ("any_of", "all_of"):
            if tests:
                raise ValueError("any_of/all_of take no min, max or in of their own")
        elif not tests:
            raise ValueError("a condition needs at least one of min, max, in")
        if self.in_ is not None and self.item is None:
            raise ValueError("'in' can only test an item")
        return self

    def referenced_items(self) -> set[str]:
        """Return the ids of every item this condition reads."""
        found: set[str] = set()
        if self.item:
            found.add(self.item)
        found.update(self.sum_of or [])
        for child in (self.any_of or []) + (self.all_of or []):
            found |= child.referenced_items()
        return found


class Item(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    loinc: Annotated[str, Field(pattern=LOINC_PATTERN)] | None = None
    preamble: LocalText | None = None
    text: LocalText
    options: str | list[Option]
    scored: bool = True
    required: bool = True
    reversed: bool = False
    multiple: bool = False
    ask_if: Condition | None = None
    same_as: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")] | None = None


class Band(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    min: int
    max: int
    label: LocalText


class Positive(Strict):
    min_total: int | None = None
    min_total_by_sex: dict[Literal["female", "male"], int] = {}
    any_flag: list[str] = []

    @model_validator(mode="after")
    def _has_rule(self) -> Positive:
        if self.min_total is None and not self.any_flag:
            raise ValueError("positive needs min_total or any_flag")
        if self.min_total_by_sex and self.min_total is None:
            raise ValueError("min_total_by_sex needs min_total for when sex is not given")
        return self


class Subscale(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    items: list[str]
    loinc: Annotated[str, Field(pattern=LOINC_PATTERN)] | None = None


class Scoring(Strict):
    total: bool = True
    bands: list[Band] = []
    positive: Positive
    subscales: list[Subscale] = []


class Flag(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    when: Condition
    label: LocalText
    immediate: bool = False


class Instrument(Strict):
    """A validated instrument: what its YAML file says, with look-ups for the engine."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str
    short_title: str
    version: str
    languages: list[Annotated[str, Field(pattern=LOCALE_PATTERN)]]
    licence: Licence
    source: Source
    translations: dict[str, Translation] = {}
    english_only_reason: str | None = None
    loinc: Loinc = Loinc()
    stem: LocalText | None = None
    option_sets: dict[str, list[Option]] = {}
    items: list[Item]
    scoring: Scoring
    flags: list[Flag] = []

    def item(self, item_id: str) -> Item:
        """Return the item with this id."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def options(self, item: Item) -> list[Option]:
        """Return the answer options of an item, resolving a named option set."""
        if isinstance(item.options, str):
            return self.option_sets[item.options]
        return item.options

    def option(self, item: Item, value: int) -> Option | None:
        """Return the option of an item with this value, if any."""
        return next((o for o in self.options(item) if o.value == value), None)

    def item_score_range(self, item: Item) -> tuple[int, int]:
        """Return the lowest and highest score an item can add to a sum."""
        points = [o.points for o in self.options(item)]
        if item.multiple:
            return 0, sum(p for p in points if p > 0)
        return min(points), max(points)

    def total_range(self) -> tuple[int, int]:
        """Return the lowest and highest possible total (skipped items score 0)."""
        low = high = 0
        for item in self.items:
            if item.scored:
                item_low, item_high = self.item_score_range(item)
                low += min(item_low, 0) if item.ask_if else item_low
                high += item_high
        return low, high
