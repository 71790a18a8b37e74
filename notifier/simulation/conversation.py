"""Patient responses in ``notifier simulate``: an in-memory stand-in for the Redis open
questions and stored responses, with the same rules, driven by the same pure core
(:mod:`notifier.responses`).

- A question opens when a message that asks is sent (the provider took it), for the
  number it went to; it replaces the number's earlier question about the same
  appointment. It stays until the appointment's start, as in Redis: an answer to an
  appointment that moved or was cancelled since is found by the re-check, records
  nothing, and is told that the appointment changed.
- A number with another appointment's question open gets a code in the next question.
- An answer is re-checked against the appointment as it is now; a repeat of the stored
  answer is answered the same way and emits nothing new. A text that is no answer while
  a question is open is told to the booking system (``reply.unmatched``) and gets the
  "how to answer" reply; each reply is the webhook's (see
  :mod:`notifier.simulation.replies`).
- Opt-out and opt-in words change the number's state for texts, always, and key 9 that
  of the number called for calls (:mod:`notifier.simulation.numbers`). As the webhook,
  the gateway answers STOP, START, HELP and INFO words even to a number opted out of
  texts, and nothing else: such a number's answer is recorded, and told, but not
  answered.
- As the webhook, a number gets at most ``keyword_reply_limit`` replies of one kind (a
  keyword's kind, or one answer to an answer) per UTC day, and the "we do not reply"
  notice once per ``no_reply_notice_interval``; a reply held back is a step that says
  why.

What one text or key led to comes back as :class:`Step` values, in order, for the
report.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from notifier.domain import Channel, Lang
from notifier.inbound.keywords import Keyword, KeywordKind, normalise, parse
from notifier.inbound.replies import answered_by_twilio
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.responses import (
    Answer,
    Answered,
    Clarify,
    OpenQuestion,
    PatientResponse,
    QuestionPlan,
    match,
    plan_question,
    question_for,
    read_reply,
    recheck,
    standing,
)
from notifier.responses.matching import offered, open_questions
from notifier.responses.replies import ResponseReply
from notifier.settings import Settings
from notifier.simulation.numbers import Numbers

FREE_TEXT = "(free text)"
# Why the webhook gives no reply.
UNANSWERED_OPTED_OUT = "opted_out"
UNANSWERED_NOTICE = "notice_recently_sent"
UNANSWERED_LIMIT = "daily_limit"
UNANSWERED_TWILIO = "answered_by_twilio"
CONFIRMED_EVENT = "appointment.patient_confirmed"
DECLINED_EVENT = "appointment.patient_declined"
UNMATCHED_EVENT = "reply.unmatched"
OPTED_OUT_EVENT = "contact.opted_out"
OPTED_IN_EVENT = "contact.opted_in"


class StepKind(enum.StrEnum):
    """What a report line about a text or a key says."""

    RECEIVED = "received"  # the text or key, as the report may show it
    RECORDED = "recorded"  # an answer stored on an appointment
    REPEATED = "repeated"  # the same answer again: nothing new
    NOT_APPLIED = "not_applied"  # the appointment changed since it was asked
    CALLBACK = "callback"  # an event told to the booking system
    REPLIED = "replied"  # what the patient read or heard back
    UNANSWERED = "unanswered"  # a reply the webhook holds back, and why
    IGNORED = "ignored"  # a key that answers nothing
    OPTED_OUT = "opted_out"  # the number opted out of texts or calls
    OPTED_IN = "opted_in"  # the number opted back in to texts


@dataclass(frozen=True)
class Step:
    """One thing a text or a key led to.

    Parameters:
      kind: what it is.
      state: the appointment it is about, when known.
      lang: the language it is in (the question's, else the patient's).
      detail: the answer (``confirmed``), the event type, the reply's text, the text
        received (an answer word, a keyword, or ``(free text)``), why a key is ignored or
        a reply held back, or what an opt-out or opt-in changed (:data:`OPT_CHANGES`).
      late: for a recorded decline: past the cancellation deadline.
    """

    kind: StepKind
    state: AppointmentState | None
    lang: Lang | None
    detail: str
    late: bool = False


class ReplyKind(enum.StrEnum):
    """Which answer the gateway texts or says back."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    DECLINED_LATE = "declined_late"  # after the cancellation deadline
    CHANGED = "changed"
    CLARIFY = "clarify"
    UNCLEAR = "unclear"  # not an answer while asked: how to answer, or call the clinic
    KEYWORD = "keyword"
    NOTICE = "notice"  # "we do not reply to texts"


