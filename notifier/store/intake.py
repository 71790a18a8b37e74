"""Intake: apply one appointment event to Redis, all or nothing, in two round trips.

One pipeline reads the event's answer, the stored appointment and its pending slots; the
pure core plans from them; one Lua script (``intake_apply``) checks that none of the three
changed since the read and, in the same step, writes the new state, the schedule
changes, the event's answer and a history line. A writer that lost a race on the
appointment reads and plans again; nothing is ever half-stored.

The answer is stored with the event's fingerprint (a hash of the validated event), so
that an event id sent again with another event is refused rather than answered as a
repeat: a cancellation must not be lost behind a reused id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from redis import Redis

from notifier.domain import MAX_VERSION_STEP, Channel, Event
from notifier.errors import EventRefused
from notifier.intake_answer import IntakeAnswer
from notifier.planning.entries import AppointmentState, Plan
from notifier.planning.fallback import addresses
from notifier.planning.plan import Ignored, plan_event
from notifier.problems import Problem
from notifier.settings import Settings
from notifier.store.attendance_counts import stage_attendance
from notifier.store.clinics import Clinics
from notifier.store.contact_health import ContactHealth
from notifier.store.decoding import text_list, text_map
from notifier.store.history import History
from notifier.store.keys import Keys
from notifier.store.lua import load_script
from notifier.store.message_index import MessageIndex
from notifier.store.replication import Replication
from notifier.store.schedule import Schedule
from notifier.store.staged_writes import StagedWrites

log = logging.getLogger(__name__)


def fingerprint(event: Event) -> str:
    """A hash of what ``event`` says once validated: the same for the same event whatever
    its key order, spacing or spelt-out defaults; different for any other event."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_id_reused() -> EventRefused:
    return EventRefused(
        "event_id_reused",
        "this event_id was already used for a different event; give every event its own "
        "event_id",
    )


def version_jump(stored_version: int) -> EventRefused:
    problem = Problem(
        field="version",
        message=f"is more than {MAX_VERSION_STEP:,} above the version the gateway holds "
        f"({stored_version}); a version counts the appointment's changes",
    )
    return EventRefused("invalid_event", "the event was refused: 1 problem",
                        problems=[problem], why="version_jump")


def _refuse_reuse(printed: str, stored: IntakeAnswer) -> None:
    if stored.fingerprint not in (None, printed):
        raise event_id_reused()


def _refuse_jump(event: Event, previous: AppointmentState | None) -> None:
    if previous is not None and event.version - previous.version > MAX_VERSION_STEP:
        raise version_jump(previous.version)


