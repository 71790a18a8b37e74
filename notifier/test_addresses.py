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

import enum

from notifier.domain import Channel


class TestRecipientOutcome(enum.Enum):
    """What a test recipient produces."""

    __test__ = False  # not a pytest test class (a dunder name is no enum member)

    DELIVERED = "delivered"
    PERMANENT = "permanent"
    TEMPORARY = "temporary"


TEST_PHONES: dict[str, TestRecipientOutcome] = {
    "+15555550100": TestRecipientOutcome.DELIVERED,
    "+15555550101": TestRecipientOutcome.PERMANENT,
    "+15555550102": TestRecipientOutcome.TEMPORARY,
}
TEST_EMAILS: dict[str, TestRecipientOutcome] = {
    "delivered@example.invalid": TestRecipientOutcome.DELIVERED,
    "permanent-failure@example.invalid": TestRecipientOutcome.PERMANENT,
    "temporary-failure@example.invalid": TestRecipientOutcome.TEMPORARY,
}


def outcome_for(channel: Channel, address: str) -> TestRecipientOutcome | None:
    """The outcome ``address`` is a test recipient for on ``channel``, or None."""
    if channel is Channel.EMAIL:
        return TEST_EMAILS.get(address.strip().lower())
    return TEST_PHONES.get(address)
