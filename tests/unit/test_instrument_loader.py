"""A bad instrument file is a clear error naming the file, the item and the field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bot.instruments import InstrumentFileError, load_catalog, load_instrument

VALID = {
    "id": "mini",
    "title": "Mini test instrument",
    "short_title": "MINI-2",
    "version": "1",
    "languages": ["en", "es"],
    "licence": {"name": "Public domain", "note": "Made for tests."},
    "source": {"citation": "Test A. A test. J Tests. 2026;1:1-2."},
    "translations": {"es": {"source": "Test translation"}},
    "option_sets": {
        "yes_no": [
            {"value": 0, "text": {"en": "No", "es": "No"}},
            {"value": 1, "text": {"en": "Yes", "es": "Sí"}},
        ]
    },
    "items": [
        {"id": "q1", "loinc": "12345-6", "text": {"en": "First?", "es": "¿Primera?"}, "options": "yes_no"},
        {"id": "q2", "text": {"en": "Second?", "es": "¿Segunda?"}, "options": "yes_no", "ask_if": {"item": "q1", "in": [1]}},
    ],
    "scoring": {
        "bands": [
            {"id": "low", "min": 0, "max": 1, "label": {"en": "Low", "es": "Bajo"}},
            {"id": "high", "min": 2, "max": 2, "label": {"en": "High", "es": "Alto"}},
        ],
        "positive": {"min_total": 2},
    },
    "flags": [{"id": "any_yes", "when": {"item": "q1", "min": 1}, "label": {"en": "Yes", "es": "Sí"}}],
}


def write(folder: Path, data: dict, name: str = "mini.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def errors_for(tmp_path: Path, change) -> list[str]:
    data = copy.deepcopy(VALID)
    change(data)
    with pytest.raises(InstrumentFileError) as raised:
        load_instrument(write(tmp_path, data))
    return raised.value.lines


def test_the_valid_fixture_loads(tmp_path):
    inst = load_instrument(write(tmp_path, VALID))
    assert [i.id for i in inst.items] == ["q1", "q2"]
    assert inst.total_range() == (0, 2)


def test_missing_translation_names_file_item_and_field(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["items"][1]["text"].pop("es"))
    assert lines == [f"{tmp_path / 'mini.yaml'}: item 'q2', field 'text': missing text for language(s) es"]


def test_misspelt_field_is_refused_not_ignored(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["items"][0].update(scord=False))
    assert len(lines) == 1 and "item 'q1', field 'scord'" in lines[0] and "not permitted" in lines[0]


def test_option_text_error_points_inside_the_option_list(tmp_path):
    def change(d):
        d["items"][0]["options"] = copy.deepcopy(d["option_sets"]["yes_no"])
        d["items"][0]["options"][1]["text"] = {"en": "Yes"}

    lines = errors_for(tmp_path, change)
    assert lines == [f"{tmp_path / 'mini.yaml'}: item 'q1', field 'options[1].text': missing text for language(s) es"]


def test_unknown_option_set(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["items"][0].update(options="yes_no_maybe"))
    assert lines == [f"{tmp_path / 'mini.yaml'}: item 'q1', field 'options': unknown option set 'yes_no_maybe'"]


def test_malformed_loinc_code(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["items"][0].update(loinc="44250"))
    assert "item 'q1', field 'loinc'" in lines[0]


def test_skip_rule_on_a_later_item(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["items"][0].update(ask_if={"item": "q2", "min": 1}))
    assert lines == [f"{tmp_path / 'mini.yaml'}: item 'q1', field 'ask_if': 'q2' is not an earlier item"]


def test_condition_with_two_subjects(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["items"][1].update(ask_if={"item": "q1", "sum_of": ["q1"], "min": 1}))
    assert "item 'q2', field 'ask_if'" in lines[0] and "exactly one of" in lines[0]


def test_band_gap_is_named(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["scoring"]["bands"][1].update(min=3, max=3))
    assert any("field 'scoring.bands.high': starts at 3, expected 2" in line for line in lines)


def test_positive_rule_referring_to_unknown_flag(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["scoring"]["positive"].update(any_flag=["nope"]))
    assert lines == [f"{tmp_path / 'mini.yaml'}: field 'scoring.positive.any_flag': unknown flag 'nope'"]


def drop_spanish(node):
    if isinstance(node, dict):
        node.pop("es", None)
        for value in node.values():
            drop_spanish(value)
    elif isinstance(node, list):
        for value in node:
            drop_spanish(value)


def test_text_in_an_undeclared_language(tmp_path):
    lines = errors_for(tmp_path, lambda d: d.update(languages=["en"]))
    assert f"{tmp_path / 'mini.yaml'}: item 'q1', field 'text': text for undeclared language(s) es" in lines


def test_english_only_must_say_why(tmp_path):
    def change(d):
        d["languages"] = ["en"]
        d.pop("translations")
        drop_spanish(d)

    lines = errors_for(tmp_path, change)
    assert lines == [f"{tmp_path / 'mini.yaml'}: field 'english_only_reason': an English-only instrument must say why"]


def test_wrong_value_type(tmp_path):
    lines = errors_for(tmp_path, lambda d: d["option_sets"]["yes_no"][0].update(value="zero"))
    assert lines[0].startswith(f"{tmp_path / 'mini.yaml'}: field 'option_sets.yes_no[0].value'")


def test_id_must_match_file_name(tmp_path):
    data = copy.deepcopy(VALID)
    with pytest.raises(InstrumentFileError) as raised:
        load_instrument(write(tmp_path, data, "other.yaml"))
    assert "id 'mini' does not match the file name 'other.yaml'" in raised.value.lines[0]


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\nitems: [\n  - q1\n", encoding="utf-8")
    with pytest.raises(InstrumentFileError) as raised:
        load_instrument(path)
    assert raised.value.lines[0].startswith(f"{path}: line ")


def test_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(InstrumentFileError) as raised:
        load_instrument(path)
    assert "must be a mapping" in raised.value.lines[0]


def test_catalog_reports_every_bad_file_and_cross_references(tmp_path):
    write(tmp_path, VALID)
    other = copy.deepcopy(VALID)
    other["id"] = "other"
    other["items"][0]["same_as"] = "mini:q9"
    write(tmp_path, other, "other.yaml")
    broken = copy.deepcopy(VALID)
    broken["id"] = "broken"
    broken["items"][0]["text"] = {"en": " ", "es": "x"}
    write(tmp_path, broken, "broken.yaml")
    with pytest.raises(InstrumentFileError) as raised:
        load_catalog(tmp_path)
    text = "\n".join(raised.value.lines)
    assert "broken.yaml: item 'q1', field 'text': blank text for language(s) en" in text
    assert "other.yaml: item 'q1', field 'same_as': 'mini:q9' is not an item of a loaded instrument" in text


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(InstrumentFileError, match="no instrument files"):
        load_catalog(tmp_path)
