"""The email a message becomes, and the one form of address given to the server.

Each message is ``multipart/alternative`` (the plain text first, the HTML last, as mail
clients prefer), from ``"<clinic name>" <email_from_address>``, with a ``Reply-To`` to
the clinic when its location has an email address, and ``Auto-Submitted:
auto-generated`` so that well-behaved servers send no automatic replies.
"""

from __future__ import annotations

import datetime as dt
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid

from notifier.channels.smtp.failures import unusable_address
from notifier.domain import Lang, Location
from notifier.messages.catalogue import Rendered
from notifier.settings import Settings

CONTENT_LANGUAGE = {Lang.FR: "fr-CA", Lang.EN: "en-CA"}


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


def recipient_address(address: str) -> str:
    """``address`` when it is one bare ASCII address (``local@domain``), the only form
    given to the server; a permanent :class:`DeliveryError` otherwise (a name, angle
    brackets, a group or accented letters would change who receives it, or need
    SMTPUTF8)."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, MessageError):
        raise unusable_address() from None
    if not address.isascii() or parsed.addr_spec != address:
        raise unusable_address()
    return address
