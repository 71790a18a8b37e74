"""Browsers an operator signed in from before, so that guessing at a name cannot make
its operator wait.

After a successful sign-in the browser keeps a signed cookie naming the operator, for
:data:`KNOWN_FOR`. Attempts at that name from that browser are then counted for the
browser alone (:mod:`.throttle`): a stranger's failures at the name do not hold its own
operator back, and that browser's own failures still slow it down.
"""

from __future__ import annotations

import datetime as dt
import secrets

from notifier.web.console.signing import Signer

KNOWN_COOKIE = "notifier_console_known"
KNOWN_FOR = dt.timedelta(days=90)


class KnownBrowsers:
    """Makes and reads the known-browser cookie.

    Parameters:
      key: the secret signing key.
    """

    def __init__(self, key: bytes) -> None:
        self._signer = Signer(key, purpose="console-known-browser")

    def mark(self, name: str, now: dt.datetime) -> str:
        """The cookie value for a browser where ``name`` just signed in."""
        return self._signer.seal({
            "n": name.lower(),
            "b": secrets.token_urlsafe(16),
            "e": int((now + KNOWN_FOR).timestamp()),
        })

    def browser_of(self, value: str | None, name: str, now: dt.datetime) -> str | None:
        """This browser's id when ``value`` marks it as known for ``name``; else None."""
        data = self._signer.open(value)
        try:
            if (data is None or data["n"] != name.lower()
                    or now.timestamp() >= int(data["e"])):
                return None
            return str(data["b"])
        except (KeyError, TypeError, ValueError):
            return None
