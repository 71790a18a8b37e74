"""Test recipients: addresses integrators can use that never reach a provider.

A booking system under test can send appointments for these patients and watch each
outcome come back through the gateway's real outcome path (the send step, the delivery
record, retries, the dead letter queue), without a text, a call or an email leaving:

=========================================  ===========  ==================================
Address                                    Channels     Outcome
=========================================  ===========  ==================================
``+1 555 555-0100`` (``+15555550100``)     SMS, voice   delivered
``+1 555 555-0101`` (``+15555550101``)     SMS, voice   permanent failure (Twilio 21211,
                                                        invalid number): not retried
``+1 555 555-0102`` (``+15555550102``)     SMS, voice   temporary failure (Twilio 30003,
                                                        unreachable): retried until the
                                                        message's deadline, then dead
                                                        letter
``delivered@example.invalid``              email        delivered
``permanent-failure@example.invalid``      email        permanent failure (SMTP 550)
``temporary-failure@example.invalid``      email        temporary failure (SMTP 451):
                                                        retried, then dead letter
=========================================  ===========  ==================================

The numbers use area code and exchange 555 (North American numbers reserved for fiction;
no subscriber can have them) and pass the event contract's phone rule. ``.invalid`` is
a top-level domain reserved never to exist (RFC 2606). Email addresses match in any case.

These addresses are recognised in every deployment, whichever provider is configured.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable

from notifier.channels.base import ChannelClient, HandOver, Receipt
from notifier.channels.smtp_email import classify_reply
from notifier.channels.twilio_errors import classify, explain
from notifier.domain import Channel, Lang
from notifier.errors import DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage


class Outcome(enum.Enum):
    """What a test recipient produces."""

    DELIVERED = "delivered"
    PERMANENT = "permanent"
    TEMPORARY = "temporary"


TEST_PHONES: dict[str, Outcome] = {
    "+15555550100": Outcome.DELIVERED,
    "+15555550101": Outcome.PERMANENT,
    "+15555550102": Outcome.TEMPORARY,
}
TEST_EMAILS: dict[str, Outcome] = {
    "delivered@example.invalid": Outcome.DELIVERED,
    "permanent-failure@example.invalid": Outcome.PERMANENT,
    "temporary-failure@example.invalid": Outcome.TEMPORARY,
}

# The provider code each failure imitates, per channel family.
_TWILIO_CODES = {Outcome.PERMANENT: 21211, Outcome.TEMPORARY: 30003}
_SMTP_CODES = {Outcome.PERMANENT: 550, Outcome.TEMPORARY: 451}


def outcome_for(channel: Channel, address: str) -> Outcome | None:
    """The outcome ``address`` is a test recipient for on ``channel``, or None."""
    if channel is Channel.EMAIL:
        return TEST_EMAILS.get(address.strip().lower())
    return TEST_PHONES.get(address)


def simulated_failure(channel: Channel, outcome: Outcome) -> DeliveryError:
    """The error the real client would raise for this failure."""
    if channel is Channel.EMAIL:
        code = _SMTP_CODES[outcome]
        failure: FailureClass = classify_reply(code, stage="recipient")
        detail = f"the SMTP server refused the recipient (reply {code})"
    else:
        code = _TWILIO_CODES[outcome]
        failure = classify(None, code)
        detail = explain(code, Lang.EN)
    return DeliveryError(failure, str(code), f"test recipient: {detail}")


class TestRecipientClient:
    """Answers for test recipients itself and hands every other message to ``inner``.

    Parameters:
      inner: the channel's real client.
      channel: the channel it serves (decides which test addresses apply).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, inner: ChannelClient, *, channel: Channel) -> None:
        self.inner = inner
        self.channel = channel
        self.idempotent = inner.idempotent

    def prepare(self, message: PlannedMessage, rendered: Rendered, address: str) -> HandOver:
        if outcome_for(self.channel, address) is None:
            return self.inner.prepare(message, rendered, address)
        return functools.partial(self.send, message, rendered, address)

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        outcome = outcome_for(self.channel, address)
        if outcome is None:
            return self.inner.send(message, rendered, address)
        if outcome is Outcome.DELIVERED:
            return Receipt(provider_id=f"test:{message.key}", status="delivered")
        raise simulated_failure(self.channel, outcome)

    def find_sent(
        self, message: PlannedMessage, rendered: Rendered, address: str, *,
        between: tuple[dt.datetime, dt.datetime], taken: Callable[[str], bool],
    ) -> Receipt | None:
        if outcome_for(self.channel, address) is None:
            return self.inner.find_sent(message, rendered, address, between=between,
                                        taken=taken)
        return None  # nothing reached a provider: answering again is harmless

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
