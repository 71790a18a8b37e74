"""What a Dramatiq message of the gateway is about, in words safe to show anywhere.

A message's arguments hold patients' names, numbers, emails (and, in a careless
integrator's event, clinical text): logs, dead-letter listings and the operators' audit
show this summary instead. Each value is kept only when it has the shape the contract
gives it (a send key, an event id, a ten-digit reference), so a malformed message shows
less rather than what it carries.
"""

from __future__ import annotations

import re
from typing import Any

from notifier.domain import EventType
from notifier.names import INTAKE_ACTOR, SEND_ACTOR, SEND_EXHAUSTED_ACTOR
from notifier.planning.entries import PlannedMessage

_EVENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_REFERENCE = re.compile(r"^[0-9]{10}$")
_EVENT_TYPES = frozenset(str(t) for t in EventType)


def message_summary(actor: str, args: Any) -> dict[str, str]:
    """What a message for ``actor`` with arguments ``args`` is about.

    ``send_message``: its send key, reference, kind and channel (``send_exhausted``: those
    of the send it gave up on); ``intake_event``: its event id, type and reference.
    Empty when the arguments do not have the expected shape.
    """
    first = args[0] if isinstance(args, list | tuple) and args else None
    if not isinstance(first, dict):
        return {}
    if actor == SEND_EXHAUSTED_ACTOR:  # (the failed message as a dict, retry counts)
        return message_summary(SEND_ACTOR, first.get("args"))
    if actor == SEND_ACTOR:
        try:
            message = PlannedMessage.from_dict(first)
        except (KeyError, ValueError, TypeError, AssertionError):
            return {}
        return {"key": message.key, "reference": message.reference,
                "kind": str(message.kind), "channel": str(message.channel)}
    if actor == INTAKE_ACTOR:
        found: dict[str, str] = {}
        event_id = first.get("event_id")
        if isinstance(event_id, str) and _EVENT_ID.match(event_id):
            found["event_id"] = event_id
        kind = first.get("type")
        if kind in _EVENT_TYPES:
            found["type"] = str(kind)
        appointment = first.get("appointment")
        reference = appointment.get("reference") if isinstance(appointment, dict) else None
        if isinstance(reference, str) and _REFERENCE.match(reference):
            found["reference"] = reference
        return found
    return {}


def message_label(actor: str, message_id: str, args: Any) -> str:
    """One message in a line of text: ``intake_event(<id>; event_id=..., reference=...)``."""
    about = ", ".join(f"{name}={value}" for name, value in message_summary(actor, args).items())
    return f"{actor}({message_id}; {about})" if about else f"{actor}({message_id})"
