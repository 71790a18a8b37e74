"""An email that can never be sent fails for good in the send step, before its record says
"submitting": never a retried "connection" error, never an interrupted, possibly doubled
send. Through the real send step, aiosmtplib and the SMTP server on loopback."""

from __future__ import annotations

import dataclasses

import pytest

from notifier.domain import Appointment, Channel, Lang
from notifier.operations.failure_words import explain_failure
from notifier.planning.entries import AppointmentState
from notifier.sending import SendOutcome
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.integration.test_delivery import Delivery, delivery, web_port

__all__ = ["delivery", "fake_smtp", "fake_twilio", "web_port"]  # fixtures


def stored_state(delivery: Delivery) -> AppointmentState:
    raw = delivery.client.get(delivery.intake.keys.appointment("0000000001"))
    assert raw is not None
    return AppointmentState.from_json(raw)


def store_appointment(delivery: Delivery, appointment: Appointment) -> None:
    """Store ``appointment`` as it is, unchecked, as one accepted under older rules."""
    state = dataclasses.replace(stored_state(delivery), appointment=appointment)
    delivery.client.set(delivery.intake.keys.appointment("0000000001"), state.packed())


def store_email(delivery: Delivery, address: str) -> None:
    """The stored appointment now holds ``address``, as one accepted before the contract
    took bare ASCII addresses only."""
    appointment = stored_state(delivery).appointment
    patient = appointment.patient.model_copy(update={"email": address})
    store_appointment(delivery, appointment.model_copy(update={"patient": patient}))


@pytest.mark.parametrize(
    "address",
    ["x<attacker@evil.example>", "g:victim@example.org;", "zoé@example.org",
     "zoe@exemple.québec"],
    ids=["angle-brackets", "group", "non-ascii-local", "non-ascii-domain"],
)
def test_an_address_that_is_not_one_bare_ascii_address_fails_before_submitting(
    delivery: Delivery, address: str
) -> None:
    (payload,) = delivery.book("email")
    store_email(delivery, address)

    outcome = delivery.step(payload)

    assert outcome is SendOutcome.FAILED
    record = delivery.record(payload)
    assert (record["status"], record["reason"], record["error_code"]) == (
        "failed", "provider_permanent", "address")
    assert "attempts" not in record  # it never became an attempt that could be interrupted
    assert "ambiguous" not in record
    assert delivery.smtp.messages == []


def test_a_recipient_syntax_refusal_from_the_server_is_permanent(delivery: Delivery) -> None:
    (payload,) = delivery.book("email")
    delivery.smtp.refuse_next(code=553, text="5.1.3 bad recipient address syntax", stage="rcpt")

    assert delivery.step(payload) is SendOutcome.FAILED
    record = delivery.record(payload)
    assert (record["reason"], record["error_code"]) == ("provider_permanent", "553")


def test_the_address_failure_reads_in_both_languages() -> None:
    english = explain_failure("address", Channel.EMAIL, Lang.EN)
    french = explain_failure("address", Channel.EMAIL, Lang.FR)

    assert "angle brackets" in english and "chevrons" in french


def test_an_appointment_stored_before_location_ids_were_slugs_is_still_sent(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    appointment = stored_state(delivery).appointment
    location = appointment.location.model_copy(update={"id": "Clinique Plateau #2"})
    store_appointment(delivery, appointment.model_copy(update={"location": location}))

    assert delivery.step(payload) is SendOutcome.SENT
