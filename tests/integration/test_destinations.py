"""The destination policy: which numbers are texted and called, checked when an event
comes in (POST /v1/events, the Dramatiq door) and again when each message leaves."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from notifier.domain import Channel, Lang
from notifier.names import INTAKE_QUEUE
from notifier.operations.dead_letters import list_dead
from notifier.operations.failure_words import explain_failure
from notifier.sending import SendOutcome
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.web import create_app
from notifier.web.examples import BOOKED
from tests.factories import event, local
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.integration.conftest import Gateway
from tests.integration.test_delivery import Delivery, delivery, web_port
from tests.integration.test_intake_actor import send_with_client

__all__ = ["delivery", "fake_smtp", "fake_twilio", "web_port"]  # fixtures

TOKEN = "destination-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
PHONES = ("mobile_phone", "home_phone")

# Each was answered 202 and planned 3 texts and 3 calls.
REFUSED = {
    "+19005550123": "premium-rate",  # NANP premium rate
    "+19765550123": "not a phone number in service",  # 976 is no area code
    "+18005550123": "toll-free",
    "+15005550123": "non-geographic",  # NANP personal numbers
    "+18765550123": "region",  # Jamaica, a Caribbean NANP country
    "+12425550123": "not a phone number in service",  # the Bahamas, not in service
    "+17875550123": "region",  # Puerto Rico: a region of its own
    "+97912345678": "non-geographic",  # international premium rate
    "+881612345678": "satellite",
    "+447911123456": "region",
}


def app_for(outbox: Path, redis_client: redis.Redis, **regions: str) -> TestClient:
    """The intake API; ``allowed_phone_regions=...`` to change the policy."""
    settings = Settings(api_token=TOKEN, outbox_dir=outbox, **regions)
    return TestClient(create_app(settings, redis=redis_client, clock=lambda: NOW))


@pytest.fixture
def http(outbox: Path, redis_client: redis.Redis) -> Iterator[TestClient]:
    with app_for(outbox, redis_client) as client:
        yield client


def booked(**patient: Any) -> dict[str, Any]:
    data = copy.deepcopy(BOOKED)
    data["appointment"]["patient"].update(patient)
    # One event id per event: the gateway refuses an id reused for another event.
    data["event_id"] = "evt-" + "-".join(f"{k}-{v}" for k, v in sorted(patient.items())).replace(
        "+", "")[:90]
    return data


@pytest.mark.parametrize("field", PHONES)
@pytest.mark.parametrize("number", list(REFUSED))
def test_a_number_outside_the_policy_is_refused_by_field_without_repeating_it(
    http: TestClient, redis_client: redis.Redis, number: str, field: str
) -> None:
    answer = http.post("/v1/events", json=booked(**{field: number}), headers=AUTH)

    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["problems"]
    assert problem["field"] == f"appointment.patient.{field}"
    assert REFUSED[number] in problem["message"]
    assert number not in answer.text and number[2:] not in answer.text
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize(
    "number", ["+15145550123", "+14165550199", "+12025550123", "+15555550100"],
    ids=["montreal", "toronto", "washington", "test-recipient"],
)
def test_canadian_and_us_numbers_and_test_recipients_are_accepted(
    http: TestClient, number: str
) -> None:
    answer = http.post("/v1/events", json=booked(mobile_phone=number, home_phone=number),
                       headers=AUTH)

    assert answer.status_code == 202, answer.text


def test_an_operator_may_allow_a_caribbean_region_but_never_premium_rate(
    outbox: Path, redis_client: redis.Redis
) -> None:
    with app_for(outbox, redis_client, allowed_phone_regions="CA,US,JM") as http:
        jamaica = http.post("/v1/events", json=booked(mobile_phone="+18765550123"),
                            headers=AUTH)
        premium = http.post("/v1/events", json=booked(home_phone="+19005550123"),
                            headers=AUTH)

    assert jamaica.status_code == 202, jamaica.text
    assert premium.status_code == 422
    assert premium.json()["problems"][0]["field"] == "appointment.patient.home_phone"


def test_a_number_known_to_be_a_landline_is_refused_as_the_mobile_number(
    outbox: Path, redis_client: redis.Redis
) -> None:
    # libphonenumber tells French landlines from mobiles; North American numbers never.
    with app_for(outbox, redis_client, allowed_phone_regions="CA,US,FR") as http:
        as_mobile = http.post("/v1/events", json=booked(mobile_phone="+33142685300"),
                              headers=AUTH)
        as_home = http.post("/v1/events", json=booked(home_phone="+33142685300"), headers=AUTH)
        # The same appointment again, so a newer version of it.
        mobile = http.post("/v1/events", json={**booked(mobile_phone="+33612345678"),
                                               "version": 2}, headers=AUTH)

    assert as_mobile.status_code == 422
    assert as_mobile.json()["problems"] == [{
        "field": "appointment.patient.mobile_phone",
        "message": "is a landline number, which cannot receive texts: give a mobile number "
        "here, and a landline as home_phone",
    }]
    assert (as_home.status_code, mobile.status_code) == (202, 202)


def test_the_dramatiq_door_refuses_it_too(gateway: Gateway) -> None:
    data = event("booked", start=local(2026, 12, 1, 9, 30),
                 at=gateway.clock()).model_dump(mode="json")
    data["appointment"]["patient"]["mobile_phone"] = "+19005550123"
    # The client helper does not know the gateway's policy: the event passes send().
    send_with_client(gateway, data)
    gateway.drain(INTAKE_QUEUE)

    (letter,) = list_dead(gateway.client, gateway.settings, INTAKE_QUEUE)
    assert letter.retries == 0
    assert letter.reason.startswith("InvalidEvent: appointment.patient.mobile_phone:")
    assert "premium-rate" in letter.reason and "9005550123" not in letter.reason
    assert Intake(gateway.client, gateway.settings).load("0000000001") is None


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_a_number_accepted_before_the_policy_changed_is_suppressed_at_send(
    delivery: Delivery, channel: str
) -> None:
    # Accepted while Jamaica was allowed; the deployment (delivery.settings) allows CA, US.
    number = "+18765550123"
    (payload,) = delivery.book(channel, patient={"mobile_phone": number, "home_phone": number})

    outcome = delivery.step(payload)

    assert outcome is SendOutcome.SUPPRESSED
    record = delivery.record(payload)
    assert (record["status"], record["reason"]) == ("suppressed", "destination_not_allowed")
    assert delivery.fake.messages == [] and delivery.fake.calls == []


def test_the_reason_reads_in_both_languages() -> None:
    english = explain_failure("destination_not_allowed", Channel.SMS, Lang.EN)
    french = explain_failure("destination_not_allowed", Channel.SMS, Lang.FR)

    assert "premium-rate" in english and "surtaxé" in french
