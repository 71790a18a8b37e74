"""The keypad of an automated call: ``POST /v1/twilio/voice/keypress``.

Twilio posts here (signed) when the patient presses a key during the call's menu
(:func:`notifier.channels.twilio.twiml.call_twiml`); the query names the send key and
the patient's language. The answer is TwiML:

- 1: the message again, from the TwiML kept in Redis when the call was placed;
- 9: the number is opted out of automated calls (:class:`OptOutStore`, channel voice,
  source ``voice-keypress``), then a spoken confirmation and hang up. Twilio may deliver
  the webhook twice: the opt-out is a state, so the second one changes nothing;
- any other key: the choices again.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from notifier.channels.twilio.twiml import KEYPRESS_PATH, farewell_twiml, options_twiml
from notifier.channels.twilio.voice import call_key
from notifier.domain import Channel, Lang
from notifier.errors import InvalidNumber
from notifier.opt_outs import OptOutSource
from notifier.store.optouts import OptOutStore
from notifier.web.context import WebContext, web_context
from notifier.web.twilio_signature import signed_twilio_form

log = logging.getLogger(__name__)

router = APIRouter(tags=["twilio"])

REPEAT, STOP = "1", "9"


def _twiml(xml: str | bytes) -> Response:
    return Response(content=xml, media_type="text/xml")


@router.post(
    KEYPRESS_PATH,
    summary="A key pressed during an automated call (Twilio webhook, signed)",
    response_class=Response,
)
def keypress(
    key: Annotated[str, Query(min_length=1, max_length=200)],
    form: Annotated[dict[str, str], Depends(signed_twilio_form)],
    context: Annotated[WebContext, Depends(web_context)],
    lang: Annotated[Lang, Query()] = Lang.FR,
) -> Response:
    settings = context.settings
    digits = form.get("Digits", "")
    if digits == REPEAT:
        twiml = context.redis.get(call_key(settings.queue_prefix, key))
        if twiml is None:
            log.info("call %s: message asked again, but no longer kept", key)
            return _twiml(farewell_twiml("expired", lang, settings))
        return _twiml(twiml)
    if digits == STOP:
        store = OptOutStore(context.redis, settings)
        try:
            changed = store.opt_out(
                form.get("To", ""), channel=Channel.VOICE, source=OptOutSource.VOICE_KEYPRESS,
                keyword=STOP, provider_message_id=form.get("CallSid"), now=context.clock(),
            )
        except InvalidNumber:
            # Never from Twilio on an outbound call; promise nothing we did not record.
            log.warning("call %s: key 9 pressed, but the webhook named no valid number", key)
            return _twiml(farewell_twiml("goodbye", lang, settings))
        log.info("call %s: key 9 pressed, voice opt-out %s", key,
                 "recorded" if changed else "already recorded")
        return _twiml(farewell_twiml("stopped", lang, settings))
    return _twiml(options_twiml(lang, key=key, settings=settings))
