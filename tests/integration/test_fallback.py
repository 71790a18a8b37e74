"""Channel fallback and the contact-health registry, end to end through the send step:
the real twilio client against the Twilio-compatible server, aiosmtplib against an SMTP
server on loopback, status callbacks posted signed to the gateway's own web app, and a
real Redis."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from notifier.callbacks.events import callback_events
from notifier.delivery_status import DeliveryStatus
from notifier.domain import Lang
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.operations.delivery_stats import delivery_counts
from notifier.operations.metrics import prometheus_text
from notifier.operations.status import health_summary
from notifier.operations.terminal import render_status
from notifier.planning.entries import PlannedMessage
from notifier.sending import SendOutcome
from notifier.store.callback_log import CallbackLog
from notifier.store.contact_health import ContactHealth
from tests.factories import event
from tests.fakes.twilio_server import Outcome
from tests.integration.test_delivery import (
    HOME,
    MOBILE,
    START,
    Delivery,
    delivery,
    fake_smtp,
    fake_twilio,
    web_port,
)

__all__ = ["delivery", "fake_smtp", "fake_twilio", "web_port"]  # fixtures

STAND_INS = {"sms": ["voice", "email"], "voice": ["sms"], "email": ["sms"]}


def location(*, unchosen: bool = False) -> dict[str, Any]:
    return {**SAMPLE_LOCATION.model_dump(mode="json"),
            "fallback": {"stand_ins": STAND_INS, "unchosen_modes": unchosen}}


def book(delivery: Delivery, *modes: str, reference: str = "0000000001",
         unchosen: bool = False, **patient: Any) -> list[dict[str, Any]]:
    now = delivery.clock()
    delivery.intake.accept(event("booked", start=START, at=now, modes=modes,
                                 reference=reference, location=location(unchosen=unchosen),
                                 patient=patient), now)
    return due(delivery)


def due(delivery: Delivery) -> list[dict[str, Any]]:
    """Claim what is due now (acknowledged, as a hand-off does)."""
    claimed = delivery.intake.schedule.claim(delivery.clock())
    delivery.intake.schedule.ack(claimed)
    return [json.loads(p) for p in claimed]


def routes(payloads: list[dict[str, Any]]) -> list[tuple[str, str]]:
    messages = [PlannedMessage.from_dict(p) for p in payloads]
    return [(str(m.channel), str(m.route)) for m in messages]


def story(delivery: Delivery, reference: str = "0000000001") -> list[str]:
    return [line["what"] for line in delivery.intake.history.read(reference)]


def contact_events(delivery: Delivery) -> list[dict[str, object]]:
    log = CallbackLog(delivery.client, keys=delivery.intake.keys)
    return [e for entry in log.read(after=None, count=100) for e in callback_events(entry)
            if e["type"] == "contact.undeliverable"]


def test_21211_at_create_falls_back_to_a_mode_the_patient_consented_to(
    delivery: Delivery,
) -> None:
    (sms,) = book(delivery, "sms", unchosen=True, fallback_consent=True)
    delivery.fake.script_messages(Outcome.error(21211))

    assert delivery.step(sms) is SendOutcome.FAILED

    # The text's first stand-in, a call, to the home number.
    (fallback,) = due(delivery)
    assert routes([fallback]) == [("voice", "fallback")]
    assert PlannedMessage.from_dict(fallback).key == (
        "0000000001:confirmation:voice:fallback:v1")
    assert delivery.step(fallback) is SendOutcome.SENT
    assert delivery.fake.calls[0].to == HOME
    assert story(delivery).count("fallback_scheduled") == 1

    # The call fails too: the next stand-in, an email.
    delivery.fake.callback(delivery.fake.calls[0].sid, "failed", error_code=21211)
    (mail,) = due(delivery)
    assert routes([mail]) == [("email", "fallback")]
    assert delivery.step(mail) is SendOutcome.SENT
    (received,) = delivery.smtp.wait_for_messages(1)
    assert list(received.rcpt_tos) == ["emilie.tremblay@example.org"]


def test_the_story_tells_the_failure_before_its_fallback(delivery: Delivery) -> None:
    # At create: the send step's failure and its fallback, in one step.
    (sms,) = book(delivery, "sms", unchosen=True, fallback_consent=True)
    delivery.fake.script_messages(Outcome.error(21211))
    delivery.step(sms)
    assert story(delivery)[1:] == ["failed", "fallback_scheduled"]
    # In a status callback: the final status, then the fallback.
    (voice,) = due(delivery)
    delivery.step(voice)
    delivery.fake.callback(delivery.fake.calls[0].sid, "failed", error_code=21211)
    delivery.fake.callback(delivery.fake.calls[0].sid, "failed", error_code=21211)  # twice
    assert story(delivery)[3:] == ["sent", "failed", "fallback_scheduled"]
    lines = delivery.intake.history.read("0000000001")
    assert lines[4]["error_code"] == "21211" and lines[4]["channel"] == "voice"
    assert lines[5]["key"].startswith("0000000001:confirmation:email:fallback")


def test_the_story_tells_a_suppression_before_its_fallback(delivery: Delivery) -> None:
    (sms,) = book(delivery, "sms", "voice", home_phone=None)
    delivery.step(sms)
    delivery.fake.callback(delivery.fake.messages[0].sid, "undelivered", error_code=30006)
    due(delivery)

    (second,) = book(delivery, "sms", "voice", home_phone=None, reference="0000000002")
    delivery.step(second)

    lines = delivery.intake.history.read("0000000002")
    assert [line["what"] for line in lines[1:]] == ["suppressed", "fallback_scheduled"]
    assert lines[1]["reason"] == "contact_undeliverable"


def test_no_fallback_to_an_unchosen_mode_without_consent(delivery: Delivery) -> None:
    (sms,) = book(delivery, "sms", unchosen=True)
    delivery.fake.script_messages(Outcome.error(21211))

    assert delivery.step(sms) is SendOutcome.FAILED
    assert due(delivery) == []


def test_30006_in_a_callback_calls_the_mobile_of_a_patient_who_chose_voice(
    delivery: Delivery,
) -> None:
    # The patient chose texts and calls but gave one number: the "mobile" is a landline.
    (sms,) = book(delivery, "sms", "voice", home_phone=None)
    assert delivery.step(sms) is SendOutcome.SENT
    sid = delivery.fake.messages[0].sid

    assert delivery.fake.callback(sid, "undelivered", error_code=30006) == 200
    assert delivery.fake.callback(sid, "undelivered", error_code=30006) == 200  # twice

    (fallback,) = due(delivery)
    assert routes([fallback]) == [("voice", "fallback")]
    assert delivery.step(fallback) is SendOutcome.SENT
    (call,) = delivery.fake.calls
    assert call.to == MOBILE
    assert story(delivery).count("fallback_scheduled") == 1
    (told,) = contact_events(delivery)
    assert told["data"]["reason"] == "landline"  # type: ignore[index]


def test_an_smtp_hard_bounce_falls_back(delivery: Delivery) -> None:
    (mail,) = book(delivery, "email", unchosen=True, fallback_consent=True)
    delivery.smtp.refuse_next(code=550, text="5.1.1 No such user", stage="rcpt")

    assert delivery.step(mail) is SendOutcome.FAILED

    (fallback,) = due(delivery)
    assert routes([fallback]) == [("sms", "fallback")]
    assert delivery.step(fallback) is SendOutcome.SENT
    assert delivery.fake.messages[0].to == MOBILE


def test_21610_never_falls_back(delivery: Delivery) -> None:
    (sms,) = book(delivery, "sms", unchosen=True, fallback_consent=True)
    delivery.fake.script_messages(Outcome.error(21610))

    assert delivery.step(sms) is SendOutcome.FAILED
    assert due(delivery) == []


def test_no_fallback_while_another_chosen_channel_delivered_or_is_on_its_way(
    delivery: Delivery,
) -> None:
    sms, voice = sorted(book(delivery, "sms", "voice"), key=lambda p: p["s"])
    assert delivery.step(sms) is SendOutcome.SENT
    delivery.fake.script_calls(Outcome.error(21211))

    assert delivery.step(voice) is SendOutcome.FAILED
    assert due(delivery) == []  # the text may still arrive

    assert delivery.fake.callback(delivery.fake.messages[0].sid, "delivered") == 200
    assert due(delivery) == []


def test_the_last_chosen_channel_to_fail_starts_the_fallback(delivery: Delivery) -> None:
    sms, voice = sorted(book(delivery, "sms", "voice"), key=lambda p: p["s"])
    assert delivery.step(sms) is SendOutcome.SENT
    delivery.fake.script_calls(Outcome.error(21211))
    assert delivery.step(voice) is SendOutcome.FAILED
    assert due(delivery) == []

    assert delivery.fake.callback(delivery.fake.messages[0].sid, "undelivered",
                                  error_code=30006) == 200

    # The text's stand-ins: a call (to the mobile, the home number having failed).
    (fallback,) = due(delivery)
    assert routes([fallback]) == [("voice", "fallback")]
    delivery.step(fallback)
    assert delivery.fake.calls[-1].to == MOBILE


def test_a_late_delivered_after_the_fallback_is_kept_and_counted(delivery: Delivery) -> None:
    (sms,) = book(delivery, "sms", "voice", home_phone=None)
    delivery.step(sms)
    sid = delivery.fake.messages[0].sid
    delivery.fake.callback(sid, "undelivered", error_code=30006)
    (fallback,) = due(delivery)
    delivery.step(fallback)

    assert delivery.fake.callback(sid, "delivered") == 200

    record = delivery.record(sms)
    assert record["status"] == "undelivered" and record["fallback_redundant"] == "1"
    assert "late_delivered" in record
    hour = delivery.clock().strftime("%Y%m%d%H")
    assert delivery.client.hgetall(delivery.intake.keys.fallback_redundant(hour)) == {
        b"sms|confirmation|fr|plateau": b"1"}
    assert delivery.fake.callback(sid, "delivered") == 200  # told twice: counted once
    assert delivery.client.hgetall(delivery.intake.keys.fallback_redundant(hour)) == {
        b"sms|confirmation|fr|plateau": b"1"}


def test_a_late_delivered_after_the_fallback_is_in_no_total_of_statuses(
    delivery: Delivery,
) -> None:
    (sms,) = book(delivery, "sms", "voice", home_phone=None)
    delivery.step(sms)
    sid = delivery.fake.messages[0].sid
    delivery.fake.callback(sid, "undelivered", error_code=30006)
    (fallback,) = due(delivery)
    delivery.step(fallback)
    now = delivery.clock()
    before = delivery_counts(delivery.client, delivery.settings, now, "hour")

    assert delivery.fake.callback(sid, "delivered") == 200

    # The statuses' counts, their totals and every breakdown are as they were.
    counts = delivery_counts(delivery.client, delivery.settings, now, "hour")
    assert (counts.by_status, counts.by_channel, counts.by_location, counts.delivery_rate) == (
        before.by_status, before.by_channel, before.by_location, before.delivery_rate)
    statuses = {str(status) for status in DeliveryStatus}
    fields = delivery.client.hkeys(delivery.intake.keys.stats(now.strftime("%Y%m%d%H")))
    assert {field.decode().split("|")[0] for field in fields} <= statuses
    assert counts.fallback_redundant == {"sms": 1}
    assert counts.to_dict()["fallback_redundant"] == {"sms": 1}
    assert delivery_counts(delivery.client, delivery.settings, now, "hour",
                           location="elsewhere").fallback_redundant == {}
    # Metrics: a series of its own; the statuses' series hold statuses only.
    found = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
             for family in text_string_to_metric_families(
                 prometheus_text(delivery.client, delivery.settings, now).decode())
             for sample in family.samples}
    assert found[("notifier_fallback_redundant_last_hour", (("channel", "sms"),))] == 1
    assert {dict(labels).get("status") for name, labels in found
            if name == "notifier_deliveries_last_hour"} <= statuses
    assert sum(n for (name, _), n in found.items()
               if name == "notifier_deliveries_last_hour") == sum(before.by_status.values())
    # notifier status: its own figure, beside the statuses, not among them.
    summary = health_summary(delivery.client, delivery.settings, now)
    assert summary.fallback_redundant_last_hour == 1
    assert summary.deliveries_last_hour == before.by_status
    last_hour = summary.to_dict()["deliveries_last_hour"]
    assert last_hour["fallback_redundant"] == 1 and set(last_hour["by_status"]) <= statuses
    (line,) = [line for line in render_status(summary).splitlines()
               if line.startswith("Delivered late after their fallback, last hour")]
    assert line.split()[-1] == "1"
    assert "Livrés en retard après leur repli" in render_status(summary, Lang.FR)


def test_a_known_undeliverable_address_goes_straight_to_the_fallback_and_is_told_once(
    delivery: Delivery,
) -> None:
    (sms,) = book(delivery, "sms", "voice", home_phone=None)
    delivery.step(sms)
    delivery.fake.callback(delivery.fake.messages[0].sid, "undelivered", error_code=30006)
    due(delivery)

    (second,) = book(delivery, "sms", "voice", home_phone=None, reference="0000000002")
    assert delivery.step(second) is SendOutcome.SUPPRESSED

    assert delivery.record(second)["reason"] == "contact_undeliverable"
    assert len(delivery.fake.messages) == 1
    (fallback,) = due(delivery)
    assert routes([fallback]) == [("voice", "fallback")]
    assert fallback["s"].startswith("0000000002:")
    assert len(contact_events(delivery)) == 1
    (line,) = ContactHealth(delivery.client, keys=delivery.intake.keys).undeliverable(
        "plateau", delivery.clock())
    assert (line.channel, line.reason) == ("sms", "landline") and MOBILE not in line.masked
    summary = health_summary(delivery.client, delivery.settings, delivery.clock())
    assert summary.undeliverable_contacts == {"plateau": 1}
    assert "Undeliverable contacts" in render_status(summary)


def test_a_contact_change_clears_the_replaced_address(delivery: Delivery) -> None:
    (sms,) = book(delivery, "sms", "voice", home_phone=None)
    delivery.step(sms)
    delivery.fake.callback(delivery.fake.messages[0].sid, "undelivered", error_code=30006)
    health = ContactHealth(delivery.client, keys=delivery.intake.keys)
    assert len(health.undeliverable("plateau", delivery.clock())) == 1
    # Operators' per-clinic counts come from an index of clinics, kept 90 days.
    assert health.by_location(delivery.clock()) == {"plateau": 1}
    assert health.by_location(delivery.clock() + dt.timedelta(days=91)) == {}

    now = delivery.clock()
    delivery.intake.accept(event("contact_changed", version=2, start=START, at=now,
                                 modes=("sms", "voice"), location=location(),
                                 patient={"home_phone": None,
                                          "mobile_phone": "+15145550177"}), now)

    assert health.undeliverable("plateau", delivery.clock()) == []
    assert health.by_location(delivery.clock()) == {}
    keys = delivery.client.keys(f"{delivery.settings.queue_prefix}:contact-health:*")
    assert all(not delivery.client.hlen(key) for key in keys)


def test_a_busy_call_is_tried_once_more_then_falls_back(delivery: Delivery) -> None:
    (voice,) = book(delivery, "voice", unchosen=True, fallback_consent=True)
    delivery.step(voice)
    assert delivery.fake.callback(delivery.fake.calls[0].sid, "busy") == 200
    assert due(delivery) == []

    delivery.clock.advance(dt.timedelta(minutes=30))
    (retry,) = due(delivery)
    assert routes([retry]) == [("voice", "retry")]
    delivery.step(retry)
    assert delivery.fake.calls[-1].to == HOME
    assert delivery.fake.callback(delivery.fake.calls[-1].sid, "no-answer") == 200

    # Then the location's stand-in for calls: a text, which the patient consented to.
    (fallback,) = due(delivery)
    assert routes([fallback]) == [("sms", "fallback")]
    assert delivery.step(fallback) is SendOutcome.SENT
    assert delivery.fake.messages[-1].to == MOBILE
