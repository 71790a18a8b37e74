"""Standard Webhooks signatures: how a receiver knows a callback is ours and unchanged.

A delivery carries ``webhook-id`` (the event id, the same on every attempt),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``: ``v1,`` and
the base64 HMAC-SHA256 of ``<id>.<timestamp>.<body>``, keyed with the secret's bytes (the
base64 after ``whsec_``). While an endpoint's secret is being replaced, both secrets sign
and the header lists both signatures, separated by a space: a receiver holding either one
accepts the callback. Pure: no clock (the caller gives the timestamp).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random
from collections.abc import Sequence

from notifier.errors import BadSecret

PREFIX = "whsec_"
# Standard Webhooks asks for keys of 24 to 64 bytes; ours are 32.
KEY_BYTES = 32
_MIN_KEY_BYTES, _MAX_KEY_BYTES = 24, 64


def new_secret() -> str:
    """A new random signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(random.token_bytes(KEY_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The key bytes of ``secret`` (a ``whsec_`` secret); :class:`BadSecret` if it is not
    one."""
    if not secret.startswith(PREFIX):
        raise BadSecret("a signing secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret("a signing secret is whsec_ followed by base64") from None
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise BadSecret(f"a signing secret holds {_MIN_KEY_BYTES} to {_MAX_KEY_BYTES} bytes")
    return key


def signature_header(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes,
) -> str:
    """The ``webhook-signature`` value: ``v1,<signature>`` for each secret, space-separated.

    Parameters:
      secrets: the endpoint's secrets, newest first (one, or two during a rotation).
      msg_id: the ``webhook-id`` sent with it (the event id).
      timestamp: the ``webhook-timestamp`` sent with it, in Unix seconds.
      body: the body exactly as posted.
    """
    if not secrets:
        raise BadSecret("an endpoint needs a signing secret")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(
            hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
        ).decode("ascii")
        for secret in secrets
    )


def webhook_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes,
) -> dict[str, str]:
    """The headers of one delivery of ``body``: the three Standard Webhooks headers and its
    content type. Parameters as for :func:`signature_header`."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
    }
