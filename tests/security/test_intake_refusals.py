"""The intake API refuses what it must, in its own error shape, without a server error,
without storing anything, and without repeating a submitted value in its answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from notifier.web.intake import MAX_EVENT_BYTES
from tests.security.conftest import (
    API_TOKEN,
    AUTH,
    PATIENT,
    assert_no_patient_data,
    booked_event,
    redis_picture,
)

JSON = {"Content-Type": "application/json"}


def post(
    http: TestClient, body: bytes | Iterator[bytes], headers: dict[str, str]
) -> httpx.Response:
    answer: httpx.Response = http.post("/v1/events", content=body, headers=headers)
    return answer


def post_event(http: TestClient, event: dict[str, Any]) -> httpx.Response:
    """``event`` posted as an authorised JSON body."""
    return post(http, json.dumps(event).encode(), {**AUTH, **JSON})


def event_bytes(**patient: Any) -> bytes:
    return json.dumps(booked_event(**patient)).encode()


def assert_refused(
    answer: httpx.Response, status: int, error: str, client: redis.Redis
) -> None:
    """A refusal in the documented shape, that stored nothing and repeats nothing."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"error", "message", "problems"}
    assert client.dbsize() == 0
    assert_no_patient_data(answer.text)


def test_the_genuine_request_is_stored(http: TestClient, redis_client: redis.Redis) -> None:
    answer = post(http, event_bytes(), {**AUTH, **JSON})

    assert answer.status_code == 202
    assert redis_client.dbsize() > 0
    assert_no_patient_data(answer.text)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-the-token-at-all-000000"},
        {"Authorization": f"Bearer {API_TOKEN[:-1]}"},
        {"Authorization": f"Bearer {API_TOKEN}x"},
        {"Authorization": f"Bearer {API_TOKEN.upper()}"},
        {"Authorization": f"Bearer  {API_TOKEN} extra"},
        {"Authorization": f"Basic {API_TOKEN}"},
        {"Authorization": f"Token {API_TOKEN}"},
        {"Authorization": API_TOKEN},
        {"X-Api-Key": API_TOKEN},
        {"X-Auth-Token": API_TOKEN},
        {"Cookie": f"token={API_TOKEN}"},
        {"Proxy-Authorization": f"Bearer {API_TOKEN}"},
    ],
    ids=["none", "empty", "scheme-only", "scheme-space", "wrong", "prefix", "suffix",
         "upper", "trailing-words", "basic", "token-scheme", "bare", "x-api-key",
         "x-auth-token", "cookie", "proxy-authorization"],
)
def test_without_the_token_in_the_authorization_header_nothing_is_stored(
    http: TestClient, redis_client: redis.Redis, headers: dict[str, str]
) -> None:
    answer = post(http, event_bytes(), {**JSON, **headers})

    assert_refused(answer, 401, "unauthorized", redis_client)
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_the_token_in_the_query_string_is_not_accepted(
    http: TestClient, redis_client: redis.Redis
) -> None:
    answer = http.post("/v1/events", params={"token": API_TOKEN, "access_token": API_TOKEN},
                       content=event_bytes(), headers=JSON)

    assert_refused(answer, 401, "unauthorized", redis_client)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"x" * (MAX_EVENT_BYTES * 2), b"[" * 10_000],
    ids=["malformed", "oversized", "nested"],
)
def test_a_stranger_learns_nothing_about_the_body(
    http: TestClient, redis_client: redis.Redis, body: bytes
) -> None:
    # The token is checked first: no hint about size or JSON for someone without it.
    assert_refused(post(http, body, JSON), 401, "unauthorized", redis_client)


def test_an_oversized_body_is_refused(http: TestClient, redis_client: redis.Redis) -> None:
    event = booked_event()
    event["appointment"]["patient"]["first_name"] = "x" * MAX_EVENT_BYTES

    answer = post_event(http, event)

    assert_refused(answer, 413, "payload_too_large", redis_client)


