"""What an integrator and its callback endpoints are. Pure: no Redis, no clock."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

# The callback event types a booking system can subscribe to.
MESSAGE_EVENTS = ("message.sent", "message.delivered", "message.failed", "message.suppressed")
CONTACT_EVENTS = ("contact.opted_out", "contact.opted_in", "contact.undeliverable")
# A patient's answer to a question (patient responses), and a text that answered none.
RESPONSE_EVENTS = ("appointment.patient_confirmed", "appointment.patient_declined")
REPLY_EVENTS = ("reply.unmatched",)
EVENT_TYPES = (*MESSAGE_EVENTS, *CONTACT_EVENTS, *RESPONSE_EVENTS, *REPLY_EVENTS)


@dataclass(frozen=True)
class Integrator:
    """One booking system.

    Parameters:
      id: a short stable name (lowercase letters, digits and dashes).
      name: what operators call it.
      locations: the location ids it may act for; its token posts events, reads statuses
        and receives callbacks for these only.
      created_at: when it was added.
    """

    id: str
    name: str
    locations: frozenset[str]
    created_at: dt.datetime

    def may_act_for(self, location: str) -> bool:
        return location in self.locations


class EndpointState(enum.StrEnum):
    """Whether an endpoint receives callbacks."""

    ACTIVE = "active"
    # It answered 410 Gone: nothing is sent until an operator or its integrator enables it.
    DISABLED = "disabled"
    # It kept failing for days: a test event that it accepts makes it active again.
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Endpoint:
    """Where an integrator receives its callbacks.

    Parameters:
      id: its id (``ep_`` and random letters).
      integrator: the id of the integrator it belongs to.
      url: an https URL.
      types: the event types it subscribes to (a subset of :data:`EVENT_TYPES`).
      secrets: the ``whsec_`` secrets it signs with, the newest first; two during a
        rotation's overlap.
      state: whether it receives callbacks.
    """

    id: str
    integrator: str
    url: str
    types: frozenset[str]
    secrets: tuple[str, ...]
    state: EndpointState = EndpointState.ACTIVE

    def wants(self, event_type: str) -> bool:
        return self.state is EndpointState.ACTIVE and event_type in self.types
