"""Times in operators' reports: aware, in UTC."""

from __future__ import annotations

import datetime as dt


def iso(value: dt.datetime | None) -> str | None:
    """An aware time as ISO 8601 in UTC, for JSON."""
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def require_aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(dt.UTC)
