"""Cursors into the callback log, as the feed and the message list hand them out.

A cursor is the id of the last log entry a page read (``<ms>-<n>``, ``ms`` the time it was
logged), whether or not that entry was the reader's to see: the next page starts after it,
so nothing is read twice. The log keeps entries for ``NOTIFIER_CALLBACK_RETENTION``; a
cursor older than that may have missed entries since dropped, and is refused (410) rather
than answered with a silent gap.
"""

from __future__ import annotations

import datetime as dt
import re

from notifier.errors import ApiError

_CURSOR = re.compile(r"^(\d{1,15})-(\d{1,6})$")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def malformed_cursor() -> ApiError:
    return ApiError(400, "malformed_cursor",
                    "the cursor is not one the gateway gave: pass the 'next' of the previous "
                    "page as it is, or leave it out to start from the oldest entry kept")


def cursor_gone(retention: dt.timedelta) -> ApiError:
    days = retention / dt.timedelta(days=1)
    kept = f"{days:g} days" if days >= 1 else f"{retention.total_seconds():g} seconds"
    return ApiError(410, "cursor_expired",
                    f"this cursor is older than the {kept} the gateway keeps, so changes may "
                    "have been missed: start again without a cursor, and catch up on the "
                    "messages you track with GET /v1/messages/{message_id} or "
                    "GET /v1/appointments/{reference}/messages")


def _position(cursor: str) -> tuple[int, int]:
    match = _CURSOR.match(cursor)
    if match is None:
        raise malformed_cursor()
    return int(match[1]), int(match[2])


def checked_cursor(cursor: str | None, *, now: dt.datetime, retention: dt.timedelta,
                   first_kept: str | None) -> str | None:
    """``cursor`` once checked: well formed (else 400) and still within the log (else 410).

    Parameters:
      cursor: what the client sent; None to start from the oldest entry kept.
      now: the current time.
      retention: how long the log keeps an entry.
      first_kept: the id of the oldest entry the log keeps (None when it is empty): a
        cursor before it was trimmed away, whatever the clock says.
    """
    if cursor is None:
        return None
    position = _position(cursor)
    oldest_ms = int((now - retention).timestamp() * 1000)
    if position[0] < oldest_ms or (first_kept is not None
                                   and position < _position(first_kept)):
        raise cursor_gone(retention)
    return cursor
