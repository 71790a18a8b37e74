"""Signed cookie values: JSON, then an HMAC-SHA256 of it under the console's secret key.

Signed, not encrypted: a value holds nothing secret, only nothing a browser may change.
Each kind of value signs under its own purpose, so one cannot pass for another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


class Signer:
    """Seals small JSON objects into cookie values and opens them back.

    Parameters:
      key: the secret signing key.
      purpose: what the values are for (part of what is signed).
    """

    def __init__(self, key: bytes, *, purpose: str) -> None:
        self._key = key
        self._purpose = purpose.encode() + b":"

    def seal(self, data: dict[str, Any]) -> str:
        payload = json.dumps(data, separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        return f"{body.decode()}.{self._sign(body)}"

    def open(self, value: str | None) -> dict[str, Any] | None:
        """The object sealed in ``value``; None when it is absent or was altered."""
        if not value or "." not in value:
            return None
        body, _, signature = value.rpartition(".")
        if not body.isascii() or not hmac.compare_digest(
            signature.encode(), self._sign(body.encode()).encode()
        ):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error):
            return None
        return data if isinstance(data, dict) else None

    def _sign(self, body: bytes) -> str:
        digest = hmac.new(self._key, self._purpose + body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
