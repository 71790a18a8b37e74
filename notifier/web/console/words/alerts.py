"""Console words for alerts, outcome figures and exports."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
}
