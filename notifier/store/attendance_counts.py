"""Attendance counted per clinic and month, by whether a reminder reached the patient.

Each appointment whose attendance is known (present or absent) is in exactly one count of
its clinic's outcome hash for the month of its start (in the clinic's zone):
``attendance|reached|absent``, ``attendance|unreached|present``... "Reached" means a
reminder of it was delivered (or, by email, sent): the delivery scripts mark it on the
appointment's ``reached`` hash when that happens. The same hash remembers which count the
appointment is in (``counted``), so that a corrected attendance moves it from one count
to another instead of counting it twice. Intake stages these writes with the event's
own, in the same step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from notifier.domain import Appointment, Attendance, Status
from notifier.store.keys import Keys
from notifier.store.staged_writes import StagedWrites

# A little over a year, so that a month can be set beside the same month a year before.
OUTCOMES_TTL = dt.timedelta(days=400)
KNOWN = (Attendance.PRESENT, Attendance.ABSENT)


def count_of(appointment: Appointment, *, reached: bool) -> str:
    """Which count ``appointment`` belongs in (``location|YYYY-MM|reached|absent``), or ''
    when it belongs in none (attendance unknown, or cancelled)."""
    if appointment.attendance not in KNOWN or appointment.status is not Status.BOOKED:
        return ""
    month = appointment.start_utc().astimezone(appointment.location.zone).strftime("%Y-%m")
    return "|".join((appointment.location.id, month, "reached" if reached else "unreached",
                     str(appointment.attendance)))


def stage_attendance(writes: StagedWrites, keys: Keys, appointment: Appointment,
                     tracked: Mapping[str, str], *, expire_at: dt.datetime) -> None:
    """Move ``appointment`` to the count it now belongs in, if that changed.

    Parameters:
      writes: where the commands are staged.
      keys: the deployment's key names.
      appointment: the appointment as the event leaves it.
      tracked: its ``reached`` hash as read before the event (``reached``, ``counted``).
      expire_at: when the appointment's own keys expire.
    """
    before = tracked.get("counted", "")
    now = count_of(appointment, reached=tracked.get("reached") == "1")
    if now == before:
        return
    reached_key = keys.reached(appointment.reference)
    if before:
        location, month, reach, attendance = before.split("|")
        writes.hincrby(keys.outcomes(location, month), f"attendance|{reach}|{attendance}", -1)
    if now:
        location, month, reach, attendance = now.split("|")
        outcomes = keys.outcomes(location, month)
        writes.hincrby(outcomes, f"attendance|{reach}|{attendance}", 1)
        writes.expire(outcomes, OUTCOMES_TTL)
        writes.hset(reached_key, "counted", now)
    else:
        writes.hdel(reached_key, "counted")
    writes.expireat(reached_key, expire_at)
