"""Integrators' tokens at POST /v1/events: the real app, the real store, a real Redis."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from notifier.settings import Settings
from notifier.store.integrators import IntegratorStore
from notifier.web import create_app
from notifier.web.examples import BOOKED
from tests.factories import Clock

API_TOKEN = "integration-test-token-0123456789"
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
PLATEAU, VERDUN = "clinique-plateau", "clinique-verdun"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(outbox: Path) -> Settings:
    return Settings(api_token=API_TOKEN, outbox_dir=outbox)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(redis_client: redis.Redis, settings: Settings) -> IntegratorStore:
    return IntegratorStore(redis_client, settings)


@pytest.fixture
def http(settings: Settings, redis_client: redis.Redis, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, redis=redis_client, clock=clock)) as client:
        yield client


@pytest.fixture
def token(store: IntegratorStore) -> str:
    _, made = store.add("agenda-plus", name="Agenda Plus", locations=frozenset({PLATEAU}),
                        actor="ana", now=NOW)
    return made.token


def event_at(location: str, number: int = 1) -> dict[str, Any]:
    event = copy.deepcopy(BOOKED)
    event["event_id"] = f"evt-{location}-{number}"
    event["appointment"]["reference"] = f"{len(location):02d}{number:08d}"
    event["appointment"]["location"]["id"] = location
    return event


def test_an_integrators_token_posts_for_its_location(http: TestClient, token: str) -> None:
    answer = http.post("/v1/events", json=event_at(PLATEAU), headers=bearer(token))

    assert answer.status_code == 202
    assert answer.json()["status"] == "accepted"


def test_another_location_is_refused_by_name_and_nothing_is_stored(
    http: TestClient, token: str, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = redis_client.dbsize()

    answer = http.post("/v1/events", json=event_at(VERDUN), headers=bearer(token))

    assert answer.status_code == 403
    assert answer.json() == {
        "error": "forbidden_location",
        "message": f"this token does not act for location {VERDUN}; ask the gateway's "
        "operators to add the location to your integrator",
    }
    assert redis_client.dbsize() == before
    patient = BOOKED["appointment"]["patient"]
    for private in (patient["first_name"], patient["mobile_phone"], "evt-", token):
        assert private not in answer.text
    assert token not in caplog.text
    assert patient["mobile_phone"] not in caplog.text


def test_the_deployments_token_still_acts_for_every_location(
    http: TestClient, token: str,
) -> None:
    for number, location in enumerate((PLATEAU, VERDUN, "clinique-laval")):
        answer = http.post("/v1/events", json=event_at(location, number),
                           headers=bearer(API_TOKEN))
        assert answer.status_code == 202, location


def test_the_old_token_works_during_the_overlap_and_not_after(
    http: TestClient, token: str, store: IntegratorStore, clock: Clock,
) -> None:
    new = store.rotate_token("agenda-plus", overlap=dt.timedelta(hours=24), actor="ana",
                             now=NOW).token

    clock.advance(dt.timedelta(hours=23, minutes=59))
    assert http.post("/v1/events", json=event_at(PLATEAU, 1),
                     headers=bearer(token)).status_code == 202
    clock.advance(dt.timedelta(minutes=1))
    late = http.post("/v1/events", json=event_at(PLATEAU, 2), headers=bearer(token))
    assert (late.status_code, late.json()["error"]) == (401, "unauthorized")
    assert http.post("/v1/events", json=event_at(PLATEAU, 2),
                     headers=bearer(new)).status_code == 202


def test_new_locations_apply_at_the_next_request(
    http: TestClient, token: str, store: IntegratorStore,
) -> None:
    store.set_locations("agenda-plus", frozenset({VERDUN}), actor="ana", now=NOW)

    assert http.post("/v1/events", json=event_at(PLATEAU),
                     headers=bearer(token)).status_code == 403
    assert http.post("/v1/events", json=event_at(VERDUN),
                     headers=bearer(token)).status_code == 202


def test_a_removed_integrators_token_is_refused(
    http: TestClient, token: str, store: IntegratorStore,
) -> None:
    store.remove("agenda-plus", actor="ana", now=NOW)

    answer = http.post("/v1/events", json=event_at(PLATEAU), headers=bearer(token))

    assert answer.status_code == 401


@pytest.mark.parametrize("wrong", ["ntk_agenda-plus_not-a-token-at-all-0000000000",
                                   "ntk_", "ntk_" + "x" * 500])
def test_a_made_up_integrator_token_is_refused(http: TestClient, token: str,
                                               wrong: str) -> None:
    answer = http.post("/v1/events", json=event_at(PLATEAU), headers=bearer(wrong))

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_the_location_is_checked_after_the_contract(http: TestClient, token: str) -> None:
    refused_for_json = http.post("/v1/events", content=b"{not json", headers=bearer(token))
    invalid = event_at(VERDUN)
    invalid["version"] = 0
    refused_for_contract = http.post("/v1/events", json=invalid, headers=bearer(token))
    no_token = http.post("/v1/events", json=event_at(VERDUN))

    assert refused_for_json.status_code == 400
    assert refused_for_contract.status_code == 422
    assert no_token.status_code == 401


def test_the_schema_opens_to_an_integrators_token(http: TestClient, token: str) -> None:
    answer = http.get("/openapi.json", headers=bearer(token))

    assert answer.status_code == 200
    assert "403" in answer.json()["paths"]["/v1/events"]["post"]["responses"]
