"""Who asked us to stop: the opt-out state of each number, and an audit trail of every change.

A state is kept per number, per sender scope (``settings.optout_scope``: one short code or
Messaging Service) and per channel: an SMS ARRET stops texts, a key pressed on a call stops
calls, and neither stops the other. Every change appends one entry to an append-only Redis
Stream (time, channel, scope, new and previous state, keyword, source, provider message id,
reason); the state write and the audit entry are one Lua script, so neither exists without
the other. An entry's id is the change's time (or just after the latest entry's, should
clocks disagree), and each change drops the entries older than
``settings.optout_audit_retention``; the state itself is kept for as long as the number
is known.

Keys (under ``settings.queue_prefix``):
  ``<prefix>:optout:<scope>:<channel>``      hash: number -> state JSON (the latest change)
  ``<prefix>:optout:<scope>:<channel>:out``  set: numbers opted out now (checked at send time)
  ``<prefix>:optout:<scope>:audit``          stream: every change within the retention

Numbers are stored in E.164; they never appear in logs or error messages.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

import redis
from pydantic import TypeAdapter, ValidationError

from notifier.domain import Channel, Phone
from notifier.errors import InvalidNumber
from notifier.problems import describe
from notifier.settings import Settings

# The channels a person can opt out of. Email has its own unsubscribe rules (not here).
OPT_OUT_CHANNELS = (Channel.SMS, Channel.VOICE)

OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"


class OptOutSource(enum.StrEnum):
    """Where a change came from, as recorded in the audit stream."""

    SMS_KEYWORD = "sms-keyword"
    TWILIO_21610 = "twilio-21610"
    OPERATOR = "operator"
    VOICE_KEYPRESS = "voice-keypress"


_PHONE: TypeAdapter[str] = TypeAdapter(Phone)


def e164(number: str) -> str:
    """The number in E.164 form, by the event contract's own rule (:data:`notifier.domain.Phone`).

    Raises:
      InvalidNumber: with the contract's sentence, which never repeats the number.
    """
    try:
        return _PHONE.validate_python(number)
    except ValidationError as exc:
        raise InvalidNumber(describe(exc)[0]["message"]) from None


@dataclass(frozen=True)
class OptOutState:
    """The latest change for one number on one channel.

    Parameters:
      opted_out: True while the number must not be contacted on the channel.
      since: when the change was made.
      source: an :class:`OptOutSource` value.
      keyword: the word the patient sent or pressed, if any.
    """

    opted_out: bool
    since: dt.datetime
    source: str
    keyword: str | None


@dataclass(frozen=True)
class AuditEntry:
    """One change, as appended to the audit stream.

    Parameters:
      id: the stream entry id (orders entries; assigned by Redis).
      at: when the change was made (the caller's ``now``).
      number: E.164.
      channel, scope: what the state applies to.
      state, previous: ``opted_out`` or ``opted_in``.
      previous_since: when the previous state began (None if it never had been set).
      keyword, source, provider_message_id, reason: why it changed.
    """

    id: str
    at: dt.datetime
    number: str
    channel: Channel
    scope: str
    state: str
    previous: str
    previous_since: dt.datetime | None
    keyword: str | None
    source: str
    provider_message_id: str | None
    reason: str | None


# KEYS: state hash, opted-out set, audit stream.
# ARGV: number, '1' to opt out or '0' to opt in, the new state JSON, the oldest audit id
# to keep (milliseconds: older entries are dropped), the change's time (milliseconds,
# the entry's id unless an entry already has a later one), then the audit entry's
# field/value pairs. Returns 1 if the state changed, 0 if it already was so.
_CHANGE = """
local number = ARGV[1]
local was_out = redis.call('SISMEMBER', KEYS[2], number)
if tostring(was_out) == ARGV[2] then
  return 0
end
local previous_since = ''
local previous = redis.call('HGET', KEYS[1], number)
if previous then
  previous_since = cjson.decode(previous)['since'] or ''
end
redis.call('HSET', KEYS[1], number, ARGV[3])
if ARGV[2] == '1' then
  redis.call('SADD', KEYS[2], number)
else
  redis.call('SREM', KEYS[2], number)
end
local at = tonumber(ARGV[5])
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if last then
  at = math.max(at, tonumber(string.match(last[1], '^(%d+)')))
end
redis.call('XADD', KEYS[3], 'MINID', ARGV[4], string.format('%d-*', at),
  'previous', was_out == 1 and 'opted_out' or 'opted_in',
  'previous_since', previous_since,
  unpack(ARGV, 6))
return 1
"""

# Entries read per XREVRANGE call when looking for one number's history.
_AUDIT_BATCH = 500

EXPORT_COLUMNS = ("number", "channel", "scope", "state", "since", "source", "keyword")


class OptOutStore:
    """Opt-out state per number, scope and channel, with its audit stream.

    Parameters:
      client: a redis-py client.
      settings: ``optout_scope`` names the sender the state applies to;
        ``queue_prefix`` the deployment's key namespace.
    """

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.scope = settings.optout_scope
        self.prefix = f"{settings.queue_prefix}:optout:{self.scope}"
        self.audit_retention = settings.optout_audit_retention
        self._change = client.register_script(_CHANGE)

    # Key names -------------------------------------------------------------------------

    def states_key(self, channel: Channel) -> str:
        return f"{self.prefix}:{_channel(channel)}"

    def opted_out_key(self, channel: Channel) -> str:
        return f"{self.prefix}:{_channel(channel)}:out"

    @property
    def audit_key(self) -> str:
        return f"{self.prefix}:audit"

    # Reads -----------------------------------------------------------------------------

    def is_opted_out(self, number: str, channel: Channel = Channel.SMS) -> bool:
        """True when ``number`` must not be contacted on ``channel`` (one round trip)."""
        return bool(self.client.sismember(self.opted_out_key(channel), e164(number)))

    def state(self, number: str, channel: Channel = Channel.SMS) -> OptOutState | None:
        """The latest change for the number, or None if its state was never changed."""
        raw = self.client.hget(self.states_key(channel), e164(number))
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
        with self.client.pipeline(transaction=False) as pipe:
            for channel in OPT_OUT_CHANNELS:
                pipe.scard(self.opted_out_key(channel))
            opted_out = pipe.execute()
        counts = {str(c): int(n) for c, n in zip(OPT_OUT_CHANNELS, opted_out, strict=True)}
        return {**counts, "audit": self._changes_recorded()}

    def _changes_recorded(self) -> int:
        try:
            info = self.client.xinfo_stream(self.audit_key)
        except redis.ResponseError:  # no change recorded yet: no stream
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
            states = _text_map(self.client.hgetall(self.states_key(channel)))
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

    def opt_out(
        self,
        number: str,
        *,
        channel: Channel = Channel.SMS,
        source: str,
        keyword: str | None = None,
        provider_message_id: str | None = None,
        reason: str | None = None,
        now: dt.datetime,
    ) -> bool:
        """Stop contacting ``number`` on ``channel``. True if the state changed."""
        return self._set(
            number, True, channel=channel, source=source, keyword=keyword,
            provider_message_id=provider_message_id, reason=reason, now=now,
        )

    def opt_in(
        self,
        number: str,
        *,
        channel: Channel = Channel.SMS,
        source: str,
        keyword: str | None = None,
        provider_message_id: str | None = None,
        reason: str | None = None,
        now: dt.datetime,
    ) -> bool:
        """Contact ``number`` on ``channel`` again. True if the state changed."""
        return self._set(
            number, False, channel=channel, source=source, keyword=keyword,
            provider_message_id=provider_message_id, reason=reason, now=now,
        )

    def _set(
        self,
        number: str,
        opted_out: bool,
        *,
        channel: Channel,
        source: str,
        keyword: str | None,
        provider_message_id: str | None,
        reason: str | None,
        now: dt.datetime,
    ) -> bool:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        number = e164(number)
        at = now.astimezone(dt.UTC).isoformat()
        state = {"opted_out": opted_out, "since": at, "source": str(source), "keyword": keyword}
        audit = {
            "at": at,
            "number": number,
            "channel": _channel(channel),
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
        changed = self._change(
            keys=[self.states_key(channel), self.opted_out_key(channel), self.audit_key],
            args=[
                number, "1" if opted_out else "0", json.dumps(state), max(oldest_kept, 0), at_ms,
                *(item for pair in audit.items() for item in pair),
            ],
        )
        return bool(changed)

    def _newest_first(self) -> Iterator[AuditEntry]:
        upper = "+"
        while True:
            batch: list[Any] = self.client.xrevrange(
                self.audit_key, max=upper, count=_AUDIT_BATCH
            ) or []
            for entry_id, fields in batch:
                yield _audit_entry(_text(entry_id), _text_map(fields))
            if len(batch) < _AUDIT_BATCH:
                return
            upper = "(" + _text(batch[-1][0])


def _channel(channel: Channel) -> str:
    channel = Channel(channel)
    if channel not in OPT_OUT_CHANNELS:
        raise ValueError(f"opt-outs are kept for sms and voice only, not {channel}")
    return str(channel)


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


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _text_map(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in raw.items()}
