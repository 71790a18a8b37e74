"""Redis replies as text: redis-py returns bytes unless the client decodes them, and the
gateway's clients may be built either way for text replies (a packed appointment state or
event answer is binary, and needs a client that does not decode)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def text(value: Any) -> str:
    """A reply as text: bytes decoded as UTF-8, anything else as ``str`` gives it."""
    return value.decode() if isinstance(value, bytes) else str(value)


def optional_text(value: Any) -> str | None:
    """:func:`text`, keeping None (a missing key or field) as None."""
    return None if value is None else text(value)


def text_list(raw: Iterable[Any]) -> list[str]:
    """A list or set reply as a list of text."""
    return [text(item) for item in raw]


def text_map(raw: Mapping[Any, Any]) -> dict[str, str]:
    """A hash reply (``HGETALL``, a stream entry's fields) as text keys and values."""
    return {text(k): text(v) for k, v in raw.items()}


def pairs_map(flat: Iterable[Any]) -> dict[str, str]:
    """A flat ``[field, value, field, value, ...]`` reply (a script's ``HGETALL``) as text."""
    items = text_list(flat)
    return dict(zip(items[::2], items[1::2], strict=True))
