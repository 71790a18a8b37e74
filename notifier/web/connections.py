"""Bounds on what one client connection may hold of the web process.

uvicorn (0.55, h11) bounds the size of a request head and closes a keep-alive connection
that stays idle after an answer, but waits forever for the first request of a connection
and for a head or a body sent a byte at a time; it counts idle connections against
``limit_concurrency``, so that a flood of idle sockets would make it refuse the webhooks.
:class:`GuardedH11Protocol` adds what is missing:

- a connection must complete its request head within ``header_timeout`` of opening (or
  of its previous answer), and its body within ``body_timeout`` of the head;
- at most ``max_connections`` are open: a new one closes the connection that has waited
  longest for a request head (an idle socket, never a request in progress), so idle
  sockets cannot crowd out Twilio or a booking system; only when every open connection
  carries a request is the newcomer closed;
- every closing is counted and summarised by :class:`~notifier.web.overload.OverloadLog`,
  one line per interval.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import ClassVar, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from notifier.web.overload import Closed, OverloadLog


class ConnectionGuard:
    """The limits, and the connections still waiting for a request head, of one server.

    Parameters:
      max_connections: the most connections open at once.
      header_timeout: seconds a connection has to send a whole request head.
      body_timeout: seconds a request has to send its whole body once its head is in.
      overload: where closings are counted.
    """

    def __init__(
        self, *, max_connections: int, header_timeout: float, body_timeout: float,
        overload: OverloadLog,
    ) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.overload = overload
        self.open: set[GuardedH11Protocol] = set()
        # Oldest first: the connection to close when room is needed.
        self.waiting: OrderedDict[GuardedH11Protocol, None] = OrderedDict()

    def admit(self, connection: GuardedH11Protocol) -> bool:
        """Make room for ``connection`` if needed; False if it must be closed instead."""
        if len(self.open) >= self.max_connections:
            if not self.waiting:
                self.overload.note(Closed.REFUSED)
                return False
            oldest, _ = self.waiting.popitem(last=False)
            self.forget(oldest)
            oldest.close(Closed.EVICTED)
        self.open.add(connection)
        return True

    def forget(self, connection: GuardedH11Protocol) -> None:
        self.open.discard(connection)
        self.waiting.pop(connection, None)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the bounds of :class:`ConnectionGuard`.

    A subclass made by :func:`guarded_protocol` names the guard: uvicorn builds one
    instance per connection from the class alone.
    """

    guard: ClassVar[ConnectionGuard]
    _deadline: asyncio.TimerHandle | None = None
    # Whether the client was sending a body when last followed: a body that starts means a
    # head just came in, on data received or on an answer (a pipelined request, buffered).
    _sending_body = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.admit(self):
            self.transport.close()
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.guard.forget(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_request()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._follow_request()

    def close(self, reason: Closed) -> None:
        """Close the connection without an answer, counting why."""
        self._disarm()
        if not self.transport.is_closing():
            self.guard.overload.note(reason)
            self.transport.close()

    def _follow_request(self) -> None:
        """Move the deadline along with the request: head, then body, then none while the
        app answers (its own time is bounded elsewhere)."""
        state = self.conn.their_state
        was_sending_body, self._sending_body = self._sending_body, state is h11.SEND_BODY
        if state is h11.IDLE:
            if self not in self.guard.waiting:
                self._await_head()
            return
        self.guard.waiting.pop(self, None)
        if not self._sending_body:
            self._disarm()
        elif not was_sending_body:  # the head just arrived
            self._arm(self.guard.body_timeout, Closed.SLOW_BODY)

    def _await_head(self) -> None:
        self.guard.waiting[self] = None
        self._arm(self.guard.header_timeout, Closed.IDLE)

    def _arm(self, seconds: float, reason: Closed) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self.close, reason)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """The protocol class to give uvicorn (``Config(http=...)``) for ``guard``."""
    return cast(
        type[GuardedH11Protocol], type("Guarded", (GuardedH11Protocol,), {"guard": guard})
    )
