"""Each instrument exports as a FHIR R4 Questionnaire that the fhir.resources models accept."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from bot.adapters.fhir_questionnaire import LOINC, ORDINAL_VALUE, questionnaire

SHIPPED = ["phq9", "phq2", "gad7", "gad2", "auditc", "drug_use", "pcptsd5", "asq", "hrsn"]


def exported(catalog, instrument_id, locale="en") -> dict:
    """Export, serialise and re-validate, returning the JSON a receiving system would read."""
    text = questionnaire(catalog[instrument_id], locale).model_dump_json(exclude_none=True)
    Questionnaire.model_validate_json(text)
    return json.loads(text)


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_every_instrument_exports_with_its_items_codes_and_answer_values(catalog, instrument_id):
    inst = catalog[instrument_id]
    data = exported(catalog, instrument_id)
    items = {i["linkId"]: i for i in data["item"]}
    for item in inst.items:
        exported_item = items[item.id]
        assert exported_item["text"] == item.text["en"]
        if item.loinc:
            assert exported_item["code"] == [{"system": LOINC, "code": item.loinc}]
        values = [(int(o["valueCoding"]["code"]), o["extension"][0]) for o in exported_item["answerOption"]]
        assert values == [(o.value, {"url": ORDINAL_VALUE, "valueDecimal": o.points}) for o in inst.options(item)]
        assert exported_item.get("repeats", False) is item.multiple
        assert ("enableWhen" in exported_item) is (item.ask_if is not None)


@pytest.mark.parametrize(
    "instrument_id, panel, total, first_item",
    [("phq9", "44249-1", "44261-6", "44250-9"), ("gad7", "69737-5", "70274-6", None), ("auditc", "72109-2", "75626-2", "68518-0")],
)
def test_loinc_codes_of_the_issue(catalog, instrument_id, panel, total, first_item):
    data = exported(catalog, instrument_id)
    assert data["code"][0] == {"system": LOINC, "code": panel}
    total_item = next(i for i in data["item"] if i["linkId"] == "total")
    assert total_item["code"] == [{"system": LOINC, "code": total}]
    assert total_item["readOnly"] is True
    if first_item:
        first = next(i for i in data["item"] if i["linkId"] == "q1")
        assert first["code"][0]["code"] == first_item


def test_skip_rule_becomes_enable_when(catalog):
    data = exported(catalog, "pcptsd5")
    q1 = next(i for i in data["item"] if i["linkId"] == "q1")
    assert q1["enableWhen"] == [
        {"question": "trauma", "operator": "=", "answerCoding": {"system": "urn:carebridge:instrument:pcptsd5:trauma", "code": "1"}}
    ]
    auditc = exported(catalog, "auditc")
    q2 = next(i for i in auditc["item"] if i["linkId"] == "q2")
    assert sorted(int(e["answerCoding"]["code"]) for e in q2["enableWhen"]) == [1, 2, 3, 4]


def test_spanish_export_uses_spanish_text(catalog):
    spanish = [i for i in SHIPPED if "es" in catalog[i].languages]
    if not spanish:
        pytest.skip("no instrument ships a Spanish text")
    data = exported(catalog, spanish[0], "es")
    assert data["language"] == "es"
    first = catalog[spanish[0]].items[0]
    assert next(i for i in data["item"] if i["linkId"] == first.id)["text"] == first.text["es"]


def test_export_refuses_a_language_the_instrument_lacks(catalog):
    with pytest.raises(ValueError, match="no 'fr' text"):
        questionnaire(catalog["phq9"], "fr")
