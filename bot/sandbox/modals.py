"""Modals and the App Home for the page: show a view's blocks and inputs, and build a submission's state."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack_view import block_json, text_of

CHOICES = ("radio_buttons", "static_select", "checkboxes")
SUPPORTED = ("plain_text_input",) + CHOICES


def _option(option: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {"text": text_of(option.get("text"), names), "value": option.get("value")}


def input_json(block: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Return an input block as a form field: label, hint, element type, options and initial value."""
    element = block.get("element") or {}
    kind = element.get("type", "")
    initial: Any = element.get("initial_value")
    if kind in ("radio_buttons", "static_select") and element.get("initial_option"):
        initial = element["initial_option"].get("value")
    if kind == "checkboxes":
        initial = [o.get("value") for o in element.get("initial_options") or []]
    return {"kind": "input", "block_id": block.get("block_id", ""), "label": text_of(block.get("label"), names),
            "hint": text_of(block.get("hint"), names), "optional": bool(block.get("optional")),
            "element": {"type": kind if kind in SUPPORTED else "unsupported",
                        "multiline": bool(element.get("multiline")), "max_length": element.get("max_length"),
                        "initial": initial,
                        "options": [_option(o, names) for o in element.get("options") or []]}}


def view_parts(view: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Return the parts of a modal or home view, inputs included."""
    parts: list[dict[str, Any]] = []
    for block in view.get("blocks") or []:
        parts += [input_json(block, names)] if block.get("type") == "input" else block_json(block, names)
    return parts


def modal_json(view: dict[str, Any], names: dict[str, str], errors: dict[str, str] | None) -> dict[str, Any]:
    """Return the modal on top of the clinician's stack: id, title, buttons, fields and the app's field errors."""
    return {"id": view["id"], "hash": view.get("hash"), "title": text_of(view.get("title"), names),
            "submit": text_of(view.get("submit"), names), "close": text_of(view.get("close"), names) or "Cancel",
            "parts": view_parts(view, names), "errors": errors or {}}


def _element_state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element.get("type")
    options = element.get("options") or []
    if kind == "checkboxes":
        chosen = set(answer or []) if isinstance(answer, list) else {answer} if answer else set()
        return {"type": kind, "selected_options": [o for o in options if o.get("value") in chosen]}
    if kind in ("radio_buttons", "static_select"):
        found = next((o for o in options if answer is not None and o.get("value") == answer), None)
        return {"type": kind, "selected_option": found}
    return {"type": kind or "plain_text_input", "value": answer if answer not in ("", None) else None}


def submission_values(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return view.state.values as Slack sends them, from the page's answers keyed by block_id."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("type") not in SUPPORTED:
            continue
        action_id = element.get("action_id", "")
        values[block.get("block_id", "")] = {action_id: _element_state(element, answers.get(block.get("block_id")))}
    return values
