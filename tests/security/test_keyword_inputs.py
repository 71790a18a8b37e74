"""Whatever a stranger texts, the keyword parser and the automatic replies hold: a keyword
is only ever the whole message, the answer is always one of the fixed replies (never the
text sent back), and the parser stays fast on the largest body a webhook accepts."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.inbound.keywords import KEYWORDS, OTHER, KeywordKind, normalise, parse
from notifier.inbound.replies import render_reply
from notifier.settings import Settings
from notifier.web.twilio_signature import MAX_WEBHOOK_BYTES

SETTINGS = Settings()
FIXED_REPLIES = {render_reply(keyword, SETTINGS) for keyword in [*KEYWORDS.values(), OTHER]}
WORDS = st.sampled_from(sorted(KEYWORDS))
LETTERS = st.text(st.characters(categories=["Lu", "Ll", "Nd"]), min_size=1, max_size=12)
ANY_TEXT = st.text(max_size=400)


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
def test_the_reply_is_always_one_of_the_fixed_texts(text: str) -> None:
    assert render_reply(parse(text), SETTINGS) in FIXED_REPLIES


@settings(max_examples=300, deadline=None)
@given(word=WORDS, other=LETTERS, before=st.booleans())
def test_a_keyword_inside_a_sentence_is_not_a_keyword(
    word: str, other: str, before: bool
) -> None:
    text = f"{other} {word}" if before else f"{word} {other}"
    if normalise(text) in KEYWORDS:  # "OPT" + "OUT" is itself a keyword
        return

    assert parse(text).kind is KeywordKind.OTHER


@settings(max_examples=200, deadline=None)
@given(word=WORDS, junk=st.text(st.characters(categories=["P", "S", "Z"]), max_size=20))
def test_punctuation_and_spaces_around_a_keyword_do_not_change_it(word: str, junk: str) -> None:
    assert parse(f"{junk}{word.lower()}{junk}") == KEYWORDS[word]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.sampled_from(["🙏", "\u0301", "«\u00a0", "ǰ", "ﬅ", " ", "!", "é"]),
       word=WORDS)
def test_the_largest_webhook_body_is_parsed_quickly(unit: str, word: str) -> None:
    padding = unit * (MAX_WEBHOOK_BYTES // len(unit.encode()) // 2)
    started = time.perf_counter()

    parse(padding + word + padding)
    parse(padding)

    assert time.perf_counter() - started < 1.0
