"""The conversation model: output, inbound routing, buttons and timers (the rest in mixins)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import effects as fx
from bot.domain.events import TimerDue
from bot.flows import prompts
from bot.flows.answering import AnsweringMixin
from bot.flows.commands import CommandsMixin
from bot.flows.context import CHECKIN_PLAN, FlowContext, Ids
from bot.flows.crisis import CrisisMixin
from bot.flows.parsing import contains_folded_phrase, fold
from bot.flows.state import Conversation

LOCALES = {"lang_en": "en", "lang_es": "es"}


class Handlers(CommandsMixin, AnsweringMixin, CrisisMixin):
    """The model the state machine drives for one event; collects effects, performs no I/O."""

    state: str  # set by the machine

    def __init__(self, conv: Conversation, now: datetime, ctx: FlowContext, ids: Ids):
        self.reset(conv, now, ctx, ids)

    def reset(self, conv: Conversation, now: datetime, ctx: FlowContext, ids: Ids) -> None:
        """Take up a new step (the machine keeps its models between steps)."""
        self.conv = conv
        self.now = now
        self.ctx = ctx
        self.ids = ids
        self.effects: list[fx.Effect] = []

    # -- output ---------------------------------------------------------------------------

    def say(self, template: str, priority: int = fx.REPLY, **variables) -> None:
        """Queue a message to the patient."""
        self.effects.append(fx.Say(template, variables, (), priority))

    def emit(self, effect: fx.Effect) -> None:
        """Record an effect for the service to store."""
        self.effects.append(effect)

    def open_prompt(self, name: str, priority: int = fx.REPLY, **variables) -> None:
        """Ask a fixed-choice prompt and remember it as the open one."""
        nonce = self.ids.new("n")
        self.conv.context.update(prompt=name, nonce=nonce)
        self.effects.append(prompts.prompt(name, nonce, variables, priority))

    def prompt_again(self) -> None:
        """Ask again whatever is open, so the patient always knows what is expected."""
        name = self.conv.context.get("prompt")
        if name == "question" and self.state == "screening":
            self.ask_next(reuse_nonce=True)
        elif name == "acuity":
            self.ask_acuity(reuse_nonce=True)
        elif name in prompts.PROMPTS:
            nonce = self.conv.context["nonce"]
            self.effects.append(prompts.prompt(name, nonce, self.prompt_variables(name)))

    def prompt_variables(self, name: str) -> dict:
        """Return the variables a fixed-choice prompt's template needs."""
        if name == "consent":
            clinic = self.ctx.clinic(self.conv.clinic)
            return {"clinic_name": clinic.name, "resources": self.ctx.crisis_resources(self.conv.locale)}
        return {}

    # -- inbound ----------------------------------------------------------------------------

    def on_text(self, text: str) -> None:
        """Handle typed text: crisis phrases first, then commands, then the open question."""
        if contains_folded_phrase(text, self.ctx.folded_crisis_phrases):
            self.start_crisis(source="crisis_phrase", reason="crisis phrase in a message")
            return
        command = self.ctx.words.command(text)
        if command is not None:
            self.on_command(command)
        elif self.conv.status == "opted_out":
            self.say("opted_out", resources=self.ctx.crisis_resources(self.conv.locale))
        elif not fold(text):
            self.say("hint_empty")
            self.prompt_again()
        else:
            self.on_reply(text)

    def on_command(self, command: str) -> None:
        """Handle a command word or slash command."""
        if command == "crisis":
            self.say("crisis", priority=fx.CRISIS, resources=self.ctx.crisis_resources(self.conv.locale))
            self.prompt_again()
        elif self.conv.status == "opted_out":
            self.while_opted_out(command)
        elif command == "start":
            self.on_start()
        elif command == "help":
            self.say("help", resources=self.ctx.crisis_resources(self.conv.locale))
            self.prompt_again()
        elif command == "pause":
            self.on_pause()
        elif command == "resume":
            self.on_resume()
        elif command == "back":
            self.on_back()
        elif command in ("language", "stop") and self.state in ("confirm_stop", "choose_language"):
            self.prompt_again()
        elif command == "language":
            self.remember_place()
            self.ask_language()
            self.open_prompt("choose_language")
        elif command == "stop":
            self.remember_place()
            self.ask_stop()
            self.open_prompt("confirm_stop")
        else:
            self.say("help", resources=self.ctx.crisis_resources(self.conv.locale))
            self.prompt_again()

    def on_button(self, data: str) -> None:
        """Handle a button press; a press on anything but the open question changes nothing."""
        parts = data.split(":")
        context = self.conv.context
        screening = self.conv.screening
        if parts[0] == "h" and len(parts) == 3 and parts[2] == "later" and self.conv.status != "opted_out":
            self.emit(fx.CallbackRequested(parts[1]))  # a button under "<clinician> will contact you"
            self.say("call_later_noted")
            return
        if self.conv.status == "opted_out" or context.get("nonce") is None:
            self.emit(fx.Toast("stale_button"))
            return
        if parts[0] == "a" and len(parts) == 4 and self.state == "screening" and context.get("prompt") == "question":
            if screening is not None and parts[1] == screening.ref and parts[2] == context["nonce"]:
                self.on_choice_value(parts[3])
                return
        if parts[0] == "c" and len(parts) == 3 and parts[1] == context["nonce"]:
            name = context.get("prompt")
            if name in prompts.PROMPTS and parts[2] in prompts.PROMPTS[name][1]:
                self.on_prompt_choice(name, parts[2])
                return
        self.emit(fx.Toast("stale_button"))

    def on_prompt_choice(self, name: str, choice: str) -> None:
        """Act on the choice made at a fixed-choice prompt."""
        self.emit(fx.QuestionAnswered(self.conv.context["nonce"], word=choice))
        if name == "consent":
            self.on_consent(choice == "agree")
        elif name == "offer":
            self.on_offer(choice)
        elif name == "acuity":
            self.on_acuity(choice == "acuity_yes")
        elif name == "confirm_stop":
            self.on_stop_confirmation(choice == "stop_yes")
        elif name == "choose_language":
            self.on_language(LOCALES[choice])

    # -- timers -----------------------------------------------------------------------------

    def on_timer(self, event: TimerDue) -> None:
        """Send a reminder, close a silent screening as incomplete, or start a scheduled check-in."""
        if event.kind.startswith(CHECKIN_PLAN):
            self.on_checkin_due(event.kind.removeprefix(CHECKIN_PLAN))
            return
        screening = self.conv.screening
        if screening is None or screening.ref != event.screening_ref or self.conv.status == "opted_out":
            return
        if event.kind == "reminder" and self.state == "screening":
            self.say("reminder", priority=fx.REMINDER)
            self.ask_next(reuse_nonce=True, priority=fx.REMINDER)
        elif event.kind == "expiry" and self.state in ("screening", "paused"):
            self.emit(fx.TimersCancelled(screening.ref))
            self.emit(fx.ScreeningEnded(screening.ref, "expired"))
            self.conv.screening = None
            self.conv.context.clear()
            self.settle()
            self.say("expired", priority=fx.REMINDER)

    def on_checkin_due(self, instrument: str) -> None:
        """Start a due check-in at the lowest priority, outside quiet hours, when nothing else is open."""
        care = self.ctx.config.care
        checkin = care.checkin(instrument)
        if checkin is None or self.conv.status != "active" or self.state == "opted_out":
            return  # stopped, unreachable, or no longer in the clinic file: the schedule ends here
        timezone = self.ctx.clinic(self.conv.clinic).timezone
        allowed = care.quiet_hours.next_allowed(self.now, timezone)
        if allowed > self.now:
            self.emit(fx.CheckInScheduled(instrument, allowed))
            return
        if self.state != "idle" or not self.conv.consented:  # paused or busy: look again tomorrow
            retry = care.quiet_hours.next_allowed(self.now + timedelta(days=1), timezone)
            self.emit(fx.CheckInScheduled(instrument, retry))
            return
        following = care.quiet_hours.next_allowed(self.now + timedelta(days=checkin.every_days), timezone)
        self.emit(fx.CheckInScheduled(instrument, following))
        self.start_checkin()
        self.begin_screening(f"{CHECKIN_PLAN}{instrument}", trigger="checkin", priority=fx.CHECKIN)
