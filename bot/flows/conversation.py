"""One step of a patient's conversation: stored state + one event + the clock -> new state + effects."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from bot.domain.effects import Effect
from bot.domain.events import Event, PatientButton, PatientCommand, PatientText, PatientUnsupported, TimerDue
from bot.flows.context import FlowContext, Ids
from bot.flows.handlers import Handlers
from bot.flows.machine import MACHINE
from bot.flows.state import Conversation


@dataclass
class StepResult:
    """What a step decided: the conversation as it now stands and the effects to store."""

    conversation: Conversation
    effects: list[Effect]


# Models stay on the machine between steps: adding one binds every trigger and state callback to it, which cost
# more than the step itself. Each step takes a free model (a new one when all are in use, by other threads).
_FREE_MODELS: deque[Handlers] = deque()


def step(conv: Conversation, event: Event, now: datetime, ctx: FlowContext, ids: Ids) -> StepResult:
    """Apply one event to a conversation; performs no I/O."""
    try:
        model = _FREE_MODELS.pop()
    except IndexError:
        model = Handlers(conv, now, ctx, ids)
        MACHINE.add_model(model, initial=conv.state)
    else:
        model.reset(conv, now, ctx, ids)
        MACHINE.set_state(conv.state, model=model)
    try:
        _dispatch(model, event)
        conv.state = model.state
        return StepResult(conv, model.effects)
    finally:
        model.reset(None, None, None, None)  # hold on to no patient's data while free
        _FREE_MODELS.append(model)


def _dispatch(model: Handlers, event: Event) -> None:
    if isinstance(event, TimerDue):
        model.on_timer(event)
    elif isinstance(event, PatientUnsupported):
        model.say("unsupported")
        model.prompt_again()
    elif isinstance(event, PatientCommand):
        model.on_command(event.command)
    elif isinstance(event, PatientButton):
        model.on_button(event.data)
    elif isinstance(event, PatientText):
        model.on_text(event.text)
