"""POST /v1/events through the real app, the real Intake and a real Redis."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from notifier.arrival import Arrival
from notifier.domain import Event, Status
from notifier.errors import SettingsError
from notifier.local_redis import free_port
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.web import create_app, intake
from notifier.web.examples import BOOKED, EVENT_EXAMPLES, MODIFIED
from notifier.web.plain_route import PlainRoute

TOKEN = "integration-test-token-0123456789"
NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLE_FILE = Path(__file__).parents[2] / "config" / "example-event.json"


@pytest.fixture
def settings(outbox: Path) -> Settings:
    return Settings(api_token=TOKEN, outbox_dir=outbox)


@pytest.fixture
def http(settings: Settings, redis_client: redis.Redis) -> Iterator[TestClient]:
    app = create_app(settings, redis=redis_client, clock=lambda: NOW)
    with TestClient(app) as client:
        yield client


def booked(**patient: Any) -> dict[str, Any]:
    event = copy.deepcopy(BOOKED)
    event["appointment"]["patient"].update(patient)
    return event


def test_a_new_event_is_accepted_and_stored(http: TestClient, redis_client: redis.Redis) -> None:
    answer = http.post("/v1/events", json=BOOKED, headers=AUTH)

    assert answer.status_code == 202
    assert answer.json()["status"] == "accepted"
    assert answer.json()["event_id"] == BOOKED["event_id"]
    assert redis_client.dbsize() > 0


def test_the_same_event_again_gets_the_same_answer(http: TestClient) -> None:
    first = http.post("/v1/events", json=BOOKED, headers=AUTH)
    again = http.post("/v1/events", json=BOOKED, headers=AUTH)

    assert (again.status_code, again.json()) == (first.status_code, first.json())


def test_an_older_version_is_ignored(http: TestClient) -> None:
    assert http.post("/v1/events", json=MODIFIED, headers=AUTH).status_code == 202

    answer = http.post("/v1/events", json=BOOKED, headers=AUTH)

    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"
    assert answer.json()["reason"] == "stale_version"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-token-at-all-0000"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
    ids=["missing", "wrong", "not-bearer", "longer"],
)
def test_without_the_right_token_nothing_is_stored(
    http: TestClient, redis_client: redis.Redis, headers: dict[str, str]
) -> None:
    answer = http.post("/v1/events", json=BOOKED, headers=headers)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["error"] == "unauthorized"
    assert "Bearer" in answer.json()["message"]
    assert redis_client.dbsize() == 0


def test_the_token_is_checked_before_the_body(http: TestClient) -> None:
    answer = http.post("/v1/events", content=b"{not json", headers={})

    assert answer.status_code == 401


def test_a_bad_phone_number_is_refused_by_field_without_repeating_it(
    http: TestClient, redis_client: redis.Redis
) -> None:
    answer = http.post("/v1/events", json=booked(mobile_phone="514 555 01"), headers=AUTH)

    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid_event"
    assert {
        "field": "appointment.patient.mobile_phone",
        "message": "must be a phone number in international form, for example +15145550123",
    } in body["problems"]
    assert "514 555 01" not in answer.text
    assert "Camille" not in answer.text
    assert redis_client.dbsize() == 0


def test_every_problem_is_listed_with_its_path(http: TestClient) -> None:
    event = booked(email="not-an-email", modes=["sms", "fax"])
    event["version"] = 0

    answer = http.post("/v1/events", json=event, headers=AUTH)

    fields = {problem["field"] for problem in answer.json()["problems"]}
    assert {"version", "appointment.patient.email"} <= fields
    assert any(field.startswith("appointment.patient.modes") for field in fields)
    assert "not-an-email" not in answer.text


def test_a_reason_for_visit_is_refused_with_its_sentence(
    http: TestClient, redis_client: redis.Redis
) -> None:
    event = copy.deepcopy(BOOKED)
    event["appointment"]["reason_for_visit"] = "Douleur thoracique"

    answer = http.post("/v1/events", json=event, headers=AUTH)

    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert problem["field"] == "appointment"
    assert "reason_for_visit: clinical data is never accepted by the gateway" in problem["message"]
    assert "Douleur" not in answer.text
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize("body", [b"{not json", b'{"event_id": '], ids=["garbage", "truncated"])
def test_malformed_json_gets_a_clear_400(
    http: TestClient, redis_client: redis.Redis, body: bytes
) -> None:
    answer = http.post("/v1/events", content=body, headers=AUTH)

    assert answer.status_code == 400
    assert answer.json()["error"] == "malformed_json"
    assert "line 1 column" in answer.json()["message"]
    assert redis_client.dbsize() == 0


def test_a_body_over_64_kib_is_refused(http: TestClient, redis_client: redis.Redis) -> None:
    event = copy.deepcopy(BOOKED)
    event["padding"] = "x" * (64 * 1024)

    answer = http.post("/v1/events", content=json.dumps(event).encode(), headers=AUTH)

    assert answer.status_code == 413
    assert answer.json()["error"] == "payload_too_large"
    assert redis_client.dbsize() == 0


def test_a_body_over_64_kib_without_a_length_is_refused(
    http: TestClient, redis_client: redis.Redis
) -> None:
    chunks = (b" " * 8192 for _ in range(9))  # streamed: no Content-Length header

    answer = http.post("/v1/events", content=chunks, headers=AUTH)

    assert answer.status_code == 413
    assert redis_client.dbsize() == 0


def test_a_body_just_under_the_limit_is_read(http: TestClient) -> None:
    body = json.dumps(BOOKED).encode()
    padded = body + b" " * (64 * 1024 - len(body))

    assert http.post("/v1/events", content=padded, headers=AUTH).status_code == 202


def test_health_needs_no_token(http: TestClient) -> None:
    answer = http.get("/healthz")

    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_an_unknown_path_answers_in_the_same_shape(http: TestClient) -> None:
    answer = http.get("/v1/nothing-here")

    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "message": "Not Found"}


def test_the_openapi_schema_documents_the_contract(http: TestClient) -> None:
    assert http.get("/openapi.json").status_code == 401  # for integrators, with the token
    schema = http.get("/openapi.json", headers=AUTH).json()

    assert schema["info"]["title"] == "Patient notifier"
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    operation = schema["paths"]["/v1/events"]["post"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert {"200", "202", "400", "401", "409", "413", "422", "503"} <= set(operation["responses"])
    content = operation["requestBody"]["content"]["application/json"]
    assert content["schema"] == {"$ref": "#/components/schemas/Event"}
    assert content["examples"]["booked"]["value"] == json.loads(EXAMPLE_FILE.read_text())
    assert "appointment" in schema["components"]["schemas"]["Event"]["properties"]
    assert "Patient" in schema["components"]["schemas"]


def test_every_published_example_is_a_valid_event() -> None:
    for name, example in EVENT_EXAMPLES.items():
        assert Event.model_validate(example["value"], context=Arrival(NOW)), name


def test_the_example_file_is_the_booked_example() -> None:
    assert json.loads(EXAMPLE_FILE.read_text()) == BOOKED


@pytest.mark.parametrize("token", [None, "", "short", f" {TOKEN} "])
def test_the_web_process_refuses_to_start_without_a_usable_token(
    token: str | None, redis_client: redis.Redis
) -> None:
    settings = Settings(api_token=token)

    with pytest.raises(SettingsError, match="NOTIFIER_API_TOKEN"):
        create_app(settings, redis=redis_client)


def test_without_redis_the_event_is_refused_for_a_retry(settings: Settings) -> None:
    # Nothing listens on that port; no retries, so that the test does not wait for them.
    unreachable = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    app = create_app(settings, redis=unreachable, clock=lambda: NOW)

    with TestClient(app) as client:
        answer = client.post("/v1/events", json=BOOKED, headers=AUTH)

    assert answer.status_code == 503
    assert answer.json()["error"] == "unavailable"
    assert answer.headers["Retry-After"] == "5"


def test_logs_name_the_event_but_never_the_patient(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    patient = BOOKED["appointment"]["patient"]

    http.post("/v1/events", json=BOOKED, headers=AUTH)
    http.post("/v1/events", json=booked(mobile_phone="+1 514 555 01"), headers=AUTH)
    http.post("/v1/events", json=BOOKED, headers={})

    assert BOOKED["event_id"] in caplog.text
    assert "appointment.patient.mobile_phone" in caplog.text
    for private in (
        "+1 514 555 01",
        patient["mobile_phone"],
        patient["home_phone"],
        patient["email"],
        patient["first_name"],
        patient["last_name"],
    ):
        assert private not in caplog.text


def test_an_event_id_reused_for_another_event_is_refused_and_changes_nothing(
    http: TestClient, redis_client: redis.Redis, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = http.post("/v1/events", json=BOOKED, headers=AUTH)
    reused = copy.deepcopy(MODIFIED)
    reused.update(event_id=BOOKED["event_id"], type="appointment.cancelled")
    reused["appointment"]["status"] = "cancelled"
    caplog.set_level(logging.INFO)

    answer = http.post("/v1/events", json=reused, headers=AUTH)

    assert answer.status_code == 409
    assert answer.json() == {
        "error": "event_id_reused",
        "message": "this event_id was already used for a different event; give every "
                   "event its own event_id",
    }
    state = Intake(redis_client, settings).load(BOOKED["appointment"]["reference"])
    assert state is not None
    assert (state.version, state.appointment.status) == (1, Status.BOOKED)
    assert f"event {BOOKED['event_id']}" in caplog.text
    again = http.post("/v1/events", json=BOOKED, headers=AUTH)
    assert (again.status_code, again.json()) == (first.status_code, first.json())


def test_a_true_repeat_in_another_layout_gets_the_same_answer(http: TestClient) -> None:
    first = http.post("/v1/events", json=BOOKED, headers=AUTH)
    # Same event: keys in another order, other spacing, the default values spelt out.
    repeat = copy.deepcopy(BOOKED)
    repeat["appointment"]["patient"]["self_serve"] = True
    body = json.dumps(dict(reversed(list(repeat.items()))), indent=4)

    again = http.post("/v1/events", content=body,
                      headers={**AUTH, "Content-Type": "application/json"})

    assert (again.status_code, again.json()) == (first.status_code, first.json())


# Each body breaks every check from the one named onwards: the answer is the first one's.
_OVERSIZED_NOT_JSON = b"{" + b"x" * (64 * 1024)


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Content-Type": "text/plain"}, _OVERSIZED_NOT_JSON, 401),
        ({**AUTH, "Content-Type": "text/plain"}, _OVERSIZED_NOT_JSON, 415),
        ({**AUTH, "Content-Type": "application/json"}, _OVERSIZED_NOT_JSON, 413),
        ({**AUTH, "Content-Type": "application/json"}, b'{"event_id": "a", "event_id"', 400),
        ({**AUTH, "Content-Type": "application/json"}, b'{"event_id": "a", "event_id": "b"}',
         422),
    ],
    ids=["token", "media-type", "size", "json", "contract"],
)
def test_the_checks_answer_in_their_order(
    http: TestClient, redis_client: redis.Redis, headers: dict[str, str], body: bytes,
    status: int,
) -> None:
    answer = http.post("/v1/events", content=body, headers=headers)

    assert answer.status_code == status, answer.text
    assert redis_client.dbsize() == 0


def test_the_intake_route_is_documented_as_fastapi_documents_its_declaration(
    http: TestClient,
) -> None:
    # The route runs its endpoint without FastAPI's machinery; its documentation must be
    # what FastAPI makes of the same declaration on an ordinary route.
    route = next(r for r in intake.router.routes
                 if isinstance(r, APIRoute) and r.path == "/v1/events")
    assert isinstance(route, PlainRoute)
    declared = {name: getattr(route, name) for name in (
        "methods", "status_code", "response_model", "responses", "dependencies", "tags",
        "summary", "description", "response_description", "openapi_extra", "name",
        "operation_id", "response_class", "deprecated", "include_in_schema", "callbacks",
    )}
    ordinary = APIRoute(route.path, route.endpoint, **declared)
    expected = get_openapi(title="t", version="0", routes=[ordinary])["paths"]["/v1/events"]

    served = http.get("/openapi.json", headers=AUTH).json()

    assert served["paths"]["/v1/events"] == expected
    assert expected["post"]["requestBody"]["content"]["application/json"]["examples"]
