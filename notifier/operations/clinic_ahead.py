"""One clinic's schedule ahead: its messages due in the next 24 hours and 7 days.

The schedule's sorted sets are kept per channel, not per clinic, and their members (slots)
name the appointment, not its clinic. So the messages due within the week are read from
each channel's set (at most ``cap`` of them, soonest first), and their appointments'
locations in one pipeline. Past the cap the counts are minimums, and say so: a clinic's
operator reads an order of magnitude, and the page's cost stays bounded whatever the
schedule's size.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass
from typing import Any

from redis import Redis

from notifier.domain import Channel
from notifier.operations.times import require_aware
from notifier.settings import Settings
from notifier.store.keys import Keys

# Messages read at most, across channels: a few hundred milliseconds at worst.
CAP = 2_000
DAY = dt.timedelta(hours=24)
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class ClinicAhead:
    """A clinic's messages due soon (overdue ones included).

    Parameters:
      day: due within 24 hours.
      week: due within 7 days.
      capped: the week held more messages than were read: both are minimums.
    """

    day: int
    week: int
    capped: bool


def location_of(raw: bytes | str) -> str | None:
    """The location id of a stored appointment state, without validating the whole
    snapshot (a few microseconds instead of a model's validation): the packed form (zlib
    JSON, ``a`` the snapshot) or the JSON written before it (``appointment``)."""
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        if data[:1] == b"{":
            snapshot: Any = json.loads(data).get("appointment")
        else:
            snapshot = json.loads(zlib.decompress(data)).get("a")
        location = snapshot["location"]["id"]
    except (ValueError, zlib.error, TypeError, KeyError, AttributeError):
        return None
    return location if isinstance(location, str) else None


def clinic_ahead(
    redis: Redis, settings: Settings, now: dt.datetime, location: str, *, cap: int = CAP,
) -> ClinicAhead:
    """Count ``location``'s messages due within a day and a week of ``now``.

    Parameters:
      location: the clinic's location id.
      cap: the most messages read (soonest first, across channels).
    """
    keys = Keys(settings.queue_prefix)
    now = require_aware(now)
    until = (now + WEEK).timestamp()
    with redis.pipeline(transaction=False) as pipe:
        for channel in Channel:
            pipe.zrangebyscore(keys.schedule(channel), "-inf", f"({until}", start=0,
                               num=cap + 1, withscores=True)
        found: list[tuple[str, float]] = []
        for members in pipe.execute():
            found += [(m.decode() if isinstance(m, bytes) else m, float(s)) for m, s in members]
    found.sort(key=lambda pair: pair[1])
    capped = len(found) > cap
    found = found[:cap]
    references = sorted({slot.split(":", 1)[0] for slot, _ in found})
    with redis.pipeline(transaction=False) as pipe:
        for reference in references:
            pipe.get(keys.appointment(reference))
        states = pipe.execute()
    here = {reference for reference, raw in zip(references, states, strict=True)
            if raw is not None and location_of(raw) == location}
    day_end = (now + DAY).timestamp()
    ours = [score for slot, score in found if slot.split(":", 1)[0] in here]
    return ClinicAhead(day=sum(1 for score in ours if score < day_end), week=len(ours),
                       capped=capped)
