"""Test recipients answer for themselves; everyone else goes to the real client."""

from __future__ import annotations

import pytest

from notifier.channels.base import Receipt
from notifier.channels.test_recipients import TestRecipientClient
from notifier.domain import Channel, Kind, Lang, Patient
from notifier.errors import DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered
from notifier.messages.samples import SAMPLE_NOW, SAMPLE_REFERENCE
from notifier.planning.entries import PlannedMessage
from notifier.test_addresses import TEST_EMAILS, TEST_PHONES, TestRecipientOutcome, outcome_for


class RecordingClient:
    """Stands for a provider client: records what it was asked to send."""

    def __init__(self, *, idempotent: bool = False) -> None:
        self.idempotent = idempotent
        self.sent: list[str] = []

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        self.sent.append(address)
        return Receipt(provider_id="SM-real", status="accepted")


def planned(channel: Channel) -> PlannedMessage:
    return PlannedMessage(
        reference=SAMPLE_REFERENCE, kind=Kind.REMINDER, channel=channel, version=1,
        send_at=SAMPLE_NOW, deadline=SAMPLE_NOW, start=SAMPLE_NOW,
    )


def rendered(channel: Channel) -> Rendered:
    return Rendered(Kind.REMINDER, channel, Lang.FR, text="Bonjour.")


def send(channel: Channel, address: str) -> tuple[Receipt, RecordingClient]:
    inner = RecordingClient()
    client = TestRecipientClient(inner, channel=channel)
    return client.send(planned(channel), rendered(channel), address), inner


def test_every_test_address_passes_the_event_contract() -> None:
    for number in TEST_PHONES:
        Patient(first_name="T", last_name="T", mobile_phone=number, home_phone=number)
    for email in TEST_EMAILS:
        Patient(first_name="T", last_name="T", email=email)


def test_each_channel_family_has_the_three_outcomes() -> None:
    assert sorted(TEST_PHONES.values(), key=str) == sorted(TestRecipientOutcome, key=str)
    assert sorted(TEST_EMAILS.values(), key=str) == sorted(TestRecipientOutcome, key=str)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
def test_a_delivered_test_number_never_reaches_the_provider(channel: Channel) -> None:
    receipt, inner = send(channel, "+15555550100")

    assert receipt.status == "delivered"
    assert receipt.provider_id == f"test:{planned(channel).key}"
    assert inner.sent == []


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
def test_the_permanent_failure_number_fails_like_an_invalid_number(channel: Channel) -> None:
    with pytest.raises(DeliveryError) as raised:
        send(channel, "+15555550101")
    assert raised.value.failure is FailureClass.PERMANENT
    assert raised.value.code == "21211"
    assert raised.value.detail.startswith("test recipient:")
    assert not raised.value.opted_out


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
def test_the_temporary_failure_number_fails_like_an_unreachable_phone(channel: Channel) -> None:
    with pytest.raises(DeliveryError) as raised:
        send(channel, "+15555550102")
    assert raised.value.failure is FailureClass.TRANSIENT
    assert raised.value.code == "30003"


@pytest.mark.parametrize(
    ("address", "failure", "code"),
    [
        ("permanent-failure@example.invalid", FailureClass.PERMANENT, "550"),
        ("Temporary-Failure@Example.Invalid", FailureClass.TRANSIENT, "451"),
    ],
)
def test_email_failures_look_like_smtp_replies(
    address: str, failure: FailureClass, code: str
) -> None:
    with pytest.raises(DeliveryError) as raised:
        send(Channel.EMAIL, address)
    assert (raised.value.failure, raised.value.code) == (failure, code)


def test_the_delivered_email_address_matches_in_any_case() -> None:
    receipt, inner = send(Channel.EMAIL, "DELIVERED@example.invalid")
    assert receipt.status == "delivered" and inner.sent == []


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        (Channel.SMS, "+15145550188"),
        (Channel.VOICE, "+15145550199"),
        (Channel.EMAIL, "emilie.tremblay@example.org"),
        # A test address of the other family is an ordinary address here.
        (Channel.EMAIL, "+15555550100"),
        (Channel.SMS, "delivered@example.invalid"),
    ],
)
def test_everyone_else_goes_to_the_real_client(channel: Channel, address: str) -> None:
    receipt, inner = send(channel, address)
    assert receipt == Receipt(provider_id="SM-real", status="accepted")
    assert inner.sent == [address]


def test_the_wrapper_is_as_idempotent_as_the_client_it_wraps() -> None:
    assert TestRecipientClient(RecordingClient(idempotent=True), channel=Channel.SMS).idempotent
    assert not TestRecipientClient(RecordingClient(), channel=Channel.SMS).idempotent


def test_outcome_for_names_the_outcome() -> None:
    assert outcome_for(Channel.VOICE, "+15555550102") is TestRecipientOutcome.TEMPORARY
    assert (outcome_for(Channel.EMAIL, " delivered@example.invalid ")
            is TestRecipientOutcome.DELIVERED)
    assert outcome_for(Channel.SMS, "+15145550188") is None
