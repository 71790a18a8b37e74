"""Growing delays between sign-in attempts, per name and per client address.

Nobody is locked out: after a few failures in a row, the next attempt must wait a
moment that doubles with each further failure, up to a short cap; a correct password is
accepted as soon as that moment has passed. Each attempt is counted (as if it failed)
*before* its password is checked, atomically in Redis, so a burst of parallel guesses
cannot all be checked while the count still reads zero: past the free attempts, one
attempt per delay gets through, the others are answered "try again in N s" unchecked.

The client address is the one uvicorn gives the request (``request.client.host``):
behind a reverse proxy, ``NOTIFIER_WEB_TRUSTED_PROXIES`` must name the proxy so that it
is the real client's. IPv6 addresses count per /64, the block one subscriber holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
from collections.abc import Sequence
from typing import Any

from notifier.store.redis_store import RedisStore

# Failures are forgotten this long after the last attempt.
MEMORY = dt.timedelta(minutes=15)


@dataclasses.dataclass(frozen=True)
class Backoff:
    """How long attempts wait after failures in a row.

    Parameters:
      free: failures allowed before any wait.
      first: the wait after the first failure past ``free``; it doubles with each further.
      cap: the longest wait.
    """

    free: int
    first: dt.timedelta = dt.timedelta(milliseconds=250)
    cap: dt.timedelta = dt.timedelta(seconds=10)

    def after(self, failures: int) -> dt.timedelta:
        """The wait before the next attempt, once ``failures`` attempts failed in a row."""
        extra = failures - self.free
        if extra < 0:
            return dt.timedelta(0)
        return min(self.cap, self.first * (1 << min(extra, 32)))


# One person mistyping gets 3 free tries; an office behind one address, 10.
PER_NAME = Backoff(free=3)
PER_ADDRESS = Backoff(free=10)


@dataclasses.dataclass(frozen=True)
class Tally:
    """The recent attempts of one name or one address.

    Parameters:
      failures: attempts counted since the last success (or since they were forgotten).
      not_before: no attempt is checked before this time (aware UTC); None when free.
    """

    failures: int = 0
    not_before: dt.datetime | None = None


def admit(tallies: Sequence[tuple[Tally, Backoff]], now: dt.datetime
          ) -> tuple[dt.timedelta, tuple[Tally, ...]]:
    """Whether an attempt at ``now`` may be checked.

    Returns the wait (zero: go ahead) and the tallies to store: unchanged when it must
    wait, otherwise each counting this attempt as failed and holding the next one back.
    """
    wait = max((tally.not_before - now for tally, _ in tallies
                if tally.not_before is not None), default=dt.timedelta(0))
    if wait > dt.timedelta(0):
        return wait, tuple(tally for tally, _ in tallies)
    counted = []
    for tally, backoff in tallies:
        failures = tally.failures + 1
        counted.append(Tally(failures, now + backoff.after(failures)))
    return dt.timedelta(0), tuple(counted)


def address_group(address: str) -> str:
    """The address attempts are counted under: an IPv6 address's /64, else itself."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SignInThrottle(RedisStore):
    """The tallies of names and client addresses, in Redis (shared by web processes; built
    as a :class:`~notifier.store.redis_store.RedisStore`)."""

    def _tag(self, kind: str, value: str) -> str:
        # Hashed: the keys should not list who tried which names from where.
        return self.keys.sign_in_attempts(kind, hashlib.sha256(value.encode()).hexdigest()[:24])

    def _keys(self, name: str, address: str, known: str | None) -> list[tuple[str, Backoff]]:
        # A browser known for the name counts its attempts apart (see .known_browsers).
        first = self._tag("browser", known) if known else self._tag("name", name.lower())
        return [(first, PER_NAME), (self._tag("address", address_group(address)), PER_ADDRESS)]

    def claim(self, name: str, address: str, now: dt.datetime, *,
              known: str | None = None) -> dt.timedelta:
        """Count an attempt before its password is checked; the wait when it must not be
        checked yet (zero: check it).

        Parameters:
          known: the id of a browser where this name signed in before, if it is one.
        """
        keys = self._keys(name, address, known)
        found: list[dt.timedelta] = []

        def attempt(pipe: Any) -> None:
            tallies = [(_read(pipe.hmget(key, "failures", "not_before")), backoff)
                       for key, backoff in keys]
            wait, counted = admit(tallies, now)
            found[:] = [wait]
            if wait:
                return
            pipe.multi()
            for (key, _), tally in zip(keys, counted, strict=True):
                assert tally.not_before is not None
                pipe.hset(key, mapping={
                    "failures": tally.failures,
                    "not_before": int(tally.not_before.timestamp() * 1000),
                })
                pipe.pexpire(key, int((tally.not_before - now + MEMORY).total_seconds() * 1000))

        self.redis.transaction(attempt, *(key for key, _ in keys))
        return found[0]

    def succeeded(self, name: str, address: str, *, known: str | None = None) -> None:
        """The name (or known browser) starts afresh; the address no longer counts this
        attempt as failed."""
        (name_key, _), (address_key, _) = self._keys(name, address, known)

        def forget(pipe: Any) -> None:
            failures = int(pipe.hget(address_key, "failures") or 0)
            pipe.multi()
            pipe.delete(name_key)
            if failures > 0:  # not forgotten meanwhile
                pipe.hset(address_key, "failures", failures - 1)

        self.redis.transaction(forget, address_key)


def _read(fields: list[bytes | None]) -> Tally:
    failures, not_before = fields
    return Tally(
        failures=int(failures or 0),
        not_before=(dt.datetime.fromtimestamp(int(not_before) / 1000, dt.UTC)
                    if not_before else None),
    )
