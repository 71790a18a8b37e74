"""How a patient's text is compared with the words the gateway knows (keywords, answers
to a question): capitals without accents, without what surrounds the words. Pure."""

from __future__ import annotations

import unicodedata


def _plain(text: str) -> str:
    # Compatibility decomposition turns full-width and styled letters into plain ones and
    # splits accents off; upper-casing can bring accents back ("ǰ" -> "J" + caron), so
    # decompose once more before dropping them.
    text = unicodedata.normalize("NFKD", text).casefold().upper()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


_EMOJI_PRESENTATION = "\ufe0f"


def _is_junk(text: str, at: int) -> bool:
    # Punctuation, quotes, symbols and emoji (with their skin tones and joiners), spaces
    # and control characters are all "not a letter or a digit". A few emoji are letters
    # to Unicode ("ℹ️" is a small i): the emoji-presentation selector after them gives
    # them away (not after a plain ASCII letter, which would then be lost).
    ch = text[at]
    return not ch.isalnum() or (
        not ch.isascii() and text[at + 1:at + 2] == _EMOJI_PRESENTATION
    )


def _strip_surroundings(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_junk(text, start):
        start += 1
    while end > start and _is_junk(text, end - 1):
        end -= 1
    return text[start:end]


def normalise(text: str) -> str:
    """The message as keywords are compared: capitals without accents (full-width and
    other compatibility forms made plain), without the spaces, punctuation, quotes and
    emoji around it, inner runs of spaces made one. Idempotent.

    ``normalise(" « Arrêt » 🙏\\n") == "ARRET"``; ``normalise("opt   out!") == "OPT OUT"``.
    """
    # Emoji are recognised in the text as sent; decomposition can leave new junk at the
    # ends (a spacing accent becomes a space and a combining one), hence the second strip.
    plain = _strip_surroundings(_plain(_strip_surroundings(text)))
    return " ".join(plain.split())
