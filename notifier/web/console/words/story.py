"""Console words for an appointment's story, what the patient received, usage, and dead letters."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
}
