"""Export an instrument as a FHIR R4 Questionnaire (validated with the fhir.resources R4B models)."""

from __future__ import annotations

from fhir.resources.R4B.questionnaire import Questionnaire

from bot.instruments.schema import Condition, Instrument, Item, Subscale

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


def answer_system(inst: Instrument, item: Item) -> str:
    """Return the code system of an item's answer values."""
    return f"urn:carebridge:instrument:{inst.id}:{item.id}"


def questionnaire(inst: Instrument, locale: str = "en") -> Questionnaire:
    """Build the FHIR Questionnaire of an instrument in one of its languages."""
    if locale not in inst.languages:
        raise ValueError(f"{inst.short_title} has no '{locale}' text (languages: {', '.join(inst.languages)})")
    data: dict = {
        "resourceType": "Questionnaire",
        "id": inst.id.replace("_", "-"),
        "url": f"urn:carebridge:questionnaire:{inst.id}",
        "version": inst.version,
        "name": inst.short_title.replace("-", "").replace(" ", ""),
        "title": inst.title,
        "status": "active",
        "language": locale,
        "subjectType": ["Patient"],
        "description": inst.source.citation,
        "copyright": f"{inst.licence.name}. {inst.licence.note}",
        "item": [entry for item in inst.items for entry in _entries(inst, item, locale)],
    }
    if inst.stem:
        data["item"].insert(0, {"linkId": "stem", "type": "display", "text": inst.stem[locale]})
    if inst.loinc.panel:
        data["code"] = [{"system": LOINC, "code": inst.loinc.panel}]
    if inst.scoring.total:
        data["item"].append(_total_item(inst))
    data["item"] += [_subscale_item(inst, sub) for sub in inst.scoring.subscales]
    return Questionnaire.model_validate(data)


def _entries(inst: Instrument, item: Item, locale: str) -> list[dict]:
    """Return an item, preceded by its section lead-in as a display item when it has one."""
    question = _item(inst, item, locale)
    if item.preamble is None:
        return [question]
    lead_in = {"linkId": f"{item.id}-preamble", "type": "display", "text": item.preamble[locale]}
    if "enableWhen" in question:
        lead_in |= {"enableWhen": question["enableWhen"], "enableBehavior": "any"}
    return [lead_in, question]


def _item(inst: Instrument, item: Item, locale: str) -> dict:
    data: dict = {
        "linkId": item.id,
        "text": item.text[locale],
        "type": "choice",
        "required": item.required,
        "repeats": item.multiple,
        "answerOption": [
            {
                "valueCoding": {"system": answer_system(inst, item), "code": str(o.value), "display": o.text[locale]},
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": o.points}],
            }
            for o in inst.options(item)
        ],
    }
    if item.loinc:
        data["code"] = [{"system": LOINC, "code": item.loinc}]
    if item.ask_if is not None:
        data["enableWhen"] = _enable_when(inst, item.ask_if)
        data["enableBehavior"] = "any"
    return data


def _total_item(inst: Instrument) -> dict:
    data: dict = {"linkId": "total", "text": f"{inst.short_title} total score", "type": "integer", "readOnly": True}
    if inst.loinc.total:
        data["code"] = [{"system": LOINC, "code": inst.loinc.total}]
    return data


def _subscale_item(inst: Instrument, sub: Subscale) -> dict:
    data: dict = {"linkId": sub.id, "text": f"{inst.short_title} {sub.id} sum", "type": "integer", "readOnly": True}
    if sub.loinc:
        data["code"] = [{"system": LOINC, "code": sub.loinc}]
    return data


def _enable_when(inst: Instrument, cond: Condition) -> list[dict]:
    """Translate a skip rule to enableWhen entries combined with 'any'."""
    if cond.any_of is not None:
        return [entry for child in cond.any_of for entry in _enable_when(inst, child)]
    if cond.item is not None:
        return _matching_answers(inst, cond.item, cond)
    if cond.sum_of is not None and cond.min == 1 and cond.max is None:
        # A sum of non-negative scores reaches 1 exactly when some item scores at least 1.
        at_least_one = Condition(item="x", min=1)
        return [entry for item_id in cond.sum_of for entry in _matching_answers(inst, item_id, at_least_one)]
    raise ValueError(f"{inst.id}: a skip rule FHIR enableWhen cannot express: {cond.model_dump(exclude_none=True)}")


def _matching_answers(inst: Instrument, item_id: str, cond: Condition) -> list[dict]:
    item = inst.item(item_id)
    entries = []
    for option in inst.options(item):
        if cond.in_ is not None and option.value not in cond.in_:
            continue
        if (cond.min is not None and option.points < cond.min) or (cond.max is not None and option.points > cond.max):
            continue
        coding = {"system": answer_system(inst, item), "code": str(option.value)}
        entries.append({"question": item_id, "operator": "=", "answerCoding": coding})
    return entries
