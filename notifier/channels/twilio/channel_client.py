"""What the Twilio SMS and voice clients share: the account, where statuses come back,
and that a create is never repeated blindly."""

from __future__ import annotations

import datetime as dt
import functools

from twilio.rest import Client

from notifier.channels.base import HandOver, Receipt
from notifier.channels.twilio.api import build_twilio_client, request_bound
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings

STATUS_PATH = "/v1/twilio/status"


def status_callback_url(settings: Settings) -> str:
    """Where Twilio posts status callbacks for messages and calls."""
    if not settings.public_base_url:
        raise ValueError("NOTIFIER_PUBLIC_BASE_URL is needed for Twilio status callbacks")
    return settings.public_base_url.rstrip("/") + STATUS_PATH


class TwilioChannelClient:
    """A channel client that creates one Twilio resource (a message, a call) per send.

    A create is not idempotent: see :mod:`notifier.channels.twilio.api` for which
    failures are ambiguous. Each subclass creates its resource in :meth:`send` and
    looks for the one an interrupted attempt may have created in ``find_sent``.

    Parameters:
      settings: the Twilio account and the public URL (the status callback).
      twilio: a Twilio REST client; by default one from :func:`build_twilio_client`.
    """

    idempotent = False

    def __init__(self, settings: Settings, *, twilio: Client | None = None) -> None:
        self.settings = settings
        self.twilio = twilio or build_twilio_client(settings)
        self.status_callback = status_callback_url(settings)

    @property
    def attempt_bound(self) -> dt.timedelta:
        """One create request to Twilio."""
        return request_bound(self.settings.twilio_timeout)

    def close(self) -> None:
        """The Twilio REST client's HTTP session is shared; nothing of ours stays open."""

    def prepare(self, message: PlannedMessage, rendered: Rendered, address: str) -> HandOver:
        """Nothing to build ahead: the number was checked by the send-time decision."""
        return functools.partial(self.send, message, rendered, address)

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        """Create the message or call; raise :class:`DeliveryError` when Twilio refuses
        or fails."""
        raise NotImplementedError
