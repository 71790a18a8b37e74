"""A message's retry count that counts crashes only, for actors that also retry on purpose."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Retries


class CrashCount(dramatiq.Middleware):
    """Keeps the ``retries`` of the named actors' messages a count of crashes.

    Dramatiq adds one to a message's ``retries`` for every exception, its own ``Retry``
    included, and an actor's ``retry_when`` sees only that count. The send step raises
    ``Retry`` on purpose for as long as a provider outage lasts; counted, six such waits
    would leave a later crash (Redis restarting, say) no retry at all. For each ``Retry``
    this takes back the one Dramatiq is about to add, so ``retry_when`` and Dramatiq's
    backoff see crashes only.

    Parameters:
      actors: the names of the actors whose deliberate retries are not counted.

    Must sit after Dramatiq's ``Retries`` in the broker's middleware (see :meth:`install`):
    Dramatiq runs after-hooks in reverse order, so this one runs first.
    """

    def __init__(self, *, actors: Collection[str]) -> None:
        self.actors = frozenset(actors)

    def install(self, broker: dramatiq.Broker) -> None:
        """Add this middleware to ``broker`` right after its ``Retries``."""
        broker.add_middleware(self, after=Retries)

    def after_process_message(
        self, broker: dramatiq.Broker, message: MessageProxy, *,
        result: Any = None, exception: BaseException | None = None,
    ) -> None:
        if isinstance(exception, dramatiq.Retry) and message.actor_name in self.actors:
            message.options["retries"] = message.options.get("retries", 0) - 1
