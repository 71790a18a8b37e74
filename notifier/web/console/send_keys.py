"""A send key told as an operator reads it.

A key is ``reference:kind:channel[:offset][:route]:tail``, its tail the appointment
version (``v3``) or, for a reminder, the start it announces in UTC (``20270615T1330Z``).
People read what it is and when the appointment is, in the clinic's zone; the key as
stored stays beside it for searches in the logs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from notifier.planning.entries import Route, slot_parts
from notifier.web.console.i18n import Words

_START = re.compile(r"^(\d{8}T\d{4})Z$")
_VERSION = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class SendKey:
    """A send key's parts.

    Parameters:
      reference: the appointment's reference number.
      kind, channel: the message's kind and channel, as written in the key.
      offset_seconds: a reminder's lead time, when the key names one.
      route: a fallback's or a retry's route, when the key names one.
      version: the appointment version, for keys that end with one.
      start: the appointment start (aware UTC), for keys that end with one.
    """

    reference: str
    kind: str
    channel: str
    offset_seconds: int | None
    route: Route | None
    version: int | None
    start: dt.datetime | None


def parse_send_key(key: str) -> SendKey | None:
    """The key's parts, or None when it does not have a send key's shape."""
    parts = key.split(":")
    if len(parts) < 4:
        return None
    reference, kind, channel, *rest, tail = parts
    try:
        offset, route = slot_parts(rest)
    except ValueError:
        return None
    version = _VERSION.match(tail)
    start = _START.match(tail)
    if version is None and start is None:
        return None
    return SendKey(
        reference=reference, kind=kind, channel=channel, offset_seconds=offset, route=route,
        version=int(version[1]) if version else None,
        start=dt.datetime.strptime(start[1], "%Y%m%dT%H%M").replace(tzinfo=dt.UTC)
        if start else None,
    )


def lead_time(words: Words, seconds: int) -> str:
    """How long before the start a reminder is due (``24 h avant``)."""
    if seconds and seconds % 86_400 == 0:
        return words("places.key.before.days", count=words.number(seconds // 86_400))
    if seconds % 3_600 == 0:
        return words("places.key.before.hours", count=words.number(seconds // 3_600))
    return words("places.key.before.minutes", count=words.number(seconds // 60))


def send_key_text(key: str, words: Words, *, zone: ZoneInfo | None) -> str:
    """The key for people: kind · channel · lead time or route · version or start.

    Parameters:
      key: the send key as stored.
      words: the operator's words (and the console's zone).
      zone: the appointment's clinic's zone (None: unknown, the console's is used).
    """
    found = parse_send_key(key)
    if found is None:
        return key
    parts = [words.maybe("kind", found.kind), words.maybe("channel", found.channel)]
    if found.offset_seconds is not None:
        parts.append(lead_time(words, found.offset_seconds))
    if found.route is not None:
        parts.append(words(f"places.key.route.{found.route}"))
    if found.version is not None:
        parts.append(words("places.key.version", version=found.version))
    if found.start is not None:
        parts.append(words("places.key.start", when=words.where(found.start, zone)))
    return " · ".join(parts)
