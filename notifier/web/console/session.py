"""The console's session: a small signed cookie, so the web process keeps no session state.

The cookie carries who signed in, the form token (CSRF), the chosen language and when it
expires, as JSON, followed by an HMAC-SHA256 of it under ``NOTIFIER_CONSOLE_SECRET_KEY``.
It is signed, not encrypted: it holds nothing secret (the form token only has to be
unknown to other sites, which cannot read the cookie).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets

from notifier.domain import Lang

COOKIE = "notifier_console"


@dataclasses.dataclass(frozen=True)
class Session:
    """One browser's session.

    Parameters:
      csrf: the token every POST form must carry.
      expires: when the session ends (aware UTC).
      operator: the signed-in operator's name; None before sign-in.
      lang: the language the operator chose; None to follow the browser.
      stamp: a fingerprint of the operator's password hash: changing the password in the
        settings ends their sessions.
    """

    csrf: str
    expires: dt.datetime
    operator: str | None = None
    lang: Lang | None = None
    stamp: str = ""

    @classmethod
    def fresh(cls, now: dt.datetime, lifetime: dt.timedelta, *, lang: Lang | None = None,
              operator: str | None = None, stamp: str = "") -> Session:
        """A new session with a new form token (on sign-in, too: the token changes)."""
        return cls(csrf=secrets.token_urlsafe(24), expires=now + lifetime,
                   operator=operator, lang=lang, stamp=stamp)

    def with_lang(self, lang: Lang) -> Session:
        return dataclasses.replace(self, lang=lang)


def stamp_of(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class SessionCodec:
    """Signs sessions into cookie values and reads them back.

    Parameters:
      key: the secret signing key.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def encode(self, session: Session) -> str:
        payload = json.dumps(
            {
                "c": session.csrf,
                "e": int(session.expires.timestamp()),
                "o": session.operator,
                "l": str(session.lang) if session.lang else None,
                "s": session.stamp,
            },
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        return f"{body.decode()}.{self._sign(body)}"

    def decode(self, value: str | None, now: dt.datetime) -> Session | None:
        """The session in ``value``, or None if it is absent, forged or expired."""
        if not value or "." not in value:
            return None
        body, _, signature = value.rpartition(".")
        if not body.isascii() or not hmac.compare_digest(
            signature.encode(), self._sign(body.encode()).encode()
        ):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            expires = dt.datetime.fromtimestamp(int(data["e"]), dt.UTC)
            session = Session(csrf=str(data["c"]), expires=expires, operator=data.get("o"),
                              lang=Lang(data["l"]) if data.get("l") else None,
                              stamp=str(data.get("s") or ""))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        return session if now < session.expires else None

    def _sign(self, body: bytes) -> str:
        digest = hmac.new(self._key, b"console-session:" + body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
