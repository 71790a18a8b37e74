"""``notifier simulate FILE``: play a timeline of events on a simulated clock.

The timeline is JSON Lines, one ``{"at": "<ISO time with offset>", "event": {...}}`` per
line (an optional ``"note"`` is for the reader). Events go through the same pure core as
the running gateway (:func:`plan_event`, :func:`decide_at_send`, the catalogue's
``render``); only the store is an in-memory stand-in for the Redis one, with the same
rules: a plan's upserts replace a slot, its removals withdraw slots, and each send key
goes out at most once. The report says, in time order, what was sent (recipients masked)
and what was decided against, and why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from notifier.arrival import Arrival
from notifier.bilingual import Bilingual
from notifier.domain import Appointment, Channel, Event, Kind, Lang
from notifier.errors import SmsOverBudget, TimelineError
from notifier.planning.entries import AppointmentState, Plan, PlannedMessage
from notifier.planning.plan import plan_event
from notifier.planning.reasons import Reason, describe
from notifier.planning.send_check import Defer, Drop, decide_at_send
from notifier.privacy import mask_address
from notifier.settings import Settings

EXIT_OK = 0
EXIT_INVALID = 2


class SimulatedOutcome(enum.StrEnum):
    """What a report line says happened."""

    EVENT = "event"
    IGNORED = "ignored"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"
    DROPPED = "dropped"
    SENT = "sent"


_OUTCOME_WORDS = {
    SimulatedOutcome.EVENT: Bilingual("événement", "event"),
    SimulatedOutcome.IGNORED: Bilingual("ignoré", "ignored"),
    SimulatedOutcome.SKIPPED: Bilingual("écarté", "skipped"),
    SimulatedOutcome.WITHDRAWN: Bilingual("retiré", "withdrawn"),
    SimulatedOutcome.DROPPED: Bilingual("abandonné", "dropped"),
    SimulatedOutcome.SENT: Bilingual("envoyé", "sent"),
}


class RenderedText(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def subject(self) -> str | None: ...


Renderer = Callable[[Kind, Channel, AppointmentState, Settings, dt.datetime], RenderedText]


class TimedEvent(BaseModel):
    """One timeline line: the event, and when the gateway receives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    event: Event
    note: str | None = None


@dataclass(frozen=True)
class Record:
    """One line of the report.

    Parameters:
      at: when it happened (UTC).
      local: the same instant at the appointment's location.
      outcome: event received, event ignored, message skipped at planning, withdrawn from
        the schedule, dropped at send time, or sent.
      reference: the appointment's reference number.
      kind, channel: the message (kind is None for an event line; channel is None when a
        decision covers every channel).
      lang: the patient's language.
      reason: the reason code when something was decided against or ignored.
      event: for an event line, its type and version (``appointment.booked v1``).
      recipient: the masked address a message was sent to.
      text: what the patient read: an email's subject, an SMS or a voice call's text.
    """

    at: dt.datetime
    local: dt.datetime
    outcome: SimulatedOutcome
    reference: str
    kind: Kind | None
    channel: Channel | None
    lang: Lang
    reason: Reason | None = None
    event: str | None = None
    recipient: str | None = None
    text: str | None = None


def _line_error(number: int, exc: ValidationError, *, within: str | None = None) -> TimelineError:
    first = exc.errors()[0]
    where = first["loc"] if within is None else (within, *first["loc"])
    return TimelineError(number, _dotted(where), first["msg"].removeprefix("Value error, "))


def load_timeline(lines: Iterable[str]) -> list[TimedEvent]:
    """Parse and check a timeline; raises :class:`TimelineError` on the first bad line."""
    timeline: list[TimedEvent] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TimelineError(
                number, "", f"not valid JSON ({exc.msg}, column {exc.colno})"
            ) from None
        try:
            item = TimedEvent.model_validate(data)
        except ValidationError as exc:
            raise _line_error(number, exc) from None
        if timeline and item.at < timeline[-1].at:
            raise TimelineError(number, "at", "is earlier than the line before; keep time order")
        try:
            # As the gateway would: the event's dates against the time it is received.
            Event.model_validate(data["event"], context=Arrival(item.at))
        except ValidationError as exc:
            raise _line_error(number, exc, within="event") from None
        timeline.append(item)
    return timeline


def simulate(
    timeline: Sequence[TimedEvent], settings: Settings, *, render: Renderer | None = None
) -> list[Record]:
    """Play ``timeline`` and return the report, in time order.

    Parameters:
      timeline: events in time order (see :func:`load_timeline`).
      settings: the deployment's settings.
      render: how to render a message; the catalogue's ``render`` by default.
    """
    if render is None:
        from notifier.messages.catalogue import render as catalogue_render

        render = catalogue_render
    return _Simulation(settings, render).play(timeline)


def run(path: Path, settings: Settings, out: TextIO, *, lang: Lang = Lang.EN,
        err: TextIO | None = None) -> int:
    """``notifier simulate FILE``: print the report of a timeline file; the exit code.

    Parameters:
      path: the JSON Lines timeline.
      settings: the deployment's settings.
      out: where the report goes.
      lang: the language of the report's words and reasons.
      err: where a problem with the file goes (standard error by default).
    """
    err = err if err is not None else sys.stderr
    try:
        with path.open(encoding="utf-8") as lines:
            timeline = load_timeline(lines)
    except OSError as exc:
        print(f"{path}: cannot read it ({exc.strerror})", file=err)
        return EXIT_INVALID
    except UnicodeDecodeError:
        print(f"{path}: not UTF-8 text", file=err)
        return EXIT_INVALID
    except TimelineError as exc:
        print(f"{path}: {exc}", file=err)
        return EXIT_INVALID
    for record in simulate(timeline, settings):
        print(format_record(record, lang), file=out)
    return EXIT_OK


