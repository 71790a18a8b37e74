"""SMS encoding (GSM 03.38) and segment counting, and the clean-up every SMS gets.

One character outside the GSM-7 alphabet turns the whole message into UCS-2, which
fits 70 characters in a single SMS instead of 160 (67 instead of 153 per part of a long
message). Carriers bill, and providers rate-limit, by segment: the count matters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from anyascii import anyascii

# GSM 03.38 default alphabet (the escape code 0x1B is left out: it is not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape septet plus its own, so it counts two.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SmsEncoding:
    """How an SMS body travels.

    Parameters:
      encoding: "GSM-7" when every character is in the GSM 03.38 alphabet, else "UCS-2".
      characters: the length in that encoding's units: septets for GSM-7 (extension
        characters count two), UTF-16 code units for UCS-2 (an emoji counts two).
      segments: how many SMS the carrier sends and bills (at least 1).
    """

    encoding: Encoding
    characters: int
    segments: int

    def describe(self) -> str:
        """A short, language-neutral line such as ``GSM-7 142/160, 1 segment(s)``."""
        single = GSM7_SINGLE if self.encoding == "GSM-7" else UCS2_SINGLE
        return f"{self.encoding} {self.characters}/{single}, {self.segments} segment(s)"


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can be sent in the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    # A character beyond the Basic Multilingual Plane is a surrogate pair in UTF-16.
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _parts(costs: list[int], per_part: int) -> int:
    # An escape pair or a surrogate pair is never split between two parts, so a long
    # message can need one more part than a plain division says.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def sms_encoding(text: str) -> SmsEncoding:
    """Encoding, length and segment count of an SMS body, as the carrier counts them."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    costs = _unit_costs(text, encoding)
    characters = sum(costs)
    single, per_part = (
        (GSM7_SINGLE, GSM7_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    )
    segments = 1 if characters <= single else _parts(costs, per_part)
    return SmsEncoding(encoding=encoding, characters=characters, segments=segments)


# Typography that word processors, babel and template authors produce, mapped to what
# GSM-7 has. Accented letters are left alone here: only a message over the segment budget
# has them replaced (see gsm7_lookalikes).
_REPLACEMENTS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
        "\u2026": "...",
        "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
    }
)
# French guillemets take the (often non-breaking) space inside them along.
_GUILLEMET_OPEN = re.compile(r"[«‹]\s*")
_GUILLEMET_CLOSE = re.compile(r"\s*[»›]")
_SPACES = re.compile(" {2,}")


def normalise_sms(text: str) -> str:
    """Make a rendered SMS body GSM-7 friendly without changing its words.

    Odd spaces (U+00A0 from babel's ``fr_CA``, U+202F from ``en_CA``, thin spaces...)
    become plain spaces; typographic quotes, dashes and the ellipsis become their ASCII
    forms; all runs of whitespace, line breaks included, become one space; a letter
    written with a separate accent mark becomes the one character it stands for (NFC), so
    a decomposed "é" stays in GSM-7. Idempotent.
    """
    text = unicodedata.normalize("NFC", text).translate(_REPLACEMENTS)
    text = _GUILLEMET_OPEN.sub('"', text)
    text = _GUILLEMET_CLOSE.sub('"', text)
    # str.split() without arguments splits on every Unicode space, U+00A0 and U+202F too.
    return " ".join(text.split())


def gsm7_lookalikes(text: str) -> str:
    """``text`` with every character GSM-7 lacks replaced by its closest GSM-7 letters,
    as carriers' "smart encoding" does, but for letters too: ê → e, ô → o, ç → c,
    œ → oe, « → <<. Characters GSM-7 has (é, è, à, Ç...) are kept as they are.

    The result is always GSM-7: the transliteration is ASCII, whose backquote becomes an
    apostrophe and whose control characters (never in a rendered SMS) are left out.
    """
    replaced = "".join(_lookalike(ch) for ch in unicodedata.normalize("NFC", text))
    # A character with no Latin reading (a filler, a stray mark) leaves nothing behind:
    # no double space where it stood.
    return _SPACES.sub(" ", replaced).strip()


def _lookalike(ch: str) -> str:
    if is_gsm7(ch):
        return ch
    return "".join(c for c in anyascii(ch).replace("`", "'") if is_gsm7(c))
