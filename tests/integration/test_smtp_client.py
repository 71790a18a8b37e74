"""The SMTP email client, with the real aiosmtplib, against the fake SMTP server."""

from __future__ import annotations

import datetime as dt
import email.utils
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from notifier.channels.smtp.email_client import SmtpEmailClient
from notifier.channels.smtp.failures import classify_reply
from notifier.domain import Channel, Kind, Lang, Location
from notifier.errors import DeliveryError, FailureClass
from notifier.local_redis import free_port
from notifier.messages.catalogue import Rendered, render
from notifier.messages.samples import SAMPLE_LOCATION, SAMPLE_NOW, sample_state
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from tests.fakes.conftest_fixtures import fake_smtp, smtp_server_factory
from tests.fakes.smtp_server import FakeSmtp

__all__ = ["fake_smtp", "smtp_server_factory"]  # the fakes' fixtures, used below

PATIENT = "emilie.tremblay@example.org"
FROM = "rappels@rendez-vous.example.org"
CLINIC = SAMPLE_LOCATION.model_copy(update={"email": "accueil@plateau.example.org"})


def planned(kind: Kind = Kind.CONFIRMATION) -> PlannedMessage:
    state = sample_state(Lang.FR)
    return PlannedMessage(
        reference=state.appointment.reference, kind=kind, channel=Channel.EMAIL, version=1,
        send_at=SAMPLE_NOW, deadline=SAMPLE_NOW + dt.timedelta(days=1),
        start=state.appointment.start,
    )


def rendered(lang: Lang = Lang.FR, settings: Settings | None = None) -> Rendered:
    return render(
        Kind.CONFIRMATION, Channel.EMAIL, sample_state(lang), settings or Settings(), SAMPLE_NOW
    )


