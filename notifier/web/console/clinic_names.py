"""Clinics by name on the console's pages, read once per page from the directory intake
keeps (:mod:`notifier.store.clinics`); a location no event has named yet shows its id."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from redis import Redis

from notifier.settings import Settings
from notifier.store.clinics import Clinic, Clinics
from notifier.store.keys import Keys


class ClinicNames:
    """The clinics a page names.

    Parameters:
      clinics: the directory's clinics, by location id.
    """

    def __init__(self, clinics: Mapping[str, Clinic]) -> None:
        self.clinics = dict(clinics)

    @classmethod
    def read(cls, redis: Redis, settings: Settings) -> ClinicNames:
        """The whole directory (one ``HGETALL``: a deployment has tens of clinics)."""
        return cls(Clinics(redis, keys=Keys(settings.queue_prefix)).all())

    def name(self, location: str | None) -> str:
        """The clinic's name, or its id when the directory does not know it."""
        if not location:
            return ""
        clinic = self.clinics.get(location)
        return clinic.name if clinic else location

    def zone(self, location: str | None) -> ZoneInfo | None:
        """The clinic's zone, or None when unknown."""
        clinic = self.clinics.get(location or "")
        return clinic.zone if clinic else None

    def choices(self) -> list[tuple[str, str]]:
        """(id, name) of every clinic, by name, for a list to choose from."""
        return sorted(((c.id, c.name) for c in self.clinics.values()),
                      key=lambda pair: (pair[1].casefold(), pair[0]))
