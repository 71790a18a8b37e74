"""Intake: apply one appointment event to Redis, all or nothing.

One optimistic transaction (WATCH / MULTI) reads the stored appointment and its pending
schedule, plans with the pure core, and writes the new state, the schedule changes, the
event's answer and a history line together. Two writers racing on one appointment retry;
nothing is ever half-stored.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

import redis

from notifier.domain import Event
from notifier.planning.entries import AppointmentState, Plan
from notifier.planning.plan import Ignored, plan_event
from notifier.settings import Settings
from notifier.store.history import History
from notifier.store.keys import Keys
from notifier.store.schedule import Schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeAnswer:
    """What the booking system is told: an HTTP status code and a JSON body.

    The same event id always gets the same answer.
    """

    status_code: int
    body: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"status_code": self.status_code, "body": self.body})

    @classmethod
    def from_json(cls, raw: str | bytes) -> IntakeAnswer:
        data = json.loads(raw)
        return cls(status_code=int(data["status_code"]), body=data["body"])


class Intake:
    """Applies events to the store.

    Parameters:
      client: a redis-py client.
      settings: the deployment's settings (planning rules, retention).
    """

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.keys = Keys(settings.queue_prefix)
        self.schedule = Schedule(client, keys=self.keys, lease=settings.scheduler_lease)
        self.history = History(client, keys=self.keys, retention=settings.event_retention)

    def accept(self, event: Event, now: dt.datetime) -> IntakeAnswer:
        reference = event.appointment.reference
        event_key = self.keys.event(event.event_id)
        state_key = self.keys.appointment(reference)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(event_key, state_key, self.keys.pending(reference))
                    stored = pipe.get(event_key)
                    if stored is not None:
                        pipe.reset()
                        log.info("event %s already accepted; same answer", event.event_id)
                        return IntakeAnswer.from_json(stored)
                    raw_state = pipe.get(state_key)
                    previous = None if raw_state is None else AppointmentState.from_json(raw_state)
                    pending = self.schedule.pending_slots(reference, reader=pipe)
                    outcome = plan_event(previous, pending, event, self.settings, now)
                    answer = _answer(event, outcome)
                    pipe.multi()
                    if isinstance(outcome, Plan):
                        self._stage_plan(pipe, outcome, now)
                    pipe.set(event_key, answer.to_json(), ex=self.settings.event_retention)
                    self.history.stage(pipe, reference, _history_line(event, answer, now))
                    pipe.execute()
                    log.info(
                        "event %s (%s v%d) for appointment %s: %s",
                        event.event_id, event.type, event.version, reference,
                        answer.body["status"],
                    )
                    return answer
                except redis.WatchError:
                    continue

    def _stage_plan(self, pipe: Any, plan: Plan, now: dt.datetime) -> None:
        reference = plan.state.appointment.reference
        expire_at = max(plan.state.appointment.start_utc(), now) + self.settings.event_retention
        pipe.set(self.keys.appointment(reference), plan.state.to_json(), exat=expire_at)
        self.schedule.stage_changes(
            pipe, reference, upserts=plan.upserts, removals=plan.removals, expire_at=expire_at
        )

    def load(self, reference: str) -> AppointmentState | None:
        raw = self.client.get(self.keys.appointment(reference))
        return None if raw is None else AppointmentState.from_json(raw)


def _answer(event: Event, outcome: Plan | Ignored) -> IntakeAnswer:
    base: dict[str, Any] = {
        "event_id": event.event_id,
        "reference": event.appointment.reference,
        "version": event.version,
    }
    if isinstance(outcome, Ignored):
        return IntakeAnswer(
            200,
            {**base, "status": "ignored", "reason": outcome.reason,
             "stored_version": outcome.stored_version},
        )
    return IntakeAnswer(
        202,
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
    )


def _history_line(event: Event, answer: IntakeAnswer, now: dt.datetime) -> dict[str, Any]:
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
    return line
