"""Texts from patients' phones, posted to the gateway's incoming-message webhook as Twilio
posts them: form-encoded, signed with the fake Twilio account's auth token over the public
URL, each with its own MessageSid and ``I-Twilio-Idempotency-Token``. A redelivery
(:meth:`IncomingTexts.deliver` again with the same :class:`IncomingText`) repeats both, as
Twilio does when a webhook got no 200.

Typical use::

    texts = IncomingTexts(fake_twilio, gateway_url=f"http://127.0.0.1:{web.port}",
                          public_base_url=PUBLIC, to=SMS_FROM)
    answer = texts.send("+15145550111", "1")
    assert answer.status == 200 and answer.reply == "..."
"""

from __future__ import annotations

import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import httpx

from notifier.web.inbound import PATH
from tests.fakes.twilio_server import API_VERSION, FakeTwilio


@dataclass(frozen=True)
class IncomingText:
    """One text as Twilio knows it: what a redelivery repeats.

    Parameters:
      number: who sent it.
      body: what they wrote.
      sid: its MessageSid.
      token: the idempotency token of its deliveries.
    """

    number: str
    body: str
    sid: str
    token: str


@dataclass(frozen=True)
class Delivery:
    """One delivery of a text to the gateway and its answer.

    Parameters:
      text: the text delivered.
      status: the HTTP status answered; None when no answer came (refused connection,
        timeout, connection closed).
      reply: the text of the TwiML answer's ``<Message>``; None for an empty
        ``<Response/>`` or no 200.
      started, ended: when the request left and when its answer (or failure) came, epoch
        seconds.
    """

    text: IncomingText
    status: int | None
    reply: str | None
    started: float
    ended: float

    @property
    def ok(self) -> bool:
        return self.status == 200


def twiml_reply(body: str) -> str | None:
    """The ``<Message>`` text of a TwiML answer (at most one), or None when empty."""
    root = ET.fromstring(body)
    if root.tag != "Response":
        raise ValueError(f"not TwiML: {body[:200]!r}")
    messages = [element.text or "" for element in root.iter("Message")]
    if len(messages) > 1:
        raise ValueError(f"more than one <Message> in {body[:200]!r}")
    return messages[0] if messages else None


class IncomingTexts:
    """Posts patients' texts to one gateway web process.

    Parameters:
      twilio: the fake Twilio whose account signs them.
      gateway_url: where the web process listens (``http://127.0.0.1:<port>``).
      public_base_url: the gateway's public URL, the one Twilio signs.
      to: the gateway's own number (where patients text).
      timeout: seconds a delivery waits for its answer (Twilio waits 15).
    """

    def __init__(
        self, twilio: FakeTwilio, *, gateway_url: str, public_base_url: str, to: str,
        timeout: float = 15.0,
    ) -> None:
        self.twilio = twilio
        self.url = public_base_url.rstrip("/") + PATH
        self.to = to
        self.http = httpx.Client(base_url=gateway_url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> IncomingTexts:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def new(number: str, body: str) -> IncomingText:
        """A text not yet delivered, with a fresh MessageSid and idempotency token."""
        return IncomingText(number, body, "SM" + secrets.token_hex(16), secrets.token_hex(16))

    def send(self, number: str, body: str) -> Delivery:
        """Deliver a new text once."""
        return self.deliver(self.new(number, body))

    def deliver(self, text: IncomingText, *, gateway_url: str | None = None) -> Delivery:
        """Post ``text`` (again, for a redelivery), to ``gateway_url`` when given (another
        web process behind the same public URL)."""
        params = {
            "AccountSid": self.twilio.account_sid, "ApiVersion": API_VERSION,
            "MessageSid": text.sid, "SmsSid": text.sid, "SmsMessageSid": text.sid,
            "From": text.number, "To": self.to, "Body": text.body, "NumMedia": "0",
            "NumSegments": "1",
        }
        headers = {"X-Twilio-Signature": self.twilio.sign(self.url, params),
                   "I-Twilio-Idempotency-Token": text.token}
        target = PATH if gateway_url is None else gateway_url.rstrip("/") + PATH
        started = time.time()
        try:
            answer = self.http.post(target, data=params, headers=headers)
        except httpx.TransportError:
            return Delivery(text, None, None, started, time.time())
        reply = twiml_reply(answer.text) if answer.status_code == 200 else None
        return Delivery(text, answer.status_code, reply, started, time.time())
