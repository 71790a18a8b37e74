"""The contact-health registry: addresses that failed for good.

An address (a digest of it, per channel) that failed for good for a reason of
:data:`~notifier.public_status.UNDELIVERABLE` (landline, invalid number, bounced, invalid
address) is remembered for :data:`CONTACT_HEALTH_RETENTION`, per location and reason:
``contact.undeliverable`` is told once per location, address and reason, operators see
the location's list (masked addresses), and a later message to it, where the location has
a fallback, goes straight to the fallback. An event that replaces the address clears it
for that location. The failure's own script writes it (``delivery_failed``, run by
:class:`~notifier.store.fallbacks.Fallbacks`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from notifier.domain import Channel
from notifier.planning.fallback import UNDELIVERABLE_REASONS
from notifier.privacy import mask_address
from notifier.store.decoding import text
from notifier.store.redis_store import RedisStore

CONTACT_HEALTH_RETENTION = dt.timedelta(days=90)


def contact_digest(channel: Channel, address: str) -> str:
    """What names an address in the registry's keys: a digest, never the address."""
    return hashlib.sha256(f"contact-health:{channel}:{address.strip().lower()}"
                          .encode()).hexdigest()[:32]


@dataclass(frozen=True)
class UndeliverableContact:
    """One line of a location's undeliverable contacts, for operators.

    Parameters: channel, masked (the address, mostly hidden), reason (a public reason
    code), since (when it was found).
    """

    channel: str
    masked: str
    reason: str
    since: dt.datetime


class ContactHealth(RedisStore):
    """Reads a location's undeliverable contacts; stages their clearing."""

    def undeliverable(self, location: str, now: dt.datetime, *,
                      limit: int | None = None) -> list[UndeliverableContact]:
        """The location's undeliverable contacts found within the retention before
        ``now``, newest first (the newest ``limit`` only, when given)."""
        oldest = (now - CONTACT_HEALTH_RETENTION).timestamp()
        raw = self.redis.zrevrangebyscore(
            self.keys.undeliverable(location), "+inf", oldest, withscores=True,
            start=None if limit is None else 0, num=limit)
        found = []
        for member, score in cast(list[tuple[bytes, float]], raw):
            parts = text(member).split("|", 3)
            found.append(UndeliverableContact(parts[0], parts[3], parts[2],
                                              dt.datetime.fromtimestamp(float(score), dt.UTC)))
        return found

    def undeliverable_counts(self, locations: Iterable[str]) -> dict[str, int]:
        """How many undeliverable contacts each location has (one round trip)."""
        names = list(locations)
        with self.redis.pipeline(transaction=False) as pipe:
            for location in names:
                pipe.zcard(self.keys.undeliverable(location))
            return {name: int(n) for name, n in zip(names, pipe.execute(), strict=True)}

    def by_location(self, now: dt.datetime) -> dict[str, int]:
        """How many undeliverable contacts each clinic that has one has (two round trips:
        the index of such clinics, then their counts)."""
        oldest = (now - CONTACT_HEALTH_RETENTION).timestamp()
        names = sorted(text(name) for name in cast(list[bytes], self.redis.zrangebyscore(
            self.keys.undeliverable_locations, oldest, "+inf")))
        return {name: n for name, n in self.undeliverable_counts(names).items() if n}

    def stage_clear(self, pipe: Any, location: str,
                    changed: Iterable[tuple[Channel, str]]) -> None:
        """Queue, on a pipeline (or the intake's staged writes), forgetting that
        ``changed`` (channel, old address) pairs were undeliverable for ``location``: the
        booking system replaced them."""
        for channel, address in changed:
            digest = contact_digest(channel, address)
            reasons = UNDELIVERABLE_REASONS
            pipe.hdel(self.keys.contact_health(channel, digest),
                      *(f"{location}|{reason}" for reason in reasons))
            pipe.zrem(self.keys.undeliverable(location),
                      *(member(channel, digest, reason, address) for reason in reasons))


def member(channel: Channel, digest: str, reason: str, address: str) -> str:
    """A line of a location's undeliverable index."""
    return f"{channel}|{digest}|{reason}|{mask_address(address)}"
