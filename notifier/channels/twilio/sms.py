"""SMS through Twilio's Messages API.

Choices:

- The body goes out exactly as the catalogue rendered and counted it: ``SmartEncoded`` is
  off, because :func:`notifier.messages.sms.normalise_sms` already swapped quotes, dashes
  and odd spaces (all Smart Encoding would do; it never touches accented letters), and a
  body Twilio re-encodes would no longer match the segments we rate-limit and bill by.
- ``ValidityPeriod`` is the configured ``sms_validity`` (30 minutes by default, not
  Twilio's 10 hours): a reminder stuck in a queue is dropped rather than delivered late
  or at night.
- The status callback is ``{public_base_url}/v1/twilio/status``, so every message's fate
  comes back to the delivery record.
- A create is not idempotent: see :mod:`notifier.channels.twilio.api` for which
  failures are ambiguous. After one, the send step asks Twilio for the recipient's latest
  messages before it sends again: the same body created during the interrupted attempt
  is that attempt's SMS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from notifier.channels.base import Receipt
from notifier.channels.twilio.api import LOOKUP_LIMIT, call_twilio, created_within, look_up_twilio
from notifier.channels.twilio.channel_client import TwilioChannelClient
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings

# Twilio accepts a validity period of 1 to 36,000 seconds.
MAX_VALIDITY_SECONDS = 36_000


def validity_seconds(settings: Settings) -> int:
    """The configured SMS validity, within what Twilio accepts."""
    seconds = int(settings.sms_validity.total_seconds())
    return min(MAX_VALIDITY_SECONDS, max(1, seconds))


class TwilioSmsClient(TwilioChannelClient):
    """Sends each message as one Twilio SMS.

    Parameters:
      settings: the sender (``twilio_messaging_service_sid`` if set, else
        ``twilio_sms_from``), validity period, public URL and Twilio account.
      twilio: a Twilio REST client; by default one from :func:`build_twilio_client`.
    """

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        options: dict[str, Any] = {
            "to": address,
            "body": rendered.text,
            "status_callback": self.status_callback,
            "validity_period": validity_seconds(self.settings),
            "smart_encoded": False,
        }
        if self.settings.twilio_messaging_service_sid:
            options["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        else:
            options["from_"] = self.settings.twilio_sms_from
        created = call_twilio(
            self.twilio, lambda: self.twilio.messages.create(**options), what="SMS"
        )
        # Twilio answers "queued" (or "accepted" through a Messaging Service): taken.
        return Receipt(provider_id=str(created.sid), status="accepted")

    def find_sent(
        self, message: PlannedMessage, rendered: Rendered, address: str, *,
        between: tuple[dt.datetime, dt.datetime], taken: Callable[[str], bool],
    ) -> Receipt | None:
        """The SMS to ``address`` with this very body that Twilio created in the span."""
        options: dict[str, Any] = {"to": address, "limit": LOOKUP_LIMIT}
        if not self.settings.twilio_messaging_service_sid:
            options["from_"] = self.settings.twilio_sms_from
        latest = look_up_twilio(
            self.twilio, lambda: self.twilio.messages.list(**options), what="SMS"
        )
        for sms in latest:
            if (sms.body == rendered.text and created_within(sms.date_created, between)
                    and not taken(str(sms.sid))):
                return Receipt(provider_id=str(sms.sid), status="accepted")
        return None
