"""A Twilio-compatible HTTP server on loopback that the real ``twilio`` client talks to.

Pointing the twilio 9.x client at it: set ``client.api.base_url = fake.base_url``.
``client.messages.create`` and ``client.calls.create`` both go through the ``api`` domain,
whose ``Domain.absolute_url`` joins that ``base_url`` with ``/2010-04-01/Accounts/...``, so
that one attribute moves both. Also clear ``client.edge`` and ``client.region`` (they come
from ``TWILIO_EDGE`` / ``TWILIO_REGION`` when set): with either one, ``get_hostname``
rewrites the host name into ``api.<edge>.<region>.twilio.com`` form and a loopback address
breaks. The other way, a ``Client`` given an ``http_client`` whose ``request()`` rewrites
the host, works as well but needs a subclass; the attribute is simpler.
:func:`twilio_client_for` builds such a client.

What the client does with the answers (twilio 9.13): any non-2xx answer raises
``twilio.base.exceptions.TwilioRestException`` with ``.status`` (HTTP) and ``.code``
(Twilio's code from the JSON body). A ``TwilioHttpClient(timeout=...)`` that runs out raises
``requests.exceptions.ReadTimeout`` (a ``requests.exceptions.Timeout``), and a connection
closed without an answer raises ``requests.exceptions.ConnectionError``: the client catches
neither.

The fake checks what Twilio checks first (basic auth with the account SID and auth token,
the account in the path, the required fields), then answers with the next scripted
:class:`Outcome`, else the permanent one set by :meth:`FakeTwilio.fail_all` (an outage),
else the one set for the recipient by :meth:`FakeTwilio.fail_number` (a number Twilio
refuses for good, e.g. 21211), else 201.
Everything it receives goes into a ledger; :meth:`FakeTwilio.callback` posts status
callbacks signed like Twilio's (``X-Twilio-Signature`` over the public URL).

A ``GET`` of ``Messages.json`` or ``Calls.json`` lists what was taken, newest first, as
Twilio does, filtered by ``To`` and ``From`` and cut to ``PageSize``; a Twilio outage set
by :meth:`FakeTwilio.fail_all` answers those too (scripts are for creates only). Lookups
go into their own ledger, :attr:`FakeTwilio.lookups`.

Typical use::

    with FakeTwilio() as fake:
        client = twilio_client_for(fake, timeout=2.0)
        fake.script_messages(Outcome.too_many_requests(), Outcome.ok())
        ...
        fake.deliver_to = rebase("https://gateway.example.org", gateway_local_url)
        assert fake.callback(sid, "delivered") == 204
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import email.utils
import http.client
import itertools
import json
import re
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from notifier.messages.sms import sms_encoding

Endpoint = Literal["messages", "calls"]
ENDPOINTS: tuple[Endpoint, ...] = ("messages", "calls")

API_VERSION = "2010-04-01"
_RESOURCE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+)/(?P<resource>Messages|Calls)\.json$"
)
_RESOURCE_ENDPOINT: dict[str, Endpoint] = {"Messages": "messages", "Calls": "calls"}
_SID_PREFIX: dict[Endpoint, str] = {"messages": "SM", "calls": "CA"}
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")

# The sender Twilio picks from a Messaging Service's pool shows up only in callbacks.
SERVICE_SENDER = "+15005550006"

# Twilio's wording for the codes tests use most; any other code gets a generic text.
ERROR_MESSAGES: Mapping[int, str] = MappingProxyType(
    {
        20003: "Authenticate",
        20004: "Method not allowed",
        20404: "The requested resource was not found",
        20429: "Too Many Requests",
        20500: "Internal Server Error",
        20503: "Service Unavailable",
        21201: "No 'To' number is specified",
        21205: "Url parameter is required",
        21211: "Invalid 'To' Phone Number",
        21213: "No 'From' number is specified",
        21408: "Permission to send an SMS has not been enabled for the region indicated by "
        "the 'To' number",
        21602: "Message body is required.",
        21603: "A 'From' phone number is required.",
        21604: "A 'To' phone number is required.",
        21606: "The 'From' phone number provided is not a valid message-capable Twilio "
        "phone number for this destination/account",
        21610: "Attempt to send to unsubscribed recipient",
        21611: "This 'From' number has exceeded the maximum number of queued messages",
        21614: "'To' number is not a valid mobile number",
        21617: "The concatenated message body exceeds the 1600 character limit",
    }
)
_ERROR_STATUS: Mapping[int, int] = MappingProxyType({20003: 401, 20404: 404, 20429: 429})


@dataclass(frozen=True)
class Outcome:
    """What the fake answers to one create request (``Messages.json`` or ``Calls.json``).

    Build one with the class methods rather than by hand.

    Parameters:
      status: the HTTP status answered (201 for a created resource).
      code: Twilio's error code, in the JSON body of an error answer.
      message: the error's text (Twilio's wording for the codes in ``ERROR_MESSAGES``).
      accepted: the message or call was taken: it gets a SID, lands in
        :attr:`FakeTwilio.messages` / :attr:`FakeTwilio.calls` and can be called back,
        whatever the answer says.
      hold: seconds the answer is held back (longer than the client's timeout: a timeout).
      answer: False to close the connection without any answer once ``hold`` is over.
      retry_after: a ``Retry-After`` header, in seconds.
      cut: close the connection halfway through the answer's body.
    """

    status: int = 201
    code: int | None = None
    message: str | None = None
    accepted: bool = True
    hold: float = 0.0
    answer: bool = True
    retry_after: int | None = None
    cut: bool = False

    @classmethod
    def ok(cls) -> Outcome:
        """201 with the resource: taken."""
        return cls()

    @classmethod
    def error(cls, code: int, *, status: int | None = None, message: str | None = None) -> Outcome:
        """An error answer with Twilio's ``code``; the status defaults to Twilio's for that
        code (401 for 20003, 404 for 20404, 429 for 20429, else 400). Not taken."""
        return cls(
            status=status or _ERROR_STATUS.get(code, 400), code=code, message=message,
            accepted=False,
        )

    @classmethod
    def too_many_requests(cls, *, retry_after: int | None = None) -> Outcome:
        """429 with code 20429: not taken, always safe to retry."""
        return cls(status=429, code=20429, accepted=False, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500, *, accepted: bool = False) -> Outcome:
        """A 5xx (code 20000 + status). ``accepted=True``: the message went out anyway,
        which is what makes a 5xx on a create ambiguous."""
        return cls(status=status, code=20000 + status, accepted=accepted)

    @classmethod
    def timeout(cls, seconds: float = 30.0, *, accepted: bool = False) -> Outcome:
        """Hold the answer ``seconds`` (make it longer than the client's timeout). Accepted:
        the message is taken and 201 comes, too late; otherwise the connection is closed
        without an answer. :meth:`FakeTwilio.stop` cuts any hold short."""
        return cls(status=201, accepted=accepted, hold=seconds, answer=accepted)

    @classmethod
    def cut_short(cls) -> Outcome:
        """Taken, and the 201 starts, but the connection closes halfway through its body."""
        return cls(cut=True)

    def error_payload(self) -> dict[str, Any]:
        code = self.code if self.code is not None else 20000 + self.status
        return {
            "code": code,
            "message": self.message or ERROR_MESSAGES.get(code, f"Twilio error {code}"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": self.status,
        }


@dataclass(frozen=True)
class Record:
    """One request the fake received.

    Parameters:
      method: the HTTP method.
      path: the request path, without the query.
      endpoint: ``"messages"``, ``"calls"``, or None for any other path.
      fields: the form fields, every value of each (``StatusCallbackEvent`` repeats).
      headers: the request headers, names in lower case.
      at: when it arrived (``time.time()``).
      status: the HTTP status answered; None when the connection was closed unanswered.
      sid: the SID the message or call got; None when it was not taken.
      query: the query string as it came, undecoded.
      content: the request body as it came.
    """

    method: str
    path: str
    endpoint: Endpoint | None
    fields: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    at: float
    status: int | None
    sid: str | None
    query: str = ""
    content: bytes = b""

    def get(self, name: str) -> str | None:
        """The first value of form field ``name``, or None."""
        values = self.fields.get(name)
        return values[0] if values else None

    @property
    def form(self) -> dict[str, str]:
        """The form fields, first value of each."""
        return {name: values[0] for name, values in self.fields.items() if values}

    @property
    def to(self) -> str | None:
        return self.get("To")

    @property
    def from_(self) -> str | None:
        return self.get("From")

    @property
    def body(self) -> str | None:
        """The SMS text."""
        return self.get("Body")

    @property
    def twiml(self) -> str | None:
        """The TwiML of a call: what would be said."""
        return self.get("Twiml")

    @property
    def status_callback(self) -> str | None:
        return self.get("StatusCallback")


@dataclass(frozen=True)
class Callback:
    """One webhook the fake posted.

    Parameters:
      url: the public URL, the one signed.
      delivered_to: where it was really posted (``deliver_to(url)``).
      params: the form posted.
      signature: the ``X-Twilio-Signature`` sent, if any.
      status: the HTTP status the receiver answered.
      answer: the receiver's answer body, as text (TwiML, for a call's webhooks).
    """

    url: str
    delivered_to: str
    params: Mapping[str, str]
    signature: str | None
    status: int
    answer: str = ""


@dataclass
class _Answer:
    status: int
    payload: dict[str, Any]
    hold: float = 0.0
    answer: bool = True
    headers: list[tuple[str, str]] = field(default_factory=list)
    cut: bool = False


def rebase(public_base_url: str, local_base_url: str) -> Callable[[str], str]:
    """A ``deliver_to`` for :class:`FakeTwilio`: URLs under ``public_base_url`` are posted
    to the same path and query under ``local_base_url``; any other URL is a ValueError."""
    public, local = public_base_url.rstrip("/"), local_base_url.rstrip("/")

    def deliver_to(url: str) -> str:
        rest = url[len(public):]
        if not url.startswith(public) or rest[:1] not in ("", "/", "?"):
            raise ValueError(f"callback URL {url!r} is not under {public!r}")
        return local + rest

    return deliver_to


def twilio_client_for(fake: FakeTwilio, *, timeout: float | None = 10.0) -> Client:
    """A real ``twilio.rest.Client`` for ``fake``'s account, talking to it, with a
    ``TwilioHttpClient(timeout=timeout)`` and no library-level retries."""
    http_client = TwilioHttpClient(timeout=timeout)
    client = Client(fake.account_sid, fake.auth_token, http_client=http_client)
    client.edge = None
    client.region = None
    client.api.base_url = fake.base_url
    return client


class _Server(ThreadingHTTPServer):
    """Serves one :class:`FakeTwilio`, a thread per connection; tracks connections and
    their threads so that stop can end and join them all."""

    def __init__(self, address: tuple[str, int], fake: FakeTwilio) -> None:
        self.fake = fake
        self.closing = False
        self.open_connections: set[socket.socket] = set()
        self.connection_threads: list[threading.Thread] = []
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Daemon threads (a forgotten stop must not hang the interpreter's exit), joined
        # by join_connection_threads: ThreadingMixIn only joins non-daemon ones.
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address),
            name="fake-twilio-connection", daemon=True,
        )
        with self.connections_lock:
            self.connection_threads = [t for t in self.connection_threads if t.is_alive()]
            self.connection_threads.append(thread)
        thread.start()

    def join_connection_threads(self, timeout: float) -> None:
        with self.connections_lock:
            threads = list(self.connection_threads)
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError("a FakeTwilio connection thread did not end")

    def opened(self, connection: socket.socket) -> None:
        with self.connections_lock:
            self.open_connections.add(connection)
            if self.closing:
                _cut(connection)

    def closed(self, connection: socket.socket) -> None:
        with self.connections_lock:
            self.open_connections.discard(connection)

    def close_connections(self) -> None:
        with self.connections_lock:
            self.closing = True
            for connection in self.open_connections:
                _cut(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test) or a stop cutting a kept-alive connection.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def _cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the twilio client's requests session
    # Headers and body leave in two writes: without this, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.closed(self.connection)

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read the ledger, not stderr


class FakeTwilio:
    """A Twilio REST API (messages and calls) on loopback, with a ledger and a script.

    Parameters:
      account_sid: the one account it serves (default: a fresh ``AC`` + 32 hex digits).
      auth_token: that account's auth token (default: 32 fresh hex digits).
      deliver_to: maps a public status-callback URL to the URL really posted to (default:
        unchanged). A public attribute: set it once the gateway's web server is up, e.g.
        with :func:`rebase`.
      clock: Twilio's own clock, aware, for the dates it writes (``date_created``...);
        default the real one. A public attribute: a test with an injected clock sets it.
      host: the address to listen on; the port is a free one.
    """

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        deliver_to: Callable[[str], str] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.deliver_to: Callable[[str], str] = deliver_to or (lambda url: url)
        self.clock: Callable[[], dt.datetime] = clock or (lambda: dt.datetime.now(dt.UTC))
        self._host = host
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._requests: list[Record] = []
        self._lookups: list[Record] = []
        self._resources: dict[str, dict[str, Any]] = {}
        self._taken: dict[Endpoint, list[Record]] = {e: [] for e in ENDPOINTS}
        self._by_sid: dict[str, Record] = {}
        self._callbacks: list[Callback] = []
        self._scripts: dict[Endpoint, deque[Outcome]] = {e: deque() for e in ENDPOINTS}
        self._permanent: dict[Endpoint, Outcome | None] = dict.fromkeys(ENDPOINTS)
        self._by_number: dict[tuple[Endpoint, str], Outcome] = {}
        self._sequence = itertools.count()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("FakeTwilio is already running")
        self._stopping.clear()
        self._server = _Server((self._host, 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-twilio", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end held answers and open connections, join every thread and free
        the port. The ledger stays readable."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        thread.join()
        server.close_connections()
        server.server_close()
        server.join_connection_threads(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeTwilio is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: what goes in ``client.api.base_url``."""
        return f"http://{self._host}:{self.port}"

    def settings_overrides(self) -> dict[str, Any]:
        """``Settings`` fields that point the gateway's SMS and voice at this fake
        (``public_base_url`` and the senders are the test's to choose)."""
        return {
            "sms_provider": "twilio",
            "voice_provider": "twilio",
            "twilio_account_sid": self.account_sid,
            "twilio_auth_token": self.auth_token,
            "twilio_api_base_url": self.base_url,
        }

    # -- ledger ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[Record]:
        """Every request received but lookups, refused ones included, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def lookups(self) -> list[Record]:
        """Every ``GET`` of the messages or calls list, in order."""
        with self._lock:
            return list(self._lookups)

    @property
    def messages(self) -> list[Record]:
        """The messages taken (they have a SID), in order."""
        with self._lock:
            return list(self._taken["messages"])

    @property
    def calls(self) -> list[Record]:
        """The calls taken (they have a SID), in order."""
        with self._lock:
            return list(self._taken["calls"])

    @property
    def callbacks(self) -> list[Callback]:
        """Every webhook posted, in order."""
        with self._lock:
            return list(self._callbacks)

    def find(self, sid: str) -> Record:
        """The message or call with this SID (KeyError if none)."""
        with self._lock:
            return self._by_sid[sid]

    def wait_for_messages(self, count: int, *, timeout: float = 10.0) -> list[Record]:
        """Block until at least ``count`` messages were taken (for senders in other
        threads or processes); TimeoutError after ``timeout`` seconds."""
        return self._wait_for("messages", count, timeout)

    def wait_for_calls(self, count: int, *, timeout: float = 10.0) -> list[Record]:
        """Block until at least ``count`` calls were taken; TimeoutError after ``timeout``."""
        return self._wait_for("calls", count, timeout)

    def _wait_for(self, endpoint: Endpoint, count: int, timeout: float) -> list[Record]:
        taken = self._taken[endpoint]
        with self._changed:
            if not self._changed.wait_for(lambda: len(taken) >= count, timeout):
                raise TimeoutError(
                    f"{len(taken)} {endpoint} taken after {timeout}s, wanted {count}"
                )
            return list(taken)

    # -- script ---------------------------------------------------------------------------

    def script_messages(self, *outcomes: Outcome) -> None:
        """Answer the next ``Messages.json`` creates with ``outcomes``, in order (appended
        to any outcomes still scripted)."""
        with self._lock:
            self._scripts["messages"].extend(outcomes)

    def script_calls(self, *outcomes: Outcome) -> None:
        """Answer the next ``Calls.json`` creates with ``outcomes``, in order."""
        with self._lock:
            self._scripts["calls"].extend(outcomes)

    def fail_all(self, outcome: Outcome, *, endpoints: Iterable[Endpoint] = ENDPOINTS) -> None:
        """Answer every create with ``outcome`` once the script runs out, until
        :meth:`reset`."""
        with self._lock:
            for endpoint in endpoints:
                self._permanent[endpoint] = outcome

    def fail_number(self, to: str, outcome: Outcome, *,
                    endpoints: Iterable[Endpoint] = ENDPOINTS) -> None:
        """Answer every create to ``to`` with ``outcome`` (a number that can never be
        reached, e.g. ``Outcome.error(21211)``), once the script runs out; during a
        :meth:`fail_all` outage, only where the outage would have taken the message. It
        outlasts :meth:`reset` (an outage's end does not make an invalid number valid);
        :meth:`forget_numbers` ends it."""
        with self._lock:
            for endpoint in endpoints:
                self._by_number[(endpoint, to)] = outcome

    def forget_numbers(self) -> None:
        """Forget every :meth:`fail_number`."""
        with self._lock:
            self._by_number.clear()

    def reset(self) -> None:
        """Forget the scripts and :meth:`fail_all`: answer 201 again (but to the numbers of
        :meth:`fail_number`). The ledger stays."""
        with self._lock:
            for endpoint in ENDPOINTS:
                self._scripts[endpoint].clear()
                self._permanent[endpoint] = None

    # -- serving --------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        fields = {
            name: tuple(values)
            for name, values in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            .items()
        }
        parts = urlsplit(handler.path)
        match = _RESOURCE_PATH.match(parts.path)
        endpoint = _RESOURCE_ENDPOINT[match["resource"]] if match else None
        headers = {name.lower(): value for name, value in handler.headers.items()}
        lookup = handler.command == "GET" and endpoint is not None
        if lookup:
            fields = {name: tuple(values) for name, values in parse_qs(parts.query).items()}
        with self._changed:
            if lookup:
                assert endpoint is not None and match is not None
                answer, sid = self._list(handler, match, endpoint, fields), None
            else:
                answer, sid = self._decide(handler, match, endpoint, fields)
            record = Record(
                method=handler.command, path=parts.path, endpoint=endpoint,
                fields=MappingProxyType(fields), headers=MappingProxyType(headers),
                at=time.time(), status=answer.status if answer.answer else None, sid=sid,
                query=parts.query, content=raw,
            )
            (self._lookups if lookup else self._requests).append(record)
            if sid is not None and endpoint is not None:
                self._taken[endpoint].append(record)
                self._by_sid[sid] = record
            self._changed.notify_all()
        if answer.hold and self._stopping.wait(answer.hold):
            answer.answer = False
        if not answer.answer:
            handler.close_connection = True
            return
        body = json.dumps(answer.payload).encode()
        handler.send_response(answer.status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in answer.headers:
            handler.send_header(name, value)
        handler.end_headers()
        if answer.cut:
            handler.wfile.write(body[: len(body) // 2])
            handler.close_connection = True
            return
        handler.wfile.write(body)

    def _decide(
        self, handler: _Handler, match: re.Match[str] | None, endpoint: Endpoint | None,
        fields: Mapping[str, tuple[str, ...]],
    ) -> tuple[_Answer, str | None]:
        """The answer to one request and the SID it created, if any (lock held)."""
        if not self._authenticated(handler.headers.get("Authorization")):
            return _refusal(Outcome.error(20003)), None
        if match is None or endpoint is None or match["account"] != self.account_sid:
            return _refusal(Outcome.error(20404)), None
        if handler.command != "POST":
            return _refusal(Outcome.error(20004, status=405)), None
        invalid = _invalid_message(fields) if endpoint == "messages" else _invalid_call(fields)
        if invalid is not None:
            return _refusal(Outcome.error(invalid)), None
        script = self._scripts[endpoint]
        form = {name: values[0] for name, values in fields.items()}
        outcome = script.popleft() if script else self._unscripted(endpoint, form.get("To", ""))
        sid = _SID_PREFIX[endpoint] + secrets.token_hex(16) if outcome.accepted else None
        resource = (
            self._message_resource(sid, form) if endpoint == "messages"
            else self._call_resource(sid, form)
        )
        if sid is not None:
            self._resources[sid] = resource
        answer = _refusal(outcome) if outcome.status >= 300 else _Answer(outcome.status, resource)
        answer.hold, answer.answer, answer.cut = outcome.hold, outcome.answer, outcome.cut
        return answer, sid

    def _unscripted(self, endpoint: Endpoint, to: str) -> Outcome:
        """The outage's outcome, the number's, else 201 (lock held). An outage that takes
        the message gives way to the number's refusal: Twilio takes nothing for a number
        it refuses."""
        outage = self._permanent[endpoint]
        refused = self._by_number.get((endpoint, to))
        if outage is not None and not (outage.accepted and refused is not None):
            return outage
        return refused or Outcome.ok()

    def _list(
        self, handler: _Handler, match: re.Match[str], endpoint: Endpoint,
        query: Mapping[str, tuple[str, ...]],
    ) -> _Answer:
        """The answer to a ``GET`` of a list (lock held): what was taken, newest first."""
        if not self._authenticated(handler.headers.get("Authorization")):
            return _refusal(Outcome.error(20003))
        if match["account"] != self.account_sid:
            return _refusal(Outcome.error(20404))
        outage = self._permanent[endpoint]
        if outage is not None and (outage.status >= 300 or outage.hold):
            answer = _refusal(outage) if outage.status >= 300 else _Answer(200, {})
            answer.hold, answer.answer = outage.hold, outage.answer and outage.status >= 300
            return answer
        wanted = {name: values[0] for name, values in query.items() if name in ("To", "From")}
        size = int(query.get("PageSize", ("50",))[0])
        found = [
            self._resources[str(record.sid)] for record in reversed(self._taken[endpoint])
            if all(record.get(name) == value for name, value in wanted.items())
        ][:size]
        resource = "Messages" if endpoint == "messages" else "Calls"
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/{resource}.json"
        return _Answer(200, {
            endpoint: found, "end": max(0, len(found) - 1), "first_page_uri": uri,
            "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None,
            "start": 0, "uri": uri,
        })

    def _authenticated(self, authorization: str | None) -> bool:
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(
            f"{user}:{password}".encode(), f"{self.account_sid}:{self.auth_token}".encode()
        )

    def _rfc2822_now(self) -> str:
        return email.utils.format_datetime(self.clock().astimezone(dt.UTC))

    def _uri(self, resource: str, sid: str | None, suffix: str = ".json") -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/{resource}/{sid}{suffix}"

    def _message_resource(self, sid: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        now, service = self._rfc2822_now(), form.get("MessagingServiceSid")
        body = form.get("Body", "")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(sms_encoding(body).segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Twilio answers "accepted" when a Messaging Service picks the sender.
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": self._uri("Messages", sid, "/Media.json")},
            "to": form.get("To"),
            "uri": self._uri("Messages", sid),
        }

    def _call_resource(self, sid: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        now = self._rfc2822_now()
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form.get("From"),
            "from_formatted": form.get("From"),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {
                "notifications": self._uri("Calls", sid, "/Notifications.json"),
                "recordings": self._uri("Calls", sid, "/Recordings.json"),
            },
            "to": form.get("To"),
            "to_formatted": form.get("To"),
            "trunk_sid": None,
            "uri": self._uri("Calls", sid),
        }

    # -- status callbacks -----------------------------------------------------------------

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """``X-Twilio-Signature`` for a POST of ``params`` to the public ``url``."""
        return str(RequestValidator(self.auth_token).compute_signature(url, dict(params)))

    def callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | str | None = None,
        answered_by: str | None = None,
        extra: Mapping[str, str] | None = None,
        idempotency_token: str | None = None,
    ) -> int:
        """Post a status callback for message or call ``sid`` as Twilio does: the form
        Twilio sends (``MessageSid``/``MessageStatus``/``SmsStatus``... or ``CallSid``/
        ``CallStatus``/``AnsweredBy``...), plus ``extra``, to the ``StatusCallback`` it was
        created with, signed. Reuse ``idempotency_token`` to act out a redelivery.
        Returns the receiver's HTTP status."""
        record = self.find(sid)
        url = record.status_callback
        if not url:
            raise ValueError(f"{sid} was created without a StatusCallback")
        common = {"AccountSid": self.account_sid, "ApiVersion": API_VERSION}
        sender, to = record.from_ or SERVICE_SENDER, record.to or ""
        if record.endpoint == "messages":
            params = {
                **common, "MessageSid": sid, "SmsSid": sid, "MessageStatus": status,
                "SmsStatus": status, "From": sender, "To": to,
            }
            if service := record.get("MessagingServiceSid"):
                params["MessagingServiceSid"] = service
        else:
            params = {
                **common, "CallSid": sid, "CallStatus": status, "From": sender, "Caller": sender,
                "To": to, "Called": to, "Direction": "outbound-api",
                "CallbackSource": "call-progress-events", "Timestamp": self._rfc2822_now(),
                "SequenceNumber": str(next(self._sequence)),
            }
            if answered_by is not None:
                params["AnsweredBy"] = answered_by
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        params.update(extra or {})
        return self._post(url, params, self.sign(url, params), idempotency_token)

    def amd_callback(
        self, sid: str, answered_by: str, *, idempotency_token: str | None = None
    ) -> int:
        """Post the answering-machine-detection result of call ``sid`` to its
        ``AsyncAmdStatusCallback``, signed. Returns the receiver's HTTP status."""
        record = self.find(sid)
        url = record.get("AsyncAmdStatusCallback")
        if not url:
            raise ValueError(f"{sid} was created without an AsyncAmdStatusCallback")
        params = {
            "AccountSid": self.account_sid, "CallSid": sid, "AnsweredBy": answered_by,
            "MachineDetectionDuration": "2000",
        }
        return self._post(url, params, self.sign(url, params), idempotency_token)

    def callback_raw(
        self, url: str, params: Mapping[str, str], *, signature: str | None,
        idempotency_token: str | None = None,
    ) -> int:
        """Post ``params`` to the public ``url`` (through ``deliver_to``) with exactly this
        ``X-Twilio-Signature`` (None: no header): forged, stale or unsigned webhooks. A
        valid one is ``fake.sign(url, params)``. Returns the receiver's HTTP status; what
        it answered is the last of :attr:`callbacks`."""
        return self._post(url, dict(params), signature, idempotency_token)

    def _post(
        self, url: str, params: dict[str, str], signature: str | None,
        idempotency_token: str | None,
    ) -> int:
        target = self.deliver_to(url)
        parts = urlsplit(target)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": idempotency_token or secrets.token_hex(16),
        }
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        path = parts.path or "/"
        connection = connection_class(parts.netloc, timeout=10)
        try:
            connection.request(
                "POST", f"{path}?{parts.query}" if parts.query else path,
                body=urlencode(params), headers=headers,
            )
            response = connection.getresponse()
            answer = response.read().decode(errors="replace")
            status = response.status
        finally:
            connection.close()
        with self._lock:
            self._callbacks.append(
                Callback(url, target, MappingProxyType(params), signature, status, answer)
            )
        return status


def _refusal(outcome: Outcome) -> _Answer:
    headers = [] if outcome.retry_after is None else [("Retry-After", str(outcome.retry_after))]
    return _Answer(outcome.status, outcome.error_payload(), headers=headers)


def _invalid_message(fields: Mapping[str, tuple[str, ...]]) -> int | None:
    """Twilio's code for a create it would refuse before sending anything, or None."""
    to, body = fields.get("To", ("",))[0], fields.get("Body", ("",))[0]
    if not to:
        return 21604
    if not _E164.match(to):
        return 21211
    if not fields.get("From", ("",))[0] and not fields.get("MessagingServiceSid", ("",))[0]:
        return 21603
    if not body and not fields.get("MediaUrl") and not fields.get("ContentSid"):
        return 21602
    if len(body) > 1600:
        return 21617
    return None


def _invalid_call(fields: Mapping[str, tuple[str, ...]]) -> int | None:
    to = fields.get("To", ("",))[0]
    if not to:
        return 21201
    if not _E164.match(to):
        return 21211
    if not fields.get("From", ("",))[0]:
        return 21213
    if not any(fields.get(name, ("",))[0] for name in ("Twiml", "Url", "ApplicationSid")):
        return 21205
    return None