def test_an_oversized_streamed_body_is_cut_off(
    http: TestClient, redis_client: redis.Redis
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"event_id": "'
        for _ in range(MAX_EVENT_BYTES // 1024 + 1):
            yield b"a" * 1024

    assert_refused(post(http, chunks(), {**AUTH, **JSON}), 413, "payload_too_large",
                   redis_client)


def test_a_declared_length_over_the_limit_is_refused_unread(
    http: TestClient, redis_client: redis.Redis
) -> None:
    answer = post(http, b"{}", {**AUTH, **JSON, "Content-Length": str(MAX_EVENT_BYTES + 1)})

    assert answer.status_code == 413
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"{not json",
        b"\xef\xbb\xbf" + event_bytes(),  # a byte-order mark
        event_bytes().replace(b"Quintal", b"Quin\xff\xfetal"),  # not UTF-8
        event_bytes().replace(b'"Quintal', b'"\\ud800Quintal'),  # a lone surrogate
        event_bytes().replace(b'"version": 1', b'"version": NaN'),
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b"\x00" * 100,
        event_bytes() + b"trailing",
    ],
    ids=["empty", "truncated", "garbage", "bom", "not-utf8", "lone-surrogate", "nan-literal",
         "deep-array", "deep-object", "nul-bytes", "trailing"],
)
def test_a_body_that_is_not_json_is_a_400(
    http: TestClient, redis_client: redis.Redis, body: bytes
) -> None:
    answer = post(http, body, {**AUTH, **JSON})

    assert answer.status_code in (400, 422), answer.text
    assert_refused(answer, answer.status_code, answer.json()["error"], redis_client)
    if answer.status_code == 400:
        assert answer.json()["error"] == "malformed_json"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/xml", "text/json", "application/jsonx", ""],
)
def test_a_body_declared_as_something_else_than_json_is_a_415(
    http: TestClient, redis_client: redis.Redis, content_type: str
) -> None:
    # Even with a perfectly good event inside.
    answer = post(http, event_bytes(), {**AUTH, "Content-Type": content_type})

    assert_refused(answer, 415, "unsupported_media_type", redis_client)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON",
     "application/vnd.booking+json"],
)
def test_json_media_types_are_read(
    http: TestClient, redis_client: redis.Redis, content_type: str
) -> None:
    assert post(http, event_bytes(), {**AUTH, "Content-Type": content_type}).status_code == 202


def _replace(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = event
    for part in parents:
        node = node[part]
    node[last] = value
    return event


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("appointment.patient.first_name", "Zéphyrine" * 100),
        ("appointment.patient.last_name", "Quintal-Ouellet" * 50),
        ("appointment.patient.first_name", ""),
        ("appointment.patient.email", "zephyrine.quintal@example"),
        ("appointment.patient.email", "zephyrine.quintal@example.org" + "x" * 300),
        ("appointment.patient.mobile_phone", "5145550177 ext. Zéphyrine"),
        ("appointment.patient.home_phone", "+1514555016"),
        ("appointment.patient.language", "Zéphyrine"),
        ("appointment.patient.modes", ["Quintal-Ouellet"]),
        ("appointment.reference", "5145550177"[:9]),
        ("appointment.professional_name", None),
        ("appointment.start", "Zéphyrine"),
        ("appointment.duration_minutes", "Quintal-Ouellet"),
        ("event_id", "Zéphyrine Quintal-Ouellet"),
        ("version", 0),
        ("type", "appointment.Zéphyrine"),
        ("appointment.location.name", "x" * 1000),
        ("appointment.location.custom_paragraphs",
         {"reminder": {"fr": "Zéphyrine Quintal-Ouellet " * 100}}),
    ],
)
def test_a_refused_field_is_named_but_its_value_is_never_repeated(
    http: TestClient, redis_client: redis.Redis, path: str, value: Any
) -> None:
    event = _replace(booked_event(), path, value)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    fields = [problem["field"] for problem in answer.json()["problems"]]
    assert any(field == path or field.startswith(path + ".") for field in fields), fields


def test_clinical_data_is_refused_without_being_repeated(
    http: TestClient, redis_client: redis.Redis
) -> None:
    event = booked_event()
    event["appointment"]["reason_for_visit"] = "Zéphyrine: douleur thoracique"

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert "thoracique" not in answer.text


@pytest.mark.parametrize(
    "name",
    ["Marie-Ève", "O’Neil", "O'Neil", "St-Jean", "Dre Côté", "J.-P. Lévesque",
     "Zo\u0065\u0301", "𝐙𝐨𝐞", "Nguyễn", "Ní Bhriain", "Łukasz", "王秀英", "ʻIolani"],
    ids=["marie-eve", "typographic-apostrophe", "apostrophe", "st-jean", "dre-cote",
         "initials", "combining", "math-bold", "vietnamese", "irish", "polish", "chinese",
         "okina"],
)
def test_real_names_are_accepted_as_typed(
    http: TestClient, redis_client: redis.Redis, name: str
) -> None:
    event = booked_event(first_name=name, last_name=name)
    event["appointment"]["professional_name"] = name

    answer = post_event(http, event)

    assert answer.status_code == 202, answer.text
    assert name not in answer.text


