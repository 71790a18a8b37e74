"""What an automated call says: its TwiML, and the keypad menu around the message.

A call speaks ``rendered.text`` (written to be heard: the clinic and its phone number,
no web address), then its choices, all inside a one-key ``<Gather>`` that posts to
``/v1/twilio/voice/keypress``:

- a call that does not ask: 1 to hear the message again (said by the message itself),
  9 to stop automated calls;
- a call that asks (see the location's patient responses), to a person: 1 to confirm,
  2 if they cannot come (when the location offers it), 3 to hear the message again, 9 to
  stop automated calls. Its keypress URL says so (``asks=1``, ``decline=1``), inside
  what Twilio signs.

French speaks with ``Polly.Gabrielle-Neural`` (fr-CA); English with
``Polly.Joanna-Neural`` (en-US: Twilio has no en-CA voice). The keypad sentences come
from ``templates/voice/<lang>/_*`` (:mod:`notifier.messages.keypad`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from notifier.domain import Lang
from notifier.messages.keypad import KeypadPart, spoken
from notifier.settings import Settings

__all__ = [
    "ANSWERED_PATH", "KEYPRESS_PATH", "MAX_TWIML_CHARS", "Asking", "answered_url",
    "asking_call_twiml", "asking_options_twiml", "call_twiml", "farewell_twiml",
    "keypress_url", "options_twiml", "spoken",
]

KEYPRESS_PATH = "/v1/twilio/voice/keypress"
ANSWERED_PATH = "/v1/twilio/voice/answered"
# (language, voice) for <Say>, per patient language.
VOICES: dict[Lang, tuple[str, str]] = {
    Lang.FR: ("fr-CA", "Polly.Gabrielle-Neural"),
    Lang.EN: ("en-US", "Polly.Joanna-Neural"),
}
MAX_TWIML_CHARS = 4000  # Twilio's limit for an inline ``Twiml`` parameter
GATHER_SECONDS = 5  # silence after the menu before the call says goodbye


@dataclass(frozen=True)
class Asking:
    """A call that asks the patient to answer: whether 2 ("I cannot come") is offered."""

    decline: bool


def _public(settings: Settings, path: str, query: dict[str, str]) -> str:
    if not settings.public_base_url:
        raise ValueError("NOTIFIER_PUBLIC_BASE_URL is needed for voice calls")
    return f"{settings.public_base_url.rstrip('/')}{path}?{urlencode(query)}"


def keypress_url(
    settings: Settings, *, key: str, lang: Lang, asking: Asking | None = None
) -> str:
    """The Gather action: the public keypress URL naming the send key and language, and
    for a call that asks, that it asks and whether 2 is offered."""
    query = {"key": key, "lang": str(lang)}
    if asking is not None:
        query["asks"] = "1"
        query["decline"] = "1" if asking.decline else "0"
    return _public(settings, KEYPRESS_PATH, query)


def answered_url(settings: Settings, *, key: str, lang: Lang) -> str:
    """The URL Twilio requests once a call that asks is answered (see
    :mod:`notifier.web.voice`): the send key and the language."""
    return _public(settings, ANSWERED_PATH, {"key": key, "lang": str(lang)})


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
    _menu(response, f"{text} {spoken(KeypadPart.STOP_OPTION, lang, settings)}", lang, action)
    return _end(response, spoken(KeypadPart.GOODBYE, lang, settings), lang)


def _asking_choices(lang: Lang, asking: Asking, settings: Settings) -> str:
    parts = [KeypadPart.CONFIRM_OPTION]
    if asking.decline:
        parts.append(KeypadPart.DECLINE_OPTION)
    parts += [KeypadPart.REPEAT_OPTION, KeypadPart.STOP_OPTION]
    return " ".join(spoken(part, lang, settings) for part in parts)


def asking_call_twiml(
    text: str, lang: Lang, *, key: str, asking: Asking, settings: Settings
) -> str:
    """The TwiML a person hears on a call that asks: the message, then 1 to confirm, 2 if
    they cannot come (when offered), 3 to hear it again and 9 to stop calls, inside the
    keypad menu; then goodbye and hang up."""
    response = VoiceResponse()
    action = keypress_url(settings, key=key, lang=lang, asking=asking)
    _menu(response, f"{text} {_asking_choices(lang, asking, settings)}", lang, action)
    return _end(response, spoken(KeypadPart.GOODBYE, lang, settings), lang)


def asking_options_twiml(lang: Lang, *, key: str, asking: Asking, settings: Settings) -> str:
    """The answer to a key a call that asks does not offer: the choices again."""
    response = VoiceResponse()
    action = keypress_url(settings, key=key, lang=lang, asking=asking)
    menu = (f"{spoken(KeypadPart.INVALID_CHOICE, lang, settings)} "
            f"{_asking_choices(lang, asking, settings)}")
    _menu(response, menu, lang, action)
    return _end(response, spoken(KeypadPart.GOODBYE, lang, settings), lang)


def options_twiml(lang: Lang, *, key: str, settings: Settings) -> str:
    """The answer to a key other than 1 or 9: the choices again."""
    response = VoiceResponse()
    action = keypress_url(settings, key=key, lang=lang)
    menu = (f"{spoken(KeypadPart.INVALID_KEY, lang, settings)} "
            f"{spoken(KeypadPart.STOP_OPTION, lang, settings)}")
    _menu(response, menu, lang, action)
    return _end(response, spoken(KeypadPart.GOODBYE, lang, settings), lang)


def farewell_twiml(part: str, lang: Lang, settings: Settings) -> str:
    """Say one keypad sentence (a :class:`KeypadPart`: ``stopped``, ``expired``...) and
    hang up."""
    return _end(VoiceResponse(), spoken(part, lang, settings), lang)
