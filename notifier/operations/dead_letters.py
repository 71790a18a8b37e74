"""Dead letters: Dramatiq messages that failed for good, and what operators do with them.

Dramatiq keeps them 7 days in ``<ns>:<queue>.XQ`` (sorted set id -> when it died, ms)
and ``<ns>:<queue>.XQ.msgs`` (hash id -> message JSON). An operator may:

- requeue one (or all): the message leaves the dead letters and joins its queue as a new
  Dramatiq message with the same message id and its retries reset;
- discard one: it leaves the dead letters for good.

Each action and its audit line are written by one Lua script: the dead letter leaves
and the copy is enqueued together (nothing is lost if the process dies in between, and
two operators clicking at once requeue it once). The enqueue writes exactly what
Dramatiq's own ``enqueue`` writes (``dispatch.lua``: HSET ``.msgs``, RPUSH the queue).

What is shown of a message never includes its arguments as they are: a ``send_message``
shows its send key, an ``intake_event`` its event id, type and reference number. A
message's ``args`` hold patients' names, numbers and emails.

A ``send_message`` whose sends kept crashing until Dramatiq's retries ran out (a
provider's failure never does: it is retried until the message's deadline) was recorded
``failed`` by the send step (``retries_exhausted``); requeuing it reopens that record, so
the copy is sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dramatiq
from dramatiq.common import q_name
from pydantic import ValidationError
from redis import Redis

from notifier.arrival import Arrival
from notifier.destinations import DestinationPolicy, destination_policy
from notifier.domain import Event
from notifier.logs import redact
from notifier.message_summary import message_summary
from notifier.names import INTAKE_ACTOR, QUEUES, SEND_ACTOR, SEND_EXHAUSTED_ACTOR
from notifier.operations.queues import QueueKeys, queue_keys
from notifier.operations.times import iso, require_aware
from notifier.planning.entries import PlannedMessage
from notifier.problems import describe, summary
from notifier.settings import Settings
from notifier.store.decoding import optional_text, text, text_map
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from notifier.store.lua import load_script

# The audit keeps the latest actions; a year of a busy deployment's requeues fits.
AUDIT_MAX_LENGTH = 100_000
# Options Dramatiq's Retries middleware and the broker add to a message on its way.
_RUN_OPTIONS = ("retries", "traceback", "requeue_timestamp", "eta", "redis_message_id")
# Exceptions whose message we wrote and know to be free of patient data.
_OUR_EXCEPTIONS = re.compile(r"^(notifier|dramatiq)\.[\w.]+$")
# An exception's line in a traceback: its (qualified) class name, then its message.
_EXCEPTION_LINE = re.compile(
    r"^(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::\s?(?P<message>.*))?$"
)
_BUILTIN_EXCEPTION = re.compile(r"(Error|Exception|Exit|Interrupt|Warning|Iteration)$")


def audit_key(settings: Settings) -> str:
    """The stream of operators' actions: ``<prefix>:operations:audit``."""
    return Keys(settings.queue_prefix).operations_audit


@dataclass(frozen=True)
class DeadLetter:
    """One dead message, as an operator may see it.

    Parameters:
      queue: its queue (``intake`` or ``send``).
      message_id: its id in the dead letters (what requeue and discard take).
      actor: the actor it was for (``intake_event``, ``send_message``, ...).
      failed_at: when it died (aware UTC).
      retries: how many retries it had used.
      reason: why it failed, in one line, without patient data.
      summary: what it was about: for ``send_message`` the send key, reference, kind and
        channel; for ``intake_event`` the event id, type and reference. Never the
        message's arguments themselves.
      delivery_status: for a send, the status of its delivery record now (a final one
        means requeueing will not send it again).
      dramatiq_message_id: Dramatiq's own id (kept by a requeue; appears in worker logs).
      planned: for a send, its planned message (no address in it), to tell what a
        requeue would do; None otherwise.
      score: when it died as Dramatiq scores it (ms), the cursor of the next page.
      location: for a send, its clinic's location id, as its delivery record names it.
    """

    queue: str
    message_id: str
    actor: str
    failed_at: dt.datetime
    retries: int
    reason: str
    summary: dict[str, str] = field(default_factory=dict)
    delivery_status: str | None = None
    dramatiq_message_id: str = ""
    planned: PlannedMessage | None = None
    score: float = 0.0
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"queue": self.queue, "message_id": self.message_id, "actor": self.actor,
                "failed_at": iso(self.failed_at), "retries": self.retries,
                "reason": self.reason, "summary": self.summary,
                "delivery_status": self.delivery_status,
                "dramatiq_message_id": self.dramatiq_message_id,
                "location": self.location}


