"""Load and validate every instrument file, failing with errors that name file, item and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.instruments.checks import Problem, check_instrument
from bot.instruments.schema import Instrument

_BRANCH_TAG = re.compile(r"^(str|int|bool|none|list\[.*\]|dict\[.*\]|function-.*|constrained-.*|nullable\[.*\])$")


class InstrumentFileError(Exception):
    """One or more instrument files are invalid; each line names the file, item and field."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def load_catalog(directory: Path) -> dict[str, Instrument]:
    """Load every *.yaml instrument in a directory, keyed by id, or raise InstrumentFileError."""
    catalog: dict[str, Instrument] = {}
    paths_by_id: dict[str, Path] = {}
    errors: list[str] = []
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise InstrumentFileError([f"{directory}: no instrument files (*.yaml) found"])
    for path in paths:
        try:
            inst = load_instrument(path)
        except InstrumentFileError as exc:
            errors += exc.lines
            continue
        catalog[inst.id] = inst
        paths_by_id[inst.id] = path
    errors += _check_cross_references(catalog, paths_by_id)
    if errors:
        raise InstrumentFileError(errors)
    return catalog


def load_instrument(path: Path) -> Instrument:
    """Load and validate one instrument file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise InstrumentFileError([f"{path}:{where} not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    except OSError as exc:
        raise InstrumentFileError([f"{path}: cannot be read ({exc.strerror})"]) from None
    if not isinstance(raw, dict):
        raise InstrumentFileError([f"{path}: the file must be a mapping of fields, not {type(raw).__name__}"])
    languages = raw.get("languages") if isinstance(raw.get("languages"), list) else None
    try:
        inst = Instrument.model_validate(raw, context={"languages": languages})
    except ValidationError as exc:
        raise InstrumentFileError([_format(path, p) for p in _problems_from(exc, raw)]) from None
    problems = check_instrument(inst)
    if inst.id != path.stem:
        problems.append(Problem(None, "id", f"id '{inst.id}' does not match the file name '{path.name}'"))
    if problems:
        raise InstrumentFileError([_format(path, p) for p in problems])
    return inst


def _check_cross_references(catalog: dict[str, Instrument], paths: dict[str, Path]) -> list[str]:
    errors: list[str] = []
    for inst in catalog.values():
        for item in inst.items:
            if item.same_as is None:
                continue
            other_id, other_item = item.same_as.split(":")
            other = catalog.get(other_id)
            if other is None or other_item not in {i.id for i in other.items}:
                problem = Problem(item.id, "same_as", f"'{item.same_as}' is not an item of a loaded instrument")
                errors.append(_format(paths[inst.id], problem))
    return errors


def _problems_from(exc: ValidationError, raw: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    details = exc.errors(include_url=False)
    tagged_prefixes = {_prefix_before_tag(e["loc"]) for e in details if e["type"] != "string_type"}
    for error in details:
        loc = error["loc"]
        if error["type"] == "string_type" and _has_tag(loc) and _prefix_before_tag(loc) in tagged_prefixes:
            continue  # the other branch of "name or list" explains the real problem
        parts = [p for p in loc if not (isinstance(p, str) and _BRANCH_TAG.match(p))]
        item = None
        if len(parts) >= 2 and parts[0] == "items" and isinstance(parts[1], int):
            item = _item_name(raw, parts[1])
            parts = parts[2:]
        field = _dotted(parts) or "(file)"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(Problem(item, field, message))
    return problems


def _has_tag(loc: tuple) -> bool:
    return any(isinstance(p, str) and _BRANCH_TAG.match(p) for p in loc)


def _prefix_before_tag(loc: tuple) -> tuple:
    for index, part in enumerate(loc):
        if isinstance(part, str) and _BRANCH_TAG.match(part):
            return tuple(loc[:index])
    return tuple(loc)


def _item_name(raw: dict[str, Any], index: int) -> str:
    items = raw.get("items")
    if isinstance(items, list) and index < len(items) and isinstance(items[index], dict) and items[index].get("id"):
        return str(items[index]["id"])
    return f"#{index + 1}"


def _dotted(parts: list) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _format(path: Path, problem: Problem) -> str:
    where = f"item '{problem.item}', " if problem.item else ""
    return f"{path}: {where}field '{problem.field}': {problem.message}"
