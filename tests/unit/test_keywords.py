"""The keyword parser on texts as patients send them, and its properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notifier.domain import Lang
from notifier.inbound.keywords import (
    KEYWORDS,
    OTHER,
    TWILIO_DEFAULT_WORDS,
    Keyword,
    KeywordKind,
    normalise,
    parse,
)

STOP, START, HELP, INFO, OTHER_KIND = (
    KeywordKind.STOP, KeywordKind.START, KeywordKind.HELP, KeywordKind.INFO, KeywordKind.OTHER,
)
FR, EN = Lang.FR, Lang.EN

# (what the patient sent, the kind, the reply language).
VARIANTS: list[tuple[str, KeywordKind, Lang | None]] = [
    # French stop: CWTA's ARRET, the accents, the misspellings carriers accept.
    ("ARRET", STOP, FR),
    ("Arret", STOP, FR),
    ("arret", STOP, FR),
    ("Arrêt", STOP, FR),
    ("ARRÊT", STOP, FR),
    ("arrêt", STOP, FR),
    (" arrêt! ", STOP, FR),
    ("ARRET.", STOP, FR),
    ("Arrêt.", STOP, FR),
    ("« Arrêt »", STOP, FR),
    ("«\u00a0ARRET\u00a0»", STOP, FR),
    ("\u201carrêt\u201d", STOP, FR),
    ("'Arret'", STOP, FR),
    ("Arrêt !!!", STOP, FR),
    ("Arrêt 🙏", STOP, FR),
    ("🛑 ARRÊT 🛑", STOP, FR),
    ("arrêt\n", STOP, FR),
    ("\n\tArret\r\n", STOP, FR),
    ("Arrèt", STOP, FR),  # the wrong accent
    ("Arrét", STOP, FR),
    ("Aret", STOP, FR),
    ("ARET", STOP, FR),
    ("Arrret", STOP, FR),
    ("Arrett", STOP, FR),
    ("Arrête", STOP, FR),
    ("ARRETE", STOP, FR),
    ("Arrête!", STOP, FR),
    ("Fin", STOP, FR),
    ("FIN.", STOP, FR),
    ("fin", STOP, FR),
    ("Désabonner", STOP, FR),
    ("desinscrire", STOP, FR),
    ("ＡＲＲＥＴ", STOP, FR),  # full-width, as some Asian keyboards type
    ("A\u0301rre\u0302t", STOP, FR),  # combining accents (NFD)
    ("(arrêt)", STOP, FR),
    ("-ARRET-", STOP, FR),
    ("...arret...", STOP, FR),
    # English stop: Twilio's words and the usual ways of typing them.
    ("STOP", STOP, EN),
    ("Stop", STOP, EN),
    ("stop", STOP, EN),
    ("sToP", STOP, EN),
    ("Stop.", STOP, EN),
    ("STOP!", STOP, EN),
    ("stop 🙏", STOP, EN),
    ("Stop👍🏽", STOP, EN),
    ("✋stop✋", STOP, EN),
    ("\"Stop\"", STOP, EN),
    ("  stop  ", STOP, EN),
    ("stop\n\n", STOP, EN),
    ("ＳＴＯＰ", STOP, EN),
    ("𝐒𝐓𝐎𝐏", STOP, EN),  # mathematical bold, from "fancy text" keyboards
    ("STOP\ufe0f", STOP, EN),  # a stray emoji selector after a plain letter
    ("Stopall", STOP, EN),
    ("STOP ALL", STOP, EN),
    ("stop   all", STOP, EN),
    ("Unsubscribe", STOP, EN),
    ("UNSUB", STOP, EN),
    ("Cancel", STOP, EN),  # never invited, but Twilio blocks on it
    ("CANCEL.", STOP, EN),
    ("End", STOP, EN),
    ("Quit", STOP, EN),
    ("revoke", STOP, EN),
    ("Optout", STOP, EN),
    ("OPT-OUT", STOP, EN),
    ("opt out", STOP, EN),
    ("Remove", STOP, EN),
    # Start.
    ("REPRISE", START, FR),
    ("Reprise", START, FR),
    ("reprise.", START, FR),
    ("Réprise", START, FR),
    ("« Reprise »", START, FR),
    ("reprise 👍", START, FR),
    ("START", START, EN),
    ("Start", START, EN),
    ("start!", START, EN),
    ("Yes", START, EN),
    ("YES.", START, EN),
    ("unstop", START, EN),
    ("Unstop", START, EN),
    # Help.
    ("AIDE", HELP, FR),
    ("Aide", HELP, FR),
    ("aide?", HELP, FR),
    ("Aide ?", HELP, FR),
    ("¿aide?", HELP, FR),
    ("HELP", HELP, EN),
    ("Help", HELP, EN),
    ("help!", HELP, EN),
    ("Help?", HELP, EN),
    ("help 😢", HELP, EN),
    # Info: both languages.
    ("INFO", INFO, None),
    ("Info", INFO, None),
    ("info?", INFO, None),
    ("Infos", INFO, None),
    ("Information", INFO, None),
    ("informations", INFO, None),
    ("ℹ️ Info", INFO, None),  # the information emoji is a letter to Unicode
    # Sentences that contain a keyword but are not one.
    ("please stop texting me", OTHER_KIND, None),
    ("Stop texting me", OTHER_KIND, None),
    ("STOP IT", OTHER_KIND, None),
    ("stop please", OTHER_KIND, None),
    ("Please stop", OTHER_KIND, None),
    ("stop stop", OTHER_KIND, None),
    ("je veux arrêter", OTHER_KIND, None),
    ("Arrêtez", OTHER_KIND, None),
    ("Arrêter", OTHER_KIND, None),
    ("arrêt svp", OTHER_KIND, None),
    ("Arrêtez de m'écrire", OTHER_KIND, None),
    ("C'est la fin", OTHER_KIND, None),
    ("fin de semaine", OTHER_KIND, None),
    ("Annuler", OTHER_KIND, None),  # an appointment, not the texts
    ("Je veux annuler mon rendez-vous", OTHER_KIND, None),
    ("I need to cancel my appointment", OTHER_KIND, None),
    ("cancel appointment", OTHER_KIND, None),
    ("Oui", OTHER_KIND, None),  # "yes, I'll come" is not an opt-in
    ("Oui merci", OTHER_KIND, None),
    ("Yes I will be there", OTHER_KIND, None),
    ("Reprendre", OTHER_KIND, None),
    ("J'ai besoin d'aide", OTHER_KIND, None),
    ("help me", OTHER_KIND, None),
    ("more info please", OTHER_KIND, None),
    ("Merci!", OTHER_KIND, None),
    ("Thanks", OTHER_KIND, None),
    ("OK", OTHER_KIND, None),
    ("👍", OTHER_KIND, None),
    ("", OTHER_KIND, None),
    ("   ", OTHER_KIND, None),
    ("?!", OTHER_KIND, None),
    ("S T O P", OTHER_KIND, None),
    ("st0p", OTHER_KIND, None),
    ("stopp", OTHER_KIND, None),
    ("Stop.Stop", OTHER_KIND, None),
    ("st❤️op", OTHER_KIND, None),
    ("STOP\nI never booked this", OTHER_KIND, None),
    ("Arrêt\nMerci", OTHER_KIND, None),
    ("unsubscribe me", OTHER_KIND, None),
    ("non", OTHER_KIND, None),
]


def test_table_is_large_and_covers_every_kind_and_language() -> None:
    assert len(VARIANTS) >= 100
    assert {(kind, lang) for _, kind, lang in VARIANTS} == {
        (STOP, FR), (STOP, EN), (START, FR), (START, EN), (HELP, FR), (HELP, EN),
        (INFO, None), (OTHER_KIND, None),
    }
    assert len({text for text, _, _ in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize(("text", "kind", "lang"), VARIANTS)
def test_real_world_variants(text: str, kind: KeywordKind, lang: Lang | None) -> None:
    keyword = parse(text)
    assert (keyword.kind, keyword.lang) == (kind, lang)
    if kind is OTHER_KIND:
        assert keyword == OTHER
    else:
        assert keyword.word == normalise(text)
        assert keyword.word in KEYWORDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" « Arrêt » 🙏\n", "ARRET"),
        ("opt   out!", "OPT OUT"),
        ("ＳＴＯＰ", "STOP"),
        ("straße", "STRASSE"),
        ("Je veux\n\narrêter.", "JE VEUX ARRETER"),
        ("  ", ""),
        ("🙂", ""),
        ("l'aide", "L'AIDE"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_every_keyword_is_written_normalised() -> None:
    for word, keyword in KEYWORDS.items():
        assert normalise(word) == word == keyword.word


def test_mandatory_canadian_keywords_and_twilio_defaults_are_known() -> None:
    # CWTA's five mandatory short-code keywords, in their languages.
    assert parse("STOP") == Keyword(STOP, EN, "STOP")
    assert parse("ARRET") == Keyword(STOP, FR, "ARRET")
    assert parse("HELP") == Keyword(HELP, EN, "HELP")
    assert parse("AIDE") == Keyword(HELP, FR, "AIDE")
    assert parse("INFO") == Keyword(INFO, None, "INFO")
    # Everything Twilio acts on by default, we act on the same way.
    for word in TWILIO_DEFAULT_WORDS:
        keyword = parse(word)
        assert keyword.kind is not OTHER_KIND, word
        assert keyword.twilio_default
    assert parse("CANCEL").kind is STOP
    assert parse("YES").kind is START
    assert not parse("ARRET").twilio_default
    assert not parse("REPRISE").twilio_default


# Properties --------------------------------------------------------------------------

# Every Unicode character but lone surrogates (which an HTTP form cannot carry).
ANY_TEXT = st.text(st.characters(blacklist_categories=["Cs"]))
# Texts near keywords: a keyword with random surroundings and case.
NEAR_KEYWORDS = st.builds(
    lambda before, word, after, upper: before + (word.upper() if upper else word.lower())
    + after,
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=4),
    st.sampled_from(sorted(KEYWORDS)),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=4),
    st.booleans(),
)
TEXTS = ANY_TEXT | NEAR_KEYWORDS


@given(TEXTS)
@example("ǰ")
@example("ß")
@example("ﬅ")
@example("\u0345")
@example("İ")
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(TEXTS)
def test_normalised_text_has_no_accents_lowercase_or_surrounding_junk(text: str) -> None:
    once = normalise(text)
    assert not any(unicodedata.combining(ch) for ch in once)
    assert once == " ".join(once.split())
    if once:
        assert once[0].isalnum() and once[-1].isalnum()


@given(TEXTS)
def test_parse_never_raises_and_ignores_normalisation(text: str) -> None:
    keyword = parse(text)
    assert isinstance(keyword, Keyword)
    assert parse(normalise(text)) == keyword
    assert (keyword.lang is None) == (keyword.kind in (INFO, OTHER_KIND))


@settings(max_examples=20)
@given(st.sampled_from(sorted(KEYWORDS)), st.integers(min_value=1_000, max_value=50_000))
def test_very_long_texts(word: str, padding: int) -> None:
    # A long message is never a keyword unless all the rest is spaces and punctuation.
    assert parse(word + " x" * padding) == OTHER
    assert parse(" " * padding + word + "!" * padding) == KEYWORDS[word]