@dataclass(frozen=True)
class OperatorAction:
    """One line of the operators' audit.

    Parameters:
      id: the stream entry id.
      at: when (aware UTC).
      actor: who (an operator's name, or the OS user for the command line).
      action: ``requeue``, ``requeue_all``, ``discard``, or ``reset_version`` (an
        appointment's stored version set by :mod:`notifier.operations.versions`).
      queue, message_id: which dead letter (empty for ``reset_version``).
      reason: why, as the operator wrote it.
      summary: what the message was about (as in :class:`DeadLetter`); for
        ``reset_version`` the reference and the versions ``from`` and ``to``.
    """

    id: str
    at: dt.datetime
    actor: str
    action: str
    queue: str
    message_id: str
    reason: str
    summary: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": iso(self.at), "actor": self.actor,
                "action": self.action, "queue": self.queue, "message_id": self.message_id,
                "reason": self.reason, "summary": self.summary}


# Reading -------------------------------------------------------------------------------


def _last_line(trace: str) -> str:
    """The exception a stored traceback ends with, as one safe line.

    Its message is kept only for our own and Dramatiq's exceptions, whose messages are
    written without patient data; another library's may quote the data it choked on
    (pydantic does), so only its name is kept. A multi-line message's continuation lines
    are skipped when looking for the exception's line.
    """
    for line in reversed(trace.strip().splitlines()):
        found = _EXCEPTION_LINE.match(line)
        if found is None:
            continue
        name, message = found["name"], (found["message"] or "").strip()
        short = name.rsplit(".", 1)[-1]
        if not short[:1].isupper():  # exception classes are CamelCase; field paths are not
            continue
        if _OUR_EXCEPTIONS.match(name):
            return redact(f"{short}: {message}" if message else short)[:300]
        if "." in name or _BUILTIN_EXCEPTION.search(short):
            return short[:100]
    return ""


def _reason(
    actor: str, options: Mapping[str, Any], args: Any, failed_at: dt.datetime,
    policy: DestinationPolicy,
) -> str:
    trace = options.get("traceback")
    if isinstance(trace, str) and trace.strip():
        return _last_line(trace)
    if actor == INTAKE_ACTOR and isinstance(args, list | tuple) and args:
        try:
            # Refused at a door (not retried, so no traceback): checked again as it was
            # then, its dates against the time it died, its numbers against the policy.
            Event.model_validate(args[0], context=Arrival(failed_at, destinations=policy))
        except ValidationError as exc:
            return f"InvalidEvent: {summary(describe(exc))}"[:300]
    return ""


def _decode(raw: bytes | str) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def list_dead(
    redis: Redis,
    settings: Settings,
    queue: str | None = None,
    limit: int = 100,
    *,
    before: float | None = None,
) -> list[DeadLetter]:
    """The most recent dead letters (of one queue, or all), newest first.

    Parameters:
      before: only those that died strictly before this score (ms since the epoch: the
        last shown letter's ``score``), for the next page; None: from the newest.
    """
    queues = QUEUES if queue is None else (queue_keys(settings, queue).queue,)
    found: list[tuple[str, str, float, dict[str, Any] | None]] = []
    for name in queues:
        keys = queue_keys(settings, name)
        ranked: list[Any] = (
            redis.zrevrange(keys.dead, 0, limit - 1, withscores=True) if before is None
            else redis.zrevrangebyscore(keys.dead, f"({before!r}", "-inf", start=0, num=limit,
                                        withscores=True))
        if not ranked:
            continue
        ids = [text(member) for member, _ in ranked]
        bodies: list[Any] = redis.hmget(keys.dead_messages, ids)
        for (member, score), body in zip(ranked, bodies, strict=True):
            found.append((name, text(member), float(score),
                          None if body is None else _decode(body)))
    found.sort(key=lambda item: -item[2])
    policy = destination_policy(settings)
    letters = [_letter(name, member, score, data, policy)
               for name, member, score, data in found[:limit]]
    return _with_intake_refusal(redis, settings, _with_delivery_status(redis, settings, letters),
                                [data for *_, data in found[:limit]])


