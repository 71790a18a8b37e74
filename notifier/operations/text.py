"""Redis answers as text: redis-py returns bytes unless the client decodes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def text_map(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {text(k): text(v) for k, v in raw.items()}


def iso(value: dt.datetime | None) -> str | None:
    """An aware time as ISO 8601 in UTC, for JSON."""
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def require_aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(dt.UTC)
