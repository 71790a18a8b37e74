"""The HTTP client under ``twilio.rest.Client``: a pooled urllib3 exchange, nothing more.

``twilio.rest.Client`` builds each request (URL, form data, headers, basic auth) and reads
each answer; it hands the exchange to an ``HttpClient``. The library's own,
``TwilioHttpClient``, runs it through a ``requests`` session, which costs a send more CPU
than the exchange itself (preparing the request, cookies, hooks, proxy look-ups, charset
guessing). This one puts the same bytes on the wire (the same headers, in the same order,
the same form encoding and basic-auth header) straight through a urllib3 ``PoolManager``,
the pool ``requests`` used underneath.

What it does not do, on purpose: retry (not on a failed connection, not on a 429 or 503
with ``Retry-After``, not on a connection lost: a create is not idempotent), follow
redirects, read proxies or CA bundles from the environment on every request. A failure of
the exchange is raised as urllib3 raises it (``NewConnectionError``,
``ConnectTimeoutError``, ``ReadTimeoutError``, ``ProtocolError``...):
:func:`notifier.channels.twilio.api.call_twilio` says what each means for a message.

Proxies are read once, at start, from the environment (``HTTPS_PROXY``, ``ALL_PROXY``...);
``NO_PROXY`` is not consulted, as it was not under the session this replaced. A
Twilio-compatible test server (``base_url``) is reached directly.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit
from urllib.request import getproxies

import certifi
import urllib3
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.util import make_headers
from urllib3.util.ssl_ import create_urllib3_context

_logger = logging.getLogger("twilio.http_client")

# Connections kept open to Twilio per process (one per worker thread is plenty).
POOL_SIZE = 16

# What a requests session sent ahead of the twilio client's own headers; kept so that
# Twilio sees the same request as from its own library.
_SESSION_HEADERS = {
    "Accept-Encoding": ", ".join(
        part.strip() for part in make_headers(accept_encoding=True)["accept-encoding"].split(",")
    ),
    "Accept": "*/*",
    "Connection": "keep-alive",
}
# Methods that send no Content-Length when they have no body.
_BODYLESS = frozenset({"GET", "HEAD"})


class GatewayHttpClient(HttpClient):  # type: ignore[misc]
    """An ``HttpClient`` for ``twilio.rest.Client`` over one urllib3 connection pool, with a
    timeout on every request and no retries. Thread-safe: worker threads share it.

    Parameters:
      timeout: seconds to wait to connect, and for each read, when the request gives none.
      base_url: send every request to this scheme and host instead of Twilio's (a
        Twilio-compatible test server); the path is kept. No proxy is used for it.
      proxies: the proxy for each URL scheme (``"https"``, or ``"all"`` for any), as
        :func:`urllib.request.getproxies` gives them; by default read from the environment
        now, once.
    """

    def __init__(
        self, *, timeout: float, base_url: str | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(_logger, False, timeout)
        self._base = urlsplit(base_url) if base_url else None
        if self._base is not None:
            proxies = {}
        elif proxies is None:
            proxies = getproxies()
        # The CA bundle requests used: certifi's, not the system's.
        tls = create_urllib3_context()
        tls.load_verify_locations(certifi.where())
        options: dict[str, Any] = {"num_pools": 1, "maxsize": POOL_SIZE, "ssl_context": tls}
        # One pool per way out (direct, or a proxy), shared by the schemes that take it.
        ways: dict[str | None, urllib3.PoolManager] = {}
        self._pools: dict[str, urllib3.PoolManager] = {}
        for scheme in ("https", "http"):
            proxy = proxies.get(scheme) or proxies.get("all")
            if proxy not in ways:
                ways[proxy] = _proxy_pool(proxy, options) if proxy else urllib3.PoolManager(
                    **options
                )
            self._pools[scheme] = ways[proxy]
        # Each worker thread reads the headers of its own last answer (Retry-After).
        self._last = threading.local()

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """One exchange, as ``TwilioHttpClient.request`` makes it, without retries.

        Raises urllib3's exception when no answer could be read; any answer, an error
        status included, is returned.
        """
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        method = method.upper()
        parts = urlsplit(url)
        if self._base is not None:
            parts = parts._replace(scheme=self._base.scheme, netloc=self._base.netloc)
        query = form_encoded(params.items()) if params else ""
        if query:
            parts = parts._replace(query=f"{parts.query}&{query}" if parts.query else query)
        url = urlunsplit(parts._replace(fragment=""))
        body = (form_encoded(data.items()) if data else "").encode() or None
        sent = self._headers(method, headers or {}, body, auth)
        if self.logger.isEnabledFor(logging.INFO):
            self.log_request({"method": method, "url": url, "params": None, "headers": sent})
        self._last.headers = {}
        answer = self._pools.get(parts.scheme, self._pools["https"]).urlopen(
            method, url, body=body, headers=sent, retries=False, redirect=allow_redirects,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )
        self._last.headers = answer.headers
        if self.logger.isEnabledFor(logging.INFO):
            self.log_response(answer.status, answer)
        content_type = answer.headers.get("Content-Type", "")
        return Response(answer.status, _decoded(answer.data, content_type), answer.headers)

    def last_headers(self) -> Mapping[str, str]:
        """The headers of this thread's last answer (empty when none came)."""
        headers: Mapping[str, str] = getattr(self._last, "headers", {})
        return headers

    @staticmethod
    def _headers(
        method: str, given: Mapping[str, str], body: bytes | None,
        auth: tuple[str, str] | None,
    ) -> dict[str, str]:
        """The twilio client's headers over a requests session's defaults, then the body's
        length and the basic auth: the names, values and order a requests session sent."""
        # By lower-case name: a header given again keeps its place and takes the new
        # spelling and value, as in requests' case-insensitive merge.
        merged: dict[str, tuple[str, str | None]] = {"user-agent": ("User-Agent", None)}
        merged.update((name.lower(), (name, value)) for name, value in _SESSION_HEADERS.items())
        merged.update((name.lower(), (name, value)) for name, value in given.items())
        if body is not None:
            merged["content-length"] = ("Content-Length", str(len(body)))
        elif method not in _BODYLESS:
            merged["content-length"] = ("Content-Length", "0")
        if auth is not None:
            merged["authorization"] = ("Authorization", basic_auth(*auth))
        return {name: value for name, value in merged.values() if value is not None}


def form_encoded(pairs: Iterable[tuple[str, object]]) -> str:
    """``application/x-www-form-urlencoded`` as requests wrote it: a list value repeats
    its name, None values are left out, text is UTF-8."""
    flat: list[tuple[str, object]] = []
    for name, values in pairs:
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            values = [values]
        flat.extend((name, value) for value in values if value is not None)
    return urlencode(flat)


def basic_auth(user: str, password: str) -> str:
    """An ``Authorization`` value for basic auth (Latin-1, as requests encoded it)."""
    pair = f"{user}:{password}".encode("latin1")
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _proxy_pool(proxy: str, options: Mapping[str, Any]) -> urllib3.ProxyManager:
    """A pool through ``proxy`` (``http://`` if it names no scheme), with basic auth from
    the user and password it carries, as requests read it."""
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urlsplit(proxy)
    proxy_headers = {}
    if parts.username:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        proxy_headers = make_headers(proxy_basic_auth=credentials)
    return urllib3.ProxyManager(proxy, proxy_headers=proxy_headers, **options)


def _decoded(content: bytes, content_type: str) -> str:
    """The answer's text, in the charset it names (UTF-8 when it names none: Twilio
    answers JSON)."""
    charset = "utf-8"
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \"'"):
            charset = value.strip(" \"'")
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")