class Intake:
    """Applies events to the store.

    Parameters:
      redis: a redis-py client.
      settings: the deployment's settings (planning rules, retention).
    """

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys(settings.queue_prefix)
        self.schedule = Schedule(redis, keys=self.keys, lease=settings.scheduler_lease)
        self.history = History(redis, keys=self.keys, retention=settings.event_retention)
        self._apply_script = load_script(redis, "intake_apply")
        self.replication = Replication.of(redis, settings)
        self.contact_health = ContactHealth(redis, keys=self.keys)
        self.clinics = Clinics(redis, keys=self.keys)
        self.message_index = MessageIndex(redis, keys=self.keys,
                                          retention=settings.delivery_retention)

    def accept(self, event: Event, now: dt.datetime) -> IntakeAnswer:
        """Apply ``event`` once and return its answer; a repeat gets the stored answer.

        Raises :class:`EventRefused` (nothing written) when the event id was used for a
        different event, or when the version jumps beyond ``MAX_VERSION_STEP``.
        """
        reference = event.appointment.reference
        try:
            return self._accept(event, now)
        except EventRefused as refused:
            log.warning("event %s for appointment %s refused: %s", event.event_id, reference,
                        refused.why)
            raise

    def _accept(self, event: Event, now: dt.datetime) -> IntakeAnswer:
        reference = event.appointment.reference
        printed = fingerprint(event)
        read_keys = (
            self.keys.event(event.event_id), self.keys.appointment(reference),
            self.keys.pending(reference),
        )
        while True:
            stored, raw_state, pending, tracked = self._read(*read_keys,
                                                             self.keys.reached(reference))
            if stored is not None:
                answer = IntakeAnswer.from_json(stored)
                _refuse_reuse(printed, answer)
                self.replication.confirm(read_keys[0])
                log.info("event %s already accepted; same answer", event.event_id)
                return answer
            previous = None if raw_state is None else AppointmentState.from_json(raw_state)
            _refuse_jump(event, previous)
            outcome = plan_event(previous, pending, event, self.settings, now)
            answer = _answer(event, outcome, printed)
            writes = StagedWrites()
            if isinstance(outcome, Plan):
                self._stage_plan(writes, outcome, now)
                self.message_index.stage_plan(writes, outcome, previous=previous, now=now)
                self._stage_contact_health(writes, previous, outcome)
                self.clinics.stage_seen(writes, event.appointment.location)
                stage_attendance(writes, self.keys, outcome.state.appointment, tracked,
                                 expire_at=self._expire_at(outcome, now))
            writes.set(read_keys[0], answer.packed(), ex=self.settings.event_retention)
            self.history.stage(writes, reference, _history_line(event, answer, outcome, now))
            args = ["0" if raw_state is None else "1", raw_state or "", len(pending),
                    *pending, *writes.flat()]
            if self.replication.run(self._apply_script, keys=read_keys, args=args):
                log.info(
                    "event %s (%s v%d) for appointment %s: %s",
                    event.event_id, event.type, event.version, reference,
                    answer.body["status"],
                )
                return answer
            # Another writer answered the event or changed the appointment since the read.

    def _read(
        self, event_key: str, state_key: str, pending_key: str, reached_key: str
    ) -> tuple[bytes | str | None, bytes | str | None, frozenset[str], dict[str, str]]:
        """The event's stored answer, the appointment's state, its pending slots and
        whether a reminder reached its patient (:mod:`.attendance_counts`), in one round
        trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(event_key)
            pipe.get(state_key)
            pipe.hkeys(pending_key)
            pipe.hgetall(reached_key)
            stored, raw_state, slots, tracked = pipe.execute()
        return stored, raw_state, frozenset(text_list(slots)), text_map(tracked)

    def _expire_at(self, plan: Plan, now: dt.datetime) -> dt.datetime:
        return max(plan.state.appointment.start_utc(), now) + self.settings.event_retention

    def _stage_plan(self, writes: StagedWrites, plan: Plan, now: dt.datetime) -> None:
        reference = plan.state.appointment.reference
        expire_at = self._expire_at(plan, now)
        writes.set(self.keys.appointment(reference), plan.state.packed(), exat=expire_at)
        self.schedule.stage_changes(
            writes, reference, upserts=plan.upserts, removals=plan.removals, expire_at=expire_at
        )

    def _stage_contact_health(self, writes: StagedWrites, previous: AppointmentState | None,
                              plan: Plan) -> None:
        """An address the event replaced is no longer the location's to fix: forget that
        it was undeliverable there."""
        if previous is None:
            return
        old, new = previous.appointment.patient, plan.state.appointment.patient
        replaced = [(channel, address) for channel in Channel
                    for address in addresses(old, channel)
                    if address not in addresses(new, channel)]
        if replaced:
            self.contact_health.stage_clear(writes, plan.state.appointment.location.id,
                                            replaced)

    def refusal(self, event: Event) -> EventRefused | None:
        """Why :meth:`accept` would refuse ``event`` now, writing nothing; None if it would
        not (operators see it for an event message in the dead letters)."""
        stored, raw_state = self.redis.mget(
            self.keys.event(event.event_id), self.keys.appointment(event.appointment.reference)
        )
        try:
            if stored is not None:
                _refuse_reuse(fingerprint(event), IntakeAnswer.from_json(stored))
            elif raw_state is not None:
                _refuse_jump(event, AppointmentState.from_json(raw_state))
        except EventRefused as refused:
            return refused
        return None

    def answer(self, event_id: str) -> IntakeAnswer | None:
        """The answer given to event ``event_id`` (what a repeat of it gets), or None when
        the gateway never took it or no longer keeps it."""
        stored = self.redis.get(self.keys.event(event_id))
        return None if stored is None else IntakeAnswer.from_json(stored)

    def load(self, reference: str) -> AppointmentState | None:
        raw = self.redis.get(self.keys.appointment(reference))
        return None if raw is None else AppointmentState.from_json(raw)


def _answer(event: Event, outcome: Plan | Ignored, printed: str) -> IntakeAnswer:
    base: dict[str, Any] = {
        "event_id": event.event_id,
        "reference": event.appointment.reference,
        "version": event.version,
    }
    if isinstance(outcome, Ignored):
        return IntakeAnswer.of(
            {**base, "status": "ignored", "reason": outcome.reason,
             "stored_version": outcome.stored_version},
            printed,
        )
    return IntakeAnswer.of(
        {
            **base,
            "status": "accepted",
            "planned": [
                {"kind": str(m.kind), "channel": str(m.channel), "send_at": m.send_at.isoformat()}
                for m in outcome.upserts
            ],
            "withdrawn": sorted(outcome.removals),
            "skipped": [s.to_dict() for s in outcome.skipped],
        },
        printed,
    )


def _history_line(
    event: Event, answer: IntakeAnswer, outcome: Plan | Ignored, now: dt.datetime
) -> dict[str, Any]:
    """The event's line in the appointment's story: the answer, with the send key of each
    message planned and of each pending one withdrawn (the status API lists them)."""
    line: dict[str, Any] = {
        "at": now.astimezone(dt.UTC).isoformat(),
        "what": "event",
        "event_id": event.event_id,
        "type": str(event.type),
        "version": event.version,
        "status": answer.body["status"],
    }
    for field in ("planned", "skipped", "reason"):
        if field in answer.body:
            line[field] = answer.body[field]
    if isinstance(outcome, Plan):
        line["planned"] = [{**item, "key": message.key}
                           for item, message in zip(line["planned"], outcome.upserts,
                                                    strict=True)]
        if outcome.withdrawn:
            line["withdrawn"] = list(outcome.withdrawn)
    return line
