"""The clinics the gateway has heard of: each location's name and time zone, as the latest
event about it gave them. Events carry their location whole, so the directory is kept by
intake, in the same step as the event it comes with; operators read it to name clinics
and to show an appointment's times in its own zone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from notifier.domain import Location
from notifier.store.decoding import text, text_map
from notifier.store.redis_store import RedisStore


@dataclass(frozen=True)
class Clinic:
    """One location as operators see it.

    Parameters:
      id: the location id.
      name: its name, as patients read it.
      time_zone: its IANA time zone name.
    """

    id: str
    name: str
    time_zone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def packed(self) -> str:
        return json.dumps({"name": self.name, "time_zone": self.time_zone},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def unpacked(cls, location: str, raw: str) -> Clinic:
        data = json.loads(raw)
        return cls(location, str(data["name"]), str(data["time_zone"]))

    @classmethod
    def of(cls, location: Location) -> Clinic:
        return cls(location.id, location.name, location.time_zone)


class Clinics(RedisStore):
    """Reads and stages writes of the clinics' directory (built as a :class:`RedisStore`)."""

    def stage_seen(self, writes: Any, location: Location) -> None:
        """Queue on ``writes`` (a pipeline or :class:`~.staged_writes.StagedWrites`) the
        location's name and zone as this event gives them."""
        writes.hset(self.keys.clinics, location.id, Clinic.of(location).packed())

    def all(self) -> dict[str, Clinic]:
        """Every clinic heard of, by location id."""
        raw = text_map(self.redis.hgetall(self.keys.clinics))
        return {location: Clinic.unpacked(location, packed) for location, packed in raw.items()}

    def get(self, location: str) -> Clinic | None:
        """One clinic, or None when no event named it."""
        raw = self.redis.hget(self.keys.clinics, location)
        if raw is None:
            return None
        return Clinic.unpacked(location, text(raw))
