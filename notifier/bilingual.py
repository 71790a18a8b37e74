"""One text in both of the gateway's languages: every word table says things this way.

Operators and patients read French (Québec) or English (Canada). A table of words maps
its keys to :class:`Bilingual` values, always French first: ``Bilingual("Files",
"Queues")``; ``text[lang]`` reads one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from notifier.domain import Lang


@dataclass(frozen=True, slots=True)
class Bilingual:
    """A text in French and in English, in that order.

    Parameters:
      fr: the French (Québec) text.
      en: the English (Canada) text.
    """

    fr: str
    en: str

    def __getitem__(self, lang: Lang) -> str:
        """The text in ``lang``."""
        return self.fr if lang is Lang.FR else self.en

    def __iter__(self) -> Iterator[str]:
        """French, then English, as built: ``french, english = text``."""
        yield self.fr
        yield self.en


# The CLDR locale each language is written in, for numbers and dates.
LOCALES = Bilingual("fr_CA", "en_CA")
