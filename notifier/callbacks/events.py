"""The public JSON body of a callback, built from a callback log entry. Pure: no Redis, no
clock.

A body names its fields one by one (an allowlist): a field the log gains later reaches no
integrator until it is added here on purpose. ``message.*`` events never carry a name, a
phone number, an email address or a message's text; only ``contact.*`` events carry the
address they are about.

``appointment.patient_confirmed`` / ``appointment.patient_declined`` carry the appointment,
the version asked, the answer, how and when, and the log's sequence; ``reply.unmatched``
the location and the appointments asked about: never the number or what the patient wrote.

Every field is present in every body of its kind, ``null`` when it has no value, so that a
receiver's schema does not depend on the event; a ``contact.*`` event names the message
that caused it (``message_id``, ``reference``) only when one did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TypeVar

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.errors import MalformedLogEntry
from notifier.integrators.model import (
    CONTACT_EVENTS,
    MESSAGE_EVENTS,
    REPLY_EVENTS,
    RESPONSE_EVENTS,
)
from notifier.public_status import UNDELIVERABLE, public_reason, public_status
from notifier.store.callback_log import LogEntry

T = TypeVar("T")


def callback_event(entry: LogEntry) -> dict[str, object]:
    """The public body of ``entry``: ``{"id", "type", "timestamp", "data"}``.

    Parameters:
      entry: a callback log entry of one of the types in
        :data:`notifier.integrators.model.EVENT_TYPES`.

    Raises :class:`MalformedLogEntry` when the entry is not one the log's writers produce.
    """
    fields = _Fields(entry)
    kind = fields.required("type")
    if kind in MESSAGE_EVENTS:
        data = _message_data(fields)
    elif kind in CONTACT_EVENTS:
        data = _contact_data(fields)
    elif kind in RESPONSE_EVENTS:
        data = _response_data(fields)
    elif kind in REPLY_EVENTS:
        data = _reply_data(fields)
    else:
        raise MalformedLogEntry(f"callback log entry {entry.id}: unknown type")
    return {"id": f"evt_{entry.id}", "type": kind, "timestamp": fields.required("at"),
            "data": data}


def callback_events(entry: LogEntry) -> list[dict[str, object]]:
    """Every public event ``entry`` tells: its own, and, for a message that failed because
    of its address (see :data:`notifier.public_status.UNDELIVERABLE`), a
    ``contact.undeliverable`` naming the address to fix (its id the entry's own plus
    ``.contact``)."""
    event = callback_event(entry)
    data = event["data"]
    assert isinstance(data, dict)
    address = entry.fields.get("address")
    if event["type"] != "message.failed" or not address or data["reason"] not in UNDELIVERABLE:
        return [event]
    undeliverable = {
        "address": address, "channel": data["channel"], "source": "provider",
        "reason": data["reason"], "provider_code": data["provider_code"],
        "message_id": data["message_id"], "reference": data["reference"],
    }
    return [event, {"id": f"{event['id']}.contact", "type": "contact.undeliverable",
                    "timestamp": event["timestamp"], "data": undeliverable}]


def body_bytes(event: Mapping[str, object]) -> bytes:
    """``event`` as the bytes posted and signed: compact JSON in UTF-8, written once and
    sent as is on every attempt."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def _message_data(fields: _Fields) -> dict[str, object]:
    status = fields.parsed("status", DeliveryStatus)
    channel = fields.parsed("channel", Channel)
    error_code = fields.optional("error_code")
    return {
        "message_id": fields.required("key"),
        "reference": fields.required("reference"),
        # A message suppressed because its appointment is gone knows neither.
        "location_id": fields.optional("location"),
        "kind": fields.required("kind"),
        "channel": str(channel),
        "language": fields.optional("lang"),
        "status": str(public_status(status)),
        "reason": public_reason(status, reason=fields.optional("reason"),
                                error_code=error_code, channel=channel),
        "provider_code": error_code,
        # A message suppressed or failed before any attempt has none.
        "attempts": fields.parsed("attempts", int) if fields.optional("attempts") else 0,
        "sequence": fields.sequence,
        "created_at": fields.required("created_at"),
        "updated_at": fields.required("at"),
    }


def _contact_data(fields: _Fields) -> dict[str, object]:
    data: dict[str, object] = {
        "address": fields.required("address"),
        "channel": str(fields.parsed("channel", Channel)),
        "source": fields.required("source"),
    }
    cause = {"message_id": fields.optional("key"), "reference": fields.optional("reference")}
    data.update((name, value) for name, value in cause.items() if value is not None)
    return data


def _response_data(fields: _Fields) -> dict[str, object]:
    return {
        "reference": fields.required("reference"),
        "location_id": fields.required("location"),
        "version": fields.parsed("version", int),
        "response": fields.required("response"),
        "channel": str(fields.parsed("channel", Channel)),
        "answered_at": fields.required("at"),
        "past_cancellation_deadline": fields.required("late") == "1",
        # Answers to one appointment may arrive out of order, as messages' changes may:
        # the highest sequence is the stored answer (answered_at follows the web
        # process's clock at the request, not the order answers were recorded in).
        "sequence": fields.sequence,
    }


def _reply_data(fields: _Fields) -> dict[str, object]:
    return {
        "location_id": fields.required("location"),
        "references": [r for r in fields.required("references").split(",") if r],
        "channel": str(fields.parsed("channel", Channel)),
        "received_at": fields.required("at"),
    }


class _Fields:
    """An entry's fields, read one at a time; a missing or wrong one raises
    :class:`MalformedLogEntry` naming the field."""

    def __init__(self, entry: LogEntry) -> None:
        self._id = entry.id
        self._fields = entry.fields
        self._entry = entry

    @property
    def sequence(self) -> int:
        try:
            return self._entry.sequence
        except ValueError:
            raise MalformedLogEntry(f"callback log entry {self._id}: its id is not valid") from None

    def optional(self, name: str) -> str | None:
        """The field, or None when it is absent or empty."""
        return self._fields.get(name) or None

    def required(self, name: str) -> str:
        value = self._fields.get(name)
        if value is None:
            raise MalformedLogEntry(f"callback log entry {self._id}: no {name} field")
        return value

    def parsed(self, name: str, parse: Callable[[str], T]) -> T:
        value = self.required(name)
        try:
            return parse(value)
        except ValueError:
            raise MalformedLogEntry(f"callback log entry {self._id}: {name} is not valid") from None
