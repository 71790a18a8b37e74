"""The console's session: a signed cookie that names it, and who signed in, kept in Redis.

The cookie carries a random session id, the form token (CSRF), the chosen language and
when it expires, signed (:mod:`.signing`) under ``NOTIFIER_CONSOLE_SECRET_KEY``. It says
nothing about who signed in: that lives in Redis under the (hashed) session id, for the
session's lifetime, so signing out deletes it and the cookie is worth nothing from then
on, and an operator removed from the settings, or whose role, clinic or password
changed, is signed out at their next request. Browsers that have not signed in write
nothing to Redis.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping

from notifier.domain import Lang
from notifier.settings import Operator
from notifier.store.redis_store import RedisStore
from notifier.web.console.signing import Signer

COOKIE = "notifier_console"


@dataclasses.dataclass(frozen=True)
class Session:
    """One browser's session, as its cookie carries it.

    Parameters:
      sid: the random session id (the key of its sign-in in Redis).
      csrf: the token every POST form must carry.
      expires: when the session ends (aware UTC).
      lang: the language the operator chose; None to follow the browser.
    """

    sid: str
    csrf: str
    expires: dt.datetime
    lang: Lang | None = None

    @classmethod
    def fresh(cls, now: dt.datetime, lifetime: dt.timedelta, *,
              lang: Lang | None = None) -> Session:
        """A new session with a new id and form token (on sign-in and sign-out, too)."""
        return cls(sid=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(24),
                   expires=now + lifetime, lang=lang)

    def with_lang(self, lang: Lang) -> Session:
        return dataclasses.replace(self, lang=lang)


def stamp_of(operator: Operator) -> str:
    """A fingerprint of what the operator may do: a change of role, clinic or password in
    the settings ends their sessions."""
    facts = json.dumps([operator.role, operator.location, operator.password_hash])
    return hashlib.sha256(facts.encode()).hexdigest()[:24]


class SessionCodec:
    """Signs sessions into cookie values and reads them back.

    Parameters:
      key: the secret signing key.
    """

    def __init__(self, key: bytes) -> None:
        self._signer = Signer(key, purpose="console-session")

    def encode(self, session: Session) -> str:
        return self._signer.seal({
            "i": session.sid,
            "c": session.csrf,
            "e": int(session.expires.timestamp()),
            "l": str(session.lang) if session.lang else None,
        })

    def decode(self, value: str | None, now: dt.datetime) -> Session | None:
        """The session in ``value``, or None if it is absent, forged or expired."""
        data = self._signer.open(value)
        if data is None:
            return None
        try:
            expires = dt.datetime.fromtimestamp(int(data["e"]), dt.UTC)
            session = Session(sid=str(data["i"]), csrf=str(data["c"]), expires=expires,
                              lang=Lang(data["l"]) if data.get("l") else None)
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
        return session if now < session.expires else None


class SignIns(RedisStore):
    """Who signed in with which session, in Redis (shared by web processes; built as a
    :class:`~notifier.store.redis_store.RedisStore`)."""

    def key(self, session: Session) -> str:
        # Hashed: reading Redis gives no cookie that works.
        return self.keys.console_session(hashlib.sha256(session.sid.encode()).hexdigest())

    def record(self, session: Session, operator: Operator, now: dt.datetime) -> None:
        """``operator`` signed in with ``session``, until the session expires."""
        ttl = max(1, int((session.expires - now).total_seconds() * 1000))
        value = json.dumps({"operator": operator.name, "stamp": stamp_of(operator)})
        self.redis.set(self.key(session), value, px=ttl)

    def operator(self, session: Session, operators: Mapping[str, Operator]) -> Operator | None:
        """The operator signed in with ``session``; None when nobody is (any more): a
        session whose operator left the settings or changed is ended here."""
        raw = self.redis.get(self.key(session))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            operator = operators.get(str(data["operator"]))
            stamp = str(data["stamp"])
        except (ValueError, KeyError, TypeError):
            operator, stamp = None, ""
        if operator is None or not hmac.compare_digest(stamp, stamp_of(operator)):
            self.end(session)
            return None
        return operator

    def end(self, session: Session) -> None:
        self.redis.delete(self.key(session))
