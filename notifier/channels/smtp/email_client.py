"""Email through an SMTP relay with aiosmtplib: the channel client.

It builds each email once (:mod:`notifier.channels.smtp.message`), hands it to the
relay over a few reused connections (:mod:`notifier.channels.smtp.pool`) and reports
failures as :mod:`notifier.channels.smtp.failures` reads them.
"""

from __future__ import annotations

import datetime as dt
import functools
import ssl
from collections.abc import Callable
from email.errors import MessageError

import aiosmtplib

from notifier.channels.base import HandOver, Receipt
from notifier.channels.smtp.message import build_email, recipient_address
from notifier.channels.smtp.pool import SmtpPool, send_bound
from notifier.domain import Location
from notifier.errors import CannotTell, DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings


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

    @property
    def attempt_bound(self) -> dt.timedelta:
        """One send through the pool, bounded by ``smtp_timeout`` per command."""
        return send_bound(self.settings.smtp_timeout)

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
