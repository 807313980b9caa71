"""The crisis protocol: resources at once, an urgent page, the ASQ acuity question."""

from __future__ import annotations

from bot.domain import effects as fx
from bot.flows import prompts
from bot.flows.context import ACUITY_INSTRUMENT, ACUITY_ITEM
from bot.flows.state import ScreeningState

CRISIS_PLAN = "crisis"


class CrisisMixin:
    """Crisis behaviour of the conversation model (see handlers.Handlers)."""

    def start_crisis(self, source: str, reason: str) -> None:
        """Show crisis resources first, page the team as urgent and ask the acuity question."""
        resources = self.ctx.crisis_resources(self.conv.locale)
        self.say("crisis", priority=fx.CRISIS, resources=resources)
        context = self.conv.context
        screening = self.conv.screening
        if not context.get("crisis_handoff"):
            ref = self.request_handoff("urgent", reason, source, screening.ref if screening else None, False)
            context["crisis_handoff"] = ref
            self.emit(fx.Audited("crisis_protocol", {"source": source, "handoff": ref}))
        if self.conv.status == "opted_out":
            return
        if self.state == "acuity":
            self.ask_acuity(reuse_nonce=True)
            return
        if screening is None:
            ref = self.ids.new("S")
            self.conv.screening = ScreeningState(ref=ref, plan=CRISIS_PLAN, trigger=source)
            self.emit(fx.ScreeningStarted(ref, CRISIS_PLAN, source))
        self.crisis()
        self.ask_acuity()

    def ask_acuity(self, reuse_nonce: bool = False) -> None:
        """Ask the ASQ acuity question ("thoughts of killing yourself right now?")."""
        context = self.conv.context
        if not (reuse_nonce and context.get("prompt") == "acuity"):
            context.update(prompt="acuity", nonce=self.ids.new("n"))
        asq = self.ctx.catalog[ACUITY_INSTRUMENT]
        self.effects.append(prompts.acuity_prompt(asq, asq.item(ACUITY_ITEM), context["nonce"], self.conv.locale))

    def on_acuity(self, acute: bool) -> None:
        """Record the acuity answer, raise the page to crisis level if acute, then go on."""
        screening, context = self.conv.screening, self.conv.context
        handoff = context["crisis_handoff"]
        self.emit(fx.AnswerSaved(screening.ref, ACUITY_INSTRUMENT, ACUITY_ITEM, int(acute), None, seq=0))
        resources = self.ctx.crisis_resources(self.conv.locale)
        if acute:
            reason = "acute: thoughts of suicide right now (ASQ)"
            self.emit(fx.HandoffUrgencyRaised(handoff, "crisis", reason))
            self.emit(fx.PageQueued(handoff, "crisis", reason, fx.CRISIS))
            self.emit(fx.Audited("handoff_escalated", {"handoff": handoff, "urgency": "crisis"}))
            self.say("crisis_acute", priority=fx.CRISIS, resources=resources)
        else:
            self.say("crisis_followup", priority=fx.CRISIS)
        if screening.plan == CRISIS_PLAN:
            self.emit(fx.ScreeningEnded(screening.ref, "completed"))
            self.conv.screening = None
            context.clear()
            self.settle()
            if not self.conv.consented:
                self.ask_consent()
                self.open_prompt("consent", **self.prompt_variables("consent"))
        elif self.ctx.config.screening.after_crisis == "end":
            self.emit(fx.TimersCancelled(screening.ref))
            self.emit(fx.ScreeningEnded(screening.ref, "ended_after_crisis"))
            self.conv.screening = None
            context.clear()
            self.settle()
            self.say("ended_after_crisis")
        else:
            self.continue_screening()
            self.ask_next()
