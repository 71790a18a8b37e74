"""``POST /v1/twilio/sms``: what patients text back to us (Twilio's incoming-message webhook).

Order of work, each step only if the previous one passed:
  1. the signature (:func:`signed_twilio_form`): 403 and nothing touched otherwise;
  2. one round trip: claim the message (SET NX on its MessageSid, remembered as long as
     the opt-out audit, NOTIFIER_OPTOUT_AUDIT_RETENTION, so that a STOP replayed months
     later is still a duplicate; and on Twilio's idempotency token, for a day); a
     duplicate delivery gets an empty answer; and read the sender's opt-out state;
  3. at most two more: the state change (ARRET, STOP, REPRISE...), which is always made,
     then the claim of the answer: a keyword's answer goes at most
     NOTIFIER_KEYWORD_REPLY_LIMIT times a day per number and keyword kind (against
     costs, and loops with other automatic senders), the "we do not reply to texts"
     notice once per number per NOTIFIER_NO_REPLY_NOTICE_INTERVAL;
  4. the TwiML answer, only once the change is stored (the opt-out survives what the
     patient was told: see config/redis.conf).

STOP, ARRET, HELP, AIDE and INFO are answered even to an opted-out number (CWTA rules);
other texts from an opted-out number get no answer at all. Logs carry the MessageSid, the
keyword kind and the outcome: never the number or the text.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
from dataclasses import dataclass
from typing import Annotated

import redis
from fastapi import APIRouter, Depends, Request, Response
from twilio.twiml.messaging_response import MessagingResponse

from notifier.domain import Channel
from notifier.errors import ApiError, InvalidNumber
from notifier.inbound.keywords import Keyword, KeywordKind, parse
from notifier.inbound.optouts import OptOutSource, OptOutStore, e164
from notifier.inbound.replies import render_reply
from notifier.settings import Settings
from notifier.web.context import WebContext, web_context
from notifier.web.twilio_signature import signed_twilio_form

log = logging.getLogger(__name__)

PATH = "/v1/twilio/sms"

# Twilio redelivers a webhook within minutes (retries, fallback URL): a day is ample for
# its idempotency token. A MessageSid is kept as long as the audit it may appear in.
TOKEN_DEDUPE_TTL = dt.timedelta(days=1)


class Outcome(enum.StrEnum):
    """What became of one incoming message (logged, never shown to the patient)."""

    DUPLICATE = "duplicate"
    OPTED_OUT = "opted_out"
    ALREADY_OPTED_OUT = "already_opted_out"
    OPTED_IN = "opted_in"
    ALREADY_OPTED_IN = "already_opted_in"
    ANSWERED = "answered"
    NOTICE_SENT = "notice_sent"
    NOTICE_RECENTLY_SENT = "notice_recently_sent"
    SENDER_OPTED_OUT = "sender_opted_out"
    NOT_A_PHONE_NUMBER = "not_a_phone_number"


@dataclass(frozen=True)
class Handled:
    """The answer's text (None for an empty ``<Response/>``), what happened, the
    keyword's kind (None when the message was not read), and whether the answer was held
    back because the number had its day's share of answers to that keyword."""

    reply: str | None
    outcome: Outcome
    kind: KeywordKind | None = None
    capped: bool = False


def unavailable() -> ApiError:
    return ApiError(503, "unavailable", "the message could not be recorded right now")


def twiml(reply: str | None) -> Response:
    answer = MessagingResponse()
    if reply:
        answer.message(reply)
    return Response(str(answer), media_type="text/xml")


def answered_by_twilio(keyword: Keyword, form: dict[str, str], settings: Settings) -> bool:
    """True when the Twilio account answers this message itself, so we must stay silent.

    Only with NOTIFIER_TWILIO_ANSWERS_ENGLISH_KEYWORDS: then Twilio answers the words of
    its default lists (STOP, START, HELP, INFO... all English or language-neutral; not
    ARRET, AIDE, REPRISE, nor the variants we accept and Twilio does not, such as
    OPT OUT), and any word its Advanced Opt-Out matched, which it tells us in
    ``OptOutType``.
    """
    return settings.twilio_answers_english_keywords and (
        keyword.twilio_default or bool(form.get("OptOutType"))
    )


