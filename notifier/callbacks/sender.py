"""One attempt to post a callback: a pooled urllib3 exchange with the checked address.

Each attempt checks its endpoint's URL again (:mod:`notifier.callbacks.destination_check`)
and connects to the very address that passed, naming the URL's host in ``Host``, in the TLS
server name and in the certificate check. It follows no redirect (a 3xx is a failure, tried
again later: a receiver that moved must update its URL), does not retry (the schedule
does, :mod:`notifier.callbacks.retry_schedule`), reads no proxy from the environment (a
proxy would reach addresses the check refused), and reads at most :data:`MAX_ANSWER_BYTES`
of the answer's body, which it throws away. It logs nothing: the caller logs an attempt by
its endpoint and event ids.

An answer is judged by its status alone; a failure to get one is an :class:`Failure`.
"""

from __future__ import annotations

import enum
import http.client
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import certifi
import urllib3
from urllib3.util.ssl_ import create_urllib3_context

from notifier.callbacks.destination_check import Rejection, Resolver, check_destination
from notifier.errors import DestinationRefused

TIMEOUT = 15.0
# Bytes of an answer's body read (then thrown away) before the connection is given up.
MAX_ANSWER_BYTES = 4096
# Distinct endpoint addresses whose connections are kept, and connections kept to each.
POOLS = 64
POOL_SIZE = 4
USER_AGENT = "notifier-callbacks/1"
# Keeps a receiver from storing anything large in what the gateway records of an attempt.
_MAX_RETRY_AFTER_CHARS = 64


class Failure(enum.StrEnum):
    """Why an attempt did not deliver its callback."""

    TIMEOUT = "timeout"  # no answer within the timeout
    CONNECTION = "connection"  # no connection, TLS refused, or the connection broke
    REFUSED_DESTINATION = "refused_destination"  # the URL failed the destination check
    REDIRECT_NOT_FOLLOWED = "redirect_not_followed"  # a 3xx answer


@dataclass(frozen=True)
class Attempt:
    """What one attempt got.

    Parameters:
      status: the answer's HTTP status, or None when none came.
      retry_after: the answer's ``Retry-After`` header as sent (cut to 64 characters), to
        read with :func:`notifier.callbacks.retry_schedule.parse_retry_after`.
      failure: why it did not deliver, when that is not just the status (None for any
        status but a 3xx).
      elapsed: seconds from the start of the check to the end of the answer.
      rejection: why the destination check refused the URL, with ``REFUSED_DESTINATION``
        (or ``CONNECTION`` when its host name did not resolve).
    """

    status: int | None
    retry_after: str | None
    failure: Failure | None
    elapsed: float
    rejection: Rejection | None = None

    @property
    def delivered(self) -> bool:
        """The receiver took the callback (a 2xx)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """The receiver answered 410 Gone: its endpoint is to be disabled."""
        return self.status == 410

    @property
    def retryable(self) -> bool:
        """Neither delivered nor gone: the schedule decides when to try again."""
        return not (self.delivered or self.gone)


def new_pools(*, ca_file: str | None = None) -> urllib3.PoolManager:
    """Connection pools for callbacks, one per endpoint address and host name.

    Parameters:
      ca_file: the certificates trusted (PEM); certifi's bundle by default.
    """
    tls = create_urllib3_context()
    tls.load_verify_locations(ca_file or certifi.where())
    return urllib3.PoolManager(num_pools=POOLS, maxsize=POOL_SIZE, ssl_context=tls)


_shared: urllib3.PoolManager | None = None
_shared_lock = threading.Lock()


def shared_pools() -> urllib3.PoolManager:
    """The process's callback pools, made at first use; thread-safe."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = new_pools()
        return _shared


def post_callback(
    endpoint_url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timeout: float = TIMEOUT,
    allow_private: bool = False,
    resolve: Resolver = socket.getaddrinfo,
    pools: urllib3.PoolManager | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Attempt:
    """Post ``body`` to ``endpoint_url`` once; never raises for what the network or the
    receiver does.

    Parameters:
      endpoint_url: the endpoint's URL, checked now.
      headers: the request's headers (:func:`notifier.callbacks.signing.webhook_headers`);
        a ``Host`` among them is replaced by the URL's.
      body: the bytes posted, exactly as signed.
      timeout: seconds for the connection and the answer together (the name's resolution
        comes before and is not counted).
      allow_private: see :func:`notifier.callbacks.destination_check.check_destination`.
      resolve: as :func:`socket.getaddrinfo`.
      pools: the connection pools (:func:`new_pools`); the process's shared ones by default.
      clock: seconds, for ``elapsed``.
    """
    started = clock()
    try:
        destination = check_destination(endpoint_url, allow_private=allow_private,
                                         resolve=resolve)
    except DestinationRefused as refused:
        rejection = Rejection(refused.reason)
        failure = (Failure.CONNECTION if rejection is Rejection.UNRESOLVED
                   else Failure.REFUSED_DESTINATION)
        return Attempt(None, None, failure, clock() - started, rejection)
    tls: dict[str, Any] = {}
    if destination.scheme == "https":
        tls = {"server_hostname": destination.host, "assert_hostname": destination.host}
    pool = (pools or shared_pools()).connection_from_host(
        destination.address, destination.port, destination.scheme, pool_kwargs=tls,
    )
    sent = {name: value for name, value in headers.items() if name.lower() != "host"}
    sent.setdefault("user-agent", USER_AGENT)
    sent["Host"] = destination.host_header
    try:
        answer = pool.urlopen(
            "POST", destination.target, body=body, headers=sent, retries=False,
            redirect=False, assert_same_host=False, timeout=urllib3.Timeout(total=timeout),
            preload_content=False, release_conn=False,
        )
    except urllib3.exceptions.NewConnectionError:
        return Attempt(None, None, Failure.CONNECTION, clock() - started)
    except urllib3.exceptions.TimeoutError:
        return Attempt(None, None, Failure.TIMEOUT, clock() - started)
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError):
        return Attempt(None, None, Failure.CONNECTION, clock() - started)
    _discard_body(answer)
    retry_after = answer.headers.get("Retry-After")
    return Attempt(
        answer.status,
        retry_after[:_MAX_RETRY_AFTER_CHARS] if retry_after is not None else None,
        Failure.REDIRECT_NOT_FOLLOWED if 300 <= answer.status < 400 else None,
        clock() - started,
    )


def _discard_body(answer: urllib3.BaseHTTPResponse) -> None:
    """Read at most :data:`MAX_ANSWER_BYTES` of the body and throw it away; the connection
    goes back to its pool only when the body ended within them."""
    try:
        answer.read(MAX_ANSWER_BYTES, decode_content=False)
        ended = answer.closed
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError):
        ended = False
    if not ended:
        answer.close()  # the rest of the body would be the next answer's start
    answer.release_conn()
