"""The webhooks of an automated call: ``POST /v1/twilio/voice/answered`` and
``POST /v1/twilio/voice/keypress``. Both are Twilio's, signed; the query names the send
key and the patient's language.

``answered``: Twilio requests it once a call that asks is answered and its answering
machine detection is over (see :mod:`notifier.channels.twilio.voice`). A person
(``AnsweredBy=human``) hears the message with the question, and the CallSid is kept as
the one call whose keys may answer it; anyone else (a machine, a fax, ``unknown``) hears
the message alone, as a call that does not ask says it.

``keypress``: the patient pressed a key during the call's menu
(:mod:`notifier.channels.twilio.twiml`). The answer is TwiML. On a call that does not ask:

- 1: the message again, from the TwiML kept in Redis when the call was placed;
- 9: the number is opted out of automated calls (:class:`OptOutStore`, channel voice,
  source ``voice-keypress``), then a spoken confirmation and hang up. Twilio may deliver
  the webhook twice: the opt-out is a state, so the second one changes nothing;
- any other key: the choices again.

On a call that asks (its keypress URL says ``asks=1``): 1 confirms and 2 declines (when
offered) through :mod:`notifier.web.voice_answers`, 3 is the message again, 9 as above,
any other key the choices again. 1 and 2 count only from the call whose question a
person heard (the CallSid ``answered`` kept), and never when the request says something
other than a person answered: the call says goodbye and nothing is recorded.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from notifier.channels.twilio.twiml import (
    ANSWERED_PATH,
    KEYPRESS_PATH,
    Asking,
    asking_options_twiml,
    farewell_twiml,
    options_twiml,
)
from notifier.channels.twilio.voice import CALL_TWIML_TTL, call_key
from notifier.domain import Channel, Lang
from notifier.errors import InvalidNumber
from notifier.messages.keypad import KeypadPart
from notifier.opt_outs import OptOutSource
from notifier.responses import Answer
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.web.context import WebContext, web_context
from notifier.web.twilio_signature import signed_twilio_form
from notifier.web.voice_answers import record_keypress

log = logging.getLogger(__name__)

router = APIRouter(tags=["twilio"])

REPEAT, STOP = "1", "9"
CONFIRM, DECLINE, ASKING_REPEAT = "1", "2", "3"
PERSON = "human"  # Twilio's AnsweredBy for a person; machine_*, fax, unknown otherwise

Key = Annotated[str, Query(min_length=1, max_length=200)]
Form = Annotated[dict[str, str], Depends(signed_twilio_form)]
Context = Annotated[WebContext, Depends(web_context)]


def _twiml(xml: str | bytes) -> Response:
    return Response(content=xml, media_type="text/xml")


@router.post(
    ANSWERED_PATH,
    summary="A call that asks was answered (Twilio's request for its TwiML, signed)",
    response_class=Response,
)
def answered(
    key: Key, form: Form, context: Context, lang: Annotated[Lang, Query()] = Lang.FR,
) -> Response:
    keys = Keys(context.settings.queue_prefix)
    call_sid = form.get("CallSid", "")
    person = form.get("AnsweredBy") == PERSON and bool(call_sid)
    asking_twiml = context.redis.get(keys.asking_call(key)) if person else None
    if asking_twiml is not None:
        context.redis.set(keys.call_asked(key), call_sid,
                          ex=int(CALL_TWIML_TTL.total_seconds()))
        log.info("call %s answered by a person: asked", key)
        return _twiml(asking_twiml)
    twiml = context.redis.get(call_key(context.settings.queue_prefix, key))
    if twiml is None:
        log.info("call %s answered, but its message is no longer kept", key)
        return _twiml(farewell_twiml(KeypadPart.EXPIRED, lang, context.settings))
    log.info("call %s answered (%s): the message alone", key,
             "a person" if person else "not a person")
    return _twiml(twiml)


@router.post(
    KEYPRESS_PATH,
    summary="A key pressed during an automated call (Twilio webhook, signed)",
    response_class=Response,
)
def keypress(
    key: Key,
    form: Form,
    context: Context,
    lang: Annotated[Lang, Query()] = Lang.FR,
    asks: Annotated[bool, Query()] = False,
    decline: Annotated[bool, Query()] = False,
) -> Response:
    digits = form.get("Digits", "")
    if digits == STOP:
        return _stop(key, form, context, lang)
    if asks:
        return _asking_keypress(key, digits, form, context, lang, Asking(decline=decline))
    if digits == REPEAT:
        return _replay(call_key(context.settings.queue_prefix, key), key, context, lang)
    return _twiml(options_twiml(lang, key=key, settings=context.settings))


def _asking_keypress(
    key: str, digits: str, form: dict[str, str], context: WebContext, lang: Lang,
    asking: Asking,
) -> Response:
    settings = context.settings
    if digits == ASKING_REPEAT:
        return _replay(Keys(settings.queue_prefix).asking_call(key), key, context, lang)
    answer = {CONFIRM: Answer.CONFIRMED, DECLINE: Answer.DECLINED if asking.decline else None}
    chosen = answer.get(digits)
    if chosen is None:
        return _twiml(asking_options_twiml(lang, key=key, asking=asking, settings=settings))
    if not _asked_a_person(key, form, context):
        # Tones a machine played, or a call whose question no person heard: no answer.
        log.info("call %s: key %s ignored, the question was not put to a person", key, digits)
        return _twiml(farewell_twiml(KeypadPart.GOODBYE, lang, settings))
    said = record_keypress(context, key=key, answer=chosen, form=form)
    return _twiml(farewell_twiml(said, lang, settings))


def _asked_a_person(key: str, form: dict[str, str], context: WebContext) -> bool:
    """Whether this call is the one whose question a person heard. The CallSid decides:
    Twilio documents ``AnsweredBy`` on the request for the call's URL, not on a Gather's
    action; when a keypress carries it anyway, it must say a person."""
    asked = context.redis.get(Keys(context.settings.queue_prefix).call_asked(key))
    call_sid = form.get("CallSid", "")
    return (
        bool(call_sid) and asked in (call_sid, call_sid.encode())
        and form.get("AnsweredBy", PERSON) == PERSON
    )


def _replay(name: str, key: str, context: WebContext, lang: Lang) -> Response:
    twiml = context.redis.get(name)
    if twiml is None:
        log.info("call %s: message asked again, but no longer kept", key)
        return _twiml(farewell_twiml(KeypadPart.EXPIRED, lang, context.settings))
    return _twiml(twiml)


def _stop(key: str, form: dict[str, str], context: WebContext, lang: Lang) -> Response:
    settings = context.settings
    store = OptOutStore(context.redis, settings)
    try:
        changed = store.opt_out(
            form.get("To", ""), channel=Channel.VOICE, source=OptOutSource.VOICE_KEYPRESS,
            keyword=STOP, provider_message_id=form.get("CallSid"), now=context.clock(),
        )
    except InvalidNumber:
        # Never from Twilio on an outbound call; promise nothing we did not record.
        log.warning("call %s: key 9 pressed, but the webhook named no valid number", key)
        return _twiml(farewell_twiml(KeypadPart.GOODBYE, lang, settings))
    log.info("call %s: key 9 pressed, voice opt-out %s", key,
             "recorded" if changed else "already recorded")
    return _twiml(farewell_twiml(KeypadPart.STOPPED, lang, settings))