_CHANGED = {
    (KeywordKind.STOP, True): Outcome.OPTED_OUT,
    (KeywordKind.STOP, False): Outcome.ALREADY_OPTED_OUT,
    (KeywordKind.START, True): Outcome.OPTED_IN,
    (KeywordKind.START, False): Outcome.ALREADY_OPTED_IN,
}


# KEYS: the sender's notice key. ARGV: now (epoch seconds), the interval, the key's TTL.
# The decision follows the caller's clock (tests move it); the TTL only cleans up.
_CLAIM_NOTICE = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[1]) - tonumber(last) < tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""

# KEYS: the sender's answer count for one keyword kind and one day. ARGV: the limit, the
# key's TTL. Returns 1 if one more answer may go (and counts it).
_CLAIM_REPLY = """
local sent = redis.call('INCR', KEYS[1])
if sent == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if sent <= tonumber(ARGV[1]) then
  return 1
end
return 0
"""
# A day's count outlives its (UTC) day, then goes.
_REPLY_COUNT_TTL = int(dt.timedelta(days=2).total_seconds())


class InboundSms:
    """Records what one incoming SMS asks for and chooses the answer.

    Parameters:
      client: a redis-py client.
      settings: the deployment's settings (key prefix, opt-out scope, notice interval,
        whether Twilio answers English keywords, reply texts).
    """

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.optouts = OptOutStore(client, settings)
        self.prefix = f"{settings.queue_prefix}:inbound"
        self._claim_notice_script = client.register_script(_CLAIM_NOTICE)
        self._claim_reply_script = client.register_script(_CLAIM_REPLY)
        self._ttls = {
            "sid": int(settings.optout_audit_retention.total_seconds()),
            "token": int(TOKEN_DEDUPE_TTL.total_seconds()),
        }

    def handle(
        self, form: dict[str, str], *, idempotency_token: str | None, now: dt.datetime
    ) -> Handled:
        try:
            number = e164(form.get("From", ""))
        except InvalidNumber:
            return Handled(None, Outcome.NOT_A_PHONE_NUMBER)
        keyword = parse(form.get("Body", ""))
        claims = {
            f"{self.prefix}:seen:{kind}:{value}": self._ttls[kind]
            for kind, value in (("sid", form.get("MessageSid")), ("token", idempotency_token))
            if value
        }
        with self.client.pipeline(transaction=False) as pipe:
            for claim, ttl in claims.items():
                pipe.set(claim, "1", nx=True, ex=ttl)
            pipe.sismember(self.optouts.opted_out_key(Channel.SMS), number)
            *claimed, opted_out = pipe.execute()
        if not all(claimed):
            # A replay under a fresh idempotency token (a header, outside the signature)
            # leaves no marker behind: a duplicate writes nothing.
            self._release([claim for claim, new in zip(claims, claimed, strict=True) if new])
            return Handled(None, Outcome.DUPLICATE, keyword.kind)
        try:
            return self._act(keyword, number, bool(opted_out), form, now)
        except redis.RedisError:
            # Let Twilio's retry (or fallback) be processed rather than taken for a duplicate.
            self._release(list(claims))
            raise

    def _act(
        self, keyword: Keyword, number: str, opted_out: bool, form: dict[str, str],
        now: dt.datetime,
    ) -> Handled:
        kind = keyword.kind
        if kind in (KeywordKind.STOP, KeywordKind.START):
            change = self.optouts.opt_out if kind is KeywordKind.STOP else self.optouts.opt_in
            changed = change(
                number,
                source=OptOutSource.SMS_KEYWORD,
                keyword=keyword.word,
                provider_message_id=form.get("MessageSid") or None,
                now=now,
            )
            outcome = _CHANGED[kind, changed]
        elif kind in (KeywordKind.HELP, KeywordKind.INFO):
            outcome = Outcome.ANSWERED
        elif opted_out:
            return Handled(None, Outcome.SENDER_OPTED_OUT, kind)
        elif self._claim_notice(number, now):
            outcome = Outcome.NOTICE_SENT
        else:
            return Handled(None, Outcome.NOTICE_RECENTLY_SENT, kind)
        if answered_by_twilio(keyword, form, self.settings):
            return Handled(None, outcome, kind)
        if kind is not KeywordKind.OTHER and not self._claim_reply(number, kind, now):
            return Handled(None, outcome, kind, capped=True)
        return Handled(render_reply(keyword, self.settings), outcome, kind)

    def _number_key(self, number: str) -> str:
        # A digest, not the number: key names show up in operators' tools.
        digest = hashlib.sha256(f"{self.settings.optout_scope}:{number}".encode()).hexdigest()
        return digest[:32]

    def _claim_notice(self, number: str, now: dt.datetime) -> bool:
        """True if the "we do not reply" notice may go to ``number`` now (and claims it)."""
        interval = self.settings.no_reply_notice_interval.total_seconds()
        return bool(
            self._claim_notice_script(
                keys=[f"{self.prefix}:notice:{self._number_key(number)}"],
                args=[now.timestamp(), interval, max(int(interval), 1)],
            )
        )

    def _claim_reply(self, number: str, kind: KeywordKind, now: dt.datetime) -> bool:
        """True if ``number`` may have one more answer to ``kind`` today (UTC), counted."""
        day = now.astimezone(dt.UTC).date().isoformat()
        return bool(
            self._claim_reply_script(
                keys=[f"{self.prefix}:replies:{self._number_key(number)}:{kind}:{day}"],
                args=[self.settings.keyword_reply_limit, _REPLY_COUNT_TTL],
            )
        )

    def _release(self, claims: list[str]) -> None:
        try:
            if claims:
                self.client.delete(*claims)
        except redis.RedisError:
            pass


