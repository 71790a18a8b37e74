"""Setting an appointment's stored version: the way out when a stray event froze it.

An event whose version is far above the booking system's real one (a test run, a bug)
leaves every later real event ignored as ``stale_version``. An operator sets the version
the gateway holds back to the real one (``notifier appointment reset-version``); the new
state, a line in the appointment's story and a line in the operators' audit are written
in one transaction. Nothing else of the appointment changes: the next real event applies
as usual.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from redis import Redis, WatchError

from notifier.domain import MAX_VERSION
from notifier.operations.dead_letters import AUDIT_MAX_LENGTH, audit_key, audit_line, check_actor
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings
from notifier.store.intake import Intake


@dataclass(frozen=True)
class VersionReset:
    """What a reset changed.

    Parameters:
      reference: the appointment's reference number.
      previous: the version the gateway held.
      version: the version it holds now.
    """

    reference: str
    previous: int
    version: int


def reset_version(
    redis: Redis, settings: Settings, reference: str, *, version: int, actor: str,
    reason: str, now: dt.datetime,
) -> VersionReset | None:
    """Set the version held for appointment ``reference``; None when it holds none.

    Parameters:
      version: the new version, from 1 to ``MAX_VERSION`` (usually the booking system's
        latest real one, so that its next event is newer).
      actor: who acts (kept in the story and the audit).
      reason: why (kept in the story and the audit).
      now: when (aware).
    """
    check_actor(actor, reason)
    if not 1 <= version <= MAX_VERSION:
        raise ValueError(f"version must be from 1 to {MAX_VERSION}")
    intake = Intake(redis, settings)
    state_key = intake.keys.appointment(reference)
    with redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(state_key)
                raw = pipe.get(state_key)
                if raw is None:
                    pipe.reset()
                    return None
                state = AppointmentState.from_json(raw)
                done = VersionReset(reference, state.version, version)
                pipe.multi()
                pipe.set(state_key, dataclasses.replace(state, version=version).packed(),
                         keepttl=True)
                intake.history.stage(pipe, reference, {
                    "at": now.astimezone(dt.UTC).isoformat(), "what": "version_reset",
                    "version": version, "previous_version": state.version,
                    "actor": actor, "reason": reason,
                })
                audit: dict[Any, Any] = audit_line(
                    "reset_version", actor=actor, reason=reason, now=now,
                    summary_={"reference": reference, "from": str(state.version),
                              "to": str(version)},
                )
                pipe.xadd(audit_key(settings), audit, maxlen=AUDIT_MAX_LENGTH, approximate=True)
                pipe.execute()
                return done
            except WatchError:
                continue
