"""A patient's text to a number with open questions: an answer recorded, a
clarification, "this appointment changed", or a text that needs a human. The steps behind
:class:`~notifier.inbound.incoming_sms.InboundSms` once keywords are ruled out (an ARRET
or a YES is always a keyword, never an answer).

Round trips: the webhook's first one read the number's questions; an answer then reads
the appointments' states (one ``MGET``), records the answer in one script that checks
nothing changed since (else reads and re-checks again, a few times at most), and claims
the reply within the daily limit. A text that is no answer is kept for operators with
the booking systems told (``reply.unmatched``, without the text), in one script. Those
two scripts write the text's markers too (it is processed once they ran); a
clarification or "this appointment changed" claims them just before its answer.

The re-check and the recording (:func:`apply_answer`) are those of a key pressed on a
call that asks too (:mod:`notifier.web.voice_answers`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redis import RedisError

from notifier.errors import AlreadyProcessed
from notifier.inbound.keywords import KeywordKind
from notifier.inbound.outcomes import Handled, InboundOutcome
from notifier.planning.entries import AppointmentState
from notifier.responses import (
    Answer,
    Answered,
    Clarify,
    OpenQuestion,
    match,
    read_reply,
    recheck,
    standing,
)
from notifier.responses.matching import offered, open_questions
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.settings import Settings
from notifier.store.inbound_claims import InboundClaims
from notifier.store.responses import Checked, NumberQuestions, ResponseStore, read_states

log = logging.getLogger(__name__)

# Reads and re-checks before giving up on an answer whose questions keep changing.
RECORD_TRIES = 3
CHANNEL = "sms"


class PatientAnswers:
    """Answers to questions by SMS.

    Parameters:
      store: the open questions and responses.
      claims: the daily limit on automatic answers per number.
      settings: the sender name and web address of the replies.
    """

    def __init__(self, store: ResponseStore, claims: InboundClaims, settings: Settings) -> None:
        self.store = store
        self.claims = claims
        self.settings = settings

    def handle(self, number: str, body: str, held: NumberQuestions, *,
               markers: Mapping[str, int], opted_out: bool, now: dt.datetime) -> Handled:
        """What ``body`` from ``number``, whose questions are ``held`` (at least one
        open), does, and its answer (none to an opted-out number).

        ``markers`` mark the text as processed (see
        :class:`~notifier.store.inbound_claims.InboundClaims`). They are written in the
        step that records what the text does (the answer, the text kept for a human), or,
        when it records nothing (a clarification, "this appointment changed"), just
        before its answer: a failure before that leaves none, and Twilio's redelivery is
        processed. A text processed already gets no answer."""
        try:
            return self._handle(number, body, held, markers, opted_out=opted_out, now=now)
        except AlreadyProcessed:
            return Handled(None, InboundOutcome.DUPLICATE, KeywordKind.OTHER)

    def _handle(self, number: str, body: str, held: NumberQuestions,
                markers: Mapping[str, int], *, opted_out: bool, now: dt.datetime) -> Handled:
        current = open_questions(held.questions, now)
        reading = read_reply(body, question_open=True)
        if reading is None or not offered(reading, held.questions, now):
            self.store.needs_human(number, body, current, channel=CHANNEL, now=now,
                                   markers=markers)
            return self._reply(ResponseReply.UNCLEAR, current, number, now,
                               InboundOutcome.NEEDS_HUMAN, opted_out=opted_out)
        for _ in range(RECORD_TRIES):
            # Only the questions whose appointment is still as asked count: one about an
            # appointment moved or cancelled since neither takes the answer nor calls for
            # a clarification.
            raw = self.store.states(q.reference for q in open_questions(held.questions, now))
            matched = match(reading, standing(held.questions, read_states(raw), number, now),
                            now)
            if isinstance(matched, Clarify):
                return self._unrecorded(ResponseReply.CLARIFY, matched.questions, number,
                                        now, InboundOutcome.CLARIFICATION_SENT, markers,
                                        opted_out=opted_out)
            if matched is None:
                break  # every question closed or changed since: nothing to answer
            handled = self._answer(number, reading.answer, matched, held, now, raw,
                                   markers, opted_out=opted_out)
            if handled is not None:
                return handled
            held = self.store.questions(number)
        return self._unrecorded(ResponseReply.CHANGED, current, number, now,
                                InboundOutcome.RESPONSE_CHANGED, markers, opted_out=opted_out)

    def _answer(self, number: str, answer: Answer, matched: Answered, held: NumberQuestions,
                now: dt.datetime, states: Mapping[str, bytes | None],
                markers: Mapping[str, int], *, opted_out: bool) -> Handled | None:
        """Re-check and record; None when a question or state changed while it was read."""
        applied = apply_answer(self.store, number, answer, matched.questions, held,
                               channel=CHANNEL, now=now, states=states, markers=markers)
        if applied is None:
            return None
        if not applied.questions:
            return self._unrecorded(ResponseReply.CHANGED, matched.questions, number, now,
                                    InboundOutcome.RESPONSE_CHANGED, markers,
                                    opted_out=opted_out)
        kind = ResponseReply.CONFIRMED
        if answer is Answer.DECLINED:
            kind = ResponseReply.DECLINED_LATE if applied.late(now) else ResponseReply.DECLINED
        outcome = (InboundOutcome.RESPONSE_RECORDED if applied.changed
                   else InboundOutcome.RESPONSE_REPEATED)
        return self._reply(kind, applied.questions, number, now, outcome, opted_out=opted_out)

    def _unrecorded(self, kind: ResponseReply, questions: Sequence[OpenQuestion], number: str,
                    now: dt.datetime, outcome: InboundOutcome, markers: Mapping[str, int], *,
                    opted_out: bool) -> Handled:
        """:meth:`_reply` for a text that records nothing: its markers are claimed first
        (taken back if the answer cannot be claimed, so that a redelivery answers)."""
        if not self.claims.claim(markers):
            raise AlreadyProcessed("the text was processed already")
        try:
            return self._reply(kind, questions, number, now, outcome, opted_out=opted_out)
        except RedisError:
            self.claims.release(list(markers))
            raise

    def _reply(self, kind: ResponseReply, questions: Sequence[OpenQuestion], number: str,
               now: dt.datetime, outcome: InboundOutcome, *, opted_out: bool) -> Handled:
        """The answer ``kind``, in the language of the first of ``questions``, within the
        day's limit of that answer to the number; none to an opted-out number."""
        if opted_out:
            return Handled(None, outcome, KeywordKind.OTHER)
        if not self.claims.claim_reply(number, f"response_{kind}", now):
            return Handled(None, outcome, KeywordKind.OTHER, capped=True)
        text = render_response_reply(kind, questions[0].lang, self.settings,
                                     questions=questions)
        return Handled(text, outcome, KeywordKind.OTHER)


