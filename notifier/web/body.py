"""Reading a request body with a ceiling, so that no caller can make us buffer megabytes."""

from __future__ import annotations

from fastapi import Request

from notifier.web.errors import ApiError


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
