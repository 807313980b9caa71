"""The clinic file (TOML): plans, threshold rules, crisis resources and clinics, validated."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.care_config import Care
from bot.instruments.schema import Instrument
from bot.team_config import Escalation, SlackTeam

Urgency = Literal["routine", "urgent", "crisis"]
URGENCY_ORDER = {"routine": 0, "urgent": 1, "crisis": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Screening(_Strict):
    reminder_after_hours: Annotated[float, Field(gt=0)] = 24
    expire_after_hours: Annotated[float, Field(gt=0)] = 72
    after_crisis: Literal["continue", "end"] = "continue"

    @model_validator(mode="after")
    def _reminder_before_expiry(self) -> Screening:
        if self.reminder_after_hours >= self.expire_after_hours:
            raise ValueError("reminder_after_hours must be less than expire_after_hours")
        return self


class PlanStep(_Strict):
    instrument: str
    if_positive: str | None = None


class Plan(_Strict):
    steps: Annotated[list[PlanStep], Field(min_length=1)]


class Rule(_Strict):
    instrument: str
    field: Annotated[str, Field(pattern=r"^(total|band|positive|flags|subscale:[a-z0-9_]+)$")]
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in", "contains"]
    value: int | bool | str | list[str] | list[int]
    action: Literal["offer", "page"]
    urgency: Urgency


class Crisis(_Strict):
    resources: dict[str, Annotated[list[str], Field(min_length=1)]]
    phrases: dict[str, list[str]] = {}


class Clinic(_Strict):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    timezone: str = "UTC"
    plan: str
    locale: str = "en"
    open_enrollment: bool = False
    phi_in_slack: bool = False
    identifiers_in_exports: bool = False  # FHIR exports carry the clinic's MRN, not only the pseudonymous code
    slack: SlackTeam | None = None  # without it pages wait in the outbox and the CLI shows them


class ClinicConfig(_Strict):
    """Everything a clinic decides, as read from its file."""

    screening: Screening = Screening()
    plans: dict[str, Plan]
    rules: list[Rule] = []
    crisis: Crisis
    clinics: Annotated[list[Clinic], Field(min_length=1)]
    escalation: Escalation = Escalation()
    care: Care = Care()

    def clinic(self, slug: str) -> Clinic:
        """Return the clinic with this slug."""
        for clinic in self.clinics:
            if clinic.slug == slug:
                return clinic
        raise KeyError(slug)


class ClinicConfigError(Exception):
    """The clinic file is invalid; each line names the file and field."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def load_clinic_config(path: Path, catalog: dict[str, Instrument]) -> ClinicConfig:
    """Read and validate a clinic file against the instruments it names."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ClinicConfigError([f"{path}: {exc}"]) from None
    try:
        config = ClinicConfig.model_validate(raw)
    except ValidationError as exc:
        raise ClinicConfigError([_describe(path, e) for e in exc.errors(include_url=False)]) from None
    problems = _cross_check(config, catalog)
    if problems:
        raise ClinicConfigError([f"{path}: {p}" for p in problems])
    return config


def _describe(path: Path, error: dict[str, Any]) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "(file)"
    return f"{path}: field '{field}': {error['msg'].removeprefix('Value error, ')}"


def _cross_check(config: ClinicConfig, catalog: dict[str, Instrument]) -> list[str]:
    problems = []
    for name, plan in config.plans.items():
        for index, step in enumerate(plan.steps):
            for instrument_id in filter(None, (step.instrument, step.if_positive)):
                if instrument_id not in catalog:
                    problems.append(f"field 'plans.{name}.steps.{index}': unknown instrument '{instrument_id}'")
    for index, rule in enumerate(config.rules):
        inst = catalog.get(rule.instrument)
        if inst is None:
            problems.append(f"field 'rules.{index}.instrument': unknown instrument '{rule.instrument}'")
            continue
        problems += [f"field 'rules.{index}': {p}" for p in _rule_problems(rule, inst)]
    for clinic in config.clinics:
        if clinic.plan not in config.plans:
            problems.append(f"clinic '{clinic.slug}': unknown plan '{clinic.plan}'")
        try:
            ZoneInfo(clinic.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"clinic '{clinic.slug}': unknown time zone '{clinic.timezone}'")
        if clinic.locale not in config.crisis.resources:
            problems.append(f"clinic '{clinic.slug}': no crisis resources for locale '{clinic.locale}'")
    for index, checkin in enumerate(config.care.checkins):
        inst = catalog.get(checkin.instrument)
        if inst is None or not inst.scoring.total:
            problems.append(f"field 'care.checkins.{index}': '{checkin.instrument}' is not an instrument with a total")
    if "en" not in config.crisis.resources:
        problems.append("field 'crisis.resources': English resources are required")
    return problems


def _rule_problems(rule: Rule, inst: Instrument) -> list[str]:
    if rule.field == "total" and not inst.scoring.total:
        return [f"{inst.short_title} has no total"]
    if rule.field == "band":
        known = {b.id for b in inst.scoring.bands}
        wanted = rule.value if isinstance(rule.value, list) else [rule.value]
        unknown = [v for v in wanted if v not in known]
        return [f"{inst.short_title} has no band {unknown[0]!r}"] if unknown else []
    if rule.field == "flags":
        known = {f.id for f in inst.flags}
        return [] if rule.value in known else [f"{inst.short_title} has no flag {rule.value!r}"]
    if rule.field.startswith("subscale:"):
        name = rule.field.split(":", 1)[1]
        return [] if name in {s.id for s in inst.scoring.subscales} else [f"{inst.short_title} has no subscale '{name}'"]
    return []