@dataclass(frozen=True)
class Applied:
    """An answer re-checked against its appointments and recorded.

    Parameters:
      questions: the questions it was recorded for (their appointment is still as
        asked); empty when every one changed since, and nothing was recorded.
      changed: how many stored responses it changed (0: a repeat, which tells nothing).
    """

    questions: tuple[OpenQuestion, ...]
    changed: int

    def late(self, now: dt.datetime) -> bool:
        """Whether one of the questions is past its cancellation deadline at ``now``."""
        return any(q.past_cancellation_deadline(now) for q in self.questions)


def apply_answer(
    store: ResponseStore, number: str, answer: Answer, questions: Sequence[OpenQuestion],
    held: NumberQuestions, *, channel: str, now: dt.datetime,
    states: Mapping[str, bytes | None] | None = None,
    markers: Mapping[str, int] | None = None,
) -> Applied | None:
    """The one way an answer is recorded, whether a text or a key on a call: each of
    ``questions`` is re-checked against its appointment as stored (:func:`recheck`), and
    ``answer`` is recorded to those still as asked, in one step that checks nothing
    changed since they were read (``response_record``). None when something did: read
    the questions again and retry.

    Parameters:
      store: the open questions and responses.
      number: the number that answered (E.164): who the response names, by digest.
      answer: confirmed or declined.
      questions: the questions answered, among ``held``.
      held: the number's questions as read (the stored form ``response_record`` checks).
      channel: how the patient answered (``sms``, ``voice``).
      now: when the answer came.
      states: the appointments' stored states as already read with ``held``, by
        reference; read here when None.
      markers: a text's markers, written with the answer (:meth:`ResponseStore.record`
        raises :class:`~notifier.errors.AlreadyProcessed` when one is there already).
    """
    if states is None:
        states = store.states(q.reference for q in questions)
    fresh: list[Checked] = []
    for question in questions:
        raw = states.get(question.reference)
        state = None if raw is None else AppointmentState.from_json(raw)
        why = recheck(question, state, number, now)
        if why is not None:
            log.info("answer to appointment %s not applied: %s", question.reference, why)
            continue
        assert state is not None and raw is not None
        fresh.append(Checked(question, held.raw[question.reference], state, raw))
    if not fresh:
        return Applied((), 0)
    changed = store.record(number, answer, fresh, channel=channel, now=now, markers=markers)
    if changed is None:
        return None
    return Applied(tuple(item.question for item in fresh), changed)
