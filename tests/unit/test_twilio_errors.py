"""Classifying Twilio errors, and the operator sentences for them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.channels.twilio.api import retry_after
from notifier.channels.twilio.errors import (
    CONFIGURATION_CODES,
    PERMANENT_CODES,
    TRANSIENT_CODES,
    classify,
    explain,
    is_known,
)
from notifier.domain import Lang
from notifier.errors import FailureClass

P, T, C, A = (
    FailureClass.PERMANENT,
    FailureClass.TRANSIENT,
    FailureClass.CONFIGURATION,
    FailureClass.AMBIGUOUS,
)

# The classes Twilio's error-code documentation gives each code, written out again so
# that a change to the module's sets shows here.
LISTED = {
    21610: P, 21211: P, 21614: P, 21635: P, 30004: P, 30005: P, 30006: P, 30007: P,
    20429: T, 21611: T, 30001: T, 30003: T, 30008: T, 30450: T, 30500: T,
    20003: C, 21408: C, 21606: C, 30032: C, 30034: C,
}


@pytest.mark.parametrize(("code", "expected"), sorted(LISTED.items()))
def test_each_listed_code_has_its_class_from_an_api_answer(
    code: int, expected: FailureClass
) -> None:
    status = 429 if code == 20429 else 401 if code == 20003 else 400
    assert classify(status, code) is expected


@pytest.mark.parametrize(("code", "expected"), sorted(LISTED.items()))
def test_each_listed_code_has_its_class_in_a_status_callback(
    code: int, expected: FailureClass
) -> None:
    assert classify(None, code) is expected


def test_the_module_lists_exactly_the_field_notes_codes() -> None:
    assert set(LISTED) == PERMANENT_CODES | TRANSIENT_CODES | CONFIGURATION_CODES
    assert all(is_known(code) for code in LISTED)
    assert not is_known(21999) and not is_known(None)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 21999, P),  # unknown API error: permanent
        (None, 21999, P),
        (400, 31999, T),  # unknown carrier error: transient
        (None, 39999, T),
        (429, None, T),  # rate limited without a code
        (429, 429, T),  # the client puts the HTTP status in ``code`` when the body had none
        (500, 20500, A),  # a 5xx on a create: the message may exist
        (503, 20503, A),  # unavailable: Twilio never says it did not take it
        (503, None, A),
        (None, 20503, A),
        (502, None, A),
        (500, 21610, A),  # 5xx first, whatever the code says
        (401, None, C),
        (403, 403, C),
        (404, 20404, C),  # wrong account or API address
        (404, None, C),
        (403, 21999, C),
        (400, None, P),
        (None, None, A),  # no answer at all
    ],
)
def test_status_and_code_together(
    status: int | None, code: int | None, expected: FailureClass
) -> None:
    assert classify(status, code) is expected


@given(st.integers(500, 599), st.one_of(st.none(), st.integers(10000, 99999)))
def test_any_5xx_on_a_create_is_ambiguous_unless_twilio_says_it_is_a_rate_limit(
    status: int, code: int | None
) -> None:
    expected = T if code == 20429 else A
    assert classify(status, code) is expected


@given(st.integers(30000, 39999).filter(lambda c: c not in LISTED))
def test_unknown_3xxxx_codes_are_transient(code: int) -> None:
    assert classify(None, code) is T
    assert classify(400, code) is T


@given(st.integers(20000, 29999).filter(lambda c: c not in LISTED and c != 20503))
def test_unknown_2xxxx_codes_are_permanent(code: int) -> None:
    assert classify(400, code) is P
    assert classify(None, code) is P


@pytest.mark.parametrize("code", sorted(LISTED))
def test_every_listed_code_has_its_own_sentence_in_both_languages(code: int) -> None:
    english, french = explain(code, Lang.EN), explain(code, Lang.FR)
    generic = {explain(99999, lang) for lang in Lang} | {explain(29999, lang) for lang in Lang}
    assert english != french
    assert english not in generic and french not in generic
    for sentence in (english, french):
        assert sentence[0].isupper() and sentence.endswith(".")
    assert "Twilio" not in french or "Twilio" in english  # same facts in both


def test_sentences_say_what_matters_to_an_operator() -> None:
    assert "STOP" in explain(21610, Lang.EN) and "STOP" in explain(21610, Lang.FR)
    assert "désabonné" in explain(21610, Lang.FR)
    assert "SID" in explain(20003, Lang.EN) and "jeton" in explain(20003, Lang.FR)
    assert "fixe" in explain(21635, Lang.FR) and "landline" in explain(21635, Lang.EN)
    # A 503 may have been taken: the operator reads that Twilio is asked, not that it
    # certainly did not take it.
    assert "may or may not" in explain(20503, Lang.EN)
    assert "vérifie auprès de Twilio" in explain(20503, Lang.FR)


def test_an_unlisted_code_gets_its_class_sentence_naming_the_code() -> None:
    assert explain(31999, Lang.EN) == (
        "Twilio could not deliver the message for now (error 31999); it will be tried again."
    )
    assert explain(31999, Lang.FR) == (
        "Twilio n'a pas pu livrer le message pour l'instant (erreur 31999); il sera réessayé."
    )
    assert "(error 502)" in explain(None, Lang.EN, http_status=502)
    assert "may or may not" in explain(None, Lang.EN, http_status=502)
    assert "(" not in explain(None, Lang.FR)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"Retry-After": "-3"}, 0.0),
        (
            {
                "Retry-After": "Wed, 25 Nov 2026 15:00:30 GMT",
                "Date": "Wed, 25 Nov 2026 15:00:00 GMT",
            },
            30.0,
        ),
        ({"Retry-After": "Wed, 25 Nov 2026 15:00:30 GMT"}, None),  # no Date to read it by
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_header(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected
