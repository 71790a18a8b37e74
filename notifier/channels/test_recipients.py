"""The test recipients' channel client: it answers for the addresses of
:mod:`notifier.test_addresses` itself, through the gateway's real outcome path, and hands
every other message to the channel's real client."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from notifier.channels.base import ChannelClient, HandOver, Receipt
from notifier.channels.smtp.failures import classify_reply
from notifier.channels.twilio.errors import classify, explain
from notifier.domain import Channel, Lang
from notifier.errors import DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage
from notifier.test_addresses import TestRecipientOutcome, outcome_for

# The provider code each failure imitates, per channel family.
_TWILIO_CODES = {TestRecipientOutcome.PERMANENT: 21211, TestRecipientOutcome.TEMPORARY: 30003}
_SMTP_CODES = {TestRecipientOutcome.PERMANENT: 550, TestRecipientOutcome.TEMPORARY: 451}


def simulated_failure(channel: Channel, outcome: TestRecipientOutcome) -> DeliveryError:
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

    @property
    def attempt_bound(self) -> dt.timedelta:
        """The real client's: every address but the test ones reaches it."""
        return self.inner.attempt_bound

    def prepare(self, message: PlannedMessage, rendered: Rendered, address: str) -> HandOver:
        if outcome_for(self.channel, address) is None:
            return self.inner.prepare(message, rendered, address)
        return functools.partial(self.send, message, rendered, address)

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        outcome = outcome_for(self.channel, address)
        if outcome is None:
            return self.inner.send(message, rendered, address)
        if outcome is TestRecipientOutcome.DELIVERED:
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
