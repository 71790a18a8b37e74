"""What free text the event contract accepts, by the role the text plays.

Names and clinic details reach patients verbatim, in the clinic's name: in SMS, calls,
emails and email headers. So:

- every text refuses control characters (tab and line breaks too, but in a paragraph),
  line and paragraph separators, non-characters and format characters (Unicode Cf: the
  bidirectional overrides U+202E, U+2066 ... that make text read backwards, zero-width
  characters);
- a person's name is letters and combining marks, spaces, hyphens, apostrophes (' and ’)
  and periods, with at least one letter: Marie-Ève, O’Neil, St-Jean, Dre Côté, J.-P. Roy;
- a name, a clinic's name or an address holds nothing shaped like a web address or an
  email address: no ``scheme://``, no ``www.``, no word.word as in a domain name
  (``exemple.com``; a period followed by a space, as in ``Dre. Côté``, is fine), no
  ``@`` between two characters.

Each check raises ValueError with what to change; none repeats the text.
"""

from __future__ import annotations

import re
import unicodedata

PERSON_NAME_MAX = 50

_NAME_PUNCTUATION = frozenset(" -'’.")
_LINE_BREAKS = "\r\n"
# A URL's scheme, a www. host, a domain name (labels, a dot, a top-level domain of two
# letters or more, or an IDN one), or an email address.
_WEB_OR_EMAIL = re.compile(
    r"[a-z][a-z0-9+.-]*://"
    r"|\bwww\."
    r"|[\w-]\.(?:[^\W\d_]{2,63}|xn--[a-z0-9-]+)\b"
    r"|\S@\S",
    re.IGNORECASE,
)


def _is_noncharacter(character: str) -> bool:
    code = ord(character)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _refuse_invisible(value: str, *, allowed: str) -> None:
    for character in value:
        if character in allowed:
            continue
        category = unicodedata.category(character)
        if category in ("Cc", "Cs", "Zl", "Zp") or (
            category == "Cn" and _is_noncharacter(character)
        ):
            raise ValueError("must not contain control characters or line breaks")
        if category == "Cf":
            raise ValueError(
                "must not contain invisible formatting characters (such as the "
                "right-to-left override U+202E): remove them"
            )


def paragraph(value: str) -> str:
    """Several lines of text: line breaks and tabs allowed, no other control or format
    character."""
    _refuse_invisible(value, allowed=_LINE_BREAKS + "\t")
    return value


def single_line(value: str) -> str:
    """One line of text (it may reach an email header): no control or format character,
    no line break."""
    _refuse_invisible(value, allowed="")
    return value


def _refuse_web_or_email(value: str) -> str:
    if _WEB_OR_EMAIL.search(value):
        raise ValueError(
            "must not contain a web address or an email address (a period between two "
            "words reads as one: put a space after it)"
        )
    return value


def clinic_text(value: str) -> str:
    """A clinic's name or a part of its address: one line, nothing shaped like a web or
    email address."""
    return _refuse_web_or_email(single_line(value))


def person_name(value: str) -> str:
    """A person's name: letters and combining marks, spaces, hyphens, apostrophes and
    periods, with at least one letter, at most :data:`PERSON_NAME_MAX` characters, and
    nothing shaped like a web address."""
    if len(value) > PERSON_NAME_MAX:
        raise ValueError(f"must be at most {PERSON_NAME_MAX} characters long")
    single_line(value)
    if any(
        character not in _NAME_PUNCTUATION and unicodedata.category(character)[0] not in "LM"
        for character in value
    ):
        raise ValueError(
            "may only hold letters, spaces, hyphens, apostrophes and periods, as in "
            "Marie-Ève O’Neil"
        )
    if not any(unicodedata.category(character)[0] == "L" for character in value):
        raise ValueError("must contain at least one letter")
    return _refuse_web_or_email(value)
