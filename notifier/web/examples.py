"""Example events, published in the OpenAPI schema for integrators.

``BOOKED`` is also ``config/example-event.json`` (a test keeps the two equal); the other
examples are the same appointment further along its life. All data is fictional: 555-01xx
numbers and example.org addresses.
"""

from __future__ import annotations

import copy
from typing import Any

BOOKED: dict[str, Any] = {
    "event_id": "9b2f6a3e-6c1d-4f7a-9a51-1d2c3b4a5e01",
    "type": "appointment.booked",
    "version": 1,
    "occurred_at": "2026-11-24T10:15:00-05:00",
    "appointment": {
        "reference": "1234567890",
        "start": "2027-06-15T09:30:00",
        "duration_minutes": 15,
        "professional_name": "Dre Sophie Gagnon",
        "hide_professional_name": False,
        "location": {
            "id": "clinique-plateau",
            "name": "Clinique médicale du Plateau",
            "phone": "+15145550100",
            "address": {
                "number": "4520",
                "street": "rue Saint-Denis",
                "office": "bureau 200",
                "city": "Montréal",
                "province": "QC",
                "postal_code": "H2J 2L3",
            },
            "time_zone": "America/Toronto",
            "cancellation_notice_minutes": 1440,
            "no_show_message": True,
            "custom_paragraphs": {
                "confirmation": {
                    "fr": "Présentez-vous 15 minutes avant l'heure de votre rendez-vous.",
                    "en": "Please arrive 15 minutes before your appointment time.",
                }
            },
        },
        "patient": {
            "first_name": "Camille",
            "last_name": "Tremblay",
            "language": "fr",
            "mobile_phone": "+15145550123",
            "home_phone": "+15145550124",
            "email": "camille.tremblay@example.org",
            "modes": ["email", "sms"],
            "self_serve": True,
        },
        "status": "booked",
        "attendance": "unconfirmed",
    },
}


def _later(event_id: str, version: int, event_type: str, **appointment: Any) -> dict[str, Any]:
    """The booked example at a later version, with some appointment fields changed."""
    event = copy.deepcopy(BOOKED)
    event.update(
        event_id=event_id,
        type=event_type,
        version=version,
        occurred_at=f"2026-11-24T{10 + version}:15:00-05:00",
    )
    event["appointment"].update(appointment)
    return event


_MOVED = "2027-06-16T14:00:00"

MODIFIED = _later("9b2f6a3e-6c1d-4f7a-9a51-1d2c3b4a5e02", 2, "appointment.modified", start=_MOVED)
CONTACT_CHANGED = _later(
    "9b2f6a3e-6c1d-4f7a-9a51-1d2c3b4a5e03",
    3,
    "appointment.contact_changed",
    start=_MOVED,
    patient={**BOOKED["appointment"]["patient"], "language": "en", "modes": ["sms"]},
)
# Two different endings of the same appointment, hence the same version.
CANCELLED = _later(
    "9b2f6a3e-6c1d-4f7a-9a51-1d2c3b4a5e04",
    4,
    "appointment.cancelled",
    start=_MOVED,
    status="cancelled",
)
ABSENT = _later(
    "9b2f6a3e-6c1d-4f7a-9a51-1d2c3b4a5e05",
    4,
    "appointment.attendance_changed",
    start=_MOVED,
    attendance="absent",
    attendance_set_at="2026-11-24T14:10:00-05:00",
)

# The same booking at a clinic that asks its patients to answer reminders (1 confirms, 2
# declines), the booking confirmation too, and skips the last reminder once confirmed.
BOOKED_ASKING = copy.deepcopy(BOOKED)
BOOKED_ASKING["event_id"] = "9b2f6a3e-6c1d-4f7a-9a51-1d2c3b4a5e06"
BOOKED_ASKING["appointment"]["location"]["patient_responses"] = {
    "channels": ["sms"],
    "decline": True,
    "ask_in_confirmation": True,
    "skip_reminders_when_confirmed": True,
}

# OpenAPI "examples" objects for the request body of POST /v1/events.
EVENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "booked": {
        "summary": "Appointment booked (sends a confirmation)",
        "value": BOOKED,
    },
    "booked_asking": {
        "summary": "Appointment booked at a clinic that asks patients to confirm by SMS "
                   "(patient responses)",
        "value": BOOKED_ASKING,
    },
    "modified": {
        "summary": "Appointment moved to another day (sends a modification)",
        "value": MODIFIED,
    },
    "contact_changed": {
        "summary": "Patient now wants SMS only, in English (sends a contact change)",
        "value": CONTACT_CHANGED,
    },
    "cancelled": {
        "summary": "Appointment cancelled (sends a cancellation)",
        "value": CANCELLED,
    },
    "absent": {
        "summary": "Patient marked absent (may send a no-show message a day later)",
        "value": ABSENT,
    },
}
