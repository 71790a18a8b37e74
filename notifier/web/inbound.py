"""``POST /v1/twilio/sms``: what patients text back to us (Twilio's incoming-message webhook).

Order of work, each step only if the previous one passed:
  1. the signature (:func:`signed_twilio_form`): 403 and nothing touched otherwise;
  2. what the text asks for, recorded, and the answer chosen
     (:class:`~notifier.inbound.incoming_sms.InboundSms`): duplicates, opt-out changes,
     the daily limit on keyword answers and the "we do not reply" notice;
  3. the TwiML answer, only once the change is stored (the opt-out survives what the
     patient was told: see config/redis.conf).

A store that cannot be reached answers 503, and nothing is recorded. Logs carry the
MessageSid, the keyword kind and the outcome: never the number or the text.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from redis import RedisError
from starlette.concurrency import run_in_threadpool
from twilio.twiml.messaging_response import MessagingResponse

from notifier.errors import ApiError
from notifier.inbound.incoming_sms import InboundSms
from notifier.web.context import web_context
from notifier.web.plain_route import PlainRoute
from notifier.web.twilio_signature import signed_twilio_form

log = logging.getLogger(__name__)

PATH = "/v1/twilio/sms"


def unavailable() -> ApiError:
    return ApiError(503, "unavailable", "the message could not be recorded right now")


def twiml(reply: str | None) -> Response:
    answer = MessagingResponse()
    if reply:
        answer.message(reply)
    return Response(str(answer), media_type="text/xml")


def _inbound(request: Request) -> InboundSms:
    """One :class:`InboundSms` per app (its Lua scripts are registered once)."""
    handler = getattr(request.app.state, "inbound_sms", None)
    if handler is None:
        context = web_context(request)
        handler = request.app.state.inbound_sms = InboundSms(context.redis, context.settings)
    assert isinstance(handler, InboundSms)
    return handler


# Every text a patient sends comes through here: the route reads its form itself and
# FastAPI only documents it (see notifier.web.plain_route).
router = APIRouter(tags=["twilio"], route_class=PlainRoute)


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
async def incoming_sms(request: Request) -> Response:
    form = await signed_twilio_form(request)
    context = web_context(request)
    sid = form.get("MessageSid", "(no MessageSid)")
    try:
        # In the thread pool, where blocking Redis calls belong.
        handled = await run_in_threadpool(
            _inbound(request).handle,
            form,
            idempotency_token=request.headers.get("I-Twilio-Idempotency-Token"),
            now=context.clock(),
        )
    except RedisError as exc:
        log.error("incoming sms %s: not recorded, %s", sid, type(exc).__name__)
        raise unavailable() from None
    kind = handled.kind.name.lower() if handled.kind else "-"
    capped = ", answer held back (daily limit)" if handled.capped else ""
    log.info("incoming sms %s: %s, %s%s", sid, kind, handled.outcome, capped)
    return twiml(handled.reply)

