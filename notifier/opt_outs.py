"""Who asked us to stop: opt-out states and the changes that set them.

A state is kept per number, per sender scope (``settings.optout_scope``: one short code or
Messaging Service) and per channel: an SMS ARRET stops texts, a key pressed on a call stops
calls, and neither stops the other. Every change is recorded in an audit (time, channel,
scope, new and previous state, keyword, source, provider message id, reason); the store
is :class:`notifier.store.optouts.OptOutStore`.

Numbers are kept in E.164; they never appear in logs or error messages.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from notifier.domain import Channel, Phone
from notifier.errors import InvalidNumber
from notifier.problems import describe

# The channels a person can opt out of. Email has its own unsubscribe rules (not here).
OPT_OUT_CHANNELS = (Channel.SMS, Channel.VOICE)

OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"


class OptOutSource(enum.StrEnum):
    """Where a change came from, as recorded in the audit stream."""

    SMS_KEYWORD = "sms-keyword"
    TWILIO_21610 = "twilio-21610"
    OPERATOR = "operator"
    VOICE_KEYPRESS = "voice-keypress"


_PHONE: TypeAdapter[str] = TypeAdapter(Phone)


def e164(number: str) -> str:
    """The number in E.164 form, by the event contract's own rule (:data:`notifier.domain.Phone`).

    Raises:
      InvalidNumber: with the contract's sentence, which never repeats the number.
    """
    try:
        return _PHONE.validate_python(number)
    except ValidationError as exc:
        raise InvalidNumber(describe(exc)[0]["message"]) from None


def number_digest(scope: str, number: str) -> str:
    """What names a number's keys in Redis: a digest, never the number, because key names
    show up in operators' tools. ``scope``: the opt-out scope the number is known in."""
    return hashlib.sha256(f"{scope}:{number}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class OptOutState:
    """The latest change for one number on one channel.

    Parameters:
      opted_out: True while the number must not be contacted on the channel.
      since: when the change was made.
      source: an :class:`OptOutSource` value.
      keyword: the word the patient sent or pressed, if any.
    """

    opted_out: bool
    since: dt.datetime
    source: str
    keyword: str | None


@dataclass(frozen=True)
class AuditEntry:
    """One change, as appended to the audit stream.

    Parameters:
      id: the stream entry id (orders entries; assigned by Redis).
      at: when the change was made (the caller's ``now``).
      number: E.164.
      channel, scope: what the state applies to.
      state, previous: ``opted_out`` or ``opted_in``.
      previous_since: when the previous state began (None if it never had been set).
      keyword, source, provider_message_id, reason: why it changed.
    """

    id: str
    at: dt.datetime
    number: str
    channel: Channel
    scope: str
    state: str
    previous: str
    previous_since: dt.datetime | None
    keyword: str | None
    source: str
    provider_message_id: str | None
    reason: str | None


def opt_out_channel(channel: Channel) -> str:
    """The channel an opt-out is kept for, by name; a ValueError for any other."""
    channel = Channel(channel)
    if channel not in OPT_OUT_CHANNELS:
        raise ValueError(f"opt-outs are kept for sms and voice only, not {channel}")
    return str(channel)
