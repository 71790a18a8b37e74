"""The list of messages operators filter, page through, search and export: the message
index (:mod:`notifier.store.message_index`) read in the public vocabulary (statuses and
reasons of :mod:`notifier.public_status`), and an address typed by an operator put in the
form the index knows it by.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import phonenumbers

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.planning.reasons import Reason
from notifier.public_status import PublicStatus, public_reason
from notifier.store.message_index import Cursor, IndexedMessage, MessageIndex

CHANNELS = tuple(str(channel) for channel in Channel)
STATUSES = tuple(str(status) for status in PublicStatus)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def reason_of(row: IndexedMessage) -> str | None:
    """The public reason of an indexed message: why it failed, was suppressed or was
    withdrawn; None otherwise."""
    if row.status == PublicStatus.WITHDRAWN:
        return Reason.WITHDRAWN
    if row.status not in (PublicStatus.FAILED, PublicStatus.SUPPRESSED):
        return None
    try:
        status = DeliveryStatus(row.record.get("status", ""))
        channel = Channel(row.channel)
    except ValueError:
        return None
    return public_reason(status, reason=row.record.get("reason"),
                         error_code=row.record.get("error_code"), channel=channel)


def normal_address(typed: str) -> str | None:
    """An address an operator typed, as messages are planned to it: a phone number in
    E.164 (read as Canadian when it has no country code; spaces, dashes and brackets
    allowed), an email address trimmed and in lower case; None when it is neither."""
    typed = typed.strip()
    if "@" in typed:
        return typed.lower() if _EMAIL.fullmatch(typed) else None
    try:
        number = phonenumbers.parse(typed, "CA")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class MessageQuery:
    """Which messages an operator asks for.

    Parameters:
      locations: the clinics (already narrowed to those the operator sees).
      statuses, channels, kinds, reasons: the codes kept (every one when empty).
      since, until: the period (``until`` excluded), or None for no bound.
    """

    locations: tuple[str, ...]
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def keep(self) -> Callable[[IndexedMessage], bool] | None:
        """The reason filter as a predicate on rows, None without one."""
        if not self.reasons:
            return None
        wanted: Collection[str] = frozenset(self.reasons)
        return lambda row: reason_of(row) in wanted


def list_page(index: MessageIndex, query: MessageQuery, *, cursor: Cursor | None,
              size: int) -> tuple[list[IndexedMessage], Cursor | None]:
    """One page of ``query``'s messages, newest first, and the next page's cursor.

    Parameters:
      index: the message index.
      query: the filters.
      cursor: where the previous page stopped (None: the first page).
      size: the most rows.
    """
    statuses = query.statuses or STATUSES
    if query.reasons:
        # Only these statuses carry a reason.
        statuses = tuple(s for s in statuses if s in ("failed", "suppressed", "withdrawn"))
    return index.page(locations=query.locations, statuses=statuses,
                      channels=query.channels or CHANNELS, kinds=query.kinds,
                      since=query.since, until=query.until, cursor=cursor, size=size,
                      keep=query.keep())