def _inbound(request: Request) -> InboundSms:
    """One :class:`InboundSms` per app (its Lua script is registered once)."""
    handler = getattr(request.app.state, "inbound_sms", None)
    if handler is None:
        context = web_context(request)
        handler = request.app.state.inbound_sms = InboundSms(context.client, context.settings)
    assert isinstance(handler, InboundSms)
    return handler


router = APIRouter(tags=["twilio"])


@router.post(
    PATH,
    summary="Twilio incoming-message webhook (SMS replies from patients)",
    description=(
        "Called by Twilio, signed with X-Twilio-Signature against NOTIFIER_PUBLIC_BASE_URL. "
        "Opt-out keywords (ARRET, STOP...) are recorded before the answer; the answer is "
        "TwiML."
    ),
    response_class=Response,
    responses={
        200: {"content": {"text/xml": {}}, "description": "TwiML: a reply, or none"},
        403: {"description": "Not signed by this gateway's Twilio account"},
        503: {"description": "The store is unreachable; nothing was recorded"},
    },
)
def incoming_sms(
    form: Annotated[dict[str, str], Depends(signed_twilio_form)],
    request: Request,
    context: Annotated[WebContext, Depends(web_context)],
) -> Response:
    # A plain function: FastAPI runs it in its thread pool, where blocking Redis calls belong.
    sid = form.get("MessageSid", "(no MessageSid)")
    try:
        handled = _inbound(request).handle(
            form,
            idempotency_token=request.headers.get("I-Twilio-Idempotency-Token"),
            now=context.clock(),
        )
    except redis.RedisError as exc:
        log.error("incoming sms %s: not recorded, %s", sid, type(exc).__name__)
        raise unavailable() from None
    kind = handled.kind.name.lower() if handled.kind else "-"
    capped = ", answer held back (daily limit)" if handled.capped else ""
    log.info("incoming sms %s: %s, %s%s", sid, kind, handled.outcome, capped)
    return twiml(handled.reply)

