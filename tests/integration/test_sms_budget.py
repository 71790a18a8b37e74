"""No SMS leaves over the segment budget: every kind, in both languages, with the longest
names the event contract allows, through the real send step, the real twilio client and
a Twilio-compatible server on loopback; one that cannot fit is held back and counted."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from notifier.channels.registry import channel_clients
from notifier.domain import Kind, Lang
from notifier.messages.samples import SAMPLE_LOCATION, longest_names
from notifier.messages.sms import sms_encoding
from notifier.operations.failure_words import explain_failure
from notifier.planning.entries import PlannedMessage
from notifier.sending import SendOutcome, SendStep
from notifier.store.history import History
from notifier.store.optouts import OptOutStore
from tests.factories import event, local
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.integration.test_delivery import MOBILE, START, Delivery, delivery, web_port

__all__ = ["delivery", "fake_smtp", "fake_twilio", "web_port"]  # fixtures

BUDGET = 3


def names(lang: Lang, *, first_name: str | None = None) -> dict[str, Any]:
    """Event options for a patient and clinic with the longest names the contract allows
    (or the given first name and the sample clinic)."""
    location = SAMPLE_LOCATION.model_dump(mode="json")
    longest = longest_names(lang)
    if first_name is None:
        first_name = longest.first_name
        location["name"] = longest.clinic
        location["address"].update(street=longest.street, city=longest.city)
    return {
        "language": str(lang),
        "location": location,
        "professional_name": longest.professional,
        "patient": {
            "first_name": first_name, "last_name": longest.last_name, "language": str(lang),
            "mobile_phone": MOBILE, "modes": ["sms"],
        },
    }


def send_due(delivery: Delivery) -> list[dict[str, Any]]:
    """Claim what is due now and run the send step on each; returns the payloads."""
    claimed = delivery.intake.schedule.claim(delivery.clock())
    delivery.intake.schedule.ack(claimed)
    payloads = [json.loads(p) for p in claimed]
    for payload in payloads:
        assert delivery.step(payload) is SendOutcome.SENT
    return payloads


def accept(delivery: Delivery, kind: str, version: int, **options: Any) -> None:
    now = delivery.clock()
    options.setdefault("start", START)
    delivery.intake.accept(event(kind, version=version, at=now, **options), now)


def send_due_after(delivery: Delivery, kind: str, version: int, options: dict[str, Any],
                   **more: Any) -> list[dict[str, Any]]:
    """Accept a ``kind`` event, then send what is due."""
    accept(delivery, kind, version, **{**options, **more})
    return send_due(delivery)


@pytest.mark.parametrize("lang", list(Lang))
def test_every_sms_kind_with_the_longest_names_leaves_within_the_budget(
    delivery: Delivery, lang: Lang
) -> None:
    assert delivery.settings.sms_segment_budget == BUDGET
    options = names(lang)
    sent: list[dict[str, Any]] = []
    sent += send_due_after(delivery, "booked", 1, options)
    sent += send_due_after(delivery, "modified", 2, options, start=START + dt.timedelta(hours=2))
    changed = {**options, "patient": {**options["patient"], "home_phone": "+15145550177"}}
    sent += send_due_after(delivery, "contact_changed", 3, changed,
                           start=START + dt.timedelta(hours=2))
    delivery.clock.set(local(2026, 11, 28, 11, 30))
    sent += send_due(delivery)
    sent += send_due_after(delivery, "cancelled", 4, changed,
                           start=START + dt.timedelta(hours=2))
    # A second appointment, missed: its no-show message a day later.
    second = {**options, "reference": "0000000002"}
    sent += send_due_after(delivery, "booked", 1, second)
    delivery.clock.set(local(2026, 12, 1, 11))
    sent += send_due_after(delivery, "attendance_changed", 2, second, attendance="absent")
    delivery.clock.advance(dt.timedelta(hours=25))
    sent += send_due(delivery)

    assert {PlannedMessage.from_dict(p).kind for p in sent} == set(Kind)
    bodies = [m.body for m in delivery.fake.messages]
    assert len(bodies) == len(sent)
    for body in bodies:
        assert body is not None
        encoding = sms_encoding(body)
        assert encoding.segments <= BUDGET, body
        assert encoding.encoding == "GSM-7"
        assert "2026-12-01" in body
    # Cut, not dropped: the start of the patient's name and of the clinic's are there.
    longest = longest_names(lang)
    assert all(longest.clinic[:10] in body for body in bodies if body)


@pytest.mark.parametrize(("lang", "first_name", "kept"), [
    (Lang.FR, "Jérôme", "Jérome"),
    (Lang.FR, "Ève-Hélène Côté-Bélanger", "Eve-Hélène Coté-Bélanger"),
    (Lang.EN, "Ève-Hélène Côté-Bélanger", "Eve-Hélène Coté-Bélanger"),
])
def test_a_name_with_letters_gsm7_lacks_leaves_in_gsm7_within_the_budget(
    delivery: Delivery, lang: Lang, first_name: str, kept: str
) -> None:
    (payload,) = send_due_after(delivery, "booked", 1, names(lang, first_name=first_name))

    assert PlannedMessage.from_dict(payload).kind == "confirmation"
    (message,) = delivery.fake.messages
    assert message.body is not None and kept in message.body
    assert sms_encoding(message.body).encoding == "GSM-7"
    assert sms_encoding(message.body).segments <= BUDGET


def test_an_sms_that_cannot_fit_is_held_back_over_budget_and_counted(
    delivery: Delivery,
) -> None:
    tight = delivery.settings.model_copy(update={"sms_segment_budget": 1})
    step = SendStep(delivery.client, tight,
                    channels=channel_clients(tight, clock=delivery.clock, redis=delivery.client),
                    opt_outs=OptOutStore(delivery.client, tight), clock=delivery.clock)
    (payload,) = delivery.book("sms")

    assert step(payload) is SendOutcome.SUPPRESSED

    assert delivery.fake.requests == []
    record = delivery.record(payload)
    assert record["status"] == "suppressed" and record["reason"] == "over_budget"
    history = History(delivery.client, keys=delivery.intake.keys,
                      retention=delivery.settings.event_retention)
    lines = history.read(PlannedMessage.from_dict(payload).reference)
    assert any(line.get("what") == "suppressed" and line.get("reason") == "over_budget"
               for line in lines)
    counts = delivery.client.hgetall(delivery.intake.keys.stats("2026112415"))
    assert {k.decode(): int(v) for k, v in counts.items()} == {
        "suppressed|sms|confirmation|fr|plateau|over_budget": 1,
    }
    assert "segments" in explain_failure("over_budget", "sms", Lang.EN)
    assert "segments" in explain_failure("over_budget", "sms", Lang.FR)
    # Handed over again (a redelivered message), it stays held back and sends nothing.
    assert step(payload) is SendOutcome.ALREADY_DONE
    assert delivery.fake.requests == []
