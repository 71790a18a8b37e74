"""A real SMTP server on loopback (aiosmtpd) that records what it receives.

It can ask for AUTH (LOGIN and PLAIN), speak STARTTLS or implicit TLS with a self-signed
certificate made at start time, refuse the next commands with a 4xx or 5xx reply, and be
slow to answer DATA. It counts connections, so a test can show that a batch reused one.

The certificate comes from the ``openssl`` command line tool (the ``cryptography`` package is
not installed here): :attr:`FakeSmtp.cafile` is what a client must trust, and
:meth:`FakeSmtp.client_tls_context` is an ``ssl.SSLContext`` that trusts it. Without
``openssl`` on the PATH a TLS fake refuses to start (``FileNotFoundError``); the fixture
then skips.

What ``aiosmtplib`` raises for a refusal depends on the command refused: MAIL ->
``SMTPSenderRefused``, RCPT -> ``SMTPRecipientsRefused`` (every recipient refused), DATA ->
``SMTPDataError``. All but ``SMTPRecipientsRefused`` are ``SMTPResponseException``
(``.code``, ``.message``).

Typical use::

    with FakeSmtp(username="clinic", password="s3cret", security="starttls") as fake:
        await aiosmtplib.send(message, hostname=fake.host, port=fake.port, start_tls=True,
                              tls_context=fake.client_tls_context(),
                              username="clinic", password="s3cret")
        (received,) = fake.messages
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Security = Literal["none", "starttls", "tls"]
Stage = Literal["mail", "rcpt", "data"]


@dataclass(frozen=True)
class Received:
    """One message the server accepted.

    Parameters:
      mail_from: the envelope sender (``MAIL FROM``).
      rcpt_tos: the envelope recipients (``RCPT TO``).
      data: the message exactly as received (after ``DATA``).
      message: ``data`` parsed with ``email.policy.default``.
      peer: the client's address and port: messages with one peer came on one connection.
      username: who authenticated on that connection, or None.
      tls: whether that connection was encrypted (STARTTLS or implicit TLS).
      at: when its content reached the server (``time.time()``), before a slow
        server's answer.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    message: EmailMessage
    peer: tuple[str, int]
    username: str | None
    tls: bool
    at: float


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and ``127.0.0.1``, valid one day, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl is needed to make the test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True,
    )
    return cert, key