def format_record(record: Record, lang: Lang) -> str:
    """One report line: local time, UTC, what, then the text sent or the reason."""
    when = f"{record.local:%Y-%m-%d %H:%M %Z} ({record.at:%H:%M} UTC)"
    what = " ".join(
        (
            f"{_OUTCOME_WORDS[record.outcome][lang]:<10}",
            f"{record.kind or '':<14}",
            f"{record.channel or '':<5}",
            str(record.lang),
            f"#{record.reference}",
        )
    )
    if record.outcome is SimulatedOutcome.EVENT:
        return f"{when}  {what}  {record.event}"
    if record.outcome is SimulatedOutcome.SENT:
        text = (record.text or "").replace("\r\n", "\n").replace("\n", " ⏎ ")
        return f"{when}  {what}  {record.recipient}  {text}"
    assert record.reason is not None
    return f"{when}  {what}  {record.reason}: {describe(record.reason, lang)}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


@dataclass
class _Store:
    """An in-memory stand-in for the Redis store, with its semantics.

    Parameters:
      states: the stored state of each appointment, by reference.
      pending: planned messages waiting, by slot.
      sent: the send keys already used (a key is sent at most once).
      events: the event ids already accepted.
    """

    states: dict[str, AppointmentState] = field(default_factory=dict)
    pending: dict[str, PlannedMessage] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)

    def pending_slots(self, reference: str) -> frozenset[str]:
        return frozenset(m.slot for m in self.pending.values() if m.reference == reference)

    def apply(self, plan: Plan) -> None:
        self.states[plan.state.appointment.reference] = plan.state
        for slot in plan.removals:
            self.pending.pop(slot, None)
        for message in plan.upserts:
            self.pending[message.slot] = message

    def take_due(self, before: dt.datetime | None) -> PlannedMessage | None:
        """Take the earliest pending message due strictly before ``before`` (any if None)."""
        if not self.pending:
            return None
        first = min(self.pending.values(), key=lambda m: (m.send_at, m.slot))
        if before is not None and first.send_at >= before:
            return None
        return self.pending.pop(first.slot)

    def defer(self, message: PlannedMessage, until: dt.datetime) -> None:
        # As in Redis: a deferred message comes back only if no newer plan took its slot.
        self.pending.setdefault(message.slot, dataclasses.replace(message, send_at=until))


@dataclass
class _Simulation:
    settings: Settings
    render: Renderer
    store: _Store = field(default_factory=_Store)
    records: list[Record] = field(default_factory=list)

    def play(self, timeline: Sequence[TimedEvent]) -> list[Record]:
        for item in timeline:
            # Messages due at the very instant of an event leave after it is applied.
            self._send_due(before=item.at)
            self._receive(item.event, item.at.astimezone(dt.UTC))
        self._send_due(before=None)
        return self.records

    def _receive(self, event: Event, now: dt.datetime) -> None:
        appointment = event.appointment
        self._note(now, appointment, SimulatedOutcome.EVENT, event=f"{event.type} v{event.version}")
        if event.event_id in self.store.events:
            self._note(now, appointment, SimulatedOutcome.IGNORED, reason=Reason.DUPLICATE_EVENT)
            return
        self.store.events.add(event.event_id)
        reference = appointment.reference
        outcome = plan_event(self.store.states.get(reference),
                             self.store.pending_slots(reference), event, self.settings, now)
        if not isinstance(outcome, Plan):
            self._note(now, appointment, SimulatedOutcome.IGNORED, reason=outcome.reason)
            return
        for skipped in outcome.skipped:
            self._note(now, appointment, SimulatedOutcome.SKIPPED, skipped.kind, skipped.channel,
                       reason=skipped.reason)
        for slot in sorted(outcome.removals):
            withdrawn = self.store.pending[slot]
            self._note(now, appointment, SimulatedOutcome.WITHDRAWN, withdrawn.kind,
                       withdrawn.channel, reason=Reason.WITHDRAWN)
        self.store.apply(outcome)

    def _send_due(self, *, before: dt.datetime | None) -> None:
        while (message := self.store.take_due(before)) is not None:
            if message.key in self.store.sent:
                continue
            now = message.send_at
            state = self.store.states[message.reference]  # stored with the plan
            verdict = decide_at_send(message, state, self.settings, now)
            if isinstance(verdict, Defer):
                self.store.defer(message, verdict.until)
            elif isinstance(verdict, Drop):
                self._note(now, state.appointment, SimulatedOutcome.DROPPED, message.kind,
                           message.channel, reason=verdict.reason)
            else:
                try:
                    rendered = self.render(message.kind, message.channel, state, self.settings,
                                           now)
                except SmsOverBudget:
                    self._note(now, state.appointment, SimulatedOutcome.DROPPED, message.kind,
                               message.channel, reason=Reason.OVER_BUDGET)
                    continue
                self.store.sent.add(message.key)
                text = rendered.subject if message.channel is Channel.EMAIL else rendered.text
                self._note(now, state.appointment, SimulatedOutcome.SENT, message.kind,
                           message.channel, recipient=mask_address(verdict.address), text=text)

    def _note(
        self,
        now: dt.datetime,
        appointment: Appointment,
        outcome: SimulatedOutcome,
        kind: Kind | None = None,
        channel: Channel | None = None,
        *,
        reason: Reason | None = None,
        event: str | None = None,
        recipient: str | None = None,
        text: str | None = None,
    ) -> None:
        self.records.append(
            Record(
                at=now,
                local=now.astimezone(appointment.location.zone),
                outcome=outcome,
                reference=appointment.reference,
                kind=kind,
                channel=channel,
                lang=appointment.patient.language,
                reason=reason,
                event=event,
                recipient=recipient,
                text=text,
            )
        )
