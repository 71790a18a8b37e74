"""Console words for clinics and their times."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
}
