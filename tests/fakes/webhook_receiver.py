"""A callback receiver on loopback, as an integrator would write one: it checks each
Standard Webhooks signature with the independent ``standardwebhooks`` package, then answers
according to the request's path.

=============  =========================================================================
path           answer
=============  =========================================================================
``/ok``        200
``/error``     500
``/gone``      410
``/busy``      429 with ``Retry-After: 120``
``/moved``     301 to ``/ok``
``/slow``      nothing until :meth:`FakeReceiver.stop` (longer than any client timeout),
               then 200
``/large``     200 with a body of one mebibyte
``/scripted``  the statuses given to :meth:`FakeReceiver.script`, one per request, in order
               (then 200); a 429 among them says ``Retry-After: 120``
=============  =========================================================================

A request whose signature does not verify gets 400 whatever its path. Every request goes
into :attr:`FakeReceiver.received`. With ``tls_name`` the receiver speaks HTTPS with a
certificate for that name only (made with the ``openssl`` tool), trusted through
:attr:`FakeReceiver.ca_file`; the server names clients ask for (SNI) are recorded.

Typical use::

    with FakeReceiver(secrets=[secret]) as receiver:
        post_callback(receiver.url("/ok"), headers, body, allow_private=True)
        assert receiver.received[0].verified
"""

from __future__ import annotations

import contextlib
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from standardwebhooks import Webhook, WebhookVerificationError

from tests import privacy_scan

LARGE_BODY = b"x" * (1 << 20)
_ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/ok": (200, {}, b"ok"),
    "/error": (500, {}, b"internal error"),
    "/gone": (410, {}, b"gone"),
    "/busy": (429, {"Retry-After": "120"}, b"slow down"),
    "/moved": (301, {"Location": "/ok"}, b""),
    "/slow": (200, {}, b"late"),
    "/large": (200, {}, LARGE_BODY),
}


@dataclass(frozen=True)
class Received:
    """One request the receiver got.

    Parameters:
      path: the request target.
      headers: its headers, names in lower case.
      body: its body.
      verified: whether its signature verified with one of the receiver's secrets.
      client_port: the client's port (the same for requests on one kept-alive connection).
      status: what the receiver answered.
    """

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    client_port: int
    status: int


def certificate_for(name: str, directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` alone, valid one day, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl is needed to make the test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext",
            f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True,
    )
    return cert, key


class FakeReceiver:
    """A receiver on ``127.0.0.1`` and a free port.

    Parameters:
      secrets: the ``whsec_`` secrets it accepts signatures from.
      tls_name: serve HTTPS with a certificate for this host name; plain HTTP when None.
    """

    def __init__(self, *, secrets: Sequence[str], tls_name: str | None = None) -> None:
        self.webhooks = [Webhook(secret) for secret in secrets]
        self.tls_name = tls_name
        self.received: list[Received] = []
        self.server_names: list[str | None] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._script: list[int] = []
        self._folder = tempfile.TemporaryDirectory(prefix="fake-receiver-")
        self.ca_file: str | None = None
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        if tls_name is not None:
            cert, key = certificate_for(tls_name, Path(self._folder.name))
            self.ca_file = str(cert)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            context.sni_callback = self._record_server_name
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str, *, host: str | None = None) -> str:
        """The URL of ``path`` here, naming ``host`` (the TLS name, else 127.0.0.1)."""
        scheme = "https" if self.tls_name else "http"
        return f"{scheme}://{host or self.tls_name or '127.0.0.1'}:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Answer every held request, stop serving and free the port."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._folder.cleanup()

    def script(self, statuses: Sequence[int]) -> None:
        """Answer the next requests to ``/scripted`` with ``statuses``, in order."""
        with self._lock:
            self._script = list(statuses)

    def scripted_answer(self) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            status = self._script.pop(0) if self._script else 200
        return status, ({"Retry-After": "120"} if status == 429 else {}), b"scripted"

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for webhook in self.webhooks:
            try:
                webhook.verify(body, headers)
            except WebhookVerificationError:
                continue
            return True
        return False

    def _record_server_name(self, _socket: Any, name: str | None, _context: Any) -> None:
        with self._lock:
            self.server_names.append(name)

    def _record(self, received: Received) -> None:
        privacy_scan.record(received.body)
        with self._lock:
            self.received.append(received)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up or refused the certificate: what the tests look at


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive between requests
    # An answer goes out in two writes (its head, then its body): with Nagle's algorithm a
    # kept-alive client would wait for its delayed ACK (about 40 ms) before the body.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        fake = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        verified = fake.verify(body, headers)
        status, extra, answer = (fake.scripted_answer() if self.path == "/scripted" else
                                 _ANSWERS.get(self.path, (404, {}, b"no such path")))
        if not verified:
            status, extra, answer = 400, {}, b"bad signature"
        fake._record(Received(self.path, headers, body, verified, self.client_address[1],
                              status))
        if self.path == "/slow":
            fake._release.wait(60)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        # The client may stop reading: it wanted only so much.
        with contextlib.suppress(OSError):
            self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass
