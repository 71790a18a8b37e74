"""The interface every channel client implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from notifier.messages.catalogue import Rendered
    from notifier.planning.entries import PlannedMessage


class ChannelClient(Protocol):
    """Delivers one rendered message to one address.

    Attributes:
      idempotent: True when sending the same key twice delivers once (the outbox), so a
        send interrupted mid-way may simply be sent again. A provider whose create call is
        not idempotent (Twilio) must not be re-sent blindly.
    """

    idempotent: bool

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> str:
        """Deliver, and return the provider's id for the message."""
        ...
