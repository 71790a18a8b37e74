"""``notifier simulate FILE``: play a timeline of events on a simulated clock.

The timeline is JSON Lines (:mod:`notifier.simulation.timeline`): events from the
booking system, texts from patients and keys pressed during calls. Events go through the
same pure core as the running gateway (:func:`plan_event`, :func:`decide_at_send`, the
catalogue's ``render``), texts and keys through that of patient responses
(:mod:`notifier.responses`); only the store is an in-memory stand-in for the Redis one,
with the same rules: a plan's upserts replace a slot, its removals withdraw slots, each
send key goes out at most once, questions open and close as in
:mod:`notifier.simulation.conversation`, and numbers opt out and back in as in
:mod:`notifier.simulation.numbers` (an SMS or a call to a number opted out of its channel
is dropped when it leaves, as the send step's last check does). The report says, in time
order, what was sent (recipients masked) and what was decided against, and why; what a
patient answered, the answer recorded, the event told to the booking system, the reply
(or why none went), and each opt-out and opt-in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from notifier.bilingual import Bilingual
from notifier.domain import Appointment, Channel, Event, Kind, Lang
from notifier.errors import SmsOverBudget, TimelineError
from notifier.messages.catalogue import ResponsePrompt
from notifier.operations.failure_words import explain_failure
from notifier.opt_outs import OPT_OUT_CHANNELS
from notifier.planning.entries import AppointmentState, Plan, PlannedMessage
from notifier.planning.plan import plan_event
from notifier.planning.reasons import Reason
from notifier.planning.send_check import Defer, Drop, decide_at_send
from notifier.privacy import mask_address
from notifier.responses import asks, reminders_skipped
from notifier.settings import Settings
from notifier.simulation.conversation import (
    FREE_TEXT,
    UNANSWERED_LIMIT,
    UNANSWERED_NOTICE,
    UNANSWERED_OPTED_OUT,
    UNANSWERED_TWILIO,
    Conversations,
    ReplyFacts,
    ReplyKind,
    Step,
    StepKind,
)
from notifier.simulation.numbers import Numbers
from notifier.simulation.replies import reply_text
from notifier.simulation.timeline import (
    TimedEvent,
    TimedKeypress,
    TimedSms,
    TimelineLine,
    load_timeline,
)

__all__ = ["Record", "SimulatedOutcome", "TimedEvent", "format_record", "load_timeline", "run",
           "simulate"]

EXIT_OK = 0
EXIT_INVALID = 2


class SimulatedOutcome(enum.StrEnum):
    """What a report line says happened."""

    EVENT = "event"
    IGNORED = "ignored"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"
    DROPPED = "dropped"
    SENT = "sent"
    # Patient responses.
    RECEIVED = "received"
    RECORDED = "recorded"
    REPEATED = "repeated"
    NOT_APPLIED = "not_applied"
    CALLBACK = "callback"
    REPLIED = "replied"
    UNANSWERED = "unanswered"
    # Opt-outs.
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"


_OUTCOME_WORDS = {
    SimulatedOutcome.EVENT: Bilingual("événement", "event"),
    SimulatedOutcome.IGNORED: Bilingual("ignoré", "ignored"),
    SimulatedOutcome.SKIPPED: Bilingual("écarté", "skipped"),
    SimulatedOutcome.WITHDRAWN: Bilingual("retiré", "withdrawn"),
    SimulatedOutcome.DROPPED: Bilingual("abandonné", "dropped"),
    SimulatedOutcome.SENT: Bilingual("envoyé", "sent"),
    SimulatedOutcome.RECEIVED: Bilingual("reçu", "received"),
    SimulatedOutcome.RECORDED: Bilingual("enregistré", "recorded"),
    SimulatedOutcome.REPEATED: Bilingual("répété", "repeated"),
    SimulatedOutcome.NOT_APPLIED: Bilingual("périmé", "outdated"),
    SimulatedOutcome.CALLBACK: Bilingual("avis", "callback"),
    SimulatedOutcome.REPLIED: Bilingual("répondu", "replied"),
    SimulatedOutcome.UNANSWERED: Bilingual("silence", "no reply"),
    SimulatedOutcome.OPTED_OUT: Bilingual("désabonné", "opted out"),
    SimulatedOutcome.OPTED_IN: Bilingual("réabonné", "opted in"),
}
_STEP_OUTCOMES = {
    StepKind.RECEIVED: SimulatedOutcome.RECEIVED,
    StepKind.RECORDED: SimulatedOutcome.RECORDED,
    StepKind.REPEATED: SimulatedOutcome.REPEATED,
    StepKind.NOT_APPLIED: SimulatedOutcome.NOT_APPLIED,
    StepKind.CALLBACK: SimulatedOutcome.CALLBACK,
    StepKind.REPLIED: SimulatedOutcome.REPLIED,
    StepKind.IGNORED: SimulatedOutcome.IGNORED,
    StepKind.UNANSWERED: SimulatedOutcome.UNANSWERED,
    StepKind.OPTED_OUT: SimulatedOutcome.OPTED_OUT,
    StepKind.OPTED_IN: SimulatedOutcome.OPTED_IN,
}
# What a line about an answer says, beyond the outcome.
_DETAILS = {
    "confirmed": Bilingual("présence confirmée", "confirmed"),
    "declined": Bilingual("ne peut pas venir", "cannot come"),
    "late": Bilingual(", après le délai d'annulation", ", past the cancellation deadline"),
    "again": Bilingual(" (même réponse : rien de nouveau)", " (same answer: nothing new)"),
    "gone": Bilingual("le rendez-vous n'est plus connu", "the appointment is no longer known"),
    "cancelled": Bilingual("le rendez-vous a été annulé", "the appointment was cancelled"),
    "started": Bilingual("le rendez-vous est commencé", "the appointment has started"),
    "moved": Bilingual("le rendez-vous a changé", "the appointment changed"),
    "number_changed": Bilingual("le numéro du patient a changé",
                                "the patient's number changed"),
    "key": Bilingual("touche {digits}", "key {digits}"),
    FREE_TEXT: Bilingual("(texte libre)", "(free text)"),
    "no_call": Bilingual("aucun appel n'a eu lieu pour ce rendez-vous",
                         "no call was placed about this appointment"),
    "machine": Bilingual("un répondeur a répondu : aucune question posée",
                         "an answering machine answered: no question was put"),
    "not_an_answer": Bilingual("cette touche ne répond à aucune question",
                               "this key answers no question"),
    # Why a reply is held back.
    UNANSWERED_OPTED_OUT: Bilingual("aucune réponse à un numéro désabonné des textos",
                                    "no answer to a number opted out of texts"),
    UNANSWERED_NOTICE: Bilingual(
        "l'avis « nous ne répondons pas aux textos » est parti il y a moins de "
        "NOTIFIER_NO_REPLY_NOTICE_INTERVAL",
        "the \"we do not reply to texts\" notice went less than "
        "NOTIFIER_NO_REPLY_NOTICE_INTERVAL ago"),
    UNANSWERED_LIMIT: Bilingual(
        "ce numéro a reçu aujourd'hui (UTC) toutes les réponses de ce genre permises "
        "(NOTIFIER_KEYWORD_REPLY_LIMIT)",
        "this number had today's (UTC) share of answers of this kind "
        "(NOTIFIER_KEYWORD_REPLY_LIMIT)"),
    UNANSWERED_TWILIO: Bilingual(
        "Twilio répond lui-même à ce mot (NOTIFIER_TWILIO_ANSWERS_ENGLISH_KEYWORDS)",
        "Twilio answers this word itself (NOTIFIER_TWILIO_ANSWERS_ENGLISH_KEYWORDS)"),
    # What an opt-out or opt-in changed.
    "texts_stopped": Bilingual("plus aucun texto à ce numéro", "no more texts to this number"),
    "texts_still_stopped": Bilingual(
        "ce numéro était déjà désabonné des textos : rien ne change",
        "this number had already opted out of texts: nothing changes"),
    "calls_stopped": Bilingual("plus aucun appel automatisé à ce numéro",
                               "no more automated calls to this number"),
    "calls_still_stopped": Bilingual(
        "ce numéro était déjà désabonné des appels automatisés : rien ne change",
        "this number had already opted out of automated calls: nothing changes"),
    "texts_resumed": Bilingual("les textos à ce numéro reprennent",
                               "texts to this number resume"),
    "texts_not_stopped": Bilingual("ce numéro n'était pas désabonné des textos : rien ne change",
                                   "this number had not opted out of texts: nothing changes"),
}


class RenderedText(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def subject(self) -> str | None: ...


# ``render(kind, channel, state, settings, now)``, with ``asking=`` for a message that asks.
Renderer = Callable[..., RenderedText]


@dataclass(frozen=True)
class Record:
    """One line of the report.

    Parameters:
      at: when it happened (UTC).
      local: the same instant at the appointment's location.
      outcome: event received, event ignored, message skipped at planning, withdrawn from
        the schedule, dropped at send time, or sent; for a text or a key, what it led to
        (an answer, a reply or why none, an opt-out or opt-in).
      reference: the appointment's reference number.
      kind, channel: the message (kind is None for an event line; channel is None when a
        decision covers every channel).
      lang: the patient's language.
      reason: the reason code when something was decided against or ignored.
      event: for an event line, its type and version (``appointment.booked v1``).
      recipient: the masked address a message was sent to (or a text came from, or a
        call was placed to).
      text: what the patient read: an email's subject, an SMS or a voice call's text;
        for an answer line, what it says (see :class:`~notifier.simulation.conversation.Step`).
      late: for a recorded decline: past the cancellation deadline.
    """

    at: dt.datetime
    local: dt.datetime
    outcome: SimulatedOutcome
    reference: str
    kind: Kind | None
    channel: Channel | None
    lang: Lang | None
    reason: Reason | None = None
    event: str | None = None
    recipient: str | None = None
    text: str | None = None
    late: bool = False


def simulate(
    timeline: Sequence[TimelineLine], settings: Settings, *, render: Renderer | None = None
) -> list[Record]:
    """Play ``timeline`` and return the report, in time order.

    Parameters:
      timeline: its lines in time order (see :func:`load_timeline`).
      settings: the deployment's settings.
      render: how to render a message; the catalogue's ``render`` by default.
    """
    if render is None:
        from notifier.messages.catalogue import render as catalogue_render

        render = catalogue_render
    return _Simulation(settings, render).play(timeline)


def run(path: Path, settings: Settings, out: TextIO, *, lang: Lang = Lang.EN,
        err: TextIO | None = None) -> int:
    """``notifier simulate FILE``: print the report of a timeline file; the exit code.

    Parameters:
      path: the JSON Lines timeline.
      settings: the deployment's settings.
      out: where the report goes.
      lang: the language of the report's words and reasons.
      err: where a problem with the file goes (standard error by default).
    """
    err = err if err is not None else sys.stderr
    try:
        with path.open(encoding="utf-8") as lines:
            timeline = load_timeline(lines)
    except OSError as exc:
        print(f"{path}: cannot read it ({exc.strerror})", file=err)
        return EXIT_INVALID
    except UnicodeDecodeError:
        print(f"{path}: not UTF-8 text", file=err)
        return EXIT_INVALID
    except TimelineError as exc:
        print(f"{path}: {exc}", file=err)
        return EXIT_INVALID
    for record in simulate(timeline, settings):
        print(format_record(record, lang), file=out)
    return EXIT_OK


def format_record(record: Record, lang: Lang) -> str:
    """One report line: local time, UTC, what, then the text sent or the reason."""
    when = f"{record.local:%Y-%m-%d %H:%M %Z} ({record.at:%H:%M} UTC)"
    what = " ".join(
        (
            f"{_OUTCOME_WORDS[record.outcome][lang]:<10}",
            f"{record.kind or '':<14}",
            f"{record.channel or '':<5}",
            str(record.lang or "--"),
            f"#{record.reference}" if record.reference else "-",
        )
    )
    if record.outcome in (SimulatedOutcome.EVENT, SimulatedOutcome.CALLBACK):
        return f"{when}  {what}  {record.event}"
    if record.outcome in (SimulatedOutcome.SENT, SimulatedOutcome.REPLIED):
        text = (record.text or "").replace("\r\n", "\n").replace("\n", " ⏎ ")
        return f"{when}  {what}  {record.recipient}  {text}"
    if record.reason is None:
        return f"{when}  {what}  {_answer_detail(record, lang)}"
    # The sentence the message's status gives in the API and the console.
    sentence = explain_failure(record.reason, record.channel, lang)
    return f"{when}  {what}  {record.reason}: {sentence}"


def _answer_detail(record: Record, lang: Lang) -> str:
    detail = record.text or ""
    if record.outcome is SimulatedOutcome.RECEIVED:
        if record.channel is Channel.VOICE:
            shown = _DETAILS["key"][lang].format(digits=detail)
        else:
            shown = _DETAILS[FREE_TEXT][lang] if detail == FREE_TEXT else detail
        return f"{record.recipient}  {shown}"
    words = _DETAILS[detail][lang]
    if record.late:
        words += _DETAILS["late"][lang]
    if record.outcome is SimulatedOutcome.REPEATED:
        words += _DETAILS["again"][lang]
    return words


@dataclass
class _Store:
    """An in-memory stand-in for the Redis store, with its semantics.

    Parameters:
      states: the stored state of each appointment, by reference.
      pending: planned messages waiting, by slot.
      sent: the send keys already used (a key is sent at most once).
      events: the event ids already accepted.
    """

    states: dict[str, AppointmentState] = field(default_factory=dict)
    pending: dict[str, PlannedMessage] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)

    def pending_slots(self, reference: str) -> frozenset[str]:
        return frozenset(m.slot for m in self.pending.values() if m.reference == reference)

    def apply(self, plan: Plan) -> None:
        self.states[plan.state.appointment.reference] = plan.state
        for slot in plan.removals:
            self.pending.pop(slot, None)
        for message in plan.upserts:
            self.pending[message.slot] = message

    def take_due(self, before: dt.datetime | None) -> PlannedMessage | None:
        """Take the earliest pending message due strictly before ``before`` (any if None)."""
        if not self.pending:
            return None
        first = min(self.pending.values(), key=lambda m: (m.send_at, m.slot))
        if before is not None and first.send_at >= before:
            return None
        return self.pending.pop(first.slot)

    def defer(self, message: PlannedMessage, until: dt.datetime) -> None:
        # As in Redis: a deferred message comes back only if no newer plan took its slot.
        self.pending.setdefault(message.slot, dataclasses.replace(message, send_at=until))


@dataclass
class _Simulation:
    settings: Settings
    render: Renderer
    store: _Store = field(default_factory=_Store)
    records: list[Record] = field(default_factory=list)
    numbers: Numbers = field(init=False)
    conversations: Conversations = field(init=False)

    def __post_init__(self) -> None:
        self.numbers = Numbers.of(self.settings)
        self.conversations = Conversations(self._reply_text, self.store.states, self.numbers,
                                           self.settings)

    def play(self, timeline: Sequence[TimelineLine]) -> list[Record]:
        for item in timeline:
            # Messages due at the very instant of a line leave before it is played.
            self._send_due(before=item.at)
            now = item.at.astimezone(dt.UTC)
            if isinstance(item, TimedEvent):
                self._receive(item.event, now)
            elif isinstance(item, TimedSms):
                sms = item.sms
                self._steps(now, Channel.SMS, sms.sender,
                            self.conversations.text(sms.sender, sms.body, now))
            else:
                self._keypress(item, now)
        self._send_due(before=None)
        return self.records

    def _receive(self, event: Event, now: dt.datetime) -> None:
        appointment = event.appointment
        self._note(now, appointment, SimulatedOutcome.EVENT, event=f"{event.type} v{event.version}")
        if event.event_id in self.store.events:
            self._note(now, appointment, SimulatedOutcome.IGNORED, reason=Reason.DUPLICATE_EVENT)
            return
        self.store.events.add(event.event_id)
        reference = appointment.reference
        before = self.store.states.get(reference)
        outcome = plan_event(before, self.store.pending_slots(reference), event, self.settings,
                             now)
        if not isinstance(outcome, Plan):
            self._note(now, appointment, SimulatedOutcome.IGNORED, reason=outcome.reason)
            return
        for skipped in outcome.skipped:
            self._note(now, appointment, SimulatedOutcome.SKIPPED, skipped.kind, skipped.channel,
                       reason=skipped.reason)
        for slot in sorted(outcome.removals):
            withdrawn = self.store.pending[slot]
            self._note(now, appointment, SimulatedOutcome.WITHDRAWN, withdrawn.kind,
                       withdrawn.channel, reason=Reason.WITHDRAWN)
        self.store.apply(outcome)

    def _keypress(self, item: TimedKeypress, now: dt.datetime) -> None:
        press = item.keypress
        call = self.conversations.calls.get(press.reference)
        steps = self.conversations.key(press.reference, press.digits,
                                       person=press.answered_by == "human", now=now)
        self._steps(now, Channel.VOICE, call[1] if call else None, steps)

    def _steps(self, now: dt.datetime, channel: Channel, number: str | None,
               steps: list[Step]) -> None:
        masked = None if number is None else mask_address(number)
        for step in steps:
            appointment = None if step.state is None else step.state.appointment
            self.records.append(Record(
                at=now,
                local=now.astimezone(appointment.location.zone if appointment else dt.UTC),
                outcome=_STEP_OUTCOMES[step.kind],
                reference=appointment.reference if appointment else "",
                kind=None, channel=channel, lang=step.lang,
                event=step.detail if step.kind is StepKind.CALLBACK else None,
                recipient=masked, text=step.detail, late=step.late,
            ))

    def _reply_text(self, kind: ReplyKind, lang: Lang | None, channel: Channel,
                    facts: ReplyFacts) -> str | None:
        return reply_text(kind, lang, channel, facts, self.settings)

    def _send_due(self, *, before: dt.datetime | None) -> None:
        while (message := self.store.take_due(before)) is not None:
            if message.key in self.store.sent:
                continue
            now = message.send_at
            state = self.store.states[message.reference]  # stored with the plan
            confirmed = reminders_skipped(self.conversations.responses.get(message.reference),
                                          state)
            verdict = decide_at_send(message, state, self.settings, now, confirmed=confirmed)
            if isinstance(verdict, Defer):
                self.store.defer(message, verdict.until)
            elif isinstance(verdict, Drop):
                self._note(now, state.appointment, SimulatedOutcome.DROPPED, message.kind,
                           message.channel, reason=verdict.reason)
            else:
                self._send(message, state, verdict.address, now)

    def _send(self, message: PlannedMessage, state: AppointmentState, address: str,
              now: dt.datetime) -> None:
        plan = None
        options: dict[str, ResponsePrompt] = {}
        if asks(message.kind, message.channel, state.appointment.location):
            plan = self.conversations.plan(state, address, now)
            options["asking"] = ResponsePrompt(code=plan.code if plan.show_code else None,
                                               decline=plan.decline)
        try:
            rendered = self.render(message.kind, message.channel, state, self.settings, now,
                                   **options)
        except SmsOverBudget:
            self._note(now, state.appointment, SimulatedOutcome.DROPPED, message.kind,
                       message.channel, reason=Reason.OVER_BUDGET)
            return
        if self.numbers.is_opted_out(address, message.channel):
            # As the send step's last check, right before the provider: no question opens.
            self._note(now, state.appointment, SimulatedOutcome.DROPPED, message.kind,
                       message.channel, reason=Reason.OPTED_OUT)
            return
        self.store.sent.add(message.key)
        if message.channel in OPT_OUT_CHANNELS:
            self.numbers.wrote(address, now)
        self.conversations.sent(message, state, address, plan, now)
        text = rendered.subject if message.channel is Channel.EMAIL else rendered.text
        self._note(now, state.appointment, SimulatedOutcome.SENT, message.kind,
                   message.channel, recipient=mask_address(address), text=text)

    def _note(
        self,
        now: dt.datetime,
        appointment: Appointment,
        outcome: SimulatedOutcome,
        kind: Kind | None = None,
        channel: Channel | None = None,
        *,
        reason: Reason | None = None,
        event: str | None = None,
        recipient: str | None = None,
        text: str | None = None,
    ) -> None:
        self.records.append(
            Record(
                at=now,
                local=now.astimezone(appointment.location.zone),
                outcome=outcome,
                reference=appointment.reference,
                kind=kind,
                channel=channel,
                lang=appointment.patient.language,
                reason=reason,
                event=event,
                recipient=recipient,
                text=text,
            )
        )
