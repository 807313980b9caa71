"""`carebridge export fhir`: a patient's screenings as a FHIR R4 Bundle another system can read back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from bot.adapters.console import ConsoleChat
from bot.adapters.fhir_bundle import PATIENT_CODE_SYSTEM, mrn_system
from bot.adapters.fhir_questionnaire import LOINC, answer_system
from bot.cli import app
from bot.config import settings
from bot.services.enrollment import enroll_chat
from tests.store_fixtures import FIXTURES, START

runner = CliRunner()
PHQ2_POSITIVE = ["3", "3"]  # option numbers: values 2, 2
PHQ9_REST = ["2", "2", "3", "3", "3", "1", "1", "2"]  # q3..q9 = 1, 1, 2, 2, 2, 0, 0; difficulty = 1
PHQ9_VALUES = {"q1": 2, "q2": 2, "q3": 1, "q4": 1, "q5": 2, "q6": 2, "q7": 2, "q8": 0, "q9": 0, "difficulty": 1}


@pytest.fixture
def cli(monkeypatch, database_url):
    """Run the command line on the test database and clinic file."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CAREBRIDGE_CONFIG", str(FIXTURES / "clinic.toml"))
    settings.cache_clear()

    def run(*args: str):
        return runner.invoke(app, ["export", "fhir", *args])

    yield run
    settings.cache_clear()


def screen(chat: ConsoleChat, clock, replies: list[str]) -> None:
    """Consent and answer, one minute per reply."""
    chat.start()
    chat.type("I agree")
    for reply in replies:
        clock.advance(minutes=1)
        chat.type(reply)


def enrolled(services, clinic: str, chat_id: str, ref: str | None = None) -> tuple[ConsoleChat, str]:
    code = enroll_chat(services, clinic, "console", chat_id, ref)
    return ConsoleChat(services, chat_id), code


def read(path) -> tuple[Bundle, dict[str, list]]:
    """Parse a written file with the FHIR models; return it and its resources by type."""
    bundle = Bundle.model_validate_json(path.read_text(encoding="utf-8"))
    by_type: dict[str, list] = {}
    for entry in bundle.entry or []:
        by_type.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    return bundle, by_type


def answers(response) -> dict[str, list[tuple[str, str, str]]]:
    return {i.linkId: [(a.valueCoding.system, a.valueCoding.code, a.valueCoding.display) for a in i.answer]
            for i in response.item}


