"""The fake SMTP server, driven by the real ``aiosmtplib``."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from tests.fakes.conftest_fixtures import smtp_server_factory
from tests.fakes.smtp_server import FakeSmtp

__all__ = ["smtp_server_factory"]  # the fixture, used below

SmtpFactory = Callable[..., FakeSmtp]


def reminder(subject: str = "Rappel de rendez-vous") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Clinique Saint-Laurent <no-reply@rendez-vous.example.org>"
    message["To"] = "emilie.tremblay@example.org"
    message["Reply-To"] = "accueil@clinique.example.org"
    message["Subject"] = subject
    message.set_content("Bonjour Émilie,\nVotre rendez-vous est demain à 9 h 30.\n")
    message.add_alternative(
        '<p style="font-family:sans-serif">Bonjour Émilie,<br>'
        "Votre rendez-vous est demain à 9&nbsp;h&nbsp;30.</p>",
        subtype="html",
    )
    return message


def send(fake: FakeSmtp, message: EmailMessage | None = None, **options: Any) -> Any:
    return asyncio.run(
        aiosmtplib.send(
            message or reminder(), hostname=fake.host, port=fake.port, **{"timeout": 5, **options}
        )
    )


class _SettlingSMTP(aiosmtplib.SMTP):
    """An aiosmtplib client that can wait until its connection is really closed.

    Closing a TLS connection (close_notify both ways) needs the event loop a moment after
    QUIT; ``asyncio.run`` may end first and leave the socket to the garbage collector, whose
    ResourceWarning then lands on some later test.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.opened = False
        self.lost = asyncio.Event()

    async def connect(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().connect(*args, **kwargs)
        finally:
            self.opened = self.transport is not None

    def _on_connection_lost(self, protocol: Any) -> None:
        super()._on_connection_lost(protocol)
        self.lost.set()


def send_tls(fake: FakeSmtp, **options: Any) -> None:
    """What ``aiosmtplib.send`` does (connect, send, QUIT), then wait for the close."""

    async def run() -> None:
        client = _SettlingSMTP(hostname=fake.host, port=fake.port, timeout=5, **options)
        try:
            async with client:
                await client.send_message(reminder())
        finally:
            if client.opened:
                await asyncio.wait_for(client.lost.wait(), 5)

    asyncio.run(run())


@pytest.fixture
def fake() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


def test_a_multipart_message_arrives_and_parses(fake: FakeSmtp) -> None:
    send(fake)

    (received,) = fake.messages
    assert received.mail_from == "no-reply@rendez-vous.example.org"
    assert received.rcpt_tos == ("emilie.tremblay@example.org",)
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert str(message["From"]) == "Clinique Saint-Laurent <no-reply@rendez-vous.example.org>"
    assert str(message["Reply-To"]) == "accueil@clinique.example.org"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert "demain à 9 h 30" in plain.get_content()
    assert "9&nbsp;h&nbsp;30" in html.get_content()
    assert b"\r\nSubject: Rappel de rendez-vous\r\n" in received.data
    assert (received.username, received.tls) == (None, False)


def test_a_451_refusal_raises_and_records_nothing(fake: FakeSmtp) -> None:
    fake.refuse_next(1, code=451, text="4.7.1 Greylisted, try again")

    with pytest.raises(aiosmtplib.SMTPResponseException) as raised:
        send(fake)
    send(fake)  # only the next one was refused

    assert raised.value.code == 451
    assert "Greylisted" in raised.value.message
    assert len(fake.messages) == 1


def test_a_recipient_refused_with_550(fake: FakeSmtp) -> None:
    fake.refuse_next(code=550, text="5.1.1 No such user", stage="rcpt")

    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as raised:
        send(fake)

    (refused,) = raised.value.recipients
    assert refused.code == 550
    assert fake.messages == []


def test_a_sender_refused_with_421(fake: FakeSmtp) -> None:
    fake.refuse_next(code=421, stage="mail")

    with pytest.raises(aiosmtplib.SMTPResponseException) as raised:
        send(fake)

    assert raised.value.code == 421


def test_a_slow_server_makes_the_client_time_out(fake: FakeSmtp) -> None:
    fake.delay(30)

    with pytest.raises(aiosmtplib.SMTPTimeoutError):
        send(fake, timeout=0.3)
    started = time.monotonic()
    fake.stop()  # cancels the 30 s wait

    assert time.monotonic() - started < 5
    assert fake.messages == []


def test_connections_are_counted(fake: FakeSmtp) -> None:
    async def batch() -> None:
        async with aiosmtplib.SMTP(hostname=fake.host, port=fake.port, timeout=5) as smtp:
            for n in range(3):
                await smtp.send_message(reminder(f"n° {n}"))

    asyncio.run(batch())
    assert fake.connections == 1
    assert len({m.peer for m in fake.messages}) == 1

    send(fake)
    assert fake.connections == 2
    assert len({m.peer for m in fake.messages}) == 2


def test_auth_is_required_and_checked(smtp_server_factory: SmtpFactory) -> None:
    fake = smtp_server_factory(username="clinique", password="mot-de-passe")

    send(fake, username="clinique", password="mot-de-passe")
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as wrong:
        send(fake, username="clinique", password="autre")
    with pytest.raises(aiosmtplib.SMTPResponseException) as anonymous:
        send(fake)

    assert [m.username for m in fake.messages] == ["clinique"]
    assert wrong.value.code == 535
    assert anonymous.value.code == 530


def test_starttls_is_required_before_auth(smtp_server_factory: SmtpFactory) -> None:
    fake = smtp_server_factory(username="clinique", password="mot-de-passe", security="starttls")

    send_tls(
        fake, start_tls=True, tls_context=fake.client_tls_context(),
        username="clinique", password="mot-de-passe",
    )
    with pytest.raises(aiosmtplib.SMTPException):
        send(fake, start_tls=False, username="clinique", password="mot-de-passe")

    (received,) = fake.messages
    assert (received.tls, received.username) == (True, "clinique")


def test_implicit_tls(smtp_server_factory: SmtpFactory) -> None:
    fake = smtp_server_factory(security="tls")

    send_tls(fake, use_tls=True, tls_context=fake.client_tls_context())

    (received,) = fake.messages
    assert received.tls


def test_an_untrusted_certificate_is_refused(smtp_server_factory: SmtpFactory) -> None:
    fake = smtp_server_factory(security="tls")

    with pytest.raises(aiosmtplib.SMTPConnectError):
        send_tls(fake, use_tls=True)  # the system store does not know our certificate

    assert fake.messages == []


def test_waiting_for_a_message_sent_from_another_thread(fake: FakeSmtp) -> None:
    sender = threading.Thread(target=send, args=(fake,))
    sender.start()
    (received,) = fake.wait_for_messages(1, timeout=10)
    sender.join()

    assert received.rcpt_tos == ("emilie.tremblay@example.org",)
    with pytest.raises(TimeoutError):
        fake.wait_for_messages(2, timeout=0.05)


def test_stop_frees_the_port_and_deletes_the_certificate(
    smtp_server_factory: SmtpFactory,
) -> None:
    fake = smtp_server_factory(security="starttls")
    port, cafile = fake.port, fake.cafile
    assert cafile is not None and cafile.exists()

    fake.stop()

    assert not cafile.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
