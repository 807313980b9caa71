"""The clinic file is validated against the instruments it names; errors name the field."""

from __future__ import annotations

import pytest

from bot.clinic_config import ClinicConfigError, load_clinic_config
from bot.config import data_dir
from tests.store_fixtures import FIXTURES


def test_the_shipped_example_and_the_test_file_load(catalog):
    example = load_clinic_config(data_dir("config") / "clinic.example.toml", catalog)
    assert example.clinic("riverside").plan == "intake"
    assert [s.instrument for s in example.plans["intake"].steps] == ["phq2", "gad2", "auditc", "drug_use", "pcptsd5", "hrsn"]
    load_clinic_config(FIXTURES / "clinic.toml", catalog)


@pytest.mark.parametrize(
    "change, message",
    [
        (("value = 10", "value = 10\nvalu = 3"), "field 'rules.0.valu'"),
        (('instrument = "phq9"', 'instrument = "dast10"'), "field 'rules.0.instrument': unknown instrument 'dast10'"),
        (('field = "total"', 'field = "band"\n#'), "has no band 10"),
        (('op = ">="', 'op = "=>"'), "field 'rules.0.op'"),
        (('plan = "mood"', 'plan = "nope"'), "clinic 'mood': unknown plan 'nope'"),
        (("reminder_after_hours = 24", "reminder_after_hours = 99"), "reminder_after_hours must be less than"),
        (('{ instrument = "auditc" }', '{ instrument = "audit" }'), "field 'plans.intake.steps.2': unknown instrument 'audit'"),
        (("[crisis.resources]", "[crisis.resourcez]"), "field 'crisis.resources'"),
    ],
)
def test_bad_clinic_files_name_the_field(tmp_path, catalog, change, message):
    source = (FIXTURES / "clinic.toml").read_text(encoding="utf-8")
    old, new = change
    assert old in source
    path = tmp_path / "clinic.toml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ClinicConfigError) as raised:
        load_clinic_config(path, catalog)
    assert message in str(raised.value)


def test_toml_syntax_error_names_the_file(tmp_path, catalog):
    path = tmp_path / "clinic.toml"
    path.write_text("[plans\n", encoding="utf-8")
    with pytest.raises(ClinicConfigError, match=str(path)):
        load_clinic_config(path, catalog)
