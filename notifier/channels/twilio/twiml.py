"""What an automated call says: its TwiML, and the keypad menu around the message.

A call speaks ``rendered.text`` (written to be heard: the clinic and its phone number,
no web address, "press 1 to hear it again"), then offers 9 to stop automated calls, all
inside a one-key ``<Gather>`` that posts to ``/v1/twilio/voice/keypress``. French speaks
with ``Polly.Gabrielle-Neural`` (fr-CA); English with ``Polly.Joanna-Neural`` (en-US:
Twilio has no en-CA voice). The keypad sentences come from ``templates/voice/<lang>/_*``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from notifier.domain import Lang
from notifier.messages.catalogue import environment, template_folders
from notifier.settings import Settings

KEYPRESS_PATH = "/v1/twilio/voice/keypress"
# (language, voice) for <Say>, per patient language.
VOICES: dict[Lang, tuple[str, str]] = {
    Lang.FR: ("fr-CA", "Polly.Gabrielle-Neural"),
    Lang.EN: ("en-US", "Polly.Joanna-Neural"),
}
MAX_TWIML_CHARS = 4000  # Twilio's limit for an inline ``Twiml`` parameter
GATHER_SECONDS = 5  # silence after the menu before the call says goodbye


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
