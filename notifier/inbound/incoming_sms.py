"""What one incoming SMS asks for, and the answer: the steps of the SMS webhook between
the signature check and the TwiML (:mod:`notifier.web.inbound`).

The message is claimed on its MessageSid and on Twilio's idempotency token
(:mod:`notifier.store.inbound_claims`): a duplicate delivery writes nothing and gets an
empty answer. A keyword's answer goes at most NOTIFIER_KEYWORD_REPLY_LIMIT times a day per
number and keyword kind (against costs, and loops with other automatic senders), the "we
do not reply to texts" notice once per number per NOTIFIER_NO_REPLY_NOTICE_INTERVAL.

- STOP/ARRET and START/REPRISE: one round trip, one Lua script
  (:meth:`~notifier.store.optouts.OptOutStore.change_for_message`) claims the message,
  makes the state change, which is always made, and claims the answer; the answer goes
  only once Redis has acknowledged it.
- Any other text: one round trip checks that the message is new and reads the sender's
  opt-out state and open questions, one claims the message, then one more claims the
  answer or the notice.
- Any other text while the number has an open question (patient responses): an answer,
  a clarification or a text for a human (:class:`~notifier.inbound.answers.PatientAnswers`),
  the message claimed in the step that records it.

A message is marked as processed only by the step that does what it asks, so that a
failure half-way (Redis gone) leaves nothing that would make Twilio's redelivery a
duplicate: the redelivery is processed (see :mod:`notifier.store.inbound_claims`).

STOP, ARRET, HELP, AIDE and INFO are answered even to an opted-out number (CWTA rules);
other texts from an opted-out number get no answer at all.
"""

from __future__ import annotations

import datetime as dt

from redis import Redis, RedisError

from notifier.domain import Channel
from notifier.errors import InvalidNumber
from notifier.inbound.answers import PatientAnswers
from notifier.inbound.keywords import Keyword, KeywordKind, parse
from notifier.inbound.outcomes import Handled, InboundOutcome
from notifier.inbound.replies import answered_by_twilio, render_reply
from notifier.opt_outs import OptOutSource, e164
from notifier.responses.matching import open_questions
from notifier.settings import Settings
from notifier.store.inbound_claims import InboundClaims
from notifier.store.optouts import OptOutStore
from notifier.store.responses import ResponseStore

# The keywords that change the opt-out state: True for those that opt out.
_OPTS_OUT = {KeywordKind.STOP: True, KeywordKind.START: False}

_CHANGED = {
    (KeywordKind.STOP, True): InboundOutcome.OPTED_OUT,
    (KeywordKind.STOP, False): InboundOutcome.ALREADY_OPTED_OUT,
    (KeywordKind.START, True): InboundOutcome.OPTED_IN,
    (KeywordKind.START, False): InboundOutcome.ALREADY_OPTED_IN,
}


class InboundSms:
    """Records what one incoming SMS asks for and chooses the answer.

    Parameters:
      redis: a redis-py client.
      settings: the deployment's settings (key prefix, opt-out scope, notice interval,
        whether Twilio answers English keywords, reply texts).
    """

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.optouts = OptOutStore(redis, settings)
        self.claims = InboundClaims(redis, settings)
        self.responses = ResponseStore(redis, settings)
        self.answers = PatientAnswers(self.responses, self.claims, settings)

    def handle(
        self, form: dict[str, str], *, idempotency_token: str | None, now: dt.datetime
    ) -> Handled:
        try:
            number = e164(form.get("From", ""))
        except InvalidNumber:
            return Handled(None, InboundOutcome.NOT_A_PHONE_NUMBER)
        keyword = parse(form.get("Body", ""))
        markers = self.claims.message_markers(
            message_sid=form.get("MessageSid"), idempotency_token=idempotency_token
        )
        if keyword.kind in _OPTS_OUT:
            return self._change(keyword, number, markers, form, now)
        with self.redis.pipeline(transaction=False) as pipe:
            self.claims.check_markers(pipe, markers)
            pipe.sismember(self.optouts.opted_out_key(Channel.SMS), number)
            pipe.hgetall(self.responses.questions_key(number))
            *seen, opted_out, questions = pipe.execute()
        if any(seen):
            return Handled(None, InboundOutcome.DUPLICATE, keyword.kind)
        if keyword.kind is KeywordKind.OTHER:
            held = self.responses.parse_questions(questions)
            if open_questions(held.questions, now):
                # The answer's own step writes the markers (see PatientAnswers).
                return self.answers.handle(number, form.get("Body", ""), held,
                                           markers=markers, opted_out=bool(opted_out),
                                           now=now)
        if not self.claims.claim(markers):
            return Handled(None, InboundOutcome.DUPLICATE, keyword.kind)
        try:
            return self._act(keyword, number, bool(opted_out), form, now)
        except RedisError:
            # Let Twilio's retry (or fallback) be processed rather than taken for a duplicate.
            self.claims.release(list(markers))
            raise

    def _change(
        self, keyword: Keyword, number: str, markers: dict[str, int], form: dict[str, str],
        now: dt.datetime,
    ) -> Handled:
        kind = keyword.kind
        answer = not answered_by_twilio(keyword, form, self.settings)
        # No marker to release on an error: the script writes them last, with the change,
        # so a redelivery is processed unless the change is stored. Deleting them here
        # could forget an earlier delivery's, should this one be its duplicate.
        done = self.optouts.change_for_message(
            number,
            opted_out=_OPTS_OUT[kind],
            claim=self.claims.message_claim(markers, number=number, kind=kind, now=now,
                                            answer=answer),
            source=OptOutSource.SMS_KEYWORD,
            keyword=keyword.word,
            provider_message_id=form.get("MessageSid") or None,
            now=now,
        )
        if done.duplicate:
            return Handled(None, InboundOutcome.DUPLICATE, kind)
        outcome = _CHANGED[kind, done.changed]
        if not answer:
            return Handled(None, outcome, kind)
        if not done.answered:
            return Handled(None, outcome, kind, capped=True)
        return Handled(render_reply(keyword, self.settings), outcome, kind)

    def _act(
        self, keyword: Keyword, number: str, opted_out: bool, form: dict[str, str],
        now: dt.datetime,
    ) -> Handled:
        kind = keyword.kind
        if kind in (KeywordKind.HELP, KeywordKind.INFO):
            outcome = InboundOutcome.ANSWERED
        elif opted_out:
            return Handled(None, InboundOutcome.SENDER_OPTED_OUT, kind)
        elif self.claims.claim_notice(number, now):
            outcome = InboundOutcome.NOTICE_SENT
        else:
            return Handled(None, InboundOutcome.NOTICE_RECENTLY_SENT, kind)
        if answered_by_twilio(keyword, form, self.settings):
            return Handled(None, outcome, kind)
        if kind is not KeywordKind.OTHER and not self.claims.claim_reply(number, kind, now):
            return Handled(None, outcome, kind, capped=True)
        return Handled(render_reply(keyword, self.settings), outcome, kind)