def _letter(
    queue: str, member: str, score: float, data: dict[str, Any] | None,
    policy: DestinationPolicy,
) -> DeadLetter:
    data = data or {}
    options = data.get("options") if isinstance(data.get("options"), dict) else {}
    assert isinstance(options, dict)
    actor = str(data.get("actor_name", ""))
    args = data.get("args")
    failed_at = dt.datetime.fromtimestamp(score / 1000, dt.UTC)
    return DeadLetter(
        queue=queue, message_id=member, actor=actor, failed_at=failed_at,
        retries=int(options.get("retries", 0) or 0),
        reason=_reason(actor, options, args, failed_at, policy) if data else "message missing",
        summary=message_summary(actor, args),
        dramatiq_message_id=str(data.get("message_id", "")),
        planned=_planned(actor, args), score=score,
    )


def _planned(actor: str, args: Any) -> PlannedMessage | None:
    first = args[0] if isinstance(args, list | tuple) and args else None
    if actor == SEND_EXHAUSTED_ACTOR and isinstance(first, dict):
        return _planned(SEND_ACTOR, first.get("args"))
    if actor != SEND_ACTOR or not isinstance(first, dict):
        return None
    try:
        return PlannedMessage.from_dict(first)
    except (KeyError, ValueError, TypeError, AssertionError):
        return None


def _with_delivery_status(
    redis: Redis, settings: Settings, letters: list[DeadLetter]
) -> list[DeadLetter]:
    sends = [i for i, letter in enumerate(letters) if "key" in letter.summary]
    if not sends:
        return letters
    keys = Keys(settings.queue_prefix)
    with redis.pipeline(transaction=False) as pipe:
        for i in sends:
            pipe.hmget(keys.delivery(letters[i].summary["key"]),
                       ["status", "reason", "location"])
        records = pipe.execute()
    updated = list(letters)
    for i, (status, why, location) in zip(sends, records, strict=True):
        letter = letters[i]
        reason = letter.reason or ("" if why is None else text(why))
        updated[i] = dataclasses.replace(
            letter, delivery_status=optional_text(status), reason=reason,
            location=optional_text(location),
        )
    return updated


def _with_intake_refusal(
    redis: Redis, settings: Settings, letters: list[DeadLetter],
    bodies: list[dict[str, Any] | None],
) -> list[DeadLetter]:
    """An event message that broke no rule of the contract was refused by the store (its
    id reused for another event, a version jump): say so, as intake would now."""
    intake = Intake(redis, settings)
    updated = list(letters)
    for i, (letter, data) in enumerate(zip(letters, bodies, strict=True)):
        args = (data or {}).get("args")
        if letter.actor != INTAKE_ACTOR or letter.reason or not isinstance(args, list) or not args:
            continue
        try:
            refused = intake.refusal(Event.model_validate(args[0]))
        except ValidationError:
            continue
        if refused is not None:
            updated[i] = dataclasses.replace(letter,
                                             reason=f"InvalidEvent: {refused.summary()}"[:300])
    return updated


# Acting --------------------------------------------------------------------------------


def audit_line(
    action: str, *, actor: str, reason: str, now: dt.datetime, summary_: Mapping[str, str],
    queue: str = "", message_id: str = "",
) -> dict[str, str]:
    """The fields of one line of the operators' audit (see :class:`OperatorAction`)."""
    return {
        "at": require_aware(now).isoformat(), "actor": actor, "action": action,
        "queue": queue, "message_id": message_id, "reason": reason,
        "summary": json.dumps(dict(summary_), sort_keys=True),
    }


def _audit_pairs(
    action: str, keys: QueueKeys, message_id: str, *, actor: str, reason: str,
    now: dt.datetime, summary_: Mapping[str, str],
) -> list[str]:
    fields = audit_line(action, actor=actor, reason=reason, now=now, summary_=summary_,
                        queue=keys.queue, message_id=message_id)
    return [item for pair in fields.items() for item in pair]


