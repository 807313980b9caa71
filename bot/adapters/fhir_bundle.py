"""Export one patient's completed results as a FHIR R4 collection Bundle (built with the fhir.resources R4B models)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import NAMESPACE_URL, UUID, uuid5

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient, PatientCommunication
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.reference import Reference

from bot.adapters.fhir_questionnaire import LOINC, answer_system
from bot.instruments.schema import Instrument, Item, Option
from bot.instruments.scoring import Answer
from bot.services.results import InstrumentResult, PatientRecord

PATIENT_CODE_SYSTEM = "urn:carebridge:patient-code"
SCORE_SYSTEM = "urn:carebridge:instrument-score"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carebridge:fhir-export")


def mrn_system(clinic: str) -> str:
    """Return the identifier system of a clinic's own patient reference (its MRN)."""
    return f"urn:carebridge:clinic:{clinic}:mrn"


def band_system(inst: Instrument) -> str:
    """Return the code system of an instrument's severity bands."""
    return f"urn:carebridge:instrument:{inst.id}:band"


def patient_bundle(patient: PatientRecord, results: list[InstrumentResult], catalog: Mapping[str, Instrument],
                   with_identifiers: bool = False) -> Bundle:
    """Build a patient's Bundle: the Patient, a QuestionnaireResponse per result and an Observation per total."""
    patient_id = _uuid("patient", patient.code)
    entries = [_entry(patient_id, _patient(patient, patient_id, with_identifiers))]
    for result in results:
        inst = catalog.get(result.instrument)
        if inst is None:
            raise ValueError(f"instrument '{result.instrument}' of patient {patient.code} is not in the catalog")
        response_id = _uuid("response", patient.code, result.screening_ref, result.instrument)
        entries.append(_entry(response_id, _response(inst, result, response_id, patient_id)))
        if result.total is not None:
            observation_id = _uuid("observation", patient.code, result.screening_ref, result.instrument)
            entries.append(_entry(observation_id, _observation(inst, result, observation_id, patient_id, response_id)))
    return Bundle(id=str(_uuid("bundle", patient.code)), type="collection", entry=entries)


def _uuid(*parts: str) -> UUID:
    """Return the same uuid for the same parts on every export."""
    return uuid5(_NAMESPACE, "/".join(parts))


def _ref(resource_id: UUID) -> Reference:
    return Reference(reference=f"urn:uuid:{resource_id}")


def _entry(resource_id: UUID, resource) -> BundleEntry:
    return BundleEntry(fullUrl=f"urn:uuid:{resource_id}", resource=resource)


def _patient(patient: PatientRecord, patient_id: UUID, with_identifiers: bool) -> Patient:
    identifiers = [Identifier(system=PATIENT_CODE_SYSTEM, value=patient.code)]
    if with_identifiers and patient.external_ref:
        identifiers.append(Identifier(system=mrn_system(patient.clinic), value=patient.external_ref))
    language = CodeableConcept(coding=[Coding(system=LANGUAGE_SYSTEM, code=patient.locale)])
    return Patient(id=str(patient_id), identifier=identifiers, communication=[PatientCommunication(language=language)])


def _response(inst: Instrument, result: InstrumentResult, response_id: UUID, patient_id: UUID) -> QuestionnaireResponse:
    items = [_response_item(inst, inst.item(item_id), chosen) for item_id, chosen in result.answers]
    return QuestionnaireResponse(
        id=str(response_id), status="completed", questionnaire=f"urn:carebridge:questionnaire:{inst.id}",
        subject=_ref(patient_id), authored=result.scored_at, item=items or None,
    )


def _response_item(inst: Instrument, item: Item, chosen: Answer) -> QuestionnaireResponseItem:
    values = sorted(chosen) if isinstance(chosen, frozenset) else [chosen]
    answers = [QuestionnaireResponseItemAnswer(valueCoding=Coding(
        system=answer_system(inst, item), code=str(value), display=_english(inst.option(item, value))))
        for value in values]
    return QuestionnaireResponseItem(linkId=item.id, text=_english_text(item.text), answer=answers)


def _observation(inst: Instrument, result: InstrumentResult, observation_id: UUID, patient_id: UUID,
                 response_id: UUID) -> Observation:
    if inst.loinc.total:
        coding = Coding(system=LOINC, code=inst.loinc.total)
    else:
        coding = Coding(system=SCORE_SYSTEM, code=inst.id)
    category = CodeableConcept(coding=[Coding(system=OBSERVATION_CATEGORY, code="survey", display="Survey")])
    return Observation(
        id=str(observation_id), status="final", category=[category],
        code=CodeableConcept(coding=[coding], text=f"{inst.short_title} total score"),
        subject=_ref(patient_id), effectiveDateTime=result.scored_at, valueInteger=result.total,
        derivedFrom=[_ref(response_id)],
        interpretation=[_interpretation(inst, result.band)] if result.band else None,
    )


def _interpretation(inst: Instrument, band_id: str) -> CodeableConcept:
    band = next((b for b in inst.scoring.bands if b.id == band_id), None)
    label = _english_text(band.label) if band else band_id
    return CodeableConcept(coding=[Coding(system=band_system(inst), code=band_id, display=label)], text=label)


def _english(option: Option | None) -> str | None:
    return _english_text(option.text) if option is not None else None


def _english_text(text: Mapping[str, str]) -> str:
    """Return the English text, or the first language's when an instrument has no English."""
    return text.get("en") or next(iter(text.values()))