def test_a_positive_phq9_exports_patient_responses_and_scores(make_services, clock, cli, tmp_path):
    services = make_services()
    chat, code = enrolled(services, "mood", "chat-1", ref="MRN-4711")
    screen(chat, clock, PHQ2_POSITIVE + PHQ9_REST)
    result = cli("--patient", code, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert f"wrote 1 bundle to {tmp_path / 'out'}" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{code}.json"]
    bundle, found = read(tmp_path / "out" / f"{code}.json")
    assert bundle.type == "collection"
    assert set(found) == {"Patient", "QuestionnaireResponse", "Observation"}

    [patient] = found["Patient"]
    assert patient.name is None
    assert [(i.system, i.value) for i in patient.identifier] == [(PATIENT_CODE_SYSTEM, code)]
    assert patient.communication[0].language.coding[0].code == "en"
    assert "MRN-4711" not in (tmp_path / "out" / f"{code}.json").read_text(encoding="utf-8")

    responses = {r.questionnaire: r for r in found["QuestionnaireResponse"]}
    assert set(responses) == {"urn:carebridge:questionnaire:phq2", "urn:carebridge:questionnaire:phq9"}
    phq9 = services.flow.catalog["phq9"]
    response = responses["urn:carebridge:questionnaire:phq9"]
    assert response.status == "completed"
    assert response.authored == START + timedelta(minutes=len(PHQ2_POSITIVE + PHQ9_REST))
    assert answers(response) == {
        item: [(answer_system(phq9, phq9.item(item)), str(value), phq9.option(phq9.item(item), value).text["en"])]
        for item, value in PHQ9_VALUES.items()
    }
    assert answers(responses["urn:carebridge:questionnaire:phq2"])["q1"][0][1:] == ("2", "More than half the days")

    observations = {o.code.coding[0].code: o for o in found["Observation"]}
    assert set(observations) == {"44261-6", "55758-7"}
    total = observations["44261-6"]
    assert total.code.coding[0].system == LOINC
    assert (total.status, total.valueInteger, total.effectiveDateTime) == ("final", 12, response.authored)
    assert total.category[0].coding[0].code == "survey"
    assert total.interpretation[0].text == "Moderate"
    assert observations["55758-7"].valueInteger == 4

    urls = {entry.fullUrl: entry.resource for entry in bundle.entry}
    assert all(url.startswith("urn:uuid:") for url in urls)
    assert urls[total.derivedFrom[0].reference] is response
    for resource in found["QuestionnaireResponse"] + found["Observation"]:
        assert urls[resource.subject.reference] is patient


def test_the_clinic_reference_is_exported_only_where_the_clinic_file_allows_it(make_services, clock, cli, tmp_path,
                                                                               monkeypatch):
    chat, code = enrolled(make_services(), "mood", "chat-1", ref="MRN-4711")
    screen(chat, clock, ["1", "1"])
    assert cli("--patient", code.lower(), "--out", str(tmp_path / "default")).exit_code == 0
    _, found = read(tmp_path / "default" / f"{code}.json")
    assert [(i.system, i.value) for i in found["Patient"][0].identifier] == [(PATIENT_CODE_SYSTEM, code)]
    assert "MRN-4711" not in (tmp_path / "default" / f"{code}.json").read_text(encoding="utf-8")

    allowing = tmp_path / "clinic.toml"
    allowing.write_text((FIXTURES / "clinic.toml").read_text(encoding="utf-8").replace(
        'slug = "mood"\n', 'slug = "mood"\nidentifiers_in_exports = true\n', 1), encoding="utf-8")
    monkeypatch.setenv("CAREBRIDGE_CONFIG", str(allowing))
    settings.cache_clear()
    assert cli("--patient", code.lower(), "--out", str(tmp_path / "allowed")).exit_code == 0
    _, found = read(tmp_path / "allowed" / f"{code}.json")
    [patient] = found["Patient"]
    assert [(i.system, i.value) for i in patient.identifier] == [
        (PATIENT_CODE_SYSTEM, code), (mrn_system("mood"), "MRN-4711")]
    assert [o.valueInteger for o in found["Observation"]] == [0]
    assert found["Observation"][0].interpretation is None


def test_a_command_line_flag_cannot_add_identifiers_the_clinic_file_does_not_allow(make_services, clock, cli, tmp_path):
    chat, code = enrolled(make_services(), "mood", "chat-1", ref="MRN-4711")
    screen(chat, clock, ["1", "1"])
    assert cli("--patient", code, "--with-identifiers", "--out", str(tmp_path)).exit_code == 2
    assert not (tmp_path / f"{code}.json").exists()


def test_multiple_choice_answers_export_one_coding_each_and_no_total(make_services, clock, cli, tmp_path):
    chat, code = enrolled(make_services(), "needs", "chat-1")
    screen(chat, clock, ["2", "1, 3", "3", "3", "2", "2", "3", "1", "1", "1"])
    assert cli("--patient", code, "--out", str(tmp_path)).exit_code == 0
    _, found = read(tmp_path / f"{code}.json")
    assert "Observation" not in found  # the AHC HRSN has no total score
    [response] = found["QuestionnaireResponse"]
    assert [a[1:] for a in answers(response)["q2"]] == [("1", "Pests such as bugs, ants, or mice"),
                                                      ("3", "Lead paint or pipes")]


def test_all_patients_or_one_clinic_and_re_exports_are_identical(make_services, clock, cli, tmp_path):
    services = make_services()
    mood_chat, mood = enrolled(services, "mood", "chat-1")
    screen(mood_chat, clock, ["1", "1"])
    _, waiting = enrolled(services, "alcohol", "chat-2")
    assert cli("--all", "--out", str(tmp_path / "all")).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted([f"{mood}.json", f"{waiting}.json"])
    _, found = read(tmp_path / "all" / f"{waiting}.json")
    assert set(found) == {"Patient"}  # enrolled, nothing completed yet
    result = cli("--all", "--clinic", "mood", "--out", str(tmp_path / "mood"))
    assert result.exit_code == 0 and "wrote 1 bundle" in result.output
    assert [p.name for p in (tmp_path / "mood").iterdir()] == [f"{mood}.json"]
    again = (tmp_path / "mood" / f"{mood}.json").read_bytes()
    assert again == (tmp_path / "all" / f"{mood}.json").read_bytes()


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "give either --patient CODE or --all"),
        (("--patient", "P-0001", "--all"), "give either --patient CODE or --all"),
        (("--patient", "P-ZZZZ"), "unknown patient code 'P-ZZZZ'"),
        (("--patient", "{code}", "--clinic", "alcohol"), "unknown patient code '{code}' in clinic 'alcohol'"),
        (("--all", "--clinic", "nowhere"), "unknown clinic 'nowhere'"),
    ],
)
def test_bad_usage_exits_2_and_writes_nothing(make_services, cli, tmp_path, args, message):
    _, code = enrolled(make_services(), "mood", "chat-1")
    result = cli(*(a.format(code=code) for a in args), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert f"error: {message.format(code=code)}" in result.output
    assert not (tmp_path / "out").exists()
