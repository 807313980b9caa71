"""Screening steps: start, ask, record answers, go back, score, finish and offer a handoff."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import effects as fx
from bot.flows import prompts
from bot.flows.parsing import fold, parse_answer, reply_number
from bot.flows.plan import Position, completed_score, effective_answers, instruments_in_play, next_position
from bot.flows.rules import highest_urgency, matching_rules, reason_line
from bot.flows.state import ScreeningState
from bot.instruments.scoring import Answer, Score, raised_flags


CHECKIN = "checkin"  # the trigger of a scheduled check-in screening


class AnsweringMixin:
    """Screening behaviour of the conversation model (see handlers.Handlers)."""

    def begin_screening(self, plan: str, trigger: str, priority: int = fx.REPLY) -> None:
        """Open a new screening and ask its first question."""
        ref = self.ids.new("S")
        self.conv.screening = ScreeningState(ref=ref, plan=plan, trigger=trigger)
        self.conv.context = {}
        self.emit(fx.ScreeningStarted(ref, plan, trigger))
        self.say("checkin_intro" if trigger == CHECKIN else "intro", priority=priority)
        self.schedule_silence_timers()
        self.ask_next(priority=priority)

    def schedule_silence_timers(self) -> None:
        """Set (or move) the screening's reminder and expiry timers, counted from now."""
        settings, ref = self.ctx.config.screening, self.conv.screening.ref
        remind_at = self.now + timedelta(hours=settings.reminder_after_hours)
        if self.conv.screening.trigger == CHECKIN:  # scheduled messages keep the quiet hours
            remind_at = self.ctx.config.care.quiet_hours.next_allowed(remind_at, self.ctx.clinic(self.conv.clinic).timezone)
        self.emit(fx.TimerScheduled("reminder", remind_at, ref))
        self.emit(fx.TimerScheduled("expiry", self.now + timedelta(hours=settings.expire_after_hours), ref))

    def position(self) -> Position | None:
        """Return the screening's next question, or None when it is complete."""
        screening = self.conv.screening
        return next_position(self.ctx.plan(screening.plan), self.ctx.catalog, screening.answers, self.conv.sex)

    def ask_next(self, reuse_nonce: bool = False, priority: int = fx.REPLY) -> None:
        """Ask the next question, or finish when there is none."""
        position = self.position()
        if position is None:
            self.finish()
            return
        context = self.conv.context
        same = (context.get("prompt"), context.get("instrument"), context.get("item")) == (
            "question",
            position.instrument.id,
            position.item.id,
        )
        if not (reuse_nonce and same):
            context.update(prompt="question", nonce=self.ids.new("n"))
            context.update(instrument=position.instrument.id, item=position.item.id)
        ref = self.conv.screening.ref
        self.effects.append(prompts.question(position, ref, context["nonce"], self.conv.locale, priority))

    def on_reply(self, text: str) -> None:
        """Read typed text as the answer to whatever is open."""
        name = self.conv.context.get("prompt")
        if self.state == "screening" and name == "question":
            position = self.position()
            answer = parse_answer(position.instrument, position.item, text, self.ctx.words)
            if answer is None:
                count = len(position.instrument.options(position.item))
                self.say("hint_multiple" if position.item.multiple else "hint", count=count)
                self.prompt_again()
            else:
                self.on_answer(answer, position)
        elif name in prompts.PROMPTS:
            choice = self.match_choice(name, text)
            if choice is None:
                self.say("hint_choice", count=len(prompts.PROMPTS[name][1]))
                self.prompt_again()
            else:
                self.on_prompt_choice(name, choice)
        elif self.state == "paused":
            self.say("paused_hint")
        elif self.state == "new":
            self.on_start()
        else:
            self.say("nothing_pending")

    def match_choice(self, name: str, text: str) -> str | None:
        """Return the choice a typed reply picks at a fixed-choice prompt: number, label, yes or no."""
        keys = prompts.PROMPTS[name][1]
        folded = fold(text)
        number = reply_number(folded)
        if number is not None and 1 <= number <= len(keys):
            return keys[number - 1]
        for labels in self.ctx.words.labels.values():
            for key in keys:
                if fold(labels.get(key, "")) == folded:
                    return key
        if self.ctx.words.is_yes(text):
            return keys[0]
        if self.ctx.words.is_no(text):
            return keys[1]
        return None

    def on_choice_value(self, raw: str) -> None:
        """Accept a button's option value for the open question."""
        position = self.position()
        options = {str(o.value): o.value for o in position.instrument.options(position.item)}
        if raw not in options or position.item.multiple:
            self.emit(fx.Toast("stale_button"))
            return
        self.on_answer(options[raw], position)

    def on_answer(self, answer: Answer, position: Position) -> None:
        """Store the open question's answer, score what it completes, run the crisis protocol if it says so, go on."""
        screening = self.conv.screening
        inst, item = position.instrument, position.item
        seq = screening.record(inst.id, item.id, answer)
        single = None if isinstance(answer, frozenset) else answer
        several = tuple(sorted(answer)) if isinstance(answer, frozenset) else None
        self.emit(fx.AnswerSaved(screening.ref, inst.id, item.id, single, several, seq))
        self.emit(fx.QuestionAnswered(self.conv.context["nonce"], text=self.answer_label(position, answer)))
        self.schedule_silence_timers()
        self.save_new_scores()
        if self.raise_immediate_flags(inst.id):
            return
        self.ask_next()

    def answer_label(self, position: Position, answer: Answer) -> str:
        """Return the chosen option text(s) of a question, in the patient's language."""
        inst, chosen = position.instrument, answer if isinstance(answer, frozenset) else {answer}
        labels = [prompts.text_in(inst, o.text, self.conv.locale) for o in inst.options(position.item) if o.value in chosen]
        return ", ".join(labels)

    def raise_immediate_flags(self, instrument_id: str) -> bool:
        """Start the crisis protocol for a newly raised immediate flag; say whether it did."""
        inst, screening = self.ctx.catalog[instrument_id], self.conv.screening
        given = effective_answers(self.ctx.catalog, instrument_id, screening.answers)
        handled = self.conv.context.setdefault("handled_flags", [])
        immediate = {f.id for f in inst.flags if f.immediate}
        new = [f for f in raised_flags(inst, given) if f in immediate and f"{inst.id}:{f}" not in handled]
        if not new:
            return False
        handled += [f"{inst.id}:{f}" for f in new]
        labels = [f.label["en"] for f in inst.flags if f.id in new]
        self.start_crisis(source="item", reason=f"{inst.short_title}: {', '.join(labels)}")
        return True

    def scores(self) -> dict[str, Score]:
        """Return the score of every completed instrument in play."""
        screening = self.conv.screening
        plan = self.ctx.plan(screening.plan)
        found = {}
        for instrument_id in instruments_in_play(plan, self.ctx.catalog, screening.answers, self.conv.sex):
            given = effective_answers(self.ctx.catalog, instrument_id, screening.answers)
            result = completed_score(self.ctx.catalog[instrument_id], given, self.conv.sex)
            if result is not None:
                found[instrument_id] = result
        return found

    def save_new_scores(self) -> None:
        """Store scores of instruments completed since the last step."""
        scored = self.conv.context.setdefault("scored", [])
        for instrument_id, result in self.scores().items():
            if instrument_id not in scored:
                scored.append(instrument_id)
                self.emit(
                    fx.ScoreSaved(
                        self.conv.screening.ref, instrument_id, result.total, result.band, result.positive,
                        result.flags, dict(result.subscales),
                    )
                )

    def on_back(self) -> None:
        """Take back the last answer and ask that question again; scores it completed are withdrawn."""
        screening = self.conv.screening
        if self.state != "screening" or screening is None or not screening.order:
            self.say("nothing_to_go_back")
            self.prompt_again()
            return
        instrument_id, item_id = screening.order[-1]
        screening.forget(instrument_id, item_id)
        self.emit(fx.AnswerRemoved(screening.ref, instrument_id, item_id))
        still_complete = set(self.scores())
        scored = self.conv.context.setdefault("scored", [])
        for withdrawn in [i for i in scored if i not in still_complete]:
            scored.remove(withdrawn)
            self.emit(fx.ScoreRemoved(screening.ref, withdrawn))
        self.say("back")
        self.ask_next()

    def finish(self) -> None:
        """Close the completed screening: results, then an offer or a page if the clinic's rules say so."""
        screening, context = self.conv.screening, self.conv.context
        scores = list(self.scores().values())
        self.emit(fx.TimersCancelled(screening.ref))
        self.emit(fx.ScreeningEnded(screening.ref, "completed"))
        positive = [s.instrument for s in scores if s.positive]
        self.say("results", positive=positive, crisis=bool(context.get("crisis_handoff")))
        matched = matching_rules(self.ctx.config.rules, scores)
        pages = [r for r in matched if r.action == "page"]
        offers = [r for r in matched if r.action == "offer" and screening.trigger != CHECKIN]  # already in care
        reason = reason_line(scores, self.ctx.catalog)
        self.conv.screening = None
        if context.get("crisis_handoff") or not (pages or offers):
            context.clear()
            self.settle()
            self.say("done")
            return
        if pages:
            self.request_handoff(highest_urgency(pages), reason, "screening", screening.ref, callback=False)
            context.clear()
            self.settle()
            self.say("team_will_contact")
            return
        context.clear()
        context["offer"] = {"urgency": highest_urgency(offers), "reason": reason, "screening_ref": screening.ref}
        self.offer_help()
        self.open_prompt("offer")

    def on_offer(self, choice: str) -> None:
        """Act on the patient's answer to the offer to talk to the team today."""
        offer = self.conv.context.get("offer", {})
        if choice == "not_now":
            self.emit(fx.Audited("offer_declined", {"screening": offer.get("screening_ref")}))
            self.say("offer_not_now", resources=self.ctx.crisis_resources(self.conv.locale))
        else:
            callback = choice == "call_later"
            self.request_handoff(offer["urgency"], offer["reason"], "screening", offer["screening_ref"], callback)
            self.say("offer_call_later" if callback else "offer_connect")
        self.conv.context.clear()
        self.settle()

    def request_handoff(self, urgency: str, reason: str, source: str, screening_ref: str | None, callback: bool) -> str:
        """Create a handoff request and page the clinic's team about it."""
        ref = self.ids.new("H")
        self.emit(fx.HandoffRequested(ref, urgency, reason, source, screening_ref, callback))
        priority = fx.CRISIS if urgency != "routine" else fx.REPLY
        self.emit(fx.PageQueued(ref, urgency, reason, priority, callback))
        self.emit(fx.Audited("handoff_requested", {"handoff": ref, "urgency": urgency, "source": source}))
        return ref
