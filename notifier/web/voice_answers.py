"""Keys 1 and 2 on a call that asks: the patient's answer to the call's appointment,
recorded the way an answer by text is (:func:`notifier.inbound.answers.apply_answer`: the
re-check against the appointment as stored, then ``response_record``, which stores the
response and tells the booking system in one step), with channel ``voice`` and, as who
answered, the digest of the number called.

The call is about one appointment (its send key starts with the reference), so a key
answers that appointment's open question to the number called, whatever else the number
was asked: no code is ever said. An appointment that moved, was cancelled or started
since, or whose question closed, records nothing, and the patient hears that it changed.
A repeat records nothing new and is answered the same way.
"""

from __future__ import annotations

import logging

from notifier.domain import Channel
from notifier.errors import InvalidNumber
from notifier.inbound.answers import RECORD_TRIES, apply_answer
from notifier.messages.keypad import KeypadPart
from notifier.opt_outs import e164
from notifier.responses import Answer
from notifier.store.responses import ResponseStore
from notifier.web.context import WebContext

log = logging.getLogger(__name__)

_SAID = {Answer.CONFIRMED: KeypadPart.CONFIRMED, Answer.DECLINED: KeypadPart.DECLINED}


def record_keypress(
    context: WebContext, *, key: str, answer: Answer, form: dict[str, str]
) -> KeypadPart:
    """Record ``answer``, pressed during the call for send key ``key`` (a call whose
    question a person heard), and return what the call says before it hangs up.

    Parameters:
      context: Redis, the settings and the clock.
      key: the call's send key (from the keypress URL Twilio signed).
      answer: 1 (confirmed) or 2 (declined).
      form: Twilio's signed form: ``To`` is the number called.
    """
    try:
        number = e164(form.get("To", ""))
    except InvalidNumber:
        # Never from Twilio on an outbound call; promise nothing we did not record.
        log.warning("call %s: an answer pressed, but the webhook named no valid number", key)
        return KeypadPart.GOODBYE
    reference = key.split(":", 1)[0]  # a send key begins with its appointment's reference
    store = ResponseStore(context.redis, context.settings)
    now = context.clock()
    for _ in range(RECORD_TRIES):
        held = store.questions(number)
        asked = [q for q in held.questions if q.reference == reference and q.is_open(now)]
        if not asked:
            log.info("call %s: key for %s, but its question is no longer open", key, answer)
            return KeypadPart.CHANGED
        applied = apply_answer(store, number, answer, asked, held, channel=Channel.VOICE,
                               now=now)
        if applied is None:
            continue  # a question or the appointment changed while read: read again
        if not applied.questions:
            return KeypadPart.CHANGED
        log.info("call %s: %s %s", key, answer,
                 "recorded" if applied.changed else "repeated (nothing new)")
        return _SAID[answer]
    log.warning("call %s: the answer kept meeting changes; not recorded", key)
    return KeypadPart.CHANGED