# What a name may not hold: each was stored and sent to the patient as typed.
NOT_A_NAME = {
    "phishing": "Votre dossier est bloqué. Appelez le 1 900 555-0123",
    "url": "https://evil.example/reset",
    "domain": "Visitez evil.example",
    "email": "support@evil.example",
    "rtl-override": "Zoé\u202eenilarg",
    "bidi-isolate": "Zoé\u2066x\u2069",
    "bidi-marks": "Zoé\u200f\u200e",
    "emoji": "👩🏽‍⚕️ Zoé",
    "script": "<script>alert(1)</script>",
    "jinja": "{{ 7*7 }}{% raw %}",
    "bom": "\ufeffZoé",
    "digits": "Zoé 2",
    "too-long": "Zoé" * 20,
    "no-letter": "-'. .",
}


@pytest.mark.parametrize("field", ["first_name", "last_name", "professional_name"])
@pytest.mark.parametrize("name", list(NOT_A_NAME.values()), ids=list(NOT_A_NAME))
def test_what_is_not_a_name_is_refused_by_field_without_repeating_it(
    http: TestClient, redis_client: redis.Redis, name: str, field: str
) -> None:
    event = booked_event()
    if field == "professional_name":
        event["appointment"][field] = name
        path = f"appointment.{field}"
    else:
        event["appointment"]["patient"][field] = name
        path = f"appointment.patient.{field}"

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert [problem["field"] for problem in answer.json()["problems"]] == [path]
    assert name not in answer.text and "evil" not in answer.text


@pytest.mark.parametrize(
    "name", ["Clinique Saint-Jean", "CLSC Côte-des-Neiges", "Dre Côté & associés",
             "Clinique médicale 2000 inc.", "Centre d’imagerie St. Laurent (2e étage)"],
)
def test_real_clinic_names_are_accepted(http: TestClient, name: str) -> None:
    event = booked_event()
    event["appointment"]["location"]["name"] = name

    assert post_event(http, event).status_code == 202


@pytest.mark.parametrize("where", ["name", "address.street", "address.city",
                                   "address.office", "address.number"])
@pytest.mark.parametrize(
    "text",
    ["Clinique https://evil.example", "www.evil.example", "Clinique evil.example",
     "Écrivez à aide@evil.example", "Clinique\u202e", "Clinique\u2066Saint\u2069",
     "Clinique\u200b"],
    ids=["url", "www", "domain", "email", "rtl-override", "bidi-isolate", "zero-width"],
)
def test_clinic_and_address_text_refuses_web_addresses_and_format_characters(
    http: TestClient, redis_client: redis.Redis, where: str, text: str
) -> None:
    event = booked_event()
    location = event["appointment"]["location"]
    _replace(location, where, text[:20] if where == "address.number" else text)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    fields = [problem["field"] for problem in answer.json()["problems"]]
    assert fields == [f"appointment.location.{where}"]
    assert "evil" not in answer.text


def test_control_characters_in_a_name_are_refused_without_repeating_it(
    http: TestClient, redis_client: redis.Redis
) -> None:
    name = "Zoé\x00\x1b[31m"  # NUL and a terminal escape: TwiML and SMS cannot carry them
    answer = post(http, event_bytes(first_name=name), {**AUTH, **JSON})

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert answer.json()["problems"] == [
        {"field": "appointment.patient.first_name",
         "message": "must not contain control characters or line breaks"}]


@pytest.mark.parametrize(
    # location.id is a slug, refused with its own words (see the slug test)
    "where", ["location.name", "location.address.street",
              "location.address.city", "location.address.office", "location.address.number",
              "professional_name", "patient.first_name", "patient.last_name"],
)
@pytest.mark.parametrize("breaking", ["\r\nBcc: x", "\nBcc: x", "\rx", "\tx", "\x85x",
                                      "\u2028x", "\x0bx"],
                         ids=["crlf", "lf", "cr", "tab", "nel", "line-separator", "vt"])
