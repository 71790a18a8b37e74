"""Channel fallback and contact health in Redis.

- The contact-health registry (:mod:`notifier.store.contact_health`) is written with the
  failure that finds an address undeliverable;
- A failure and what follows it (its fallback, or a call's one retry) are written in one
  step (script ``delivery_failed``), so a worker killed in between gives exactly one.
- A ``delivered`` that comes after the message failed and its fallback was sent is kept
  on the record (``late_delivered``) and counted (``fallback_redundant``) in an hourly
  hash of its own (:meth:`~notifier.store.keys.Keys.fallback_redundant`): it is not a
  status the record reached, so totals of the statuses' hourly counts never hold it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from redis import Redis

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Appointment, Channel
from notifier.planning.entries import AppointmentState, PlannedMessage, Route
from notifier.planning.fallback import (
    Next,
    Verdict,
    addresses,
    candidates,
    family_id,
    family_keys,
    retry_of,
)
from notifier.planning.send_check import FallbackFacts
from notifier.store.contact_health import CONTACT_HEALTH_RETENTION, contact_digest, member
from notifier.store.decoding import text, text_list
from notifier.store.deliveries import STATS_TTL_SECONDS, DeliveryLog
from notifier.store.history import MAX_LINES, History, packed_line
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore


@dataclass(frozen=True)
class Failure:
    """A failure (or a suppression) of a message, as the registry and the fallback see it.

    Parameters:
      status: the record's new status.
      fields: written on the record with it (reason, error code, ...).
      verdict: what it leads to (see :mod:`notifier.fallback_triggers`).
      address: the address it concerns, when known (told in ``contact.undeliverable``
        the first time, and remembered when undeliverable).
      location: the message's location.
      line: the story's line that tells it, written in the same step when the record
        moves, before the line of what follows it (None: no line).
    """

    status: DeliveryStatus
    fields: Mapping[str, str | int]
    verdict: Verdict
    address: str | None
    location: str
    line: Mapping[str, str] | None = None


class Fallbacks(RedisStore):
    """The registry and the fallback's writes.

    Parameters (and :class:`RedisStore`'s):
      deliveries: the delivery log.
      history: the appointments' stories.
      event_retention: how long an appointment's pending hash is kept after its start.
    """

    def __init__(self, redis: Redis, *, keys: Keys, deliveries: DeliveryLog, history: History,
                 event_retention: dt.timedelta) -> None:
        super().__init__(redis, keys=keys)
        self.deliveries = deliveries
        self.history = history
        self.event_retention = event_retention

    # -- reads --

    def facts(self, message: PlannedMessage, appointment: Appointment, *,
              answered: bool = False) -> FallbackFacts:
        """What the send check of ``message`` reads where its location has a fallback, in
        one round trip: which of the patient's addresses are known undeliverable, and
        whether another message of its family was delivered."""
        pairs = [(channel, address) for channel in Channel
                 for address in addresses(appointment.patient, channel)]
        family = [key for key in family_keys(message).values() if key != message.key]
        with self.redis.pipeline(transaction=False) as pipe:
            for channel, address in pairs:
                pipe.exists(self.keys.contact_health(channel, contact_digest(channel, address)))
            for key in family:
                pipe.hmget(self.keys.delivery(key), "status", "late_delivered")
            found = pipe.execute()
        known = frozenset(pair for pair, exists in zip(pairs, found, strict=False) if exists)
        delivered = any(text(status) == DeliveryStatus.DELIVERED or late is not None
                        for status, late in found[len(pairs):])
        return FallbackFacts(undeliverable=known, delivered=delivered, answered=answered)

    # -- writes --

    def record(self, message: PlannedMessage, state: AppointmentState | None,
               failure: Failure, now: dt.datetime) -> tuple[str | None, bool, str | None]:
        """Record ``failure`` of ``message`` and, in the same step, what follows it; the
        story tells the failure first, then its fallback or retry.

        Returns the previous status (None for a new record), whether the record moved,
        and the send key of the fallback or retry scheduled (None when none was).
        """
        appointment = None if state is None else state.appointment
        verdict = failure.verdict
        follow: list[PlannedMessage] = []
        looked: list[Channel] = []
        undeliverable_reason = verdict.undeliverable if failure.address else None
        if appointment is not None and appointment.location.fallback is not None:
            follow, looked, verdict = self._follow_ups(message, appointment, verdict, now)
        record_keys, move = self.deliveries.move(
            message.key, failure.status, now, message=message, fields=failure.fields,
            address=failure.address)
        health_key, field, index_member = record_keys[0], "", ""
        if undeliverable_reason and failure.address:
            channel, address = message.channel, failure.address
            digest = contact_digest(channel, address)
            health_key = self.keys.contact_health(channel, digest)
            field = f"{failure.location}|{undeliverable_reason}"
            index_member = member(channel, digest, undeliverable_reason, address)
        keys_of = family_keys(message)
        looked_keys = [self.keys.delivery(keys_of[(channel, route)])
                       for channel in looked for route in (None, Route.RETRY)]
        start = appointment.start_utc() if appointment else now
        line = {"at": now.astimezone(dt.UTC).isoformat(),
                "what": "retry_scheduled" if verdict.next is Next.RETRY else "fallback_scheduled",
                "key": "%KEY%", "kind": str(message.kind), "channel": "%CHANNEL%",
                "after": message.key}
        follow_args: list[str | int | float] = []
        for planned in follow:
            follow_args += ["retry" if planned.route is Route.RETRY else str(planned.channel),
                            planned.slot, planned.pending_value(), planned.send_at.timestamp(),
                            planned.key]
        previous, moved, scheduled = self.script("delivery_failed")(
            keys=[*record_keys, self.keys.history(message.reference),
                  self.keys.fallbacks(family_id(message)), self.keys.pending(message.reference),
                  health_key, self.keys.undeliverable(failure.location or "-"),
                  self.keys.undeliverable_locations, *looked_keys,
                  *(self.keys.schedule(planned.channel) for planned in follow)],
            args=[str(verdict.next), field, int(CONTACT_HEALTH_RETENTION.total_seconds()),
                  index_member, int(now.timestamp()), MAX_LINES,
                  int(self.history.retention.total_seconds()),
                  int((max(start, now) + self.event_retention).timestamp()),
                  self.deliveries.ttl, len(looked), len(follow),
                  packed_line(failure.line) if failure.line else "",
                  failure.location or "-", *follow_args,
                  packed_line(line), *move],
        )
        return (text(previous) or None), bool(moved), (text(scheduled) or None)

    def _follow_ups(
        self, message: PlannedMessage, appointment: Appointment, verdict: Verdict,
        now: dt.datetime,
    ) -> tuple[list[PlannedMessage], list[Channel], Verdict]:
        """The messages that may follow a failure (in order), the chosen channels whose
        latest message must have failed too, and the verdict (a retry that cannot happen
        before the deadline goes to the fallback)."""
        if verdict.next is Next.RETRY:
            retry = retry_of(message, appointment, now)
            if retry is not None:
                return [retry], [], verdict
            verdict = dataclasses.replace(verdict, next=Next.FALLBACK)
        if verdict.next is not Next.FALLBACK:
            return [], [], verdict
        facts = self.facts(message, appointment)
        follow = candidates(message, appointment, now, undeliverable=facts.is_undeliverable)
        looked = [channel for channel in appointment.channels()
                  if channel is not message.channel or message.route is Route.FALLBACK]
        return follow, looked, verdict

    def late_delivery(self, key: str, message: PlannedMessage, now: dt.datetime,
                      record: Mapping[str, str]) -> bool:
        """A ``delivered`` for ``key`` after it failed: kept on the record, and counted as
        ``fallback_redundant`` when a fallback of its family was handed to a provider.
        Returns whether it was counted (once per record)."""
        sent_by = text_list(self.redis.hvals(self.keys.fallbacks(family_id(message))))
        hour = now.astimezone(dt.UTC).strftime("%Y%m%d%H")
        field = "|".join([record.get("channel", ""), record.get("kind", ""),
                          record.get("lang", ""), record.get("location", "")])
        line = {"at": now.astimezone(dt.UTC).isoformat(), "what": "delivered_late",
                "key": key, "kind": record.get("kind", ""), "channel": record.get("channel", "")}
        counted = self.script("delivery_late")(
            keys=[self.keys.delivery(key), self.keys.fallback_redundant(hour),
                  self.keys.history(message.reference),
                  *(self.keys.delivery(other) for other in sent_by)],
            args=[now.isoformat(), field, STATS_TTL_SECONDS, packed_line(line), MAX_LINES,
                  int(self.history.retention.total_seconds())],
        )
        return bool(counted)

