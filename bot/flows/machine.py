"""The conversation state machine: states and allowed transitions, built once per process."""

from __future__ import annotations

from transitions import Machine

STATES = [
    "new",  # enrolled, not yet asked for consent
    "consent",  # consent question open
    "screening",  # a question of the screening is open
    "acuity",  # crisis protocol: the acuity question is open
    "offer",  # the offer to talk to the behavioral health team is open
    "paused",  # the patient paused the screening
    "confirm_stop",  # "do you really want to stop?" is open
    "choose_language",  # language choice is open
    "idle",  # nothing is open
    "opted_out",  # the patient stopped; no more check-ins
]
RETURNABLE = ["new", "consent", "screening", "acuity", "offer", "paused", "idle"]
ALL_BUT_OPTED_OUT = [s for s in STATES if s != "opted_out"]


def _returns_to(target: str):
    def condition(destination: str) -> bool:
        return destination == target

    return condition


def _transitions() -> list[dict]:
    table = [
        {"trigger": "ask_consent", "source": ["new", "consent", "idle", "opted_out"], "dest": "consent"},
        {"trigger": "consent_given", "source": "consent", "dest": "screening"},
        {"trigger": "consent_refused", "source": "consent", "dest": "idle"},
        {"trigger": "crisis", "source": ALL_BUT_OPTED_OUT, "dest": "acuity"},
        {"trigger": "continue_screening", "source": ["acuity", "paused", "screening"], "dest": "screening"},
        {"trigger": "offer_help", "source": "screening", "dest": "offer"},
        {"trigger": "start_checkin", "source": "idle", "dest": "screening"},
        {"trigger": "settle", "source": ALL_BUT_OPTED_OUT, "dest": "idle"},
        {"trigger": "pause", "source": "screening", "dest": "paused"},
        {"trigger": "ask_stop", "source": [s for s in ALL_BUT_OPTED_OUT if s != "confirm_stop"], "dest": "confirm_stop"},
        {"trigger": "stop_confirmed", "source": "confirm_stop", "dest": "opted_out"},
        {"trigger": "ask_language", "source": [s for s in ALL_BUT_OPTED_OUT if s != "choose_language"], "dest": "choose_language"},
    ]
    for target in RETURNABLE:
        table.append(
            {
                "trigger": "return_to",
                "source": ["confirm_stop", "choose_language"],
                "dest": target,
                "conditions": [_returns_to(target)],
            }
        )
    return table


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=_transitions(),
    initial="new",
    auto_transitions=False,
    send_event=False,
)
