"""Conversation commands: start, consent, pause, resume, stop, language."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import effects as fx


class CommandsMixin:
    """Command behaviour of the conversation model (see handlers.Handlers)."""

    def while_opted_out(self, command: str) -> None:
        """After opting out only start (to rejoin), help and crisis do anything."""
        if command == "start":
            self.conv.status = "active"
            self.conv.consented = False
            self.emit(fx.PatientUpdated(status="active"))
            self.emit(fx.Audited("rejoined"))
            self.conv.context.clear()
            self.ask_consent()
            self.open_prompt("consent", **self.prompt_variables("consent"))
        else:
            self.say("opted_out", resources=self.ctx.crisis_resources(self.conv.locale))


    def remember_place(self) -> None:
        """Remember the state and open prompt that a stop or language prompt interrupts."""
        context = self.conv.context
        context.update(return_to=self.state, saved_prompt=context.get("prompt"), saved_nonce=context.get("nonce"))


    def on_start(self) -> None:
        """Greet: ask for consent the first time, otherwise carry on where the patient was."""
        if not self.conv.consented and self.state in ("new", "consent", "idle"):
            self.ask_consent()
            self.open_prompt("consent", **self.prompt_variables("consent"))
        elif self.state == "idle":
            self.say("nothing_pending")
        else:
            self.say("welcome_back")
            self.prompt_again()

    def on_consent(self, agreed: bool) -> None:
        """Record the consent decision and, on agreement, start the clinic's screening."""
        if not agreed:
            self.emit(fx.Audited("consent_declined"))
            self.consent_refused()
            self.conv.context.clear()
            self.say("consent_declined", resources=self.ctx.crisis_resources(self.conv.locale))
            return
        self.conv.consented = True
        self.emit(fx.PatientUpdated(consented_at=self.now))
        self.emit(fx.Audited("consent_given"))
        self.consent_given()
        self.begin_screening(self.ctx.clinic(self.conv.clinic).plan, trigger="intake")

    def on_pause(self) -> None:
        """Pause an open screening; its answers stay."""
        if self.state != "screening":
            self.say("nothing_to_pause")
            self.prompt_again()
            return
        self.pause()
        self.conv.context["prompt"] = "paused"
        ref = self.conv.screening.ref
        self.emit(fx.TimersCancelled(ref))
        expiry = self.ctx.config.screening.expire_after_hours
        self.emit(fx.TimerScheduled("expiry", self.now + timedelta(hours=expiry), ref))
        self.say("paused")

    def on_resume(self) -> None:
        """Resume a paused screening at the next unanswered item."""
        if self.state == "paused":
            self.continue_screening()
            self.say("resumed")
            self.schedule_silence_timers()
            self.ask_next()
        elif self.state in ("new", "idle"):
            self.say("nothing_pending")
        else:
            self.prompt_again()

    def on_stop_confirmation(self, confirmed: bool) -> None:
        """Opt the patient out after confirmation, or go back to where they were."""
        if not confirmed:
            self.say("stop_cancelled")
            self.return_to_previous()
            return
        screening = self.conv.screening
        if screening is not None:
            self.emit(fx.TimersCancelled(screening.ref))
            self.emit(fx.ScreeningEnded(screening.ref, "stopped"))
            self.conv.screening = None
        self.conv.status = "opted_out"
        self.emit(fx.PatientUpdated(status="opted_out"))
        self.emit(fx.Audited("opted_out"))
        self.stop_confirmed()
        self.conv.context.clear()
        self.say("stopped", resources=self.ctx.crisis_resources(self.conv.locale))

    def on_language(self, locale: str) -> None:
        """Switch the patient's language and carry on."""
        self.conv.locale = locale
        self.emit(fx.PatientUpdated(locale=locale))
        self.say("language_set")
        self.return_to_previous()

    def return_to_previous(self) -> None:
        """Leave a stop or language prompt for the state the patient was in, and re-ask."""
        context = self.conv.context
        self.return_to(context.pop("return_to", "idle"))
        context["prompt"] = context.pop("saved_prompt", None)
        context["nonce"] = context.pop("saved_nonce", None)
        self.prompt_again()
