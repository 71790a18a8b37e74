"""Console words for the frame, charts, refreshing pages and forms."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
}