def test_a_line_break_or_control_in_header_reaching_text_is_refused(
    http: TestClient, redis_client: redis.Redis, where: str, breaking: str
) -> None:
    # The clinic's name is the email's display name (From, Reply-To), names reach subjects.
    event = booked_event()
    _replace(event["appointment"], where, "Clinique" + breaking)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert answer.json()["problems"] == [
        {"field": f"appointment.{where}",
         "message": "must not contain control characters or line breaks"}]


@pytest.mark.parametrize("where", ["patient.email", "location.email"])
@pytest.mark.parametrize(
    "address",
    ["x<attacker@evil.example>", "g:victim@example.org;", "Zoé <attacker@evil.example>",
     "a@evil.example, b@evil.example", "a@evil.example\r\nBcc: b@evil.example",
     "zoé@evil.example", "zoe@évil.example", "zoe@[127.0.0.1]", "zoe@evil",
     "\"zoe\"@evil.example>", "zoe@evil.example (Zoé)"],
    ids=["angle-brackets", "group", "display-name", "two-addresses", "crlf", "non-ascii-local",
         "non-ascii-domain", "address-literal", "no-dot", "trailing-bracket", "comment"],
)
def test_only_one_bare_ascii_email_address_is_accepted(
    http: TestClient, redis_client: redis.Redis, where: str, address: str
) -> None:
    event = booked_event()
    _replace(event["appointment"], where, address)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert [p["field"] for p in answer.json()["problems"]] == [f"appointment.{where}"]
    assert "evil" not in answer.text


@pytest.mark.parametrize("address", ["zoe.quintal+rdv@example.org", "o'neil@clinique.qc.ca",
                                     "delivered@example.invalid", "Zoe@Example.ORG"])
def test_ordinary_email_addresses_are_accepted(http: TestClient, address: str) -> None:
    event = booked_event(email=address)
    event["appointment"]["location"]["email"] = address

    assert post_event(http, event).status_code == 202


def test_a_refusal_stores_nothing_even_after_accepted_events(
    http: TestClient, redis_client: redis.Redis
) -> None:
    assert post(http, event_bytes(), {**AUTH, **JSON}).status_code == 202
    before = redis_picture(redis_client)
    stale = booked_event()
    stale["event_id"] = "another-event-id"
    stale["appointment"]["patient"]["mobile_phone"] = "not a phone"

    answers = [
        post_event(http, stale).status_code,
        post(http, event_bytes(), {**JSON}).status_code,
        post(http, event_bytes(), {**AUTH, "Content-Type": "text/plain"}).status_code,
        post(http, b"{", {**AUTH, **JSON}).status_code,
    ]

    assert answers == [422, 401, 415, 400]
    assert redis_picture(redis_client) == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused_in_the_same_shape(
    http: TestClient, redis_client: redis.Redis, method: str
) -> None:
    answer = http.request(method, "/v1/events", content=event_bytes(), headers={**AUTH, **JSON})

    assert_refused(answer, 405, "method_not_allowed", redis_client)


@pytest.mark.parametrize("where", ["appointment.patient", "appointment.location.custom_paragraphs"])
def test_a_submitted_key_is_not_repeated_either(
    http: TestClient, redis_client: redis.Redis, where: str
) -> None:
    event = _replace(booked_event(), f"{where}.{PATIENT.mobile_phone}", {"fr": "x"})

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)


