"""Reading a request body with a ceiling, so that no caller can make us buffer megabytes,
and finding the keys a JSON body sends twice."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from notifier.errors import ApiError


def payload_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the body is larger than {limit // 1024} KiB; send one event per request",
    )


async def read_body(request: Request, *, limit: int) -> bytes:
    """The whole body, or a 413 :class:`ApiError` as soon as it is known to exceed ``limit``.

    Parameters:
      request: the incoming request.
      limit: the largest accepted body, in bytes.
    """
    too_large = payload_too_large(limit)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


JsonPath = tuple[str | int, ...]


class _Object(dict[str, Any]):
    """A JSON object that remembers the names it was sent more than once."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object()
    found.repeated = []
    for name, value in pairs:
        if name in found and name not in found.repeated:
            found.repeated.append(name)
        found[name] = value
    return found


def _walk(node: Any, path: JsonPath, found: list[JsonPath]) -> None:
    if isinstance(node, _Object):
        found.extend((*path, name) for name in node.repeated)
        for name, value in node.items():
            _walk(value, (*path, name), found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk(value, (*path, index), found)


def repeated_keys(raw: bytes) -> list[JsonPath]:
    """The path of every key that one object of ``raw`` holds twice (JSON allows it, and
    parsers disagree on which value wins). Empty when ``raw`` is not JSON: the contract's
    own parser says why."""
    found: list[JsonPath] = []
    try:
        _walk(json.loads(raw, object_pairs_hook=_object), (), found)
    except (ValueError, RecursionError):
        return []
    return found