def _fresh_copy(data: bytes | str) -> tuple[str, str, dict[str, str]]:
    """A new Redis id and the message to enqueue: Dramatiq's message with its run options
    (retries, traceback, delay) dropped, so it starts afresh."""
    message = dramatiq.Message.decode(data if isinstance(data, bytes) else data.encode())
    options = {k: v for k, v in message.options.items() if k not in _RUN_OPTIONS}
    new_id = str(uuid.uuid4())
    options["redis_message_id"] = new_id
    fresh = dataclasses.replace(message, queue_name=q_name(message.queue_name),
                                options=options)
    return new_id, fresh.encode().decode(), message_summary(message.actor_name,
                                                           list(message.args))


def check_actor(actor: str, reason: str) -> None:
    """Refuse an operator action that does not say who acts and why."""
    if not actor.strip():
        raise ValueError("actor must name who acts (it is kept in the audit)")
    if not reason.strip():
        raise ValueError("reason must say why (it is kept in the audit)")


def _move(
    redis: Redis, settings: Settings, queue: str, message_id: str, *, requeue: bool,
    actor: str, reason: str, now: dt.datetime,
) -> bool:
    check_actor(actor, reason)
    keys = queue_keys(settings, queue)
    raw = redis.hget(keys.dead_messages, message_id)
    if raw is None:
        return False
    if requeue:
        new_id, body, about = _fresh_copy(raw)
    else:
        data = _decode(raw) or {}
        new_id, body = "", ""
        about = message_summary(str(data.get("actor_name", "")), data.get("args"))
    moved = load_script(redis, "dead_letter_move")(
        keys=[keys.dead, keys.dead_messages, keys.ready, keys.messages, audit_key(settings)],
        args=[message_id, new_id, body, AUDIT_MAX_LENGTH,
              *_audit_pairs("requeue" if requeue else "discard", keys, message_id,
                            actor=actor, reason=reason.strip(), now=now, summary_=about)],
    )
    if moved and requeue and "key" in about:
        # The send step recorded the message as failed when it gave up; a requeued copy
        # must find it open again, or it would take it as done and send nothing.
        DeliveryLog.of(redis, settings).reopen(about["key"], now, by=actor)
    return bool(moved)


def requeue(
    redis: Redis, settings: Settings, queue: str, message_id: str, *,
    actor: str, reason: str, now: dt.datetime,
) -> bool:
    """Put dead letter ``message_id`` back on ``queue`` with its retries reset; False if
    it is no longer among the dead letters (already requeued, discarded or expired).

    Raises:
      ValueError: for an unknown queue, or an empty actor or reason.
    """
    return _move(redis, settings, queue, message_id, requeue=True, actor=actor,
                 reason=reason, now=now)


def requeue_all(
    redis: Redis, settings: Settings, queue: str, *,
    actor: str, reason: str, now: dt.datetime,
) -> int:
    """Requeue every dead letter of ``queue``; returns how many were requeued. Each one
    gets its own audit line."""
    check_actor(actor, reason)
    keys = queue_keys(settings, queue)
    # The ones dead now: a requeued message that dies again is not taken a second time.
    members = [text(m) for m in redis.zrange(keys.dead, 0, -1)]
    return sum(requeue(redis, settings, queue, m, actor=actor, reason=reason, now=now)
               for m in members)


def discard(
    redis: Redis, settings: Settings, queue: str, message_id: str, *,
    actor: str, reason: str, now: dt.datetime,
) -> bool:
    """Delete dead letter ``message_id`` for good; False if it is no longer there.

    Raises:
      ValueError: for an unknown queue, or an empty actor or reason.
    """
    return _move(redis, settings, queue, message_id, requeue=False, actor=actor,
                 reason=reason, now=now)


def operator_actions(
    redis: Redis, settings: Settings, count: int = 50
) -> list[OperatorAction]:
    """The latest ``count`` operator actions, newest first."""
    entries: list[Any] = redis.xrevrange(audit_key(settings), count=count) or []
    actions = []
    for entry_id, raw in entries:
        fields = text_map(raw)
        try:
            about = json.loads(fields.get("summary", "{}"))
        except ValueError:
            about = {}
        actions.append(OperatorAction(
            id=text(entry_id),
            at=dt.datetime.fromisoformat(fields["at"]).astimezone(dt.UTC),
            actor=fields.get("actor", ""), action=fields.get("action", ""),
            queue=fields.get("queue", ""), message_id=fields.get("message_id", ""),
            reason=fields.get("reason", ""),
            summary={str(k): str(v) for k, v in about.items()} if isinstance(about, dict)
            else {},
        ))
    return actions