# The answer's text in ``lang`` (SMS: one segment; voice: one keypad sentence), or None
# when there is none to show.
ReplyText = Callable[[ReplyKind, Lang | None, Channel, "ReplyFacts"], "str | None"]


@dataclass(frozen=True)
class ReplyFacts:
    """What a reply may need: the keyword word; the questions it is about (an answer's,
    soonest first, or those a clarification lists)."""

    keyword: str = ""
    questions: tuple[OpenQuestion, ...] = ()


# An opt-out or opt-in's report detail: (its channel, whether it opts out, whether the
# state changed) -> the detail.
OPT_CHANGES = {
    (Channel.SMS, True, True): "texts_stopped",
    (Channel.SMS, True, False): "texts_still_stopped",
    (Channel.VOICE, True, True): "calls_stopped",
    (Channel.VOICE, True, False): "calls_still_stopped",
    (Channel.SMS, False, True): "texts_resumed",
    (Channel.SMS, False, False): "texts_not_stopped",
}
# The keywords that change a number's state for texts: True for those that opt out.
_OPTS_OUT = {KeywordKind.STOP: True, KeywordKind.START: False}


@dataclass
class Conversations:
    """The open questions of every number and the stored responses, in memory.

    Parameters:
      reply_text: the text of each answer (see :data:`ReplyText`).
      states: the appointments as stored, by reference (the simulation's own).
      numbers: the opt-outs and answer claims of every number (the simulation's own).
      settings: whether the Twilio account answers its own keywords.
      questions: number -> reference -> the question it was last asked.
      responses: reference -> the latest answer stored.
      calls: reference -> (send key, called number, question) of its latest call.
    """

    reply_text: ReplyText
    states: dict[str, AppointmentState]
    numbers: Numbers
    settings: Settings
    questions: dict[str, dict[str, OpenQuestion]] = field(default_factory=dict)
    responses: dict[str, PatientResponse] = field(default_factory=dict)
    calls: dict[str, tuple[str, str, OpenQuestion | None]] = field(default_factory=dict)

    def plan(self, state: AppointmentState, number: str, now: dt.datetime) -> QuestionPlan:
        """How the next question to ``number`` about ``state`` is asked (its code)."""
        reference = state.appointment.reference
        held = self.questions.get(number, {})
        # As the send step: a question about an appointment that changed since shows no code.
        others = standing([q for r, q in held.items() if r != reference],
                          self.states, number, now)
        asked = [*others, *(q for r, q in held.items() if r == reference)]
        return plan_question(reference, state.appointment.location, asked, now)

    def sent(self, message: PlannedMessage, state: AppointmentState, number: str,
             plan: QuestionPlan | None, now: dt.datetime) -> None:
        """A message left (its provider took it): a question opens when it asks."""
        question = None
        if plan is not None:
            question = question_for(state, plan, channel=message.channel,
                                    send_key=message.key, now=now)
            self.questions.setdefault(number, {})[message.reference] = question
        if message.channel is Channel.VOICE:
            self.calls[message.reference] = (message.key, number, question)

    # -- a text -----------------------------------------------------------------------

    def text(self, number: str, body: str, now: dt.datetime) -> list[Step]:
        """What a text from ``number`` leads to."""
        current = open_questions(self.questions.get(number, {}).values(), now)
        about = self._state(current[0]) if current else self._by_mobile(number)
        lang = current[0].lang if current else _lang(about)
        keyword = parse(body)
        if keyword.kind is not KeywordKind.OTHER:
            # Opt-out and opt-in words always win: never read as an answer.
            return [Step(StepKind.RECEIVED, about, lang, keyword.word),
                    *self._keyword(keyword, number, about, lang, now)]
        reading = read_reply(body, question_open=bool(current))
        shown = FREE_TEXT if reading is None else normalise(body)
        steps = [Step(StepKind.RECEIVED, about, lang, shown)]
        if current and (reading is None or not offered(reading, current, now)):
            # Not an answer while asked: a person at the clinic reads it, and the patient
            # is told how to answer.
            steps.append(Step(StepKind.CALLBACK, about, lang, UNMATCHED_EVENT))
            return [*steps, *self._text_back(ReplyKind.UNCLEAR, about, lang, number, now,
                                            ReplyFacts(questions=current))]
        if reading is None or not current:
            return [*steps, *self._text_back(ReplyKind.NOTICE, about, lang, number, now)]
        still = standing(current, self.states, number, now)
        if not still:
            # Every question is about an appointment that changed since: "changed".
            return steps + self._answer(current, reading.answer, number, Channel.SMS, now)
        matched = match(reading, still, now)
        assert matched is not None
        if isinstance(matched, Clarify):
            return [*steps, *self._text_back(ReplyKind.CLARIFY, about, lang, number, now,
                                            ReplyFacts(questions=matched.questions))]
        assert isinstance(matched, Answered)
        return steps + self._answer(matched.questions, reading.answer, number, Channel.SMS,
                                    now)

    def _keyword(self, keyword: Keyword, number: str, about: AppointmentState | None,
                 lang: Lang | None, now: dt.datetime) -> list[Step]:
        """A keyword's change, always made, and its answer in the keyword's language."""
        steps: list[Step] = []
        if keyword.kind in _OPTS_OUT:
            opts_out = _OPTS_OUT[keyword.kind]
            steps += self._opt(number, Channel.SMS, about, lang, now, opted_out=opts_out)
        return steps + self._text_back(ReplyKind.KEYWORD, about, keyword.lang, number, now,
                                       ReplyFacts(keyword=keyword.word))

    def _opt(self, number: str, channel: Channel, about: AppointmentState | None,
             lang: Lang | None, now: dt.datetime, *, opted_out: bool) -> list[Step]:
        """``number`` opted out of ``channel`` (or back in); a change is told to the
        booking systems that wrote to the number (``contact.opted_out``, ...)."""
        changed = self.numbers.change(number, channel, opted_out=opted_out)
        steps = [Step(StepKind.OPTED_OUT if opted_out else StepKind.OPTED_IN, about, lang,
                      OPT_CHANGES[channel, opted_out, changed])]
        if changed and self.numbers.told(number, now):
            event = OPTED_OUT_EVENT if opted_out else OPTED_IN_EVENT
            steps.append(Step(StepKind.CALLBACK, about, lang, event))
        return steps

    # -- a key ------------------------------------------------------------------------

    def key(self, reference: str, digits: str, *, person: bool,
            now: dt.datetime) -> list[Step]:
        """What a key pressed during the latest call about ``reference`` leads to."""
        state = self.states.get(reference)
        lang = _lang(state)
        call = self.calls.get(reference)
        steps = [Step(StepKind.RECEIVED, state, lang, digits)]
        if call is None:
            return [*steps, Step(StepKind.IGNORED, state, lang, "no_call")]
        _, number, question = call
        asks = question is not None and person
        if digits == "9":
            # Whoever pressed it, the number called is opted out of calls (not of texts).
            steps += self._opt(number, Channel.VOICE, state, lang, now, opted_out=True)
            return [*steps, *self._reply(ReplyKind.KEYWORD, state, lang, Channel.VOICE,
                                        ReplyFacts(keyword="9"))]
        answer = {"1": Answer.CONFIRMED, "2": Answer.DECLINED}.get(digits) if asks else None
        if question is not None and not person and digits in ("1", "2"):
            return [*steps, Step(StepKind.IGNORED, state, lang, "machine")]
        if answer is None or (answer is Answer.DECLINED and not (question and question.decline)):
            return [*steps, Step(StepKind.IGNORED, state, lang, "not_an_answer")]
        assert question is not None
        return steps + self._answer((question,), answer, number, Channel.VOICE, now)

    # -- answers ----------------------------------------------------------------------

    def _answer(self, questions: Sequence[OpenQuestion], answer: Answer, number: str,
                channel: Channel, now: dt.datetime) -> list[Step]:
        """Each question re-checked, and the answer recorded to those still as asked (a
        repeat records nothing new); then one reply about them, as the webhook gives it."""
        steps: list[Step] = []
        applied: list[OpenQuestion] = []
        for question in questions:
            state = self._state(question)
            changed = recheck(question, state, number, now)
            if changed is not None:
                steps.append(Step(StepKind.NOT_APPLIED, state, question.lang, str(changed)))
                continue
            assert state is not None
            applied.append(question)
            late = answer is Answer.DECLINED and question.past_cancellation_deadline(now)
            stored = self.responses.get(question.reference)
            if stored is not None and (stored.answer, stored.version) == (answer,
                                                                          question.version):
                steps.append(Step(StepKind.REPEATED, state, question.lang, str(answer)))
                continue
            self.responses[question.reference] = PatientResponse(
                answer=answer, answered_at=now, channel=channel, version=question.version,
                who="", fingerprint=question.fingerprint, past_cancellation_deadline=late)
            event = CONFIRMED_EVENT if answer is Answer.CONFIRMED else DECLINED_EVENT
            steps += [Step(StepKind.RECORDED, state, question.lang, str(answer), late=late),
                      Step(StepKind.CALLBACK, state, question.lang, event)]
        told = applied or list(questions)
        kind = ReplyKind.CHANGED if not applied else ReplyKind(str(answer))
        if kind is ReplyKind.DECLINED and any(q.past_cancellation_deadline(now) for q in told):
            kind = ReplyKind.DECLINED_LATE
        first = told[0]
        facts = ReplyFacts(questions=tuple(told))
        if channel is Channel.SMS:
            return steps + self._text_back(kind, self._state(first), first.lang, number, now,
                                           facts)
        return steps + self._reply(kind, self._state(first), first.lang, channel, facts)

    def _text_back(self, kind: ReplyKind, state: AppointmentState | None, lang: Lang | None,
                   number: str, now: dt.datetime, facts: ReplyFacts = ReplyFacts()
                   ) -> list[Step]:
        """The reply by text to ``number``, unless the webhook holds it back (then a step
        that says why)."""
        why = self._held_back(kind, number, facts, now)
        if why is not None:
            return [Step(StepKind.UNANSWERED, state, lang, why)]
        return self._reply(kind, state, lang, Channel.SMS, facts)

    def _held_back(self, kind: ReplyKind, number: str, facts: ReplyFacts,
                   now: dt.datetime) -> str | None:
        """Why the webhook gives no reply, in its order, or None (the reply claimed): a
        number opted out of texts gets none but a keyword's answer; the "we do not
        reply" notice goes once per interval; a word the Twilio account answers itself
        (its default words: a timeline says nothing of its Advanced Opt-Out) gets none
        from us; any other answer within the day's limit of its kind (a keyword's kind,
        or the answer to an answer)."""
        if kind is not ReplyKind.KEYWORD and self.numbers.is_opted_out(number, Channel.SMS):
            return UNANSWERED_OPTED_OUT
        if kind is ReplyKind.NOTICE:
            return None if self.numbers.claim_notice(number, now) else UNANSWERED_NOTICE
        if kind is ReplyKind.KEYWORD:
            keyword = parse(facts.keyword)
            if answered_by_twilio(keyword, {}, self.settings):
                return UNANSWERED_TWILIO
            counted = str(keyword.kind)
        else:
            counted = f"response_{ResponseReply(kind)}"
        return None if self.numbers.claim_reply(number, counted, now) else UNANSWERED_LIMIT

    def _reply(self, kind: ReplyKind, state: AppointmentState | None, lang: Lang | None,
               channel: Channel, facts: ReplyFacts = ReplyFacts()) -> list[Step]:
        text = self.reply_text(kind, lang, channel, facts)
        return [] if text is None else [Step(StepKind.REPLIED, state, lang, text)]

    def _state(self, question: OpenQuestion) -> AppointmentState | None:
        return self.states.get(question.reference)

    def _by_mobile(self, number: str) -> AppointmentState | None:
        """The appointment whose patient texts from ``number``, the latest booked first."""
        for state in reversed(list(self.states.values())):
            if state.appointment.patient.mobile_phone == number:
                return state
        return None


def _lang(state: AppointmentState | None) -> Lang | None:
    return None if state is None else state.appointment.patient.language

