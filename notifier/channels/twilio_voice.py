"""Automated voice calls through Twilio's Calls API, and the TwiML they speak.

A call speaks ``rendered.text`` (written to be heard: the clinic and its phone number,
no web address, "press 1 to hear it again"), then offers 9 to stop automated calls, all
inside a one-key ``<Gather>`` that posts to ``/v1/twilio/voice/keypress``. French speaks
with ``Polly.Gabrielle-Neural`` (fr-CA); English with ``Polly.Joanna-Neural`` (en-US:
Twilio has no en-CA voice). The keypad sentences come from ``templates/voice/<lang>/_*``.

Answering machines: synchronous detection, ``MachineDetection=DetectMessageEnd``. Twilio
holds the TwiML until it knows who answered: a person hears the message right after
their "hello"; on a machine it waits for the end of the greeting (the beep), so the whole
message is left on the voicemail, once. Asynchronous detection would start speaking at
once and need a second webhook to restart the message after the beep; the first seconds
would be lost on machines meanwhile.

Pressing 1 must replay the message, which Twilio cannot re-read from an inline TwiML:
the call's TwiML is kept in Redis under ``{prefix}:call:{send key}`` for
:data:`CALL_TWIML_TTL` (Twilio may hold a call in its queue up to 24 hours).

The voice window (CRTC hours, the patient's local time) is checked again right before
dialing: outside it the send fails *transient* with ``retry_after`` until it opens.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import redis
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from notifier.channels.base import HandOver, Receipt
from notifier.channels.twilio_client import (
    LOOKUP_LIMIT,
    build_client,
    call_twilio,
    created_within,
    look_up_twilio,
)
from notifier.channels.twilio_sms import status_callback_url
from notifier.domain import Lang, Location
from notifier.errors import DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered, environment, template_folders
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings

KEYPRESS_PATH = "/v1/twilio/voice/keypress"
# (language, voice) for <Say>, per patient language.
VOICES: dict[Lang, tuple[str, str]] = {
    Lang.FR: ("fr-CA", "Polly.Gabrielle-Neural"),
    Lang.EN: ("en-US", "Polly.Joanna-Neural"),
}
MAX_TWIML_CHARS = 4000  # Twilio's limit for an inline ``Twiml`` parameter
GATHER_SECONDS = 5  # silence after the menu before the call says goodbye
RING_SECONDS = 45  # long enough for most voicemails to pick up
CALL_TWIML_TTL = dt.timedelta(hours=25)
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def call_key(prefix: str, send_key: str) -> str:
    """Redis key holding the TwiML of the call for ``send_key`` (for "press 1")."""
    return f"{prefix}:call:{send_key}"


def spoken(part: str, lang: Lang, settings: Settings) -> str:
    """One keypad sentence (``stop_option``, ``stopped``, ``invalid_key``, ``goodbye``,
    ``expired``) from ``templates/voice/<lang>/_<part>.txt.j2``, as one line."""
    env = environment(*template_folders(settings))
    template = env.get_template(f"voice/{lang}/_{part}.txt.j2")
    return " ".join(template.render(sender_name=settings.sender_name).split())


def keypress_url(settings: Settings, *, key: str, lang: Lang) -> str:
    """The Gather action: the public keypress URL naming the send key and language."""
    if not settings.public_base_url:
        raise ValueError("NOTIFIER_PUBLIC_BASE_URL is needed for voice calls")
    query = urlencode({"key": key, "lang": str(lang)})
    return f"{settings.public_base_url.rstrip('/')}{KEYPRESS_PATH}?{query}"


def _say(node: Any, text: str, lang: Lang) -> None:
    language, voice = VOICES[lang]
    node.say(text, language=language, voice=voice)


def _menu(response: VoiceResponse, text: str, lang: Lang, action: str) -> None:
    gather = response.gather(
        num_digits=1, action=action, method="POST", timeout=GATHER_SECONDS,
        action_on_empty_result=False,
    )
    _say(gather, text, lang)


def _end(response: VoiceResponse, text: str, lang: Lang) -> str:
    _say(response, text, lang)
    response.hangup()
    return str(response.to_xml())


def call_twiml(text: str, lang: Lang, *, key: str, settings: Settings) -> str:
    """The TwiML of a call: the message and the stop option inside the keypad menu,
    then goodbye and hang up (what an answering machine records after the message)."""
    response = VoiceResponse()
    action = keypress_url(settings, key=key, lang=lang)
    _menu(response, f"{text} {spoken('stop_option', lang, settings)}", lang, action)
    return _end(response, spoken("goodbye", lang, settings), lang)


def options_twiml(lang: Lang, *, key: str, settings: Settings) -> str:
    """The answer to a key other than 1 or 9: the choices again."""
    response = VoiceResponse()
    action = keypress_url(settings, key=key, lang=lang)
    menu = f"{spoken('invalid_key', lang, settings)} {spoken('stop_option', lang, settings)}"
    _menu(response, menu, lang, action)
    return _end(response, spoken("goodbye", lang, settings), lang)


def farewell_twiml(part: str, lang: Lang, settings: Settings) -> str:
    """Say one keypad sentence (``stopped``, ``expired``...) and hang up."""
    return _end(VoiceResponse(), spoken(part, lang, settings), lang)


class TwilioVoiceClient:
    """Places each message as one automated Twilio call.

    Parameters:
      settings: caller ID (``twilio_voice_from``), voice window, public URL, account.
      redis_client: where each call's TwiML is kept for "press 1".
      locations: the appointment's location by reference (its time zone decides the
        window), or None when the appointment is gone.
      clock: the current time, aware.
      client: a Twilio client; by default one from :func:`build_client`.
    """

    idempotent = False

    def __init__(
        self,
        settings: Settings,
        *,
        redis_client: redis.Redis,
        locations: Callable[[str], Location | None],
        clock: Callable[[], dt.datetime],
        client: Client | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis_client
        self.locations = locations
        self.clock = clock
        self.client = client or build_client(settings)
        self.status_callback = status_callback_url(settings)

    def close(self) -> None:
        """The twilio client's HTTP session is shared; nothing of ours stays open."""

    def prepare(self, message: PlannedMessage, rendered: Rendered, address: str) -> HandOver:
        """Nothing to build ahead: the number was checked by the send-time decision."""
        return functools.partial(self.send, message, rendered, address)

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        self._check_window(message)
        twiml = call_twiml(rendered.text, rendered.lang, key=message.key, settings=self.settings)
        if len(twiml) > MAX_TWIML_CHARS:
            raise DeliveryError(
                FailureClass.CONFIGURATION, "twiml-too-long",
                f"the {rendered.kind} voice message makes {len(twiml)} characters of TwiML, "
                f"over Twilio's {MAX_TWIML_CHARS}: shorten the voice template",
            )
        self.redis.set(
            call_key(self.settings.queue_prefix, message.key), twiml,
            ex=int(CALL_TWIML_TTL.total_seconds()),
        )
        created = call_twilio(
            self.client,
            lambda: self.client.calls.create(
                to=address,
                from_=self.settings.twilio_voice_from,
                twiml=twiml,
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
            self.client,
            lambda: self.client.calls.list(
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
