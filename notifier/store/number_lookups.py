"""Numbers an operator looked up in the console, kept a few minutes under a random token.

The console never writes a looked-up number into a page or a URL: the change form carries
the token instead, and only the operator who looked the number up can redeem it.
"""

from __future__ import annotations

import json
import secrets

from notifier.store.redis_store import RedisStore

LOOKUP_SECONDS = 15 * 60


class NumberLookups(RedisStore):
    """Looked-up numbers, bound to their operator, in Redis (shared by web processes;
    built as a :class:`RedisStore`)."""

    def remember(self, number: str, operator: str) -> str:
        """Keep ``number`` for :data:`LOOKUP_SECONDS`; returns the token that redeems it."""
        token = secrets.token_urlsafe(18)
        self.redis.set(self.keys.console_lookup(token),
                       json.dumps({"n": number, "o": operator}), ex=LOOKUP_SECONDS)
        return token

    def recall(self, token: str, operator: str) -> str | None:
        """The number kept under ``token`` for ``operator``; None when it is unknown,
        expired or another operator's."""
        if not token or len(token) > 64:
            return None
        raw = self.redis.get(self.keys.console_lookup(token))
        if raw is None:
            return None
        data = json.loads(raw)
        return str(data["n"]) if data.get("o") == operator else None
