"""The `carebridge` command as a clinic admin uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_instruments_lists_every_shipped_instrument_with_licence():
    result = run("instruments")
    assert result.exit_code == 0
    for instrument_id in ("phq9", "phq2", "gad7", "gad2", "auditc", "drug_use", "pcptsd5", "asq", "hrsn"):
        assert instrument_id in result.output
    assert "Public domain" in result.output


def test_show_renders_items_and_numbered_options_as_a_patient_sees_them():
    result = run("instruments", "show", "phq9")
    assert result.exit_code == 0
    assert "1 of 10" in result.output
    assert "Little interest or pleasure in doing things" in result.output
    assert "1. Not at all" in result.output and "4. Nearly every day" in result.output


def test_show_in_spanish():
    result = run("instruments", "show", "phq9", "--lang", "es")
    assert result.exit_code == 0
    assert "1 de 10" in result.output
    assert "1. Ningún día" in result.output


def test_show_refuses_a_language_the_instrument_lacks():
    result = run("instruments", "show", "asq", "--lang", "fr")
    assert result.exit_code == 2
    assert "no 'fr' text" in result.output


@pytest.mark.parametrize(
    "args, expected",
    [
        (("phq9", "--answers", "3,3,3,3,3,2,0,0,0"), {"total": 17, "band": "moderately_severe", "positive": True, "flags": []}),
        (("phq9", "--answers", "0,0,0,0,0,0,0,0,1,2"), {"total": 1, "band": "minimal", "positive": False, "flags": ["suicide_risk"]}),
        (("gad7", "--answers", "2,2,2,2,1,1,0"), {"total": 10, "band": "moderate", "positive": True, "flags": []}),
        (("auditc", "--answers", "2,1,0"), {"total": 3, "band": None, "positive": True, "flags": []}),
        (("auditc", "--answers", "2,1,0", "--sex", "male"), {"total": 3, "band": None, "positive": False, "flags": []}),
        (("auditc", "--answers", "2,1,0", "--sex", "female"), {"total": 3, "band": None, "positive": True, "flags": []}),
        (("PHQ-2", "--answers", "1,2"), {"total": 3, "band": None, "positive": True, "flags": []}),
    ],
)
def test_score_json_is_exactly_one_object(args, expected):
    result = run("score", *args, "--json")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {"instrument", "total", "band", "positive", "flags"}
    assert {k: data[k] for k in expected} == expected


@pytest.mark.parametrize(
    "answers, fragment",
    [
        ("1,0,2", "PHQ-9 item 4 (q4): no answer given"),
        ("1,0,2,1,1,1,1,1,1,1,1", "11 answers given, but PHQ-9 has 10 items"),
        ("1,0,9,1,1,1,1,1,1", "PHQ-9 item 3 (q3): 9 is not one of the options 0, 1, 2, 3"),
        ("1,0,x,1,1,1,1,1,1", "PHQ-9 item 3 (q3): 'x' is not a number"),
        ("1,0,-1,1,1,1,1,1,1", "PHQ-9 item 3 (q3): -1 is not one of the options"),
        ("1,0,1.5,1,1,1,1,1,1", "PHQ-9 item 3 (q3): '1.5' is not a number"),
        ("1,0,1+2,1,1,1,1,1,1", "PHQ-9 item 3 (q3): '1+2': only one answer is allowed"),
        ("", "PHQ-9 item 1 (q1): no answer given"),
    ],
)
def test_bad_answers_exit_2_with_one_line_naming_the_item(answers, fragment):
    result = run("score", "phq9", "--answers", answers, "--json")
    assert result.exit_code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_unknown_instrument_exits_2():
    result = run("score", "dast10", "--answers", "1")
    assert result.exit_code == 2
    assert "unknown instrument 'dast10'" in result.output


def test_export_fhir_writes_a_file(tmp_path):
    out = tmp_path / "phq9.json"
    result = run("instruments", "export-fhir", "phq9", "--out", str(out))
    assert result.exit_code == 0
    data = json.loads(out.read_text())
    assert data["resourceType"] == "Questionnaire"
    assert data["code"][0]["code"] == "44249-1"


def test_console_script_error_is_one_line_on_stderr_without_traceback():
    script = Path(sys.executable).with_name("carebridge")
    done = subprocess.run(
        [str(script), "score", "gad7", "--answers", "1,2,3,4,0,0,0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "error: GAD-7 item 4 (q4): 4 is not one of the options 0, 1, 2, 3"


def test_bad_instrument_file_stops_the_cli_naming_file_item_and_field(tmp_path):
    source = Path(__file__).resolve().parents[2] / "instruments" / "phq2.yaml"
    broken = source.read_text(encoding="utf-8").replace("id: q2", "id: q2\n    scord: true", 1)
    (tmp_path / "phq2.yaml").write_text(broken, encoding="utf-8")
    script = Path(sys.executable).with_name("carebridge")
    env = {**os.environ, "CAREBRIDGE_INSTRUMENTS_DIR": str(tmp_path)}
    done = subprocess.run([str(script), "instruments"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{tmp_path / 'phq2.yaml'}: item 'q2', field 'scord'" in done.stderr
