"""A few open SMTP connections, reused from one message to the next.

Each client keeps a small pool of open connections on the background event loop
(:func:`~notifier.channels.smtp.event_loop.shared_loop`), so a batch does not open one
connection per message. A connection idle longer than ``idle_seconds`` is closed
(servers drop idle clients after a few minutes anyway); a reused connection the server
had closed is replaced once, before anything is sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Coroutine
from typing import Any

import aiosmtplib

from notifier.channels.smtp.event_loop import run_on_loop
from notifier.channels.smtp.failures import TransactionStage, delivery_error
from notifier.errors import DeliveryError, FailureClass

_REFUSALS = (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused)

# One send is given this many command timeouts, plus a margin, in all: the per-command
# timeouts bound the wait; the overall bound only catches a stuck pool.
SEND_COMMAND_TIMEOUTS = 8
SEND_MARGIN = dt.timedelta(seconds=5)


def send_bound(command_timeout: dt.timedelta) -> dt.timedelta:
    """The longest :meth:`SmtpPool.send` waits when each SMTP command may take
    ``command_timeout``."""
    return command_timeout * SEND_COMMAND_TIMEOUTS + SEND_MARGIN


class SmtpPool:
    """Up to ``size`` open SMTP connections, used by one transaction at a time each.

    Lives on :func:`~notifier.channels.smtp.event_loop.shared_loop`: every method but
    :meth:`send` and :meth:`close` runs there.

    Parameters:
      connect: opens, secures and logs in a new connection.
      size: connections open at most.
      idle_seconds: a connection unused this long is closed.
      timeout: seconds for each SMTP command.
    """

    def __init__(
        self,
        connect: Callable[[], Coroutine[Any, Any, aiosmtplib.SMTP]],
        *,
        size: int,
        idle_seconds: float,
        timeout: float,
    ) -> None:
        self._connect = connect
        self.size = size
        self.idle_seconds = idle_seconds
        self.timeout = timeout
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # most recently used last
        self._slots: asyncio.Semaphore | None = None
        self._reaper: asyncio.Task[None] | None = None

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Hand one message over; returns the server's reply to DATA. Raises
        :class:`DeliveryError`."""
        overall = send_bound(dt.timedelta(seconds=self.timeout)).total_seconds()
        try:
            return run_on_loop(self._send(sender, recipient, data), timeout=overall)
        except TimeoutError:
            raise DeliveryError(
                FailureClass.AMBIGUOUS, "timeout",
                "the SMTP send did not finish in time: the message may have been queued",
            ) from None

    def close(self) -> None:
        """Close every idle connection (politely, with QUIT)."""
        run_on_loop(self._close_all(), timeout=self.timeout + 5)

    async def _send(self, sender: str, recipient: str, data: bytes) -> str:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
            self._reaper = asyncio.get_running_loop().create_task(self._reap())
        async with self._slots:
            smtp, reused = self._take()
            for attempt in (1, 2):
                stage = TransactionStage()
                try:
                    if smtp is None:
                        smtp = await self._connect()
                    reply = await _transaction(smtp, sender, recipient, data, stage)
                except BaseException as exc:
                    # After a refusal the connection is fine; after anything else it is not.
                    broken = not isinstance(exc, _REFUSALS)
                    if smtp is not None and broken:
                        smtp.close()
                    elif smtp is not None:
                        self._put(smtp)
                    # A reused connection the server had closed: nothing left, try a new one.
                    stale = reused and broken and stage.name != "connect"
                    if attempt == 1 and stale and not stage.content_sent:
                        smtp, reused = None, False
                        continue
                    if isinstance(exc, Exception):
                        raise delivery_error(exc, stage) from None
                    raise
                self._put(smtp)
                return reply
        raise AssertionError("unreachable")

    def _take(self) -> tuple[aiosmtplib.SMTP | None, bool]:
        self._drop_expired()
        while self._idle:
            smtp, _ = self._idle.pop()
            if smtp.is_connected:
                return smtp, True
        return None, False

    def _put(self, smtp: aiosmtplib.SMTP) -> None:
        if smtp.is_connected:
            self._idle.append((smtp, time.monotonic()))

    def _drop_expired(self) -> None:
        limit = time.monotonic() - self.idle_seconds
        expired = [smtp for smtp, used in self._idle if used < limit]
        self._idle = [(smtp, used) for smtp, used in self._idle if used >= limit]
        for smtp in expired:
            smtp.close()

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.idle_seconds / 2))
            self._drop_expired()

    async def _close_all(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            try:
                await smtp.quit(timeout=self.timeout)
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
        self._slots = None


async def _transaction(
    smtp: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes, stage: TransactionStage
) -> str:
    """MAIL, RCPT, DATA on an open connection, recording the stage reached."""
    stage.name = "sender"
    if smtp.is_ehlo_or_helo_needed:
        await smtp.ehlo()
    try:
        await smtp.mail(sender)
        stage.name = "recipient"
        await smtp.rcpt(recipient)
        stage.name = "data"
        # From here the server may hold the whole message when a reply gets lost.
        stage.content_sent = True
        response = await smtp.data(data)
    except aiosmtplib.SMTPResponseException:
        # The server said no and the connection is fine: clear the envelope for reuse.
        try:
            await smtp.rset()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
        raise
    return response.message