@pytest.fixture
def make_client() -> Iterator[Callable[..., SmtpEmailClient]]:
    """Builds clients for a fake server; every one is closed after the test."""
    made: list[SmtpEmailClient] = []

    def make(
        fake: FakeSmtp, *, location: Location | None = CLINIC, **options: Any
    ) -> SmtpEmailClient:
        settings_options = {
            key: options.pop(key) for key in list(options) if key.startswith(("smtp_", "email_"))
        }
        settings = Settings(
            **{**fake.settings_overrides(), "email_from_address": FROM, **settings_options}
        )
        if fake.security != "none":
            options.setdefault("tls_context", fake.client_tls_context())
        client = SmtpEmailClient(
            settings, locations=lambda _: location, clock=lambda: SAMPLE_NOW, **options
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def lines(text: str) -> list[str]:
    """The text's lines, whatever line ends SMTP gave them."""
    return text.strip().splitlines()


def refusal(client: SmtpEmailClient) -> DeliveryError:
    with pytest.raises(DeliveryError) as raised:
        client.send(planned(), rendered(), PATIENT)
    return raised.value


# -- the message ----------------------------------------------------------------------------


def test_an_email_has_both_parts_and_the_clinic_as_sender(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    client = make_client(fake_smtp)
    expected = rendered()

    receipt = client.send(planned(), expected, PATIENT)

    (received,) = fake_smtp.messages
    assert received.mail_from == FROM and received.rcpt_tos == (PATIENT,)
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert lines(plain.get_content()) == lines(expected.text)
    assert lines(html.get_content()) == lines(expected.html or "")
    assert message["Subject"] == expected.subject
    assert message["From"].addresses[0].display_name == "Clinique médicale du Plateau"
    assert message["From"].addresses[0].addr_spec == FROM
    assert message["Reply-To"].addresses[0].addr_spec == "accueil@plateau.example.org"
    assert message["To"] == PATIENT
    assert message["Message-ID"] == f"<{receipt.provider_id}>"
    assert email.utils.parsedate_to_datetime(message["Date"]) == SAMPLE_NOW
    assert message["Content-Language"] == "fr-CA"
    assert message["Auto-Submitted"] == "auto-generated"
    assert receipt.status == "sent"


def test_english_emails_say_so(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    make_client(fake_smtp).send(planned(), rendered(Lang.EN), PATIENT)
    assert fake_smtp.messages[0].message["Content-Language"] == "en-CA"


def test_without_the_clinic_the_service_name_signs_and_there_is_no_reply_to(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    make_client(fake_smtp, location=None).send(planned(), rendered(), PATIENT)

    message = fake_smtp.messages[0].message
    assert message["From"].addresses[0].display_name == Settings().sender_name
    assert message["Reply-To"] is None


def test_a_clinic_without_email_gets_no_reply_to(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    make_client(fake_smtp, location=SAMPLE_LOCATION).send(planned(), rendered(), PATIENT)
    assert fake_smtp.messages[0].message["Reply-To"] is None


# -- connections ----------------------------------------------------------------------------


def test_a_batch_goes_over_one_connection(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    client = make_client(fake_smtp)

    for _ in range(10):
        client.send(planned(), rendered(), PATIENT)

    assert len(fake_smtp.messages) == 10
    assert fake_smtp.connections == 1


def test_worker_threads_share_a_few_connections(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    client = make_client(fake_smtp, pool_size=3)
    errors: list[BaseException] = []

    def send_some() -> None:
        try:
            for _ in range(5):
                client.send(planned(), rendered(), PATIENT)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(fake_smtp.messages) == 40
    assert 1 <= fake_smtp.connections <= 3


def test_idle_connections_are_closed(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    client = make_client(fake_smtp, idle_seconds=0)

    for _ in range(3):
        client.send(planned(), rendered(), PATIENT)

    assert fake_smtp.connections == 3


def test_a_refusal_leaves_the_connection_usable(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    client = make_client(fake_smtp)
    fake_smtp.refuse_next(code=550, stage="rcpt")

    refusal(client)
    client.send(planned(), rendered(), PATIENT)

    assert len(fake_smtp.messages) == 1
    assert fake_smtp.connections == 1


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "code", "failure"),
    [
        ("rcpt", 550, FailureClass.PERMANENT),
        ("rcpt", 501, FailureClass.PERMANENT),  # a recipient address the server rejects
        ("rcpt", 551, FailureClass.PERMANENT),
        ("rcpt", 553, FailureClass.PERMANENT),
        ("rcpt", 450, FailureClass.TRANSIENT),
        ("data", 451, FailureClass.TRANSIENT),
        ("data", 554, FailureClass.PERMANENT),
        ("mail", 421, FailureClass.TRANSIENT),
        ("mail", 553, FailureClass.CONFIGURATION),  # our sender address is refused
    ],
)
def test_replies_become_failure_classes(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient],
    stage: str, code: int, failure: FailureClass,
) -> None:
    fake_smtp.refuse_next(code=code, stage=stage, text=f"5.1.1 <{PATIENT}> refused")  # type: ignore[arg-type]

    error = refusal(make_client(fake_smtp))

    assert (error.failure, error.code) == (failure, str(code))
    assert PATIENT not in str(error)  # the server's words quote the address: kept out
    assert fake_smtp.messages == []


@pytest.mark.parametrize(
    ("code", "stage", "failure"),
    [
        (535, "connect", FailureClass.CONFIGURATION),
        (530, "recipient", FailureClass.CONFIGURATION),
        (454, "connect", FailureClass.TRANSIENT),
        (550, "recipient", FailureClass.PERMANENT),
        (552, "data", FailureClass.PERMANENT),
        (550, "sender", FailureClass.CONFIGURATION),
    ],
)
def test_reply_classification(code: int, stage: str, failure: FailureClass) -> None:
    assert classify_reply(code, stage=stage) is failure


def test_wrong_credentials_are_a_configuration_failure(
    smtp_server_factory: Callable[..., FakeSmtp], make_client: Callable[..., SmtpEmailClient]
) -> None:
    fake = smtp_server_factory(username="clinique", password="bon-mot-de-passe")

    error = refusal(make_client(fake, smtp_password="mauvais"))

    assert (error.failure, error.code) == (FailureClass.CONFIGURATION, "535")
    assert fake.messages == []


def test_authentication_with_the_right_credentials(
    smtp_server_factory: Callable[..., FakeSmtp], make_client: Callable[..., SmtpEmailClient]
) -> None:
    fake = smtp_server_factory(username="clinique", password="bon-mot-de-passe")

    make_client(fake).send(planned(), rendered(), PATIENT)

    assert fake.messages[0].username == "clinique"


def test_starttls_and_authentication_from_settings(
    smtp_server_factory: Callable[..., FakeSmtp], make_client: Callable[..., SmtpEmailClient]
) -> None:
    fake = smtp_server_factory(username="clinique", password="secret", security="starttls")
    client = make_client(fake)

    client.send(planned(), rendered(), PATIENT)
    client.send(planned(), rendered(), PATIENT)

    assert [m.tls for m in fake.messages] == [True, True]
    assert fake.messages[0].username == "clinique"
    assert fake.connections == 1


def test_implicit_tls_from_settings(
    smtp_server_factory: Callable[..., FakeSmtp], make_client: Callable[..., SmtpEmailClient]
) -> None:
    # (The fake offers no AUTH over implicit TLS: aiosmtpd only counts STARTTLS as TLS.)
    fake = smtp_server_factory(security="tls")
    client = make_client(fake)

    client.send(planned(), rendered(), PATIENT)
    client.send(planned(), rendered(), PATIENT)

    assert [m.tls for m in fake.messages] == [True, True]
    assert fake.connections == 1


def test_an_untrusted_certificate_is_a_configuration_failure(
    smtp_server_factory: Callable[..., FakeSmtp], make_client: Callable[..., SmtpEmailClient]
) -> None:
    fake = smtp_server_factory(security="tls")
    error = refusal(make_client(fake, tls_context=ssl.create_default_context()))
    assert (error.failure, error.code) == (FailureClass.CONFIGURATION, "tls")


def test_starttls_is_required_not_opportunistic(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    # The server offers no STARTTLS: the client must not fall back to clear text.
    client = make_client(fake_smtp, smtp_security="starttls",
                         tls_context=ssl.create_default_context())
    error = refusal(client)
    assert (error.failure, error.code) == (FailureClass.CONFIGURATION, "not-supported")
    assert fake_smtp.messages == []


def test_no_server_is_transient(make_client: Callable[..., SmtpEmailClient]) -> None:
    settings = Settings(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=free_port(),
                        smtp_security="none")
    client = SmtpEmailClient(settings, locations=lambda _: None, clock=lambda: SAMPLE_NOW)

    error = refusal(client)

    assert (error.failure, error.code) == (FailureClass.TRANSIENT, "connection")


def test_a_data_timeout_is_ambiguous(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    client = make_client(fake_smtp, smtp_timeout=dt.timedelta(seconds=0.5))
    fake_smtp.delay(3)

    error = refusal(client)

    assert (error.failure, error.code) == (FailureClass.AMBIGUOUS, "data-timeout")


def test_the_client_recovers_after_a_timeout(
    fake_smtp: FakeSmtp, make_client: Callable[..., SmtpEmailClient]
) -> None:
    client = make_client(fake_smtp, smtp_timeout=dt.timedelta(seconds=0.5))
    fake_smtp.delay(3)
    refusal(client)
    fake_smtp.delay(0)

    client.send(planned(), rendered(), PATIENT)

    assert fake_smtp.wait_for_messages(1)[-1].rcpt_tos == (PATIENT,)
    assert fake_smtp.connections == 2  # the timed-out connection was not reused