def test_a_wrong_time_zone_is_not_repeated(http: TestClient, redis_client: redis.Redis) -> None:
    event = _replace(booked_event(), "appointment.location.time_zone", PATIENT.last_name)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("appointment.start", "0001-01-01T00:00:00"),
        ("appointment.start", "0001-01-01T00:00:00+05:00"),
        ("appointment.start", "9999-12-31T23:59:59"),
        ("appointment.start", "9999-12-31T23:59:59-05:00"),
        ("appointment.start", "2025-11-01T09:30:00"),  # over a year before the clock
        ("appointment.start", "2029-01-15T09:30:00"),  # over two years after it
        ("occurred_at", "0001-01-01T00:00:00+00:00"),
        ("occurred_at", "9999-12-31T23:59:59-05:00"),
        ("occurred_at", "2026-11-26T10:00:00-05:00"),  # two days ahead of the clock
        ("appointment.attendance_set_at", "0001-01-01T00:00:00+14:00"),
        ("appointment.attendance_set_at", "9999-12-31T23:59:59+00:00"),
    ],
)
def test_a_date_outside_the_window_around_now_is_refused(
    http: TestClient, redis_client: redis.Redis, path: str, value: str
) -> None:
    event = _replace(booked_event(), path, value)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert [problem["field"] for problem in answer.json()["problems"]] == [path]
    assert value[:4] not in answer.json()["problems"][0]["message"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("version", "7"),
        ("version", 7.0),
        ("version", True),
        ("appointment.duration_minutes", "15"),
        ("appointment.location.cancellation_notice_minutes", "1440"),
        ("appointment.patient.self_serve", "off"),
        ("appointment.patient.self_serve", 0),
        ("appointment.hide_professional_name", "false"),
        ("appointment.location.no_show_message", "yes"),
        ("appointment.start", 1_800_000_000),
        ("occurred_at", 1_795_000_000.5),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(
    http: TestClient, redis_client: redis.Redis, path: str, value: Any
) -> None:
    event = _replace(booked_event(), path, value)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert [problem["field"] for problem in answer.json()["problems"]] == [path]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event_bytes().replace(b'"version": 1', b'"version": 1, "version": 9'), "version"),
        (event_bytes().replace(b'"first_name": ', b'"first_name": "Zora", "first_name": '),
         "appointment.patient.first_name"),
        (event_bytes().replace(b'"fr": ', b'"fr": "Zora", "fr": ', 1),
         "appointment.location.custom_paragraphs.confirmation.fr"),
        (event_bytes().replace(b'"confirmation": {', b'"confirmation": {}, "confirmation": {'),
         "appointment.location.custom_paragraphs.confirmation"),
    ],
    ids=["top", "patient", "deep", "object"],
)
def test_a_key_sent_twice_is_refused_and_named_without_its_values(
    http: TestClient, redis_client: redis.Redis, body: bytes, field: str
) -> None:
    answer = post(http, body, {**AUTH, **JSON})

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert [problem["field"] for problem in answer.json()["problems"]] == [field]
    assert "Zora" not in answer.text


def test_a_duplicate_key_that_is_not_a_field_name_is_not_repeated(
    http: TestClient, redis_client: redis.Redis
) -> None:
    secret = PATIENT.mobile_phone
    body = event_bytes().replace(b'"appointment": {', f'"appointment": {{"{secret}": 1, '
                                 f'"{secret}": 2, '.encode())

    answer = post(http, body, {**AUTH, **JSON})

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert answer.json()["problems"] == [{
        "field": "appointment.(a key you sent)",
        "message": "is sent more than once in its object; send it once",
    }]


@pytest.mark.parametrize(
    "location_id",
    ["*", "plateau\r\nX-Injected: 1", "plateau\n", "<b>plateau</b>", "Plateau", "-plateau",
     "plateau:admin", "plateau;x", "clinique plateau", "é", "p" * 65, ""],
)
def test_a_location_id_must_be_a_slug(
    http: TestClient, redis_client: redis.Redis, location_id: str
) -> None:
    event = _replace(booked_event(), "appointment.location.id", location_id)

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert [problem["field"] for problem in answer.json()["problems"]] == [
        "appointment.location.id"]


@pytest.mark.parametrize("location_id", ["plateau", "clinique-plateau", "site_2", "0", "a" * 64])
def test_a_slug_location_id_is_accepted(
    http: TestClient, redis_client: redis.Redis, location_id: str
) -> None:
    event = _replace(booked_event(), "appointment.location.id", location_id)

    assert post_event(http, event).status_code == 202


@pytest.mark.parametrize("version", [2**31, 2**53])
def test_a_version_beyond_a_32_bit_counter_is_refused(
    http: TestClient, redis_client: redis.Redis, version: int
) -> None:
    # Else one event with a huge version would pin the appointment: every later real
    # event would be ignored as stale.
    event = booked_event()
    event["version"] = version

    answer = post_event(http, event)

    assert_refused(answer, 422, "invalid_event", redis_client)
    assert answer.json()["problems"][0]["field"] == "version"


def test_a_version_jump_that_would_freeze_the_appointment_is_refused(
    http: TestClient, redis_client: redis.Redis
) -> None:
    assert post(http, event_bytes(), {**AUTH, **JSON}).status_code == 202
    before = redis_picture(redis_client)
    jump = booked_event()
    jump.update(event_id="a-stray-event", type="appointment.modified", version=1_000_002)

    answer = post_event(http, jump)
    within = {**jump, "event_id": "a-real-event", "version": 1_000_001}

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid_event"
    assert [p["field"] for p in answer.json()["problems"]] == ["version"]
    assert redis_picture(redis_client) == before
    assert post_event(http, within).status_code == 202
