"""Integrators, their API tokens and their callback endpoints in Redis, and the audit of
every change.

Keys (:class:`~notifier.store.keys.Keys`, under ``settings.queue_prefix``):
  ``<prefix>:integrators``                       set: every integrator's id
  ``<prefix>:integrator:<id>``                   hash: name, locations, created_at, the
                                                 token's digest, the previous one's and
                                                 when it stops working
  ``<prefix>:integrator:<id>:endpoints``         set: its endpoints' ids
  ``<prefix>:integrator-token:<sha256>``         string: what the token allows (JSON)
  ``<prefix>:integrators:location:<location>``   set: the integrators acting for it
  ``<prefix>:endpoint:<id>``                     hash: integrator, url, types, secrets, state
  ``<prefix>:integrators:audit``                 stream: every change, who and when

A token record repeats its integrator's locations so that the web authenticates a
request with one ``GET``; every change of the locations rewrites the records in the same
transaction. A rotated token's record carries the end of its overlap, checked against the
caller's ``now``; Redis drops the record a day after that end.

Each change and its audit line are one ``MULTI`` transaction, watching the keys it read.
The audit never holds a token or a secret.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from redis import Redis, WatchError
from redis.client import Pipeline

from notifier.clock import utc_now
from notifier.errors import IntegratorProblem
from notifier.integrators.checks import known_event_types
from notifier.integrators.credentials import (
    Credential,
    new_endpoint_id,
    new_secret,
    new_token,
    token_digest,
)
from notifier.integrators.model import EVENT_TYPES, Endpoint, EndpointState, Integrator
from notifier.settings import Settings
from notifier.store.decoding import text, text_list, text_map
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore

_T = TypeVar("_T")

# The audit keeps the latest changes; years of a deployment's integrator changes fit.
AUDIT_MAX_LENGTH = 100_000
# A rotated token's record outlives its overlap by this much, so a clock a little behind
# Redis's never cuts the overlap short; the end itself is checked against ``now``.
_RECORD_SLACK = dt.timedelta(days=1)


def unknown_integrator(integrator: str) -> IntegratorProblem:
    return IntegratorProblem(f"no integrator {integrator!r} (see 'notifier integrators list')")


def unknown_endpoint(endpoint: str) -> IntegratorProblem:
    return IntegratorProblem(
        f"no endpoint {endpoint!r} (see 'notifier integrators endpoint list <integrator>')"
    )


@dataclass(frozen=True)
class TokenState:
    """What an operator may know of an integrator's tokens (never the tokens).

    Parameters:
      issued_at: when the current token was made.
      previous_until: when the previous token stops working; None when none is valid.
    """

    issued_at: dt.datetime
    previous_until: dt.datetime | None


@dataclass(frozen=True)
class NewToken:
    """A token just made: shown once, then only its digest is kept.

    Parameters:
      token: the token itself.
      previous_until: when the replaced token stops working (None for a new integrator,
        or a rotation without overlap).
    """

    token: str
    previous_until: dt.datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One change to integrators or endpoints.

    Parameters:
      id: the stream entry id.
      at: when (aware UTC).
      actor: who (an operator's name, or ``gateway`` for the gateway's own changes).
      action: ``add``, ``set_locations``, ``rotate_token``, ``remove``, ``endpoint_add``,
        ``endpoint_remove``, ``rotate_secret``, ``endpoint_state``, ``endpoint_types`` or
        ``recover``.
      integrator: the integrator changed (or whose endpoint changed).
      endpoint: the endpoint changed; empty for the integrator's own changes.
      details: what changed (name, locations, URL, types, state, reason, overlap end).
    """

    id: str
    at: dt.datetime
    actor: str
    action: str
    integrator: str
    endpoint: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor,
                "action": self.action, "integrator": self.integrator,
                "endpoint": self.endpoint, "details": self.details}


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return moment.astimezone(dt.UTC).isoformat()


