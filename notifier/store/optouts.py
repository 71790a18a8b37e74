"""The opt-out state of each number in Redis, and the audit stream of every change.

The state write and the audit entry are one Lua script, so neither exists without the
other. A change an incoming text asks for claims the text in that script too (a
redelivery writes nothing) and counts its answer: the text is recorded in one round trip.
An entry's id is the change's time (or just after the latest entry's, should clocks
disagree), and each change drops the entries older than
``settings.optout_audit_retention``; the state itself is kept for as long as the number
is known.

Keys (:class:`~notifier.store.keys.Keys`, under ``settings.queue_prefix``):
  ``<prefix>:optout:<scope>:<channel>``      hash: number -> state JSON (the latest change)
  ``<prefix>:optout:<scope>:<channel>:out``  set: numbers opted out now (checked at send time)
  ``<prefix>:optout:<scope>:audit``          stream: every change within the retention

Numbers are stored in E.164; they never appear in logs or error messages.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Required, TextIO, TypedDict, Unpack

from redis import Redis, ResponseError

from notifier.domain import Channel
from notifier.opt_outs import (
    OPT_OUT_CHANNELS,
    OPTED_IN,
    OPTED_OUT,
    AuditEntry,
    OptOutState,
    e164,
    number_digest,
    opt_out_channel,
)
from notifier.settings import Settings
from notifier.store.decoding import text, text_map
from notifier.store.inbound_claims import MessageClaim
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore
from notifier.store.replication import Replication

# Entries read per XREVRANGE call when looking for one number's history.
_AUDIT_BATCH = 500

EXPORT_COLUMNS = ("number", "channel", "scope", "state", "since", "source", "keyword")


class Change(TypedDict, total=False):
    """What an opt-out change records, besides the number.

    Parameters:
      channel: what the change applies to (SMS when not given).
      source: an :class:`~notifier.opt_outs.OptOutSource` value.
      keyword: the word the patient sent or pressed, if any.
      provider_message_id: the provider's id of the message that asked, if any.
      reason: why, in an operator's words, if any.
      now: when the change is made (aware).
    """

    channel: Channel
    source: Required[str]
    keyword: str | None
    provider_message_id: str | None
    reason: str | None
    now: Required[dt.datetime]


@dataclass(frozen=True)
class MessageChange:
    """What the opt-out change an incoming text asked for did.

    Parameters:
      duplicate: the text was processed before: nothing was written.
      changed: the state changed (False when it already was so).
      answered: one more answer may go today (and it was counted).
    """

    duplicate: bool
    changed: bool
    answered: bool


# A change no incoming text asked for: no marker, no answer.
_NO_CLAIM = MessageClaim(markers={}, answer_count=None, answer_limit=0, answer_count_ttl=0)


@dataclass(frozen=True)
class OptOutCheck:
    """The opt-outs a send checks.

    Parameters:
      key: the channel's set of opted-out numbers.
      number: the number as that set holds it (E.164).
      digest: the number's digest, which names its keys (never the number itself).
    """

    key: str
    number: str
    digest: str


class OptOutStore(RedisStore):
    """Opt-out state per number, scope and channel, with its audit stream.

    Parameters:
      redis: a redis-py client.
      settings: ``optout_scope`` names the sender the state applies to;
        ``queue_prefix`` the deployment's key namespace.
    """

    def __init__(self, redis: Redis, settings: Settings) -> None:
        super().__init__(redis, keys=Keys(settings.queue_prefix))
        self.scope = settings.optout_scope
        self.audit_retention = settings.optout_audit_retention
        self.callback_retention = settings.callback_retention
        self.replication = Replication.of(redis, settings)

    # Key names -------------------------------------------------------------------------

    def states_key(self, channel: Channel) -> str:
        return self.keys.optout_states(self.scope, opt_out_channel(channel))

    def opted_out_key(self, channel: Channel) -> str:
        return self.keys.optout_opted_out(self.scope, opt_out_channel(channel))

    @property
    def audit_key(self) -> str:
        return self.keys.optout_audit(self.scope)

    # Reads -----------------------------------------------------------------------------

    def send_check(self, number: str, channel: Channel) -> OptOutCheck:
        """What a send to ``number`` on ``channel`` checks right before its provider call."""
        number = e164(number)
        return OptOutCheck(self.opted_out_key(channel), number,
                           number_digest(self.scope, number))

    def is_opted_out(self, number: str, channel: Channel = Channel.SMS) -> bool:
        """True when ``number`` must not be contacted on ``channel`` (one round trip)."""
        return bool(self.redis.sismember(self.opted_out_key(channel), e164(number)))

    def state(self, number: str, channel: Channel = Channel.SMS) -> OptOutState | None:
        """The latest change for the number, or None if its state was never changed."""
        raw = self.redis.hget(self.states_key(channel), e164(number))
        return None if raw is None else _state(json.loads(raw))

    def audit(self, number: str | None = None, *, count: int = 100) -> list[AuditEntry]:
        """The last ``count`` changes of this scope (of one number if given), oldest first."""
        wanted = e164(number) if number is not None else None
        found: list[AuditEntry] = []
        for entry in self._newest_first():
            if wanted is None or entry.number == wanted:
                found.append(entry)
                if len(found) >= count:
                    break
        return found[::-1]

    def counts(self) -> dict[str, int]:
        """Numbers opted out now per channel, and the changes the audit ever recorded
        (``audit``: it only grows, though entries past the retention are dropped)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for channel in OPT_OUT_CHANNELS:
                pipe.scard(self.opted_out_key(channel))
            opted_out = pipe.execute()
        counts = {str(c): int(n) for c, n in zip(OPT_OUT_CHANNELS, opted_out, strict=True)}
        return {**counts, "audit": self._changes_recorded()}

    def _changes_recorded(self) -> int:
        try:
            info = self.redis.xinfo_stream(self.audit_key)
        except ResponseError:  # no change recorded yet: no stream
            return 0
        # Redis 7 counts every entry ever added; before it, the entries kept is all we have.
        return int(info.get("entries-added", info["length"]))

    def export(self, out: TextIO) -> int:
        """Write every number's latest state in this scope as CSV; returns the rows written.

        Numbers that opted back in are kept (state ``opted_in``): a clinic's records show
        both. Rows are sorted by channel, then number.
        """
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        rows = 0
        for channel in OPT_OUT_CHANNELS:
            states = text_map(self.redis.hgetall(self.states_key(channel)))
            for number in sorted(states):
                state = _state(json.loads(states[number]))
                writer.writerow([
                    number, str(channel), self.scope,
                    OPTED_OUT if state.opted_out else OPTED_IN,
                    state.since.isoformat(), state.source, state.keyword or "",
                ])
                rows += 1
        return rows

    # Changes ---------------------------------------------------------------------------

    def opt_out(self, number: str, **change: Unpack[Change]) -> bool:
        """Stop contacting ``number`` on ``channel``. True if the state changed."""
        return self._set(number, opted_out=True, claim=_NO_CLAIM, **change).changed

    def opt_in(self, number: str, **change: Unpack[Change]) -> bool:
        """Contact ``number`` on ``channel`` again. True if the state changed."""
        return self._set(number, opted_out=False, claim=_NO_CLAIM, **change).changed

    def change_for_message(
        self, number: str, *, opted_out: bool, claim: MessageClaim, **change: Unpack[Change]
    ) -> MessageChange:
        """The change an incoming text asks for, with its ``claim``, in one step: nothing
        if the text is a duplicate; else the change (if the state is not already so), the
        answer counted (if claimed) and the text marked as processed."""
        return self._set(number, opted_out=opted_out, claim=claim, **change)

    def _set(
        self,
        number: str,
        *,
        opted_out: bool,
        claim: MessageClaim,
        channel: Channel = Channel.SMS,
        source: str,
        keyword: str | None = None,
        provider_message_id: str | None = None,
        reason: str | None = None,
        now: dt.datetime,
    ) -> MessageChange:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        number = e164(number)
        at = now.astimezone(dt.UTC).isoformat()
        state = {"opted_out": opted_out, "since": at, "source": str(source), "keyword": keyword}
        audit = {
            "at": at,
            "number": number,
            "channel": opt_out_channel(channel),
            "scope": self.scope,
            "state": OPTED_OUT if opted_out else OPTED_IN,
            "keyword": keyword or "",
            "source": str(source),
            "provider_message_id": provider_message_id or "",
            "reason": reason or "",
        }
        # Entry ids are the caller's time, so that retention follows one clock.
        at_ms = int(now.timestamp() * 1000)
        oldest_kept = int((now - self.audit_retention).timestamp() * 1000)
        answer_count = [] if claim.answer_count is None else [claim.answer_count]
        oldest_told = int((now - self.callback_retention).timestamp() * 1000)
        keys = [
            self.states_key(channel), self.opted_out_key(channel), self.audit_key,
            self.keys.callback_log, self.keys.contact_locations(number_digest(self.scope, number)),
            *claim.markers, *answer_count,
        ]
        args = [
            number, "1" if opted_out else "0", json.dumps(state), max(oldest_kept, 0), at_ms,
            len(claim.markers), claim.answer_limit, claim.answer_count_ttl,
            max(oldest_told, 0), self.keys.outcomes_prefix(),
            now.astimezone(dt.UTC).strftime("%Y-%m"), *claim.markers.values(),
            *(item for pair in audit.items() for item in pair),
        ]
        script = self.script("optout_change")

        def release_markers(reply: Any) -> None:
            # The change is on the primary only. Its text's markers go, so that Twilio's
            # redelivery is processed (and answered) again rather than taken for a
            # duplicate, unless this delivery was itself a duplicate of an earlier one.
            if int(reply[0]) >= 0 and claim.markers:
                self.redis.delete(*claim.markers)

        changed, answered = self.replication.run(script, keys=keys, args=args,
                                                 unconfirmed=release_markers)
        return MessageChange(duplicate=changed < 0, changed=changed > 0, answered=answered == 1)

    def changes(self) -> Iterator[AuditEntry]:
        """Every change the audit keeps, newest first, read a batch at a time."""
        return self._newest_first()

    def _newest_first(self) -> Iterator[AuditEntry]:
        upper = "+"
        while True:
            batch: list[Any] = self.redis.xrevrange(
                self.audit_key, max=upper, count=_AUDIT_BATCH
            ) or []
            for entry_id, fields in batch:
                yield _audit_entry(text(entry_id), text_map(fields))
            if len(batch) < _AUDIT_BATCH:
                return
            upper = "(" + text(batch[-1][0])


def _state(data: Mapping[str, Any]) -> OptOutState:
    return OptOutState(
        opted_out=bool(data["opted_out"]),
        since=dt.datetime.fromisoformat(data["since"]),
        source=str(data["source"]),
        keyword=data.get("keyword") or None,
    )


def _audit_entry(entry_id: str, fields: Mapping[str, str]) -> AuditEntry:
    previous_since = fields.get("previous_since") or None
    return AuditEntry(
        id=entry_id,
        at=dt.datetime.fromisoformat(fields["at"]),
        number=fields["number"],
        channel=Channel(fields["channel"]),
        scope=fields["scope"],
        state=fields["state"],
        previous=fields["previous"],
        previous_since=dt.datetime.fromisoformat(previous_since) if previous_since else None,
        keyword=fields.get("keyword") or None,
        source=fields["source"],
        provider_message_id=fields.get("provider_message_id") or None,
        reason=fields.get("reason") or None,
    )
