"""The message index: every message of a location, by public status and channel, newest
first, so that operators go from a failure to the patient it concerns without a scan.

Keys (:class:`~notifier.store.keys.Keys`):

- ``messages:<location>:<status>:<channel>`` (sorted sets): send keys, scored by the
  message's latest change (a scheduled one: when it is due) in epoch seconds, plus a
  fraction taken from the key's SHA-1 (:func:`index_score`) so that the many messages due
  the same second still have an order a cursor can resume from;
- ``messages:<location>:all`` (sorted sets): every message of the location, scored the
  same way: the unfiltered list, and what a filter on kind or channel alone walks (one set
  per location instead of one per status and channel);
- ``message:<send key>`` (hash): ``l`` the location, ``a`` the address masked, written
  at planning (the delivery record does not exist yet, and never holds the address), and
  ``s`` the public status, written with every change;
- ``messages-to:<digest>`` (sorted sets): the send keys planned to one address, under a
  digest of it (:func:`address_digest`), scored by when each is due.

Writers, each in the step that makes the change: intake's staged writes (a message planned
joins ``scheduled``, one taken back moves to ``withdrawn``: :meth:`MessageIndex.stage_plan`),
and every move of a delivery record (``scripts/lib/message_index.lua``, run by
``move_delivery`` and by the reopen script: the message leaves its previous status's set
for its new one). A set written drops its members older than the delivery records' ttl,
so the index never outlives the records it points to.

Reads (:meth:`MessageIndex.page`) merge the matching sets with one pipeline and read the
page's rows with a second: the work is bounded by the number of sets and the page size,
whatever the sets hold. The store knows no public reason (the public vocabulary sits above
it): a caller filtering by reason passes a ``keep`` predicate, applied within a scan
budget.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from redis import Redis

from notifier.planning.entries import AppointmentState, Plan
from notifier.privacy import mask_address
from notifier.store.decoding import optional_text, text
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore
from notifier.store.staged_writes import StagedWrites

SCHEDULED = "scheduled"
# The index's statuses: the public ones (notifier.public_status, which the store does not
# import; a unit test holds them equal).
STATUSES = ("scheduled", "withdrawn", "sending", "sent", "delivered", "failed", "suppressed")
# How many candidates a page filtered by a predicate reads at most before it answers
# (short, with a cursor to go on).
SCAN_BUDGET = 500
# How many messages of one set sharing one score a page reads (the key's hash makes a
# shared score rare).
_TIES = 100
# Appointments are planned up to a year ahead: an address's set outlives its latest due
# message by the records' ttl.
_PLANNING_HORIZON = dt.timedelta(days=366)
_RECORD_FIELDS = ("status", "reason", "error_code")
CHANNELS = frozenset({"email", "sms", "voice"})
# A delivery record's status -> the index's, as ``scripts/lib/message_index.lua`` files it
# (a unit test holds the two equal): what a message reads as when its row has lapsed
# before its set's entry was trimmed.
FROM_RECORD = {
    "submitting": "sending", "retrying": "sending", "accepted": "sent", "sent": "sent",
    "delivered": "delivered", "undelivered": "failed", "failed": "failed",
    "suppressed": "suppressed",
}


def index_score(key: str, at: float) -> float:
    """The score of send ``key`` changed at ``at`` (epoch seconds): the whole second plus
    a fraction of the key's SHA-1, as ``scripts/lib/message_index.lua`` computes it."""
    return math.floor(at) + int(hashlib.sha1(key.encode()).hexdigest()[:5], 16) / 1048576


def address_digest(address: str) -> str:
    """What names an address in the search index: a digest of its normal form (E.164 for
    a phone, lower case for an email), never the address."""
    normal = address.strip().lower()
    return hashlib.sha256(f"message-address:{normal}".encode()).hexdigest()[:32]


def key_part(key: str, index: int) -> str:
    """A part of a send key (``<reference>:<kind>:<channel>:...``): 0 the reference, 1 the
    kind, 2 the channel."""
    parts = key.split(":")
    return parts[index] if len(parts) > index else ""


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page stopped: the last message it looked at (the next page starts below).

    Parameters: score (see :func:`index_score`), key (the send key).
    """

    score: float
    key: str

    def token(self) -> str:
        """The cursor as a URL's query value."""
        return f"{self.score!r}~{self.key}"

    @classmethod
    def parse(cls, token: str) -> Cursor | None:
        """A cursor from :meth:`token`; None for anything else."""
        score, sep, key = token.partition("~")
        try:
            value = float(score)
        except ValueError:
            return None
        return cls(value, key) if sep and key and math.isfinite(value) else None


