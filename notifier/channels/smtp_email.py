"""Email through an SMTP relay with aiosmtplib, over a few reused connections.

Each message is ``multipart/alternative`` (the plain text first, the HTML last, as mail
clients prefer), from ``"<clinic name>" <email_from_address>``, with a ``Reply-To`` to
the clinic when its location has an email address, and ``Auto-Submitted:
auto-generated`` so that well-behaved servers send no automatic replies.

The worker is synchronous (Dramatiq threads), aiosmtplib is not: every client runs its
SMTP work on one background event-loop thread per process (:func:`shared_loop`) and keeps
a small pool of open connections there, so a batch does not open one connection per
message. A connection idle longer than ``idle_seconds`` is closed (servers drop idle
clients after a few minutes anyway); a reused connection the server had closed is
replaced once, before anything is sent.

How failures read (:class:`DeliveryError`):

- the server's reply: 4xx is *transient*; 5xx on a recipient is *permanent*; 5xx on
  our sender address, an authentication failure (530, 534, 535, 538) or a missing
  STARTTLS is *configuration*;
- no connection (refused, timed out connecting) or a timeout or disconnect before the
  message's content was sent is *transient*: nothing was handed over;
- a timeout or disconnect during ``DATA`` is *ambiguous*: the server may have queued the
  message before its reply was lost, so it must not be sent again blindly;
- a message that cannot be built, or an address that is not one bare ASCII address
  (``address``), is *permanent*, found by :meth:`SmtpEmailClient.prepare` before the
  delivery record starts: such data never becomes an interrupted send.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import os
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from typing import Any, TypeVar

import aiosmtplib

from notifier.channels.base import HandOver, Receipt
from notifier.domain import Lang, Location
from notifier.errors import CannotTell, DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings

T = TypeVar("T")

CONTENT_LANGUAGE = {Lang.FR: "fr-CA", Lang.EN: "en-CA"}
AUTH_FAILURES = frozenset({530, 534, 535, 538})


# The message ------------------------------------------------------------------------


def build_email(
    rendered: Rendered,
    *,
    to: str,
    settings: Settings,
    location: Location | None,
    now: dt.datetime,
) -> EmailMessage:
    """The MIME message for one rendered email.

    Parameters:
      rendered: subject, plain text and HTML (an email rendering).
      to: the patient's address.
      settings: ``email_from_address`` (and ``sender_name`` when the clinic is unknown).
      location: the clinic: its name is the display name, its email the Reply-To.
      now: the ``Date`` header.
    """
    if rendered.subject is None or rendered.html is None:
        raise ValueError("an email needs a subject and an HTML part")
    domain = settings.email_from_address.rpartition("@")[2]
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = rendered.subject
    message["From"] = Address(
        display_name=location.name if location else settings.sender_name,
        addr_spec=settings.email_from_address,
    )
    # The header holds the bare address that was checked, never a text parsed anew.
    message["To"] = Address(addr_spec=to)
    if location is not None and location.email:
        message["Reply-To"] = Address(display_name=location.name, addr_spec=location.email)
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    # Outlook and Exchange ignore Auto-Submitted; this keeps their out-of-office away.
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    # After the parts: setting the content clears every Content-* header before it.
    message["Content-Language"] = CONTENT_LANGUAGE[rendered.lang]
    return message


# What a failure means -------------------------------------------------------------------


def classify_reply(code: int, *, stage: str) -> FailureClass:
    """The class of an SMTP error reply; ``stage`` is ``sender``, ``recipient``,
    ``data`` or ``connect`` (where the reply came)."""
    if 400 <= code < 500:
        return FailureClass.TRANSIENT
    if code in AUTH_FAILURES or stage in ("sender", "connect"):
        return FailureClass.CONFIGURATION
    return FailureClass.PERMANENT


_STAGE_WORDS = {
    "connect": "the SMTP server refused the connection or our login",
    "sender": "the SMTP server refused our sender address",
    "recipient": "the SMTP server refused the recipient",
    "data": "the SMTP server refused the message",
}


def _reply_error(code: int, stage: str) -> DeliveryError:
    # The server's own words can quote the recipient's address: they stay out.
    return DeliveryError(
        classify_reply(code, stage=stage), str(code), f"{_STAGE_WORDS[stage]} (reply {code})"
    )


class _Stage:
    """Where a transaction is, so a lost connection can be judged."""

    def __init__(self) -> None:
        self.name = "connect"
        self.content_sent = False


def _delivery_error(exc: Exception, stage: _Stage) -> DeliveryError:
    """Turn an aiosmtplib (or socket) failure at ``stage`` into a DeliveryError."""
    if isinstance(exc, UnicodeError):
        # Only SMTPUTF8 carries non-ASCII addresses: the recipient's is the patient's, the
        # sender's is our setting.
        if stage.name == "recipient":
            return _unusable_address()
        return DeliveryError(
            FailureClass.CONFIGURATION, "not-supported",
            "the sender address is not plain ASCII: the SMTP server would need SMTPUTF8",
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients] or [550]
        return _reply_error(codes[0], "recipient")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return DeliveryError(
            classify_reply(exc.code, stage="connect"), str(exc.code),
            f"the SMTP server refused our login (reply {exc.code}): check the user name and "
            "password",
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException) and not isinstance(
        exc, aiosmtplib.SMTPConnectResponseError
    ):
        name = {
            aiosmtplib.SMTPSenderRefused: "sender",
            aiosmtplib.SMTPRecipientRefused: "recipient",
            aiosmtplib.SMTPDataError: "data",
        }.get(type(exc), stage.name)
        return _reply_error(exc.code, name)
    if isinstance(exc, aiosmtplib.SMTPNotSupported) or (
        # aiosmtplib says "STARTTLS (or AUTH) extension not supported" with a bare exception.
        type(exc) is aiosmtplib.SMTPException and stage.name == "connect"
    ):
        return DeliveryError(
            FailureClass.CONFIGURATION, "not-supported",
            "the SMTP server does not offer what the settings require (STARTTLS, AUTH or "
            "SMTPUTF8)",
        )
    if isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError):
        return DeliveryError(
            FailureClass.CONFIGURATION, "tls",
            "the TLS handshake with the SMTP server failed: check the security setting and "
            "the server's certificate",
        )
    if stage.content_sent:
        return DeliveryError(
            FailureClass.AMBIGUOUS, "data-timeout",
            "the connection timed out or broke while the SMTP server took the message: it "
            "may have been queued",
        )
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return _reply_error(exc.code, "connect")
    code = "timeout" if isinstance(exc, TimeoutError) else "connection"
    return DeliveryError(
        FailureClass.TRANSIENT, code,
        f"no answer from the SMTP server ({stage.name} step): nothing was sent",
    )


def _unusable_address() -> DeliveryError:
    return DeliveryError(
        FailureClass.PERMANENT, "address",
        "the recipient's email address is not one plain ASCII address: it cannot be sent to",
    )


def recipient_address(address: str) -> str:
    """``address`` when it is one bare ASCII address (``local@domain``), the only form
    given to the server; a permanent :class:`DeliveryError` otherwise (a name, angle
    brackets, a group or accented letters would change who receives it, or need
    SMTPUTF8)."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, MessageError):
        raise _unusable_address() from None
    if not address.isascii() or parsed.addr_spec != address:
        raise _unusable_address()
    return address


