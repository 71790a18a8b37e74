"""SMS encoding, segment counting and normalisation (GSM 03.38)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from notifier.messages.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsEncoding,
    is_gsm7,
    normalise_sms,
    sms_encoding,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsEncoding("GSM-7", 0, 1)),
        ("a" * 160, SmsEncoding("GSM-7", 160, 1)),
        ("a" * 161, SmsEncoding("GSM-7", 161, 2)),
        ("a" * 306, SmsEncoding("GSM-7", 306, 2)),
        ("a" * 307, SmsEncoding("GSM-7", 307, 3)),
        ("€" * 80, SmsEncoding("GSM-7", 160, 1)),
        ("€" * 80 + "a", SmsEncoding("GSM-7", 161, 2)),
        ("ç" * 70, SmsEncoding("UCS-2", 70, 1)),
        ("ç" * 71, SmsEncoding("UCS-2", 71, 2)),
        ("ç" * 134, SmsEncoding("UCS-2", 134, 2)),
        ("ç" * 135, SmsEncoding("UCS-2", 135, 3)),
        # An emoji is two UTF-16 code units.
        ("🙂" * 35, SmsEncoding("UCS-2", 70, 1)),
        ("🙂" * 35 + "a", SmsEncoding("UCS-2", 71, 2)),
    ],
)
def test_known_counts(text: str, expected: SmsEncoding) -> None:
    assert sms_encoding(text) == expected


@pytest.mark.parametrize("char", list("^{}\\[~]|€"))
def test_extension_characters_count_two(char: str) -> None:
    assert sms_encoding(char).characters == 2
    assert sms_encoding("a" * 158 + char).segments == 1
    assert sms_encoding("a" * 159 + char).segments == 2


def test_escape_pair_is_not_split_between_parts() -> None:
    # 152 plain septets then an extension character: 154 septets would overflow part one
    # by a single septet, so the pair moves whole to part two.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_encoding(text).characters == 306
    assert sms_encoding(text).segments == 3


def test_one_character_outside_gsm7_switches_the_whole_message_to_ucs2() -> None:
    assert sms_encoding("a" * 100).segments == 1
    assert sms_encoding("a" * 99 + "ê") == SmsEncoding("UCS-2", 100, 2)


@pytest.mark.parametrize("letter", list("àéèùìòäöüñÉÇÄÖÜ"))
def test_french_letters_in_gsm7(letter: str) -> None:
    assert is_gsm7(letter)


@pytest.mark.parametrize("letter", list("âêëîïôûÿçœÀÂÈÊËÎÏÔÙÛŒ«»‘’“”–—…°"))
def test_french_letters_outside_gsm7(letter: str) -> None:
    assert not is_gsm7(letter)


def test_normalise_babel_spaces() -> None:
    when = dt.datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("America/Toronto"))
    english = format_time(when, "short", locale="en_CA")
    french = format_decimal(1234.5, locale="fr_CA")
    assert not is_gsm7(english)  # babel's U+202F before "a.m."
    assert not is_gsm7(french)  # babel's U+00A0 as the thousands separator
    assert normalise_sms(english) == "9:30 a.m."
    assert normalise_sms(french) == "1 234,5"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Annuler\u00a0: lien", "Annuler : lien"),
        ("l\u2019annuler", "l'annuler"),
        ("\u201cSTOP\u201d", '"STOP"'),
        ("« ARRET »", '"ARRET"'),
        ("«\u00a0ARRET\u00a0»", '"ARRET"'),
        ("9 h 30 \u2013 10 h", "9 h 30 - 10 h"),
        ("Attendez\u2026", "Attendez..."),
        ("  deux\n\nlignes\t ", "deux lignes"),
        ("zéro\u200blargeur", "zérolargeur"),
        ("être à l'heure", "être à l'heure"),  # accented letters are not ours to change
    ],
)
def test_normalise(raw: str, clean: str) -> None:
    assert normalise_sms(raw) == clean


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_sms(text)
    assert normalise_sms(once) == once


@given(st.text())
def test_normalise_leaves_no_odd_space(text: str) -> None:
    clean = normalise_sms(text)
    assert all(ch == " " or not ch.isspace() for ch in clean)
    assert clean == clean.strip()


_GSM_TEXT = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION))


@given(st.text(), st.text(min_size=1))
def test_segments_at_least_one_and_monotonic(text: str, more: str) -> None:
    shorter, longer = sms_encoding(text), sms_encoding(text + more)
    assert shorter.segments >= 1
    assert longer.segments >= shorter.segments


@given(_GSM_TEXT)
def test_gsm_text_stays_gsm(text: str) -> None:
    encoding = sms_encoding(text)
    assert encoding.encoding == "GSM-7"
    assert encoding.characters == len(text) + sum(ch in GSM7_EXTENSION for ch in text)
    per_part = 153 if encoding.characters > 160 else 160
    assert encoding.segments >= -(-encoding.characters // per_part)
