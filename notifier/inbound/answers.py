"""A patient's text to a number with open questions: an answer recorded, a
clarification, "this appointment changed", or a text that needs a human. The steps behind
:class:`~notifier.inbound.incoming_sms.InboundSms` once keywords are ruled out (an ARRET
or a YES is always a keyword, never an answer).

Round trips: the webhook's first one read the number's questions; an answer then reads
the appointments' states (one ``MGET``), records the answer in one script that checks
nothing changed since (else reads and re-checks again, a few times at most), and claims
the reply within the daily limit. A text that is no answer is kept for operators with
the booking systems told (``reply.unmatched``, without the text), in one script.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from notifier.inbound.keywords import KeywordKind
from notifier.inbound.outcomes import Handled, InboundOutcome
from notifier.planning.entries import AppointmentState
from notifier.responses import (
    Answer,
    Answered,
    Clarify,
    OpenQuestion,
    Reading,
    match,
    read_reply,
    recheck,
)
from notifier.responses.matching import open_questions
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.settings import Settings
from notifier.store.inbound_claims import InboundClaims
from notifier.store.responses import Checked, NumberQuestions, ResponseStore

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

    def handle(self, number: str, body: str, held: NumberQuestions, *, opted_out: bool,
               now: dt.datetime) -> Handled:
        """What ``body`` from ``number``, whose questions are ``held`` (at least one
        open), does, and its answer (none to an opted-out number)."""
        current = open_questions(held.questions, now)
        reading = read_reply(body, question_open=True)
        if reading is None or not self._offered(reading, held, now):
            self.store.needs_human(number, body, current, channel=CHANNEL, now=now)
            return self._reply(ResponseReply.UNCLEAR, current, number, now,
                               InboundOutcome.NEEDS_HUMAN, opted_out=opted_out)
        for _ in range(RECORD_TRIES):
            matched = match(reading, held.questions, now)
            if isinstance(matched, Clarify):
                return self._reply(ResponseReply.CLARIFY, matched.questions, number, now,
                                   InboundOutcome.CLARIFICATION_SENT, opted_out=opted_out)
            if matched is None:
                break  # every question closed since: nothing to answer any more
            handled = self._answer(number, reading.answer, matched, held, now,
                                   opted_out=opted_out)
            if handled is not None:
                return handled
            held = self.store.questions(number)
        return self._reply(ResponseReply.CHANGED, current, number, now,
                           InboundOutcome.RESPONSE_CHANGED, opted_out=opted_out)

    @staticmethod
    def _offered(reading: Reading, held: NumberQuestions, now: dt.datetime) -> bool:
        # A "2" where no open question offered it is not read as a decline.
        return reading.answer is Answer.CONFIRMED or any(
            q.decline for q in open_questions(held.questions, now))

    def _answer(self, number: str, answer: Answer, matched: Answered, held: NumberQuestions,
                now: dt.datetime, *, opted_out: bool) -> Handled | None:
        """Re-check and record; None when a question or state changed while it was read."""
        states = self.store.states(q.reference for q in matched.questions)
        fresh: list[Checked] = []
        for question in matched.questions:
            raw = states.get(question.reference)
            state = None if raw is None else AppointmentState.from_json(raw)
            why = recheck(question, state, number, now)
            if why is not None:
                log.info("answer to appointment %s not applied: %s", question.reference, why)
                continue
            assert state is not None and raw is not None
            fresh.append(Checked(question, held.raw[question.reference], state, raw))
        if not fresh:
            return self._reply(ResponseReply.CHANGED, matched.questions, number, now,
                               InboundOutcome.RESPONSE_CHANGED, opted_out=opted_out)
        changed = self.store.record(number, answer, fresh, channel=CHANNEL, now=now)
        if changed is None:
            return None
        answered = [item.question for item in fresh]
        kind = ResponseReply.CONFIRMED
        if answer is Answer.DECLINED:
            late = any(q.past_cancellation_deadline(now) for q in answered)
            kind = ResponseReply.DECLINED_LATE if late else ResponseReply.DECLINED
        outcome = InboundOutcome.RESPONSE_RECORDED if changed else InboundOutcome.RESPONSE_REPEATED
        return self._reply(kind, answered, number, now, outcome, opted_out=opted_out)

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
