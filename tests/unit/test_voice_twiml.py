"""The TwiML an automated call speaks, for every kind of message in both languages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from notifier.channels.twilio.twiml import (
    KEYPRESS_PATH,
    MAX_TWIML_CHARS,
    call_twiml,
    farewell_twiml,
    options_twiml,
    spoken,
)
from notifier.domain import Channel, Kind, Lang
from notifier.messages.catalogue import render
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.messages.text_checks import web_addresses
from notifier.settings import Settings

BASE = "https://gateway.example.org"
KEY = "1234567890:reminder:voice:86400:v3"
SETTINGS = Settings(public_base_url=BASE)
EXPECTED_VOICE = {
    Lang.FR: ("fr-CA", "Polly.Gabrielle-Neural"),
    Lang.EN: ("en-US", "Polly.Joanna-Neural"),
}


def spoken_text(kind: Kind, lang: Lang) -> str:
    return render(kind, Channel.VOICE, sample_state(lang), SETTINGS, SAMPLE_NOW).text


def parse(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return root


def says(root: ET.Element) -> list[ET.Element]:
    return list(root.iter("Say"))


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("kind", list(Kind))
def test_a_call_speaks_the_message_and_the_stop_option_inside_a_one_key_menu(
    kind: Kind, lang: Lang
) -> None:
    text = spoken_text(kind, lang)
    twiml = call_twiml(text, lang, key=KEY, settings=SETTINGS)
    root = parse(twiml)

    gather, goodbye, hangup = list(root)
    assert gather.tag == "Gather" and goodbye.tag == "Say" and hangup.tag == "Hangup"
    assert gather.get("numDigits") == "1"
    assert gather.get("method") == "POST"
    (message,) = gather.findall("Say")
    assert message.text == f"{text} {spoken('stop_option', lang, SETTINGS)}"
    assert goodbye.text == spoken("goodbye", lang, SETTINGS)
    for say in says(root):
        assert (say.get("language"), say.get("voice")) == EXPECTED_VOICE[lang]
    assert len(twiml) <= MAX_TWIML_CHARS


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("kind", list(Kind))
def test_nothing_a_call_says_is_a_web_address(kind: Kind, lang: Lang) -> None:
    root = parse(call_twiml(spoken_text(kind, lang), lang, key=KEY, settings=SETTINGS))
    for say in says(root):
        assert web_addresses(say.text or "") == []


@pytest.mark.parametrize("lang", list(Lang))
def test_the_menu_posts_the_key_and_language_to_the_public_keypress_url(lang: Lang) -> None:
    root = parse(call_twiml("Bonjour.", lang, key=KEY, settings=SETTINGS))
    gather = root.find("Gather")
    assert gather is not None
    action = urlsplit(gather.get("action", ""))

    assert f"{action.scheme}://{action.netloc}{action.path}" == BASE + KEYPRESS_PATH
    assert parse_qs(action.query) == {"key": [KEY], "lang": [str(lang)]}


def test_the_stop_option_is_said_in_the_patients_language() -> None:
    french = spoken("stop_option", Lang.FR, SETTINGS)
    english = spoken("stop_option", Lang.EN, SETTINGS)

    assert "appuyez sur le 9" in french and SETTINGS.sender_name in french
    assert "press 9" in english and SETTINGS.sender_name in english


def test_the_voice_message_offers_to_repeat_with_1() -> None:
    # The catalogue's words; the menu relies on them.
    assert "appuyez sur le 1" in spoken_text(Kind.REMINDER, Lang.FR)
    assert "press 1" in spoken_text(Kind.REMINDER, Lang.EN)


@pytest.mark.parametrize("lang", list(Lang))
def test_a_wrong_key_gets_the_choices_again(lang: Lang) -> None:
    root = parse(options_twiml(lang, key=KEY, settings=SETTINGS))
    gather = root.find("Gather")
    assert gather is not None
    (menu,) = gather.findall("Say")
    assert menu.text == (
        f"{spoken('invalid_key', lang, SETTINGS)} {spoken('stop_option', lang, SETTINGS)}"
    )
    assert "1" in (menu.text or "") and "9" in (menu.text or "")
    assert root[-1].tag == "Hangup"


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("part", ["stopped", "goodbye", "expired"])
def test_farewells_say_one_sentence_then_hang_up(part: str, lang: Lang) -> None:
    root = parse(farewell_twiml(part, lang, SETTINGS))
    say, hangup = list(root)
    assert say.text == spoken(part, lang, SETTINGS)
    assert (say.get("language"), say.get("voice")) == EXPECTED_VOICE[lang]
    assert hangup.tag == "Hangup"


def test_special_characters_in_the_sender_name_stay_valid_xml() -> None:
    settings = Settings(public_base_url=BASE, sender_name="Santé & <Cie>")
    root = parse(call_twiml("Bonjour.", Lang.FR, key=KEY, settings=settings))
    assert "Santé & <Cie>" in (root.find("Gather/Say").text or "")  # type: ignore[union-attr]