# The event loop and the pool ------------------------------------------------------------

_loop_guard = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def shared_loop() -> asyncio.AbstractEventLoop:
    """This process's background event loop (started on first use; a forked child
    starts its own)."""
    global _loop, _loop_pid
    with _loop_guard:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="notifier-smtp-loop", daemon=True
            )
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def run_on_loop(coroutine: Coroutine[Any, Any, T], *, timeout: float) -> T:
    """Run ``coroutine`` on :func:`shared_loop` and wait for it from this thread."""
    future = asyncio.run_coroutine_threadsafe(coroutine, shared_loop())
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError("the SMTP work did not finish in time") from None


_REFUSALS = (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused)


class SmtpPool:
    """Up to ``size`` open SMTP connections, used by one transaction at a time each.

    Lives on :func:`shared_loop`: every method but :meth:`send` and :meth:`close` runs
    there.

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
        # Per-command timeouts bound the wait; the overall one only catches a stuck pool.
        overall = self.timeout * 8 + 5
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
                stage = _Stage()
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
                        raise _delivery_error(exc, stage) from None
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
    smtp: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes, stage: _Stage
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


# The channel client ---------------------------------------------------------------------


class SmtpEmailClient:
    """Sends each email through the configured SMTP relay.

    Parameters:
      settings: ``smtp_host``, ``smtp_port``, ``smtp_security`` (starttls, tls, none),
        ``smtp_username``/``smtp_password``, ``smtp_timeout``, ``email_from_address``.
      locations: the appointment's location by reference (display name and Reply-To),
        or None when it is not known.
      clock: the current time, aware (the ``Date`` header).
      pool_size: connections kept open at most.
      idle_seconds: an unused connection is closed after this long.
      tls_context: the TLS settings (certificate checks) for ``starttls`` and ``tls``;
        the system's defaults when None.
    """

    idempotent = False

    def __init__(
        self,
        settings: Settings,
        *,
        locations: Callable[[str], Location | None],
        clock: Callable[[], dt.datetime],
        pool_size: int = 4,
        idle_seconds: float = 60.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if not settings.smtp_host:
            raise ValueError("NOTIFIER_SMTP_HOST is needed to send email")
        self.settings = settings
        self.locations = locations
        self.clock = clock
        self.tls_context = tls_context
        self.pool = SmtpPool(
            self._connect, size=pool_size, idle_seconds=idle_seconds,
            timeout=settings.smtp_timeout.total_seconds(),
        )

    def prepare(self, message: PlannedMessage, rendered: Rendered, address: str) -> HandOver:
        """Build the email once: an address or a text that cannot make one fails here,
        for good, before anything is recorded as being sent; the hand-over sends these
        very bytes."""
        message_id, data = self._build(message, rendered, address)
        return functools.partial(self._submit, address, message_id, data)

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        return self.prepare(message, rendered, address)()

    def _submit(self, address: str, message_id: str, data: bytes) -> Receipt:
        self.pool.send(self.settings.email_from_address, address, data)
        # An SMTP relay gives no delivery receipt: "sent" is as far as we will know.
        return Receipt(provider_id=message_id, status="sent")

    def _build(
        self, message: PlannedMessage, rendered: Rendered, address: str
    ) -> tuple[str, bytes]:
        """The message's id and bytes; a permanent DeliveryError when it cannot be made."""
        to = recipient_address(address)
        try:
            mime = build_email(
                rendered, to=to, settings=self.settings,
                location=self.locations(message.reference), now=self.clock(),
            )
            data = mime.as_bytes()
        except (ValueError, TypeError, IndexError, MessageError) as exc:
            # UnicodeError is a ValueError. The text may quote patient data: only its type.
            raise DeliveryError(
                FailureClass.PERMANENT, "message",
                f"the email could not be built ({type(exc).__name__})",
            ) from None
        return str(mime["Message-ID"]).strip("<>"), data

    def find_sent(
        self, message: PlannedMessage, rendered: Rendered, address: str, *,
        between: tuple[dt.datetime, dt.datetime], taken: Callable[[str], bool],
    ) -> Receipt | None:
        """An SMTP relay keeps no list of what it took that we could read."""
        raise CannotTell("an SMTP relay cannot be asked what it took")

    def close(self) -> None:
        """Close the open connections (a worker shutting down, a test ending)."""
        self.pool.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            timeout=settings.smtp_timeout.total_seconds(),
            use_tls=settings.smtp_security == "tls",
            # Required, not opportunistic: credentials and patients' data never go clear.
            start_tls=settings.smtp_security == "starttls",
            tls_context=self.tls_context,
            username=settings.smtp_username,
            password=password if settings.smtp_username else None,
        )
        try:
            await smtp.connect()
        except BaseException:
            smtp.close()  # a refusal after the socket opened (login, greeting) leaves it open
            raise
        return smtp