def _moment(value: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _joined(values: Iterable[str]) -> str:
    return ",".join(sorted(values))


def _split(value: str) -> frozenset[str]:
    return frozenset(part for part in value.split(",") if part)


def _still_valid(until: str, now: dt.datetime) -> bool:
    end = _moment(until)
    return end is not None and now < end


def _check_actor(actor: str) -> None:
    if not actor.strip():
        raise ValueError("actor must name who acts (it is kept in the audit)")


class IntegratorStore(RedisStore):
    """Integrators and their endpoints in one deployment's Redis.

    Parameters:
      redis: the Redis client.
      settings: the deployment's settings (its key prefix).
      clock: the time used where a reader gives no ``now`` (aware UTC).
    """

    def __init__(
        self, redis: Redis, settings: Settings, *,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(redis, keys=Keys(settings.queue_prefix))
        self.clock = clock

    # Integrators ----------------------------------------------------------------------

    def get(self, integrator: str) -> Integrator | None:
        """Integrator ``integrator``, or None when there is none."""
        return self._integrator(integrator, text_map(self.redis.hgetall(
            self.keys.integrator(integrator))))

    def require(self, integrator: str) -> Integrator:
        """Integrator ``integrator``; raises :class:`IntegratorProblem` when there is none."""
        found = self.get(integrator)
        if found is None:
            raise unknown_integrator(integrator)
        return found

    def all(self) -> list[Integrator]:
        """Every integrator, by id."""
        ids = sorted(text_list(self.redis.smembers(self.keys.integrators)))
        with self.redis.pipeline(transaction=False) as pipe:
            for integrator in ids:
                pipe.hgetall(self.keys.integrator(integrator))
            raw = pipe.execute()
        found = (self._integrator(i, text_map(r)) for i, r in zip(ids, raw, strict=True))
        return [integrator for integrator in found if integrator is not None]

    def token_state(self, integrator: str, *, now: dt.datetime | None = None) -> TokenState:
        """When the current token was made and until when the previous one works."""
        fields = text_map(self.redis.hgetall(self.keys.integrator(integrator)))
        if not fields:
            raise unknown_integrator(integrator)
        now = now or self.clock()
        until = fields.get("previous_until", "")
        return TokenState(
            issued_at=dt.datetime.fromisoformat(fields["token_at"]),
            previous_until=_moment(until) if _still_valid(until, now) else None,
        )

    def add(
        self, integrator: str, *, name: str, locations: frozenset[str], actor: str,
        now: dt.datetime,
    ) -> tuple[Integrator, NewToken]:
        """Add an integrator and make its first token.

        Parameters:
          integrator: its id (checked by :func:`notifier.integrators.checks.integrator_id`).
          name, locations: as :class:`Integrator` describes them.
          actor: who adds it (kept in the audit).
          now: when (aware).

        Raises:
          IntegratorProblem: when the id is taken.
        """
        _check_actor(actor)
        token = new_token(integrator)
        digest = token_digest(token)
        key = self.keys.integrator(integrator)

        def write(pipe: Pipeline) -> None:
            if pipe.exists(key):
                raise IntegratorProblem(
                    f"integrator {integrator!r} already exists; choose another id, or "
                    "change its locations with 'notifier integrators set-locations'"
                )
            pipe.multi()
            pipe.hset(key, mapping={
                "name": name, "locations": _joined(locations), "created_at": _iso(now),
                "token": digest, "token_at": _iso(now), "previous_token": "",
                "previous_until": "",
            })
            pipe.sadd(self.keys.integrators, integrator)
            for location in locations:
                pipe.sadd(self.keys.integrators_at(location), integrator)
            pipe.set(self.keys.integrator_token(digest),
                     self._token_record(integrator, locations, until=""))
            self._audit(pipe, "add", actor=actor, now=now, integrator=integrator,
                        details={"name": name, "locations": sorted(locations)})

        self._transaction(write, key)
        return Integrator(integrator, name, locations, now.astimezone(dt.UTC)), NewToken(token)

    def set_locations(
        self, integrator: str, locations: frozenset[str], *, actor: str, now: dt.datetime,
    ) -> Integrator:
        """Replace the locations ``integrator`` acts for; its tokens act for the new ones
        at once."""
        _check_actor(actor)
        key = self.keys.integrator(integrator)

        def write(pipe: Pipeline) -> Integrator:
            fields = text_map(pipe.hgetall(key))
            current = self._integrator(integrator, fields)
            if current is None:
                raise unknown_integrator(integrator)
            pipe.multi()
            pipe.hset(key, "locations", _joined(locations))
            for location in current.locations - locations:
                pipe.srem(self.keys.integrators_at(location), integrator)
            for location in locations - current.locations:
                pipe.sadd(self.keys.integrators_at(location), integrator)
            pipe.set(self.keys.integrator_token(fields["token"]),
                     self._token_record(integrator, locations, until=""))
            if fields.get("previous_token"):
                # Rewritten in place: the record keeps its expiry.
                pipe.set(self.keys.integrator_token(fields["previous_token"]),
                         self._token_record(integrator, locations,
                                            until=fields.get("previous_until", "")),
                         keepttl=True)
            self._audit(pipe, "set_locations", actor=actor, now=now, integrator=integrator,
                        details={"from": sorted(current.locations),
                                 "to": sorted(locations)})
            return Integrator(integrator, current.name, locations, current.created_at)

        return self._transaction(write, key)

    def rotate_token(
        self, integrator: str, *, overlap: dt.timedelta, actor: str, now: dt.datetime,
    ) -> NewToken:
        """Make a new token for ``integrator``; the current one keeps working for
        ``overlap`` (none when zero), and one replaced earlier stops at once."""
        _check_actor(actor)
        token = new_token(integrator)
        digest = token_digest(token)
        key = self.keys.integrator(integrator)
        until = now + overlap if overlap > dt.timedelta(0) else None

        def write(pipe: Pipeline) -> None:
            fields = text_map(pipe.hgetall(key))
            current = self._integrator(integrator, fields)
            if current is None:
                raise unknown_integrator(integrator)
            pipe.multi()
            if fields.get("previous_token"):
                pipe.delete(self.keys.integrator_token(fields["previous_token"]))
            replaced = self.keys.integrator_token(fields["token"])
            if until is None:
                pipe.delete(replaced)
            else:
                pipe.set(replaced, self._token_record(integrator, current.locations,
                                                      until=_iso(until)),
                         ex=overlap + _RECORD_SLACK)
            pipe.set(self.keys.integrator_token(digest),
                     self._token_record(integrator, current.locations, until=""))
            pipe.hset(key, mapping={
                "token": digest, "token_at": _iso(now),
                "previous_token": fields["token"] if until else "",
                "previous_until": _iso(until) if until else "",
            })
            self._audit(pipe, "rotate_token", actor=actor, now=now, integrator=integrator,
                        details={"previous_until": _iso(until) if until else ""})

        self._transaction(write, key)
        return NewToken(token, until)

    def remove(self, integrator: str, *, actor: str, now: dt.datetime) -> None:
        """Remove ``integrator``, its tokens (at once, overlap or not) and its endpoints."""
        _check_actor(actor)
        key = self.keys.integrator(integrator)
        endpoints_key = self.keys.integrator_endpoints(integrator)

        def write(pipe: Pipeline) -> None:
            fields = text_map(pipe.hgetall(key))
            current = self._integrator(integrator, fields)
            if current is None:
                raise unknown_integrator(integrator)
            endpoints = sorted(text_list(pipe.smembers(endpoints_key)))
            pipe.multi()
            for digest in (fields["token"], fields.get("previous_token", "")):
                if digest:
                    pipe.delete(self.keys.integrator_token(digest))
            for location in current.locations:
                pipe.srem(self.keys.integrators_at(location), integrator)
            for endpoint in endpoints:
                pipe.delete(self.keys.endpoint(endpoint))
            pipe.delete(key, endpoints_key)
            pipe.srem(self.keys.integrators, integrator)
            self._audit(pipe, "remove", actor=actor, now=now, integrator=integrator,
                        details={"name": current.name, "endpoints": endpoints})

        self._transaction(write, key, endpoints_key)

    def authenticate(self, token: str, *, now: dt.datetime) -> Credential | None:
        """What ``token`` allows at ``now``: None for no integrator's token, or a replaced
        token past its overlap. One ``GET``, by the token's digest."""
        raw = self.redis.get(self.keys.integrator_token(token_digest(token)))
        if raw is None:
            return None
        record = json.loads(text(raw))
        if record["until"] and not _still_valid(record["until"], now):
            return None
        return Credential(integrator=record["integrator"],
                          locations=frozenset(record["locations"]))

    # Endpoints ------------------------------------------------------------------------

    def add_endpoint(
        self, integrator: str, *, url: str, types: frozenset[str], actor: str,
        now: dt.datetime,
    ) -> tuple[Endpoint, str]:
        """Add a callback endpoint to ``integrator``; returns it and its first secret.

        Parameters:
          url: where callbacks go (checked by :func:`notifier.integrators.checks.endpoint_url`).
          types: the event types it receives (checked by ``event_types``).
          actor: who adds it (kept in the audit, with the URL but never the secret).
          now: when (aware).
        """
        _check_actor(actor)
        endpoint = new_endpoint_id()
        secret = new_secret()
        key = self.keys.integrator(integrator)

        def write(pipe: Pipeline) -> None:
            if not pipe.exists(key):
                raise unknown_integrator(integrator)
            pipe.multi()
            pipe.hset(self.keys.endpoint(endpoint), mapping={
                "integrator": integrator, "url": url, "types": _types(types),
                "secret": secret, "previous_secret": "", "previous_until": "",
                "state": EndpointState.ACTIVE.value, "state_reason": "",
                "state_at": _iso(now), "created_at": _iso(now),
            })
            pipe.sadd(self.keys.integrator_endpoints(integrator), endpoint)
            self._audit(pipe, "endpoint_add", actor=actor, now=now, integrator=integrator,
                        endpoint=endpoint, details={"url": url, "types": _types(types)})

        self._transaction(write, key)
        return Endpoint(endpoint, integrator, url, types, (secret,)), secret

    def endpoints(self, integrator: str, *, now: dt.datetime | None = None) -> list[Endpoint]:
        """``integrator``'s endpoints, by id, whatever their state."""
        ids = sorted(text_list(self.redis.smembers(self.keys.integrator_endpoints(integrator))))
        return self._endpoints(ids, now or self.clock())

    def get_endpoint(self, endpoint: str, *, now: dt.datetime | None = None) -> Endpoint | None:
        """Endpoint ``endpoint``, its secrets valid at ``now`` newest first; None when
        there is none."""
        found = self._endpoints([endpoint], now or self.clock())
        return found[0] if found else None

    def endpoints_for(
        self, location: str, event_type: str, *, now: dt.datetime | None = None,
    ) -> list[Endpoint]:
        """The endpoints that receive an event of ``event_type`` about ``location``: those
        of the integrators acting for it that are active and subscribe to the type, by id.
        Three round trips, whatever the number of integrators."""
        integrators = text_list(self.redis.smembers(self.keys.integrators_at(location)))
        with self.redis.pipeline(transaction=False) as pipe:
            for integrator in integrators:
                pipe.smembers(self.keys.integrator_endpoints(integrator))
            ids = sorted({text(e) for members in pipe.execute() for e in members})
        found = self._endpoints(ids, now or self.clock())
        return [endpoint for endpoint in found if endpoint.wants(event_type)]

    def all_endpoints(self, *, now: dt.datetime | None = None) -> list[Endpoint]:
        """Every integrator's endpoints, whatever their state, by id. Three round trips,
        whatever the number of integrators."""
        integrators = text_list(self.redis.smembers(self.keys.integrators))
        with self.redis.pipeline(transaction=False) as pipe:
            for integrator in integrators:
                pipe.smembers(self.keys.integrator_endpoints(integrator))
            ids = sorted({text(e) for members in pipe.execute() for e in members})
        return self._endpoints(ids, now or self.clock())

    def record_recovery(
        self, endpoint: Endpoint, *, count: int, since: dt.datetime, actor: str,
        now: dt.datetime,
    ) -> None:
        """Record in the audit that ``actor`` sent ``count`` given-up callbacks to
        ``endpoint`` again, those given up at ``since`` or later."""
        _check_actor(actor)
        with self.redis.pipeline(transaction=True) as pipe:
            self._audit(pipe, "recover", actor=actor, now=now,
                        integrator=endpoint.integrator, endpoint=endpoint.id,
                        details={"count": count, "since": _iso(since)})
            pipe.execute()

    def remove_endpoint(self, endpoint: str, *, actor: str, now: dt.datetime) -> Endpoint:
        """Remove ``endpoint``; nothing more is sent to it."""

        def change(pipe: Pipeline, current: Endpoint, _: dict[str, str]) -> Endpoint:
            pipe.delete(self.keys.endpoint(endpoint))
            pipe.srem(self.keys.integrator_endpoints(current.integrator), endpoint)
            self._audit(pipe, "endpoint_remove", actor=actor, now=now,
                        integrator=current.integrator, endpoint=endpoint,
                        details={"url": current.url})
            return current

        return self._change_endpoint(endpoint, change, actor=actor, now=now)

    def rotate_secret(
        self, endpoint: str, *, overlap: dt.timedelta, actor: str, now: dt.datetime,
    ) -> tuple[Endpoint, str]:
        """Make a new secret for ``endpoint``; callbacks are signed with both for
        ``overlap`` (the new one only when zero). Returns the endpoint and the new secret."""
        secret = new_secret()
        until = now + overlap if overlap > dt.timedelta(0) else None

        def change(pipe: Pipeline, current: Endpoint, fields: dict[str, str]) -> Endpoint:
            pipe.hset(self.keys.endpoint(endpoint), mapping={
                "secret": secret, "previous_secret": fields["secret"] if until else "",
                "previous_until": _iso(until) if until else "",
            })
            self._audit(pipe, "rotate_secret", actor=actor, now=now,
                        integrator=current.integrator, endpoint=endpoint,
                        details={"previous_until": _iso(until) if until else ""})
            secrets = (secret, fields["secret"]) if until else (secret,)
            return Endpoint(current.id, current.integrator, current.url, current.types,
                            secrets, current.state)

        return self._change_endpoint(endpoint, change, actor=actor, now=now), secret

    def set_endpoint_state(
        self, endpoint: str, state: EndpointState, *, reason: str, now: dt.datetime,
        actor: str = "gateway",
    ) -> Endpoint:
        """Set whether ``endpoint`` receives callbacks.

        Parameters:
          state: its new state.
          reason: why (kept on the endpoint and in the audit), e.g. ``answered 410``.
          now: when (aware).
          actor: who: an operator's name, or ``gateway`` when the gateway decides.
        """

        def change(pipe: Pipeline, current: Endpoint, _: dict[str, str]) -> Endpoint:
            pipe.hset(self.keys.endpoint(endpoint), mapping={
                "state": state.value, "state_reason": reason, "state_at": _iso(now)})
            self._audit(pipe, "endpoint_state", actor=actor, now=now,
                        integrator=current.integrator, endpoint=endpoint,
                        details={"from": current.state.value, "to": state.value,
                                 "reason": reason})
            return Endpoint(current.id, current.integrator, current.url, current.types,
                            current.secrets, state)

        return self._change_endpoint(endpoint, change, actor=actor, now=now)

    def change_endpoint_types(
        self, endpoint: str, *, add: frozenset[str] = frozenset(),
        remove: frozenset[str] = frozenset(), actor: str, now: dt.datetime,
    ) -> tuple[Endpoint, frozenset[str]]:
        """Subscribe ``endpoint`` to the event types ``add`` and unsubscribe it from
        ``remove``, its other types kept; returns it as it now is and the types it had.
        Nothing is written (nor audited) when it already receives exactly those.

        The new types apply to the events fanned out from then on: an event logged
        before is not sent for a type just added, and one already on its way for a type
        just removed still goes.

        Parameters:
          add, remove: known event types (checked again here), at least one in all and
            none in both.
          actor: who (kept in the audit, with the types before and after).
          now: when (aware).
        """
        add, remove = known_event_types(add), known_event_types(remove)
        if not add and not remove:
            raise IntegratorProblem("say which event types to add (--add-type) or remove "
                                    "(--remove-type)")
        if both := sorted(add & remove):
            raise IntegratorProblem(f"event type {both[0]!r} is both added and removed")

        def change(pipe: Pipeline, current: Endpoint,
                   _: dict[str, str]) -> tuple[Endpoint, frozenset[str]]:
            types = (current.types | add) - remove
            if not types:
                raise IntegratorProblem(
                    f"endpoint {endpoint} would receive no event type: remove it ('notifier "
                    f"integrators endpoint remove {endpoint}') or disable it instead")
            if types != current.types:
                pipe.hset(self.keys.endpoint(endpoint), "types", _types(types))
                self._audit(pipe, "endpoint_types", actor=actor, now=now,
                            integrator=current.integrator, endpoint=endpoint,
                            details={"from": _ordered(current.types), "to": _ordered(types)})
            return Endpoint(current.id, current.integrator, current.url, types,
                            current.secrets, current.state), current.types

        return self._change_endpoint(endpoint, change, actor=actor, now=now)

    def _change_endpoint(
        self, endpoint: str, change: Callable[[Pipeline, Endpoint, dict[str, str]], _T], *,
        actor: str, now: dt.datetime,
    ) -> _T:
        """Run ``change`` (queued on the transaction, given the endpoint as it is and its
        stored fields) as one transaction watching the endpoint; an unknown endpoint is
        refused before anything is written."""
        _check_actor(actor)
        key = self.keys.endpoint(endpoint)

        def write(pipe: Pipeline) -> _T:
            fields = text_map(pipe.hgetall(key))
            current = self._endpoint(endpoint, fields, now)
            if current is None:
                raise unknown_endpoint(endpoint)
            pipe.multi()
            return change(pipe, current, fields)

        return self._transaction(write, key)

    def endpoint_state_reason(self, endpoint: str) -> tuple[str, dt.datetime | None]:
        """Why ``endpoint`` is in its state, and since when (empty and None if unknown)."""
        reason, at = self.redis.hmget(self.keys.endpoint(endpoint), "state_reason", "state_at")
        return (text(reason) if reason else "", _moment(text(at)) if at else None)

    # The audit ------------------------------------------------------------------------

    def audit(self, count: int = 50, *, integrator: str | None = None) -> list[AuditEntry]:
        """The latest ``count`` changes, newest first; only ``integrator``'s when given
        (among the latest 10,000)."""
        scan = count if integrator is None else max(count, 10_000)
        entries: list[Any] = self.redis.xrevrange(self.keys.integrators_audit,
                                                  count=scan) or []
        found = []
        for entry_id, raw in entries:
            fields = text_map(raw)
            if integrator is not None and fields.get("integrator") != integrator:
                continue
            found.append(AuditEntry(
                id=text(entry_id), at=dt.datetime.fromisoformat(fields["at"]),
                actor=fields.get("actor", ""), action=fields.get("action", ""),
                integrator=fields.get("integrator", ""), endpoint=fields.get("endpoint", ""),
                details=json.loads(fields.get("details") or "{}"),
            ))
            if len(found) == count:
                break
        return found

    # Reading and writing --------------------------------------------------------------

    def _transaction(self, write: Callable[[Pipeline], _T], *watched: str) -> _T:
        """Run ``write`` (reads, then ``pipe.multi()`` and writes) watching ``watched``,
        again from the start whenever one of them changed before the writes ran."""
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(*watched)
                    done = write(pipe)
                    pipe.execute()
                    return done
                except WatchError:
                    continue

    def _audit(
        self, pipe: Pipeline, action: str, *, actor: str, now: dt.datetime, integrator: str,
        endpoint: str = "", details: Mapping[str, Any],
    ) -> None:
        pipe.xadd(self.keys.integrators_audit, {
            "at": _iso(now), "actor": actor, "action": action, "integrator": integrator,
            "endpoint": endpoint, "details": json.dumps(dict(details), sort_keys=True),
        }, maxlen=AUDIT_MAX_LENGTH, approximate=True)

    @staticmethod
    def _token_record(integrator: str, locations: Iterable[str], *, until: str) -> str:
        return json.dumps({"integrator": integrator, "locations": sorted(locations),
                           "until": until})

    @staticmethod
    def _integrator(integrator: str, fields: Mapping[str, str]) -> Integrator | None:
        if not fields:
            return None
        return Integrator(integrator, fields["name"], _split(fields["locations"]),
                          dt.datetime.fromisoformat(fields["created_at"]))

    def _endpoints(self, ids: list[str], now: dt.datetime) -> list[Endpoint]:
        with self.redis.pipeline(transaction=False) as pipe:
            for endpoint in ids:
                pipe.hgetall(self.keys.endpoint(endpoint))
            raw = pipe.execute()
        found = (self._endpoint(e, text_map(r), now) for e, r in zip(ids, raw, strict=True))
        return [endpoint for endpoint in found if endpoint is not None]

    @staticmethod
    def _endpoint(endpoint: str, fields: Mapping[str, str], now: dt.datetime) -> Endpoint | None:
        if not fields:
            return None
        secrets: tuple[str, ...] = (fields["secret"],)
        if fields.get("previous_secret") and _still_valid(fields.get("previous_until", ""), now):
            secrets = (fields["secret"], fields["previous_secret"])
        return Endpoint(endpoint, fields["integrator"], fields["url"],
                        _split(fields["types"]), secrets, EndpointState(fields["state"]))


def _ordered(types: Iterable[str]) -> list[str]:
    """The types in :data:`EVENT_TYPES` order."""
    chosen = set(types)
    return [t for t in EVENT_TYPES if t in chosen]


def _types(types: Iterable[str]) -> str:
    """The types in :data:`EVENT_TYPES` order, comma-separated."""
    return ",".join(_ordered(types))
