"""``POST /v1/twilio/status``: Twilio tells us what became of a message or a call.

Callbacks arrive in any order and possibly twice; the delivery log only moves forward,
so a late ``sent`` after ``delivered`` changes nothing. Signed like every Twilio webhook.

A failure that says something of the address (a landline found late, 30006) or that
starts a location's fallback (:mod:`notifier.fallback_triggers`) is recorded with what
it leads to in one step (:class:`~notifier.store.fallbacks.Fallbacks`); a ``delivered``
after such a failure is kept and counted (``fallback_redundant``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from notifier.channels.twilio.status import delivery_status
from notifier.delivery_status import FINAL, DeliveryStatus
from notifier.domain import Channel
from notifier.fallback_triggers import classify_failure
from notifier.opt_outs import OptOutSource
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.planning.fallback import NOTHING, message_of_key
from notifier.store.deliveries import DeliveryLog
from notifier.store.fallbacks import Failure, Fallbacks
from notifier.store.history import History
from notifier.store.optouts import OptOutStore
from notifier.web.context import WebContext, web_context
from notifier.web.twilio_signature import signed_twilio_form

log = logging.getLogger(__name__)
router = APIRouter(tags=["twilio webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@router.post(
    "/v1/twilio/status",
    summary="Twilio status callback for messages and calls (signed by Twilio)",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}}, 403: {"description": "Not signed by Twilio"}},
)
async def status_callback(
    request: Request, form: Annotated[dict[str, str], Depends(signed_twilio_form)]
) -> Response:
    context = web_context(request)
    await run_in_threadpool(_record, context, form)
    return Response(EMPTY_TWIML, media_type="text/xml")


def _record(context: WebContext, form: dict[str, str]) -> None:
    sid = form.get("MessageSid") or form.get("CallSid") or ""
    raw_status = form.get("MessageStatus") or form.get("SmsStatus") or form.get("CallStatus", "")
    status = delivery_status(raw_status)
    settings = context.settings
    deliveries = DeliveryLog.of(context.redis, settings)
    key = deliveries.key_for_provider(sid) if sid else None
    if key is None or status is None:
        log.info("status callback for %s (%s) ignored: unknown message or status",
                 sid or "no sid", raw_status or "no status")
        return
    now = context.clock()
    fields: dict[str, str | int] = {"provider_status": raw_status}
    error_code = form.get("ErrorCode") or ""
    if error_code:
        fields["error_code"] = error_code
    if form.get("AnsweredBy"):
        fields["answered_by"] = form["AnsweredBy"]
    # The number a failure concerns, for the booking system to fix when it must.
    failed = status in (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)
    address = form.get("To") if failed else None
    fallbacks = Fallbacks(context.redis, keys=context.intake.keys, deliveries=deliveries,
                          history=History(context.redis, keys=context.intake.keys,
                                          retention=settings.event_retention),
                          event_retention=settings.event_retention)
    found = _message(context, deliveries, key, now) if failed else None
    told = False  # whether the story's line was written with the record's move
    if found is not None:
        message, record = found
        trigger = classify_failure(message.channel, error_code=error_code,
                                   provider_status=raw_status, route=message.route)
        if trigger != NOTHING:
            line = _line(now, status, key, record, error_code)
            _, changed, _ = fallbacks.record(
                message, context.intake.load(message.reference),
                Failure(status, fields, trigger, address, record.get("location", ""),
                        line=line), now)
            told = True
        else:
            _, changed = deliveries.advance(key, status, now, fields=fields, address=address)
    else:
        previous, changed = deliveries.advance(key, status, now, fields=fields,
                                               address=address)
        late = (status is DeliveryStatus.DELIVERED and not changed
                and previous in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED))
        found = _message(context, deliveries, key, now) if late else None
        if (found is not None and found[1].get("fallback_ready")
                and fallbacks.late_delivery(key, found[0], now, found[1])):
            log.info("status callback for %s: delivered after its fallback was sent", key)
    log.info("status callback for %s: %s%s", key, raw_status, " (recorded)" if changed else "")
    # Only the callback that moved the record: a replay (Twilio's, or a captured request's)
    # after the patient texted REPRISE must not opt the number out again.
    if changed and error_code == "21610" and form.get("To"):
        OptOutStore(context.redis, settings).opt_out(
            form["To"], channel=Channel.SMS, source=OptOutSource.TWILIO_21610,
            provider_message_id=sid, reason="provider error 21610", now=now,
        )
    if changed and status in FINAL and not told:
        record = deliveries.get(key)
        History(context.redis, keys=context.intake.keys,
                retention=settings.event_retention).append(
            record.get("reference", ""), _line(now, status, key, record, error_code))


def _line(now: dt.datetime, status: DeliveryStatus, key: str, record: dict[str, str],
          error_code: str) -> dict[str, str]:
    """The story's line for a final status a callback brought."""
    return {"at": now.isoformat(), "what": str(status), "key": key,
            "kind": record.get("kind", ""), "channel": record.get("channel", ""),
            **({"error_code": error_code} if error_code else {})}


def _message(context: WebContext, deliveries: DeliveryLog, key: str,
             now: dt.datetime) -> tuple[PlannedMessage, dict[str, str]] | None:
    """The message ``key`` names and its record, as far as the record and the appointment
    stored now tell it (None when they no longer do)."""
    record = deliveries.get(key)
    if not record.get("version"):
        return None
    state: AppointmentState | None = context.intake.load(key.split(":", 1)[0])
    if state is None:
        return None
    deadline = record.get("deadline")
    at = dt.datetime.fromtimestamp(int(deadline), dt.UTC) if deadline else now
    message = message_of_key(key, version=int(record["version"]), state=state, deadline=at,
                             now=now)
    return None if message is None else (message, record)
