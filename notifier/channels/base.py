"""The interface every channel client implements, and how a provider says no."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from notifier.messages.catalogue import Rendered
    from notifier.planning.entries import PlannedMessage


@dataclass(frozen=True)
class Receipt:
    """What a provider answered when it took a message.

    Parameters:
      provider_id: the provider's id (Twilio's SID, the SMTP queue id, the outbox key).
      status: the provider's first status in our words (see
        :class:`notifier.delivery_status.DeliveryStatus`): ``accepted``, ``queued``,
        ``sent`` or ``delivered``.
    """

    provider_id: str
    status: str


HandOver: TypeAlias = Callable[[], Receipt]
"""One message, built and addressed by :meth:`ChannelClient.prepare`: calling it hands
that very message to the provider, or raises :class:`DeliveryError`."""


class ChannelClient(Protocol):
    """Delivers one rendered message to one address.

    Attributes:
      idempotent: True when sending the same key twice delivers once (the outbox), so a
        send interrupted mid-way may simply be sent again. A provider whose create call is
        not idempotent (Twilio) must not be re-sent blindly: the send step first asks it
        with :meth:`find_sent`.
      attempt_bound: the longest one hand-over can legitimately take, as the client's own
        timeouts bound it. The send step holds a message's attempt lock that long (after
        a rate-limit wait): only then is a hand-over that died mid-way tried again.
    """

    idempotent: bool

    @property
    def attempt_bound(self) -> dt.timedelta: ...

    def prepare(self, message: PlannedMessage, rendered: Rendered, address: str) -> HandOver:
        """Build and address the message before the delivery record starts; raise a
        *permanent* :class:`DeliveryError` when it never can be, so that a data error is
        never taken for an interrupted send. The result delivers what was built here."""
        ...

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        """Deliver at once (:meth:`prepare`, then its hand-over); raise
        :class:`DeliveryError` when the provider refuses or fails."""
        ...

    def find_sent(
        self, message: PlannedMessage, rendered: Rendered, address: str, *,
        between: tuple[dt.datetime, dt.datetime], taken: Callable[[str], bool],
    ) -> Receipt | None:
        """Whether an interrupted attempt, made ``between`` those times, reached the
        provider: its receipt, or None when the provider holds no such message (sending
        again cannot double it). A provider id for which ``taken`` is true belongs to
        another of our messages (the same text or the same numbers a minute apart: two
        reminders, a confirmation then a modification) and is never this one. Raise
        :class:`CannotTell` when the provider cannot be asked, :class:`DeliveryError` when
        asking failed."""
        ...

    def close(self) -> None:
        """Release open connections (a worker process stopping)."""
        ...
