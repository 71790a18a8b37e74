"""Planning: what one appointment event changes in the schedule.

The rules: a confirmation, modification, contact change or cancellation goes now, by
every mode the patient chose, unless the start is past; reminders fall due at
``NOTIFIER_REMINDER_OFFSETS`` before the start (3 and 1 days), recomputed from the
appointment on every event, never for a cancelled appointment nor later than
``NOTIFIER_REMINDER_MIN_LEAD`` before the start; a no-show message goes
``NOTIFIER_NO_SHOW_DELAY`` to ``NOTIFIER_NO_SHOW_DEADLINE`` (24 to 48 h) after attendance
became absent, if the location wants it. ``docs/architecture.md`` maps each
rule to its module.

:func:`plan_event` is a pure function of the stored state, the appointment's pending
schedule slots, the event, the settings and the time. It never sends anything: it says
which messages to schedule (each already placed inside its channel's sending window),
which pending slots to withdraw, and which messages it decided against and why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from notifier.domain import Appointment, Attendance, Channel, Event, EventType, Kind, Status
from notifier.planning.entries import (
    AppointmentState,
    Plan,
    PlannedMessage,
    Skipped,
    pending_key,
)
from notifier.planning.reasons import Reason
from notifier.sending_window import place_in_window
from notifier.settings import Settings

_IMMEDIATE = {
    EventType.BOOKED: Kind.CONFIRMATION,
    EventType.MODIFIED: Kind.MODIFICATION,
    EventType.CONTACT_CHANGED: Kind.CONTACT_CHANGE,
    EventType.CANCELLED: Kind.CANCELLATION,
}


@dataclass(frozen=True)
class Ignored:
    """An event that is not applied at all.

    Parameters:
      reason: why (:attr:`Reason.STALE_VERSION`).
      stored_version: the version the gateway holds, for the booking system to see.
    """

    reason: Reason
    stored_version: int


def plan_event(
    previous: AppointmentState | None,
    pending: frozenset[str],
    event: Event,
    settings: Settings,
    now: dt.datetime,
) -> Plan | Ignored:
    """Apply ``event`` to ``previous`` and say what to schedule and withdraw.

    Parameters:
      previous: the stored state of the appointment, or None when first seen.
      pending: the appointment's schedule slots (:attr:`PlannedMessage.slot`) still waiting.
      event: the validated event.
      settings: offsets, windows, delays.
      now: the current time (aware).
    """
    if previous is not None and event.version <= previous.version:
        return Ignored(Reason.STALE_VERSION, previous.version)
    state = next_state(previous, event)
    hide_changed = previous is not None and (
        event.appointment.hide_professional_name != previous.appointment.hide_professional_name
    )
    planner = _Planner(state, previous, pending, settings, now.astimezone(dt.UTC), hide_changed)
    kind = _IMMEDIATE.get(event.type)
    was_cancelled = previous is not None and previous.appointment.status is Status.CANCELLED
    if state.appointment.status is Status.CANCELLED and not was_cancelled:
        # However the booking system says it (a cancelled event, or a cancelled status in a
        # modification or contact change), the patient is told of a cancellation.
        kind = Kind.CANCELLATION
    if kind is not None:
        planner.immediate(kind)
    planner.reminders()
    planner.no_show()
    return planner.plan()


def next_state(previous: AppointmentState | None, event: Event) -> AppointmentState:
    """The state to store once ``event`` is applied (its version is assumed newer).

    Two things keep their value from the first time the appointment was seen, as in
    Rendez-vous santé Québec's clinic guide: the cancellation notice (so
    ``cancel_closes_at`` moves with the start but not with a new location or a changed
    policy) and the hide-professional-name option (a new location's different option is
    ignored).
    """
    appointment = event.appointment
    if previous is None:
        notice = dt.timedelta(minutes=appointment.location.cancellation_notice_minutes)
        before = Attendance.UNCONFIRMED
        set_before = None
    else:
        notice = previous.appointment.start_utc() - previous.cancel_closes_at
        hide = previous.appointment.hide_professional_name
        if appointment.hide_professional_name != hide:
            appointment = appointment.model_copy(update={"hide_professional_name": hide})
        before = previous.appointment.attendance
        set_before = previous.attendance_set_at
    if appointment.attendance_set_at is not None:
        set_at: dt.datetime | None = appointment.attendance_set_at.astimezone(dt.UTC)
    elif appointment.attendance != before:
        set_at = event.occurred_at.astimezone(dt.UTC)
    else:
        set_at = set_before
    return AppointmentState(
        appointment=appointment,
        version=event.version,
        cancel_closes_at=appointment.start_utc() - notice,
        attendance_set_at=set_at,
        planned={} if previous is None else previous.planned,
    )


def reminder_due(start: dt.datetime, offset: dt.timedelta, zone: dt.tzinfo) -> dt.datetime:
    """When a reminder ``offset`` before ``start`` is due, in UTC.

    Whole days are counted on the location's calendar, so "3 days before 09:00" is 09:00
    local even across a daylight-saving change; any remainder is elapsed time.
    """
    days = dt.timedelta(days=offset.days)
    local = start.astimezone(zone).replace(tzinfo=None) - days
    return local.replace(tzinfo=zone).astimezone(dt.UTC) - (offset - days)


def slot_kind_channel(slot: str) -> tuple[Kind, Channel] | None:
    """The kind and channel named in a schedule slot (``reference:kind:channel[:offset]``)."""
    parts = slot.split(":")
    try:
        return Kind(parts[1]), Channel(parts[2])
    except (IndexError, ValueError):
        return None


@dataclass
class _Planner:
    """Collects what one event plans for one appointment.

    Parameters:
      state: the new state.
      previous: the stored state before the event (None when first seen).
      pending: the appointment's slots still waiting.
      settings: the deployment's settings.
      now: the current time, in UTC.
      hide_changed: whether the event changed the hide-professional-name option (which
        the state ignores).
    """

    state: AppointmentState
    previous: AppointmentState | None
    pending: frozenset[str]
    settings: Settings
    now: dt.datetime
    hide_changed: bool
    upserts: list[PlannedMessage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    _no_address: set[tuple[Kind, Channel]] = field(default_factory=set)

    @property
    def appointment(self) -> Appointment:
        return self.state.appointment

    def plan(self) -> Plan:
        planned = dict(self.state.planned)
        planned.update({m.slot: m.version for m in self.upserts if m.kind is not Kind.REMINDER})
        removals = self._removals()
        return Plan(
            state=dataclasses.replace(self.state, planned=planned),
            upserts=tuple(self.upserts),
            removals=removals,
            skipped=tuple(self.skipped),
            withdrawn=self._withdrawn(removals),
        )

    # -- messages sent now: confirmation, modification, contact change, cancellation --

    def immediate(self, kind: Kind) -> None:
        reason = self._why_not_immediate(kind)
        if reason is not None:
            self._skip(kind, None, reason)
            return
        start = self.appointment.start_utc()
        for channel in self._channels(kind):
            confirmation = self._slot(Kind.CONFIRMATION, channel)
            if kind is Kind.MODIFICATION and confirmation in self.pending:
                # The confirmation is rendered when it leaves, from the current appointment.
                self._skip(kind, channel, Reason.CONFIRMATION_PENDING)
                continue
            self._place(kind, channel, due=self.now, deadline=start)

    def _why_not_immediate(self, kind: Kind) -> Reason | None:
        previous = None if self.previous is None else self.previous.appointment
        was_cancelled = previous is not None and previous.status is Status.CANCELLED
        if kind is Kind.CANCELLATION and was_cancelled:
            return Reason.ALREADY_CANCELLED
        if kind is not Kind.CANCELLATION and self.appointment.status is Status.CANCELLED:
            return Reason.CANCELLED
        if self.appointment.start_utc() <= self.now:
            return Reason.START_IN_PAST
        if previous is None or was_cancelled:
            return None
        if kind is Kind.CONTACT_CHANGE and _contact(previous) == _contact(self.appointment):
            return Reason.CONTACT_UNCHANGED
        if kind in (Kind.CONFIRMATION, Kind.MODIFICATION) and (
            previous.what_patient_sees() == self.appointment.what_patient_sees()
        ):
            if self.hide_changed:
                return Reason.HIDE_NAME_ONLY
            return Reason.NOTHING_VISIBLE_CHANGED
        return None

    # -- reminders: recomputed from the current state on every event --

    def reminders(self) -> None:
        appointment = self.appointment
        start = appointment.start_utc()
        if appointment.status is Status.CANCELLED or start <= self.now:
            return
        moved = self.previous is not None and self.previous.appointment.start_utc() != start
        deadline = start - self.settings.reminder_min_lead
        zone = appointment.location.zone
        for offset in self.settings.reminder_offsets:
            on_time = reminder_due(start, offset, zone)
            seconds = int(offset.total_seconds())
            for channel in self._channels(Kind.REMINDER):
                # Outside the channel's hours, send earlier the same day rather than the
                # next morning, which could be the day of the appointment itself.
                earlier = self.settings.window(channel).last_call(on_time, zone)
                due = earlier if earlier is not None and earlier > self.now else on_time
                if due > self.now:
                    self._place(Kind.REMINDER, channel, due=due, deadline=deadline,
                                offset_seconds=seconds)
                elif not moved and self._slot(Kind.REMINDER, channel, seconds) in self.pending:
                    # Due already but still waiting (for its window): keep it, re-planned
                    # for this version so the send step does not take it as stale.
                    self._place(Kind.REMINDER, channel, due=self.now, deadline=deadline,
                                offset_seconds=seconds)
                elif moved:
                    self._skip(Kind.REMINDER, channel, Reason.REMINDER_TIME_PASSED)
                # Otherwise it was sent already, or the appointment was booked less than
                # the offset ahead: the confirmation covers it.

    # -- no-show awareness message, 24 to 48 h after attendance was set to absent --

    def no_show(self) -> None:
        if not self._became_absent():
            return
        location = self.appointment.location
        if not location.no_show_message:
            self._skip(Kind.NO_SHOW, None, Reason.NO_SHOW_DISABLED)
            return
        set_at = self.state.attendance_set_at
        assert set_at is not None, "next_state sets it whenever attendance changes"
        for channel in self._channels(Kind.NO_SHOW):
            self._place(
                Kind.NO_SHOW,
                channel,
                due=max(set_at + self.settings.no_show_delay, self.now),
                deadline=set_at + self.settings.no_show_deadline,
            )

    def _became_absent(self) -> bool:
        if self.appointment.attendance is not Attendance.ABSENT:
            return False
        previous = self.previous
        return (
            previous is None
            or previous.appointment.attendance is not Attendance.ABSENT
            or previous.attendance_set_at != self.state.attendance_set_at
        )

    # -- withdrawals --

    def _removals(self) -> frozenset[str]:
        """Pending slots that no longer apply; a slot planned again is replaced, not removed."""
        planned = {message.slot for message in self.upserts}
        channels = set(self.appointment.channels())
        cancelled = self.appointment.status is Status.CANCELLED
        absent = self.appointment.attendance is Attendance.ABSENT
        removals = set()
        for slot in self.pending - planned:
            parsed = slot_kind_channel(slot)
            if parsed is None:
                continue
            kind, channel = parsed
            if (
                channel not in channels
                or kind is Kind.REMINDER  # recomputed above: not planned again = obsolete
                or (cancelled and kind is not Kind.CANCELLATION)
                or (not cancelled and kind is Kind.CANCELLATION)
                or (kind is Kind.NO_SHOW and not absent)
            ):
                removals.add(slot)
        return frozenset(removals)

    def _withdrawn(self, removals: frozenset[str]) -> tuple[str, ...]:
        """The keys of the pending messages taken back: removed, or replaced in their slot
        by a message under another key (a booking system saw them scheduled)."""
        if self.previous is None:
            return ()
        keys = {message.slot: message.key for message in self.upserts}
        gone = []
        for slot in sorted(self.pending & (removals | keys.keys())):
            key = pending_key(self.previous, slot)
            if key is not None and key != keys.get(slot):
                gone.append(key)
        return tuple(gone)

    # -- helpers --

    def _channels(self, kind: Kind) -> Iterator[Channel]:
        """The channels to plan ``kind`` on; a chosen mode without its address is reported."""
        patient = self.appointment.patient
        for channel in Channel:
            if channel not in patient.modes:
                continue
            if patient.address_for(channel):
                yield channel
            elif (kind, channel) not in self._no_address:
                self._no_address.add((kind, channel))
                self._skip(kind, channel, Reason.NO_ADDRESS)

    def _place(
        self,
        kind: Kind,
        channel: Channel,
        *,
        due: dt.datetime,
        deadline: dt.datetime,
        offset_seconds: int | None = None,
    ) -> None:
        window = self.settings.window(channel)
        send_at = place_in_window(due, deadline, window, self.appointment.location.zone)
        if send_at is None:
            self._skip(kind, channel, Reason.OUTSIDE_WINDOW)
            return
        self.upserts.append(
            PlannedMessage(
                reference=self.appointment.reference,
                kind=kind,
                channel=channel,
                version=self.state.version,
                send_at=send_at,
                deadline=deadline.astimezone(dt.UTC),
                start=self.appointment.start_utc(),
                offset_seconds=offset_seconds,
            )
        )

    def _slot(self, kind: Kind, channel: Channel, offset_seconds: int | None = None) -> str:
        return PlannedMessage(
            reference=self.appointment.reference,
            kind=kind,
            channel=channel,
            version=self.state.version,
            send_at=self.now,
            deadline=self.now,
            start=self.now,
            offset_seconds=offset_seconds,
        ).slot

    def _skip(self, kind: Kind, channel: Channel | None, reason: Reason) -> None:
        self.skipped.append(
            Skipped(self.appointment.reference, kind, channel, reason, self.state.version)
        )


def _contact(appointment: Appointment) -> tuple[object, ...]:
    """How the patient is reached: a change is a *contact change*."""
    patient = appointment.patient
    return (patient.mobile_phone, patient.home_phone, patient.email, patient.modes,
            patient.language)
