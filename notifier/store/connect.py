"""How every process reaches Redis: at one URL, or at the primary Redis Sentinel names.

Through Sentinel, redis-py's ``SentinelConnectionPool`` asks the sentinels for the primary
each time it opens a connection, and closes a connection whose server answers READONLY
(a primary demoted to replica). :class:`PrimaryConnection` also closes one whose server
refuses writes for want of replicas (NOREPLICAS, with ``min-replicas-to-write``): an old
primary woken from a freeze answers so until Sentinel demotes it. After a failover the
next command therefore reaches the new primary. A refused connection is tried again
(:data:`RETRY`: ten tries, backing off from 20 ms to 1 s, about five seconds in all),
which carries a command across a switch that takes a few seconds; one that takes longer
fails as a ``redis.ConnectionError``, which every caller already answers (503 to a
booking system, a retry for a send).

Every connection has a socket timeout: a primary frozen rather than dead would otherwise
hold a command for as long as the kernel keeps the connection open. A command that times
out is not tried again (each try would wait as long), it fails as a
``redis.TimeoutError``, answered like Redis being down.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from redis import ConnectionError as RedisConnectionError
from redis import Redis, RedisError
from redis.backoff import ExponentialBackoff
from redis.connection import SSLConnection, parse_url
from redis.exceptions import ResponseError
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from notifier.errors import SettingsError
from notifier.settings import Settings

# Beyond the longest command the gateway sends (a WAIT of NOTIFIER_REDIS_WAIT_TIMEOUT).
COMMAND_MARGIN = dt.timedelta(seconds=4)
CONNECT_TIMEOUT = 2.0
SENTINEL_TIMEOUT = 1.0
RETRY = Retry(ExponentialBackoff(cap=1.0, base=0.01), 10,
              supported_errors=(RedisConnectionError,))


def connect_redis(settings: Settings, *, needed_by: str) -> Redis:
    """A client of the deployment's Redis: ``NOTIFIER_REDIS_URL``, or with
    ``NOTIFIER_REDIS_SENTINELS`` the primary of ``NOTIFIER_REDIS_SENTINEL_SERVICE``.

    Raises :class:`SettingsError` (one line naming the setting) when the URL is missing,
    or when no sentinel answers or none monitors the service: a process must not start on
    a list that can never name a primary. A primary that is down while the sentinels
    answer is not a wrong setting; the process starts and waits for it like for any
    Redis outage.
    """
    url = settings.require_redis_url(needed_by)
    options = _timeouts(settings)
    if not settings.redis_sentinels:
        if url.startswith("rediss://") and settings.redis_ca_file is not None:
            options["ssl_ca_certs"] = str(settings.redis_ca_file)
        return Redis.from_url(url, **options)
    sentinel = sentinels_of(settings)
    check_sentinels(sentinel, settings)
    primary: Redis = sentinel.master_for(settings.redis_sentinel_service,
                                         **_primary_options(url, settings), **options)
    return primary


class PrimaryConnection(SentinelManagedConnection):
    """A connection to the primary Sentinel names, dropped (and the command tried again
    on a new one, which asks the sentinels) when its server refuses writes for want of
    replicas, as it drops one that answers READONLY."""

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)
        except ResponseError as error:
            if not str(error).startswith("NOREPLICAS"):
                raise
            self.disconnect()
            raise RedisConnectionError(
                "the Redis primary refuses writes: fewer replicas are connected to it than "
                "its min-replicas-to-write") from error


class PrimarySSLConnection(PrimaryConnection, SSLConnection):
    """:class:`PrimaryConnection` over TLS."""


def sentinels_of(settings: Settings) -> Sentinel:
    """The deployment's sentinels, each reached with their own password and TLS."""
    options: dict[str, Any] = {"socket_timeout": SENTINEL_TIMEOUT,
                               "socket_connect_timeout": SENTINEL_TIMEOUT}
    if settings.redis_sentinel_password is not None:
        options["password"] = settings.redis_sentinel_password.get_secret_value()
    if settings.redis_sentinel_tls:
        options["ssl"] = True
        if settings.redis_ca_file is not None:
            options["ssl_ca_certs"] = str(settings.redis_ca_file)
    return Sentinel(settings.redis_sentinels, sentinel_kwargs=options)


@dataclass(frozen=True)
class SentinelView:
    """What the sentinels say about the service.

    Parameters:
      answered: how many sentinels answered.
      primary: the primary's ``host:port`` as the first of them that monitors the
        service knows it, or None when none does.
    """

    answered: int
    primary: str | None


def sentinel_view(sentinel: Sentinel, service: str) -> SentinelView:
    """Ask every sentinel; the first that monitors ``service`` names its primary."""
    answered, found = 0, None
    for node in sentinel.sentinels:
        try:
            masters: dict[str, dict[str, Any]] = node.sentinel_masters()  # type: ignore[assignment]
        except RedisError:
            continue
        answered += 1
        found = found or masters.get(service)
    return SentinelView(answered=answered,
                        primary=None if found is None else f"{found['ip']}:{found['port']}")


def check_sentinels(sentinel: Sentinel, settings: Settings) -> None:
    """Stop with one line naming the setting when no sentinel answers, or when none of
    those that answer monitors the service."""
    service = settings.redis_sentinel_service
    view = sentinel_view(sentinel, service)
    listed = ", ".join(f"{host}:{port}" for host, port in settings.redis_sentinels)
    if view.answered == 0:
        raise SettingsError(
            f"setting NOTIFIER_REDIS_SENTINELS is wrong: none of {listed} answered as a "
            "Redis Sentinel; check the addresses, NOTIFIER_REDIS_SENTINEL_PASSWORD and "
            "NOTIFIER_REDIS_SENTINEL_TLS")
    if view.primary is None:
        raise SettingsError(
            f"setting NOTIFIER_REDIS_SENTINEL_SERVICE is wrong: the sentinels at {listed} "
            f"do not monitor {service!r}; use the name of their 'sentinel monitor' line")


def _timeouts(settings: Settings) -> dict[str, Any]:
    return {"socket_timeout": (settings.redis_wait_timeout + COMMAND_MARGIN).total_seconds(),
            "socket_connect_timeout": CONNECT_TIMEOUT, "socket_keepalive": True,
            "retry": copy.deepcopy(RETRY)}


def _primary_options(url: str, settings: Settings) -> dict[str, Any]:
    """The primary's password, user, database and TLS, from ``NOTIFIER_REDIS_URL``; its
    address comes from the sentinels."""
    options: dict[str, Any] = dict(parse_url(url))
    options.pop("host", None)
    options.pop("port", None)
    tls = options.pop("connection_class", None) is SSLConnection
    options["connection_class"] = PrimarySSLConnection if tls else PrimaryConnection
    if tls and settings.redis_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.redis_ca_file)
    return options
