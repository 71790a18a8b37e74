"""The callback log: each change a booking system could act on is logged by the same
script that makes it, with the record as it then is, and nothing of the patient but, for a
contact change, the address it concerns."""

from __future__ import annotations

import datetime as dt
import json

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.opt_outs import OptOutSource
from notifier.planning.entries import PlannedMessage
from notifier.sending import SendOutcome
from notifier.store.callback_log import CallbackLog
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)
MOBILE = "+15145550188"
PATIENT_DATA = ("Émilie", "Tremblay", "emilie.tremblay@example.org", MOBILE, "5145550188",
                "+15145550199")


def book(gateway: Gateway, *modes: str, reference: str = "0000000001") -> list[dict[str, str]]:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("booked", start=START, at=now, modes=modes, reference=reference), now)
    claimed = intake.schedule.claim(now)
    intake.schedule.ack(claimed)
    return [json.loads(payload) for payload in claimed]


def log_of(gateway: Gateway) -> CallbackLog:
    return CallbackLog(gateway.client, keys=Keys(gateway.settings.queue_prefix))


def test_a_message_handed_over_is_logged_with_its_record_and_no_patient_data(
    gateway: Gateway,
) -> None:
    step = gateway.send_step()
    sms, email = sorted(book(gateway, "sms", "email"),
                        key=lambda p: PlannedMessage.from_dict(p).channel != "sms")

    assert step(sms) is SendOutcome.SENT and step(email) is SendOutcome.SENT

    entries = log_of(gateway).read(after=None, count=10)
    assert [(e.fields["type"], e.fields["channel"]) for e in entries] == [
        ("message.delivered", "sms"), ("message.delivered", "email")]
    first = entries[0].fields
    assert first["key"] == PlannedMessage.from_dict(sms).key
    assert (first["reference"], first["kind"], first["lang"], first["status"],
            first["attempts"]) == ("0000000001", "confirmation", "fr", "delivered", "1")
    assert first["location"] and first["at"] and first["created_at"]
    dumped = json.dumps([e.fields for e in entries], ensure_ascii=False)
    assert not any(data in dumped for data in PATIENT_DATA)
    assert entries[0].sequence < entries[1].sequence


def test_a_suppressed_message_is_logged_with_its_reason(gateway: Gateway) -> None:
    (sms,) = book(gateway, "sms")
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("cancelled", version=2, start=START, at=now, modes=("sms",)), now)

    assert gateway.send_step()(sms) is SendOutcome.SUPPRESSED

    suppressed = [e.fields for e in log_of(gateway).read(after=None, count=10)
                  if e.fields["key"] == PlannedMessage.from_dict(sms).key]
    assert [(f["type"], f["reason"]) for f in suppressed] == [
        ("message.suppressed", "cancelled")]


def test_only_a_change_of_what_the_booking_system_is_told_is_logged(gateway: Gateway) -> None:
    deliveries = DeliveryLog.of(gateway.client, gateway.settings)
    now = gateway.clock()
    for status in (DeliveryStatus.SUBMITTING, DeliveryStatus.ACCEPTED, DeliveryStatus.SENT,
                   DeliveryStatus.SENT, DeliveryStatus.ACCEPTED, DeliveryStatus.UNDELIVERED,
                   DeliveryStatus.DELIVERED):
        deliveries.advance("k1", status, now, fields={"error_code": "30003"}
                           if status is DeliveryStatus.UNDELIVERED else None,
                           address=MOBILE if status is DeliveryStatus.UNDELIVERED else None)

    entries = [e.fields for e in log_of(gateway).read(after=None, count=10)]
    assert [f["type"] for f in entries] == ["message.sent", "message.failed"]
    assert entries[0]["status"] == "accepted"
    # The address of a failure travels only in its own field, for contact.undeliverable.
    assert entries[1]["address"] == MOBILE and entries[1]["error_code"] == "30003"
    assert "address" not in entries[0]


def test_entry_ids_only_grow_even_when_a_clock_goes_back(gateway: Gateway) -> None:
    deliveries = DeliveryLog.of(gateway.client, gateway.settings)
    now = gateway.clock()
    deliveries.advance("later", DeliveryStatus.SENT, now + dt.timedelta(minutes=5))
    deliveries.advance("earlier", DeliveryStatus.SENT, now)
    for n in range(1_200):  # more than a millisecond's thousand
        deliveries.advance(f"same-{n}", DeliveryStatus.SENT, now)

    entries = log_of(gateway).read(after=None, count=2_000)
    sequences = [entry.sequence for entry in entries]
    assert len(sequences) == 1_202 and sequences == sorted(set(sequences))
    assert log_of(gateway).read(after=entries[-2].id, count=10) == entries[-1:]


def test_an_opt_out_is_told_to_the_locations_that_wrote_to_the_number(
    gateway: Gateway,
) -> None:
    optouts = OptOutStore(gateway.client, gateway.settings)
    now = gateway.clock()
    optouts.opt_out("+15145550111", source=OptOutSource.SMS_KEYWORD, keyword="ARRET", now=now)
    (sms,) = book(gateway, "sms")
    assert gateway.send_step()(sms) is SendOutcome.SENT

    optouts.opt_out(MOBILE, source=OptOutSource.SMS_KEYWORD, keyword="ARRET", now=now)
    optouts.opt_in(MOBILE, channel=Channel.SMS, source=OptOutSource.SMS_KEYWORD, keyword="REPRISE",
                   now=now)
    optouts.opt_in(MOBILE, channel=Channel.SMS, source=OptOutSource.SMS_KEYWORD, keyword="REPRISE",
                   now=now)  # already so: nothing to tell

    contact = [e.fields for e in log_of(gateway).read(after=None, count=10)
               if e.fields["type"].startswith("contact.")]
    location = book_location(gateway, sms)
    assert [(f["type"], f["address"], f["keyword"], f["locations"]) for f in contact] == [
        ("contact.opted_out", "+15145550111", "ARRET", ""),
        ("contact.opted_out", MOBILE, "ARRET", location),
        ("contact.opted_in", MOBILE, "REPRISE", location),
    ]
    assert {f["channel"] for f in contact} == {"sms"}


def book_location(gateway: Gateway, payload: dict[str, str]) -> str:
    record = DeliveryLog.of(gateway.client, gateway.settings).get(
        PlannedMessage.from_dict(payload).key)
    return record["location"]
