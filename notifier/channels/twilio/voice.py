"""Automated voice calls through Twilio's Calls API.

A call speaks the TwiML of :func:`notifier.channels.twilio.twiml.call_twiml`.

Answering machines: synchronous detection, ``MachineDetection=DetectMessageEnd``. Twilio
holds the TwiML until it knows who answered: a person hears the message right after
their "hello"; on a machine it waits for the end of the greeting (the beep), so the whole
message is left on the voicemail, once. Asynchronous detection would start speaking at
once and need a second webhook to restart the message after the beep; the first seconds
would be lost on machines meanwhile.

A call that asks (the send step rendered it with the patient-response question,
``rendered.asking``) must not put its question to a machine. Such a call gives Twilio a
``Url`` instead of inline TwiML. What Twilio documents of synchronous detection: the
call's URL is requested once detection is over, like any outbound call's, and the request
carries the result in ``AnsweredBy``: ``human``, ``machine_end_beep``,
``machine_end_silence`` or ``machine_end_other`` (with ``DetectMessageEnd``, once the
greeting has ended), ``fax``, or ``unknown`` when detection timed out. The signed webhook
(:mod:`notifier.web.voice`) answers a person with the question (1 confirms, 2 cannot
come, 3 again, 9 stop) and anything else with the message alone, as a call that does not
ask says it. Calls that do not ask keep their inline TwiML, unchanged.

Pressing 1 (3 on a call that asks) must replay the message, which Twilio cannot re-read
from an inline TwiML: the call's TwiML is kept in Redis under ``{prefix}:call:{send key}``
(and, for a call that asks, the person's under ``...:asking``) for
:data:`CALL_TWIML_TTL` (Twilio may hold a call in its queue up to 24 hours).

The voice window (CRTC hours, the patient's local time) is checked again right before
dialing: outside it the send fails *transient* with ``retry_after`` until it opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from redis import Redis
from twilio.rest import Client

from notifier.channels.base import Receipt
from notifier.channels.twilio.api import LOOKUP_LIMIT, call_twilio, created_within, look_up_twilio
from notifier.channels.twilio.channel_client import TwilioChannelClient
from notifier.channels.twilio.twiml import (
    MAX_TWIML_CHARS,
    Asking,
    answered_url,
    asking_call_twiml,
    call_twiml,
)
from notifier.domain import Location
from notifier.errors import DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from notifier.store.keys import Keys

RING_SECONDS = 45  # long enough for most voicemails to pick up
CALL_TWIML_TTL = dt.timedelta(hours=25)
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def call_key(prefix: str, send_key: str) -> str:
    """Redis key holding the TwiML of the call for ``send_key`` (for "press 1")."""
    return Keys(prefix).call(send_key)


class TwilioVoiceClient(TwilioChannelClient):
    """Places each message as one automated Twilio call.

    Parameters:
      settings: caller ID (``twilio_voice_from``), voice window, public URL, account.
      redis: where each call's TwiML is kept for "press 1".
      locations: the appointment's location by reference (its time zone decides the
        window), or None when the appointment is gone.
      clock: the current time, aware.
      twilio: a Twilio REST client; by default one from :func:`build_twilio_client`.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        redis: Redis,
        locations: Callable[[str], Location | None],
        clock: Callable[[], dt.datetime],
        twilio: Client | None = None,
    ) -> None:
        super().__init__(settings, twilio=twilio)
        self.redis = redis
        self.locations = locations
        self.clock = clock

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        self._check_window(message)
        key, lang = message.key, rendered.lang
        asking = None if rendered.asking is None else Asking(decline=rendered.asking.decline)
        kept = {call_key(self.settings.queue_prefix, key):
                call_twiml(rendered.text, lang, key=key, settings=self.settings)}
        if asking is not None:
            kept[Keys(self.settings.queue_prefix).asking_call(key)] = asking_call_twiml(
                rendered.text, lang, key=key, asking=asking, settings=self.settings)
        longest = max(len(twiml) for twiml in kept.values())
        if longest > MAX_TWIML_CHARS:
            raise DeliveryError(
                FailureClass.CONFIGURATION, "twiml-too-long",
                f"the {rendered.kind} voice message makes {longest} characters of TwiML, "
                f"over Twilio's {MAX_TWIML_CHARS}: shorten the voice template",
            )
        ttl = int(CALL_TWIML_TTL.total_seconds())
        with self.redis.pipeline(transaction=False) as pipe:
            for name, twiml in kept.items():
                pipe.set(name, twiml, ex=ttl)
            pipe.execute()
        # A call that asks lets Twilio fetch what it says once it knows who answered.
        what: dict[str, str] = (
            {"twiml": kept[call_key(self.settings.queue_prefix, key)]} if asking is None
            else {"url": answered_url(self.settings, key=key, lang=lang), "method": "POST"}
        )
        created = call_twilio(
            self.twilio,
            lambda: self.twilio.calls.create(
                to=address,
                from_=self.settings.twilio_voice_from,
                **what,
                status_callback=self.status_callback,
                status_callback_event=CALL_EVENTS,
                status_callback_method="POST",
                machine_detection="DetectMessageEnd",
                timeout=RING_SECONDS,
            ),
            what="call",
        )
        return Receipt(provider_id=str(created.sid), status="accepted")

    def find_sent(
        self, message: PlannedMessage, rendered: Rendered, address: str, *,
        between: tuple[dt.datetime, dt.datetime], taken: Callable[[str], bool],
    ) -> Receipt | None:
        """A call from our caller ID to ``address`` that Twilio created in the span. A
        call's spoken text is not in Twilio's answer: the span and the numbers decide."""
        latest = look_up_twilio(
            self.twilio,
            lambda: self.twilio.calls.list(
                to=address, from_=self.settings.twilio_voice_from, limit=LOOKUP_LIMIT
            ),
            what="call",
        )
        for call in latest:
            if created_within(call.date_created, between) and not taken(str(call.sid)):
                return Receipt(provider_id=str(call.sid), status="accepted")
        return None

    def _check_window(self, message: PlannedMessage) -> None:
        location = self.locations(message.reference)
        if location is None:
            raise DeliveryError(
                FailureClass.PERMANENT, "no-appointment",
                "the appointment is no longer known: the call hours cannot be checked",
            )
        now = self.clock()
        window = self.settings.window_voice
        if not window.contains(now, location.zone):
            opens = window.first_opening(now, location.zone)
            raise DeliveryError(
                FailureClass.TRANSIENT, "outside-window",
                "outside the hours when automated calls are allowed; the call waits",
                retry_after=(opens - now.astimezone(dt.UTC)).total_seconds(),
            )
