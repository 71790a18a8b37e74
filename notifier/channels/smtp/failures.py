"""What an SMTP failure means for the message (:class:`DeliveryError`).

- the server's reply: 4xx is *transient*; 5xx on a recipient is *permanent*; 5xx on
  our sender address, an authentication failure (530, 534, 535, 538) or a missing
  STARTTLS is *configuration*;
- no connection (refused, timed out connecting) or a timeout or disconnect before the
  message's content was sent is *transient*: nothing was handed over;
- a timeout or disconnect during ``DATA`` is *ambiguous*: the server may have queued the
  message before its reply was lost, so it must not be sent again blindly;
- a message that cannot be built, or an address that is not one bare ASCII address
  (``address``), is *permanent*, found by
  :meth:`~notifier.channels.smtp.email_client.SmtpEmailClient.prepare` before the
  delivery record starts: such data never becomes an interrupted send.
"""

from __future__ import annotations

import ssl

import aiosmtplib

from notifier.errors import DeliveryError, FailureClass

AUTH_FAILURES = frozenset({530, 534, 535, 538})


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


class TransactionStage:
    """Where a transaction is, so a lost connection can be judged."""

    def __init__(self) -> None:
        self.name = "connect"
        self.content_sent = False


def delivery_error(exc: Exception, stage: TransactionStage) -> DeliveryError:
    """Turn an aiosmtplib (or socket) failure at ``stage`` into a DeliveryError."""
    if isinstance(exc, UnicodeError):
        # Only SMTPUTF8 carries non-ASCII addresses: the recipient's is the patient's, the
        # sender's is our setting.
        if stage.name == "recipient":
            return unusable_address()
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


def unusable_address() -> DeliveryError:
    """The permanent failure of a recipient address the server cannot be given."""
    return DeliveryError(
        FailureClass.PERMANENT, "address",
        "the recipient's email address is not one plain ASCII address: it cannot be sent to",
    )