@dataclass(frozen=True)
class IndexedMessage:
    """One message as the index and its record hold it.

    Parameters:
      key: the send key; location, status, channel: the set it was found in (the status
        is a public one); score: its score there.
      masked: its address, masked ('' when unknown).
      record: what its delivery record holds of ``status``, ``reason`` and
        ``error_code`` (empty while scheduled or withdrawn).
    """

    key: str
    location: str
    status: str
    channel: str
    score: float
    masked: str
    record: dict[str, str]

    @property
    def reference(self) -> str:
        return key_part(self.key, 0)

    @property
    def kind(self) -> str:
        return key_part(self.key, 1)

    @property
    def at(self) -> dt.datetime:
        """When it last changed (a scheduled message: when it is due)."""
        return dt.datetime.fromtimestamp(math.floor(self.score), dt.UTC)


@dataclass(frozen=True)
class _Candidate:
    score: float
    key: str
    location: str
    status: str
    channel: str


class MessageIndex(RedisStore):
    """The message index (see the module's description).

    Parameters (and :class:`RedisStore`'s):
      retention: how long delivery records are kept (members older are dropped).
    """

    def __init__(self, redis: Redis, *, keys: Keys, retention: dt.timedelta) -> None:
        super().__init__(redis, keys=keys)
        self.ttl = int(retention.total_seconds())

    # -- writes --

    def stage_plan(self, writes: StagedWrites, plan: Plan, *,
                   previous: AppointmentState | None, now: dt.datetime) -> None:
        """Queue on ``writes`` what ``plan`` changes in the index: each message planned
        joins its location's ``scheduled`` set (and the address's set), each one taken back
        moves to ``withdrawn``. Each is one step of ``scripts/lib/message_index.lua``
        (``index_planned``, ``index_withdrawn``) that ``intake_apply`` runs among the
        writes: a dozen commands a message, built in Redis rather than here.

        Parameters:
          writes: the staged writes ``intake_apply`` runs.
          plan: the plan intake stores.
          previous: the appointment as it was stored (where withdrawn messages were
            planned), None for a new one.
          now: when the plan is stored.
        """
        appointment = plan.state.appointment
        location = appointment.location.id
        before = location if previous is None else previous.appointment.location.id
        prefix, stamp = self.keys.prefix, repr(now.timestamp())
        for message in plan.upserts:
            address = appointment.patient.address_for(message.channel) or ""
            writes.execute_command(
                "index_planned", prefix, message.key, location, before, str(message.channel),
                mask_address(address) if address else "",
                address_digest(address) if address else "",
                repr(max(message.send_at, now).timestamp()), stamp, self.ttl,
                int(_PLANNING_HORIZON.total_seconds()))
        for key in plan.withdrawn:
            writes.execute_command("index_withdrawn", prefix, key, before, key_part(key, 2),
                                   stamp, self.ttl)

    # -- reads --

    def page(
        self, *, locations: Iterable[str], statuses: Iterable[str], channels: Iterable[str],
        kinds: Iterable[str] = (), since: dt.datetime | None = None,
        until: dt.datetime | None = None, cursor: Cursor | None = None, size: int = 50,
        keep: Callable[[IndexedMessage], bool] | None = None,
    ) -> tuple[list[IndexedMessage], Cursor | None]:
        """One page of messages, newest first, and the cursor of the next (None at the end).

        Parameters:
          locations, statuses, channels: the sets to merge (every combination); when
            every status is asked, each location's set of every message instead, its
            channels kept by the send keys.
          kinds: the kinds kept (all when empty), read from the send keys.
          since, until: the period (``until`` excluded), by each message's score.
          cursor: where the previous page stopped (None for the first page).
          size: the most rows a page holds.
          keep: a predicate on each row (a reason filter); with one, a page looks at up to
            :data:`SCAN_BUDGET` messages and may come back short with a cursor.
        """
        statuses, channels = list(dict.fromkeys(statuses)), list(dict.fromkeys(channels))
        places = list(dict.fromkeys(locations))
        # Every status asked: one set per location, its channels read from the keys.
        every_status = set(STATUSES) <= set(statuses)
        sets = ([(loc, "", "") for loc in places] if every_status else
                [(loc, status, channel) for loc in places for status in statuses
                 for channel in channels])
        if not sets or size <= 0 or not channels:
            return [], None
        wanted = frozenset(kinds)
        on_channels = frozenset(channels) if every_status and set(channels) < CHANNELS \
            else frozenset()
        filtered = keep is not None or bool(wanted) or bool(on_channels)
        batch = max(size, SCAN_BUDGET) if filtered else size
        # A filtered page looks at the newest ``batch`` messages of all the sets together:
        # twice its share from each set is enough unless one set holds most of the newest
        # (then the page comes back short, with a cursor), and it keeps the read bounded
        # by the budget rather than by the budget times the number of sets.
        per_set = min(batch, max(size, -(-2 * batch // len(sets)))) if filtered else size
        candidates, boundary = self._candidates(sets, per_set, since, until, cursor)
        certain = [c for c in candidates
                   if boundary is None or (c.score, c.key) >= (boundary.score, boundary.key)]
        looked: list[_Candidate] = []
        for candidate in certain:
            if len(looked) >= batch:
                break
            looked.append(candidate)
        chosen = [c for c in looked if (not wanted or key_part(c.key, 1) in wanted)
                  and (not on_channels or c.channel in on_channels)]
        rows = self._rows(chosen)
        kept: list[IndexedMessage] = []
        last = looked[-1] if looked else None
        for row in rows:
            if keep is None or keep(row):
                kept.append(row)
                if len(kept) == size:
                    last = next(c for c in looked if c.key == row.key)
                    break
        if last is None:
            return kept, None
        more = boundary is not None or last is not certain[-1]
        return kept, Cursor(last.score, last.key) if more else None

    def _candidates(
        self, sets: Sequence[tuple[str, str, str]], batch: int, since: dt.datetime | None,
        until: dt.datetime | None, cursor: Cursor | None,
    ) -> tuple[list[_Candidate], Cursor | None]:
        """The first ``batch`` members of each set below the cursor, merged newest first,
        and the boundary above which the merge is certain (None when every set gave all
        it had)."""
        low: str = "-inf" if since is None else repr(since.timestamp())
        if cursor is not None:
            high = f"({cursor.score!r}"
        elif until is not None:
            high = f"({until.timestamp()!r}"
        else:
            high = "+inf"
        with self.redis.pipeline(transaction=False) as pipe:
            for location, status, channel in sets:
                key = (self.keys.messages(location, status, channel) if status
                       else self.keys.messages_of(location))
                if cursor is not None:
                    pipe.zrevrangebyscore(key, cursor.score, cursor.score, start=0, num=_TIES,
                                          withscores=True)
                pipe.zrevrangebyscore(key, high, low, start=0, num=batch, withscores=True)
            replies = pipe.execute()
        per_set = 2 if cursor is not None else 1
        found: dict[str, _Candidate] = {}
        boundaries: list[Cursor] = []
        for i, (location, status, channel) in enumerate(sets):
            answer = replies[i * per_set: (i + 1) * per_set]
            below = answer[-1]
            ties = answer[0] if cursor is not None else []
            if len(below) == batch:
                member, score = below[-1]
                boundaries.append(Cursor(float(score), text(member)))
            for member, score in [*ties, *below]:
                key = text(member)
                if cursor is not None and float(score) == cursor.score and key >= cursor.key:
                    continue
                candidate = _Candidate(float(score), key, location, status,
                                       channel or key_part(key, 2))
                held = found.get(key)
                if held is None or (held.score, held.key) < (candidate.score, key):
                    found[key] = candidate
        ordered = sorted(found.values(), key=attrgetter("score", "key"), reverse=True)
        return ordered, max(boundaries) if boundaries else None

    def _rows(self, chosen: Sequence[_Candidate]) -> list[IndexedMessage]:
        """The rows of ``chosen``: their planned rows and delivery records, in one round
        trip."""
        if not chosen:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for candidate in chosen:
                pipe.hmget(self.keys.message_row(candidate.key), "a", "s")
                pipe.hmget(self.keys.delivery(candidate.key), *_RECORD_FIELDS, "masked")
            replies = pipe.execute()
        rows = []
        for i, candidate in enumerate(chosen):
            masked, filed = replies[2 * i]
            *fields, record_masked = replies[2 * i + 1]
            record = {name: text(value) for name, value in zip(_RECORD_FIELDS, fields,
                                                                strict=True)
                      if value is not None}
            status = (candidate.status or optional_text(filed)
                      or FROM_RECORD.get(record.get("status", ""), SCHEDULED))
            rows.append(IndexedMessage(
                key=candidate.key, location=candidate.location, status=status,
                channel=candidate.channel, score=candidate.score,
                masked=optional_text(masked) or optional_text(record_masked) or "",
                record=record,
            ))
        return rows

    def to_address(self, address: str, *, locations: Callable[[str], bool],
                   limit: int = 200) -> list[IndexedMessage]:
        """The latest ``limit`` messages planned to ``address`` (in its normal form) at
        the locations ``locations`` accepts, newest due first, with their status now.

        Parameters:
          address: an E.164 number or an email address, as planned.
          locations: which locations the reader may see.
          limit: the most messages read.
        """
        keys = [text(k) for k in self.redis.zrevrange(
            self.keys.messages_to(address_digest(address)), 0, limit - 1)]
        if not keys:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self.keys.message_row(key), "l", "s")
            rows = [(optional_text(place), optional_text(status))
                    for place, status in pipe.execute()]
        located = [(key, place, status) for key, (place, status) in zip(keys, rows, strict=True)
                   if place is not None and locations(place)]
        with self.redis.pipeline(transaction=False) as pipe:
            for key, place, _ in located:
                pipe.zscore(self.keys.messages_of(place), key)
            scores = pipe.execute()
        # A message no longer in its clinic's set was trimmed with its records: gone.
        candidates = [_Candidate(float(score), key, place, status or SCHEDULED,
                                 key_part(key, 2))
                      for (key, place, status), score in zip(located, scores, strict=True)
                      if score is not None]
        candidates.sort(key=lambda c: (c.score, c.key), reverse=True)
        return self._rows(candidates)
