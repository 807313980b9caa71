"""The /consult modal: build it from the PCP's clinics, read a submission back into a ConsultForm."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.inbound import typed
from bot.services.consult import NOTE_LIMIT, REASON_LIMIT, URGENCIES, ConsultForm

CALLBACK_ID = "consult"
VALUE = "value"  # every input's action_id


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _input(block_id: str, label: str, element: dict[str, Any], optional: bool = False,
           hint: str | None = None) -> dict[str, Any]:
    block = {"type": "input", "block_id": block_id, "label": _text(label), "optional": optional,
             "element": {**element, "action_id": VALUE}}
    if hint:
        block["hint"] = _text(hint)
    return block


def _checkbox(block_id: str, label: str) -> dict[str, Any]:
    option = {"text": _text(label), "value": "yes"}
    return _input(block_id, label, {"type": "checkboxes", "options": [option]}, optional=True)


def consult_view(clinics: list[tuple[str, str]], render) -> dict[str, Any]:
    """Return the modal for clinics given as (slug, name); a clinic menu only when there is a choice."""
    word = lambda part: render("team/consult_form", part=part)  # noqa: E731
    blocks = []
    if len(clinics) > 1:
        options = [{"text": _text(name), "value": slug} for slug, name in clinics]
        blocks.append(_input("clinic", word("clinic"), {"type": "static_select", "options": options}))
    urgencies = [{"text": _text(word(u)), "value": u} for u in URGENCIES]
    blocks += [
        _input("patient", word("patient"), {"type": "plain_text_input", "max_length": 64}, optional=True,
               hint=word("patient_hint")),
        _checkbox("new_patient", word("new_patient")),
        _input("reason", word("reason"), {"type": "plain_text_input", "max_length": REASON_LIMIT},
               hint=word("reason_hint")),
        _input("urgency", word("urgency"), {"type": "radio_buttons", "options": urgencies,
                                             "initial_option": urgencies[0]}),
        _checkbox("in_room", word("in_room")),
        _input("note", word("note"), {"type": "plain_text_input", "multiline": True, "max_length": NOTE_LIMIT},
               optional=True),
    ]
    return {"type": "modal", "callback_id": CALLBACK_ID, "title": _text(word("title")),
            "submit": _text(word("submit")), "close": _text(word("close")), "blocks": blocks}


def _value(values: dict[str, Any], block_id: str) -> Any:
    element = (values.get(block_id) or {}).get(VALUE) or {}
    kind = element.get("type")
    if kind == "checkboxes":
        return bool(element.get("selected_options"))
    chosen = (element.get("selected_option") or {}) if kind in ("static_select", "radio_buttons") else element
    value = chosen.get("value")
    return typed(value) if isinstance(value, str) else value


def consult_form(view: dict[str, Any]) -> ConsultForm:
    """Return what the PCP submitted (missing fields read as empty, so the service reports them)."""
    values = (view.get("state") or {}).get("values") or {}
    return ConsultForm(clinic=_value(values, "clinic"), patient=_value(values, "patient") or "",
                       new_patient=bool(_value(values, "new_patient")), reason=_value(values, "reason") or "",
                       urgency=_value(values, "urgency") or "", in_room=bool(_value(values, "in_room")),
                       note=_value(values, "note"))