class _Controller(Controller):
    """aiosmtpd's threaded controller, on a free port, counting connections."""

    def __init__(self, fake: FakeSmtp, **kwargs: Any) -> None:
        self.fake = fake
        self.sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        super().__init__(fake._handler, **kwargs)

    def factory(self) -> SMTP:
        # One SMTP instance per client connection.
        self.fake._connected()
        smtp: SMTP = super().factory()
        self.sessions.add(smtp)
        return smtp

    def stop(self, no_assert: bool = False) -> None:
        # aiosmtpd's stop cancels the connections' tasks without letting them finish, and
        # their transports are left for the garbage collector (a ResourceWarning in some
        # later test). Close the connections and let the tasks end first.
        if self._thread is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self._close_connections(), self.loop).result(10)
        super().stop(no_assert)

    async def _close_connections(self) -> None:
        for smtp in list(self.sessions):
            if isinstance(smtp.transport, asyncio.Transport):
                smtp.transport.abort()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before aiosmtpd's readiness probe uses it.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class FakeSmtp:
    """An SMTP server on loopback, recording, refusing or slow on demand.

    Parameters:
      username, password: when both given, AUTH is required before MAIL and only these
        credentials pass.
      security: ``"none"``, ``"starttls"`` (STARTTLS offered and required before MAIL) or
        ``"tls"`` (implicit TLS from the first byte), as ``NOTIFIER_SMTP_SECURITY``.
      host: the address to listen on; the port is a free one.
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        security: Security = "none",
        host: str = "127.0.0.1",
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.username, self.password, self.security, self.host = (
            username, password, security, host,
        )
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._messages: list[Received] = []
        self._connections = 0
        self._refusals: deque[tuple[Stage, str]] = deque()
        self._delay = 0.0
        self._controller: _Controller | None = None
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self._cafile: Path | None = None
        self._handler = _Handler(self)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free port, in aiosmtpd's own thread and event loop."""
        if self._controller is not None:
            raise RuntimeError("FakeSmtp is already running")
        options: dict[str, Any] = {"hostname": self.host, "port": 0, "ready_timeout": 10.0}
        server_tls = self._server_tls_context() if self.security != "none" else None
        if self.security == "starttls":
            options.update(tls_context=server_tls, require_starttls=True)
        elif self.security == "tls":
            options["ssl_context"] = server_tls
        # Over plain text on loopback, aiosmtpd must be told AUTH may go unencrypted.
        options["auth_require_tls"] = self.security != "none"
        if self.username is not None:
            # AUTH is enforced at MAIL by the handler: aiosmtpd's own ``auth_required``
            # warns about plain text on every connection.
            options["authenticator"] = self._handler.authenticate
        controller = _Controller(self, **options)
        controller.start()
        self._controller = controller
        with self._lock:
            self._connections = 0  # forget aiosmtpd's readiness probe
        return self

    def stop(self) -> None:
        """Stop the server and its thread, free the port, delete the certificate. The
        ledger stays readable."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = self._cafile = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("FakeSmtp is not running")
        return int(self._controller.port)

    @property
    def cafile(self) -> Path | None:
        """The self-signed certificate a client must trust (None without TLS)."""
        return self._cafile

    def client_tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate and checks host names."""
        if self._cafile is None:
            raise RuntimeError("this FakeSmtp does not speak TLS")
        return ssl.create_default_context(cafile=str(self._cafile))

    def settings_overrides(self) -> dict[str, Any]:
        """``Settings`` fields that point the gateway's email at this server. With TLS the
        client must also trust :attr:`cafile`."""
        return {
            "email_provider": "smtp",
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_security": self.security,
            "smtp_username": self.username,
            "smtp_password": self.password,
        }

    def _server_tls_context(self) -> ssl.SSLContext:
        self._tls_dir = tempfile.TemporaryDirectory(prefix="fake-smtp-")
        try:
            cert, key = _self_signed_certificate(Path(self._tls_dir.name))
        except BaseException:
            self._tls_dir.cleanup()
            self._tls_dir = None
            raise
        self._cafile = cert
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context

    # -- ledger ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        """The messages accepted, in order."""
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """Client connections opened since start."""
        with self._lock:
            return self._connections

    def wait_for_messages(self, count: int, *, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages were accepted (for senders in other
        threads or processes); TimeoutError after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(
                    f"{len(self._messages)} messages after {timeout}s, wanted {count}"
                )
            return list(self._messages)

    # -- behaviour ------------------------------------------------------------------------

    def refuse_next(
        self, n: int = 1, *, code: int = 451, text: str | None = None, stage: Stage = "data"
    ) -> None:
        """Refuse the next ``n`` commands of ``stage`` (``"data"``: the next ``n`` messages,
        after their content arrived; ``"rcpt"``: the next ``n`` recipients; ``"mail"``: the
        next ``n`` senders) with ``code`` and ``text``. Refused messages are not recorded."""
        if not 400 <= code <= 599:
            raise ValueError("a refusal is a 4xx or 5xx reply")
        default = "4.3.0 Try again later" if code < 500 else "5.7.1 Message refused"
        with self._lock:
            self._refusals.extend([(stage, f"{code} {text or default}")] * n)

    def delay(self, seconds: float) -> None:
        """Wait ``seconds`` before answering each DATA from now on (0: answer at once)."""
        with self._lock:
            self._delay = seconds

    def _record(self, received: Received) -> None:
        with self._changed:
            self._messages.append(received)
            self._changed.notify_all()

    def _delay_before_data(self) -> float:
        with self._lock:
            return self._delay

    def _connected(self) -> None:
        with self._lock:
            self._connections += 1

    def _refusal(self, stage: Stage) -> str | None:
        with self._lock:
            if self._refusals and self._refusals[0][0] == stage:
                return self._refusals.popleft()[1]
        return None


class _Handler:
    """aiosmtpd's handler hooks for one :class:`FakeSmtp` (run in the server's event loop).

    Separate from the fake because aiosmtpd looks hooks up on the handler by name.
    """

    def __init__(self, fake: FakeSmtp) -> None:
        self.fake = fake

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        username, expected = self.fake.username, self.fake.password
        assert username is not None and expected is not None
        success = secrets.compare_digest(login.encode(), username.encode()) and (
            secrets.compare_digest(password.encode(), expected.encode())
        )
        return AuthResult(success=success, handled=False, auth_data=login if success else None)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        mail_options: list[str],
    ) -> str:
        if self.fake.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if refusal := self.fake._refusal("mail"):
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        if refusal := self.fake._refusal("rcpt"):
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # The message has reached the server now; a slow server only answers later.
        arrived = time.time()
        if delay := self.fake._delay_before_data():
            await asyncio.sleep(delay)
        if refusal := self.fake._refusal("data"):
            return refusal
        data = envelope.original_content or b""
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        peer = session.peer
        received = Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=data,
            message=message,
            peer=(str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else (str(peer), 0),
            username=session.auth_data if session.authenticated else None,
            tls=server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None,
            at=arrived,
        )
        self.fake._record(received)
        return "250 OK"
