"""Events for tests, built from the sample clinic (all data fake)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from notifier.domain import Event
from notifier.messages.samples import SAMPLE_LOCATION

_ids = itertools.count(1)
ZONE = SAMPLE_LOCATION.zone


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A wall-clock time at the sample clinic, as an aware datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZONE)


def event(
    kind: str,
    *,
    version: int = 1,
    start: dt.datetime,
    at: dt.datetime,
    reference: str = "0000000001",
    modes: tuple[str, ...] = ("email", "sms", "voice"),
    language: str = "fr",
    event_id: str | None = None,
    location: dict[str, Any] | None = None,
    patient: dict[str, Any] | None = None,
    **appointment: Any,
) -> Event:
    """An event of ``kind`` (booked, modified, cancelled, ...) at ``at``; ``patient``
    overrides the patient's fields. Checked by the contract without the destination
    policy, as an appointment stored before a change of policy was."""
    data = {
        "event_id": event_id or f"test-{next(_ids)}",
        "type": f"appointment.{kind}",
        "version": version,
        "occurred_at": at.isoformat(),
        "appointment": {
            "reference": reference,
            "start": start.astimezone(ZONE).replace(tzinfo=None).isoformat(),
            "duration_minutes": 15,
            "professional_name": "Dre Catherine Roy",
            "location": location or SAMPLE_LOCATION.model_dump(mode="json"),
            "patient": {
                "first_name": "Émilie",
                "last_name": "Tremblay",
                "language": language,
                "mobile_phone": "+15145550188",
                "home_phone": "+15145550199",
                "email": "emilie.tremblay@example.org",
                "modes": list(modes),
                **(patient or {}),
            },
            "status": "cancelled" if kind == "cancelled" else "booked",
            **appointment,
        },
    }
    return Event.model_validate(data)


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta

    def set(self, now: dt.datetime) -> None:
        self.now = now.astimezone(dt.UTC)
