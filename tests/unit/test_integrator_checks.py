"""What an operator may give for an integrator or an endpoint, and the credentials made
for them: checked without Redis."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from notifier.integrators import checks
from notifier.integrators.checks import IntegratorProblem
from notifier.integrators.credentials import (
    EVERY_LOCATION,
    Credential,
    looks_like_token,
    new_endpoint_id,
    new_secret,
    new_token,
    token_digest,
)
from notifier.integrators.model import EVENT_TYPES


@pytest.mark.parametrize("good", ["agenda-plus", "a", "x1", "0-booking", "a" * 40])
def test_integrator_ids_accepted(good: str) -> None:
    assert checks.integrator_id(good) == good


@pytest.mark.parametrize("bad", ["", "Agenda", "-agenda", "agenda_plus", "a" * 41, "a b",
                                 "agenda:plus", "é"])
def test_integrator_ids_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(IntegratorProblem, match="1 to 40 lowercase letters"):
        checks.integrator_id(bad)


def test_a_name_is_one_line_of_1_to_100_characters() -> None:
    assert checks.integrator_name("  Agenda Plus ") == "Agenda Plus"
    for bad in ("", "   ", "a" * 101, "two\nlines"):
        with pytest.raises(IntegratorProblem, match="1 to 100 characters on one line"):
            checks.integrator_name(bad)


def test_locations_are_location_ids_and_at_least_one() -> None:
    assert checks.location_ids(["b", "a", "b"]) == frozenset({"a", "b"})
    with pytest.raises(IntegratorProblem, match="at least one location"):
        checks.location_ids([])
    with pytest.raises(IntegratorProblem, match="invalid location id 'Clinique Plateau'"):
        checks.location_ids(["ok", "Clinique Plateau"])


@pytest.mark.parametrize("good", [
    "https://agenda.example/hooks", "https://agenda.example:8443/h?x=1",
    "HTTPS://agenda.example/", "https://[2001:db8::1]/hooks",
])
def test_https_urls_accepted(good: str) -> None:
    assert checks.endpoint_url(good) == good


@pytest.mark.parametrize(("bad", "says"), [
    ("http://agenda.example/hooks", "must start with https://"),
    ("ftp://agenda.example/", "must start with https://"),
    ("agenda.example/hooks", "must start with https://"),
    ("/hooks", "must start with https://"),
    ("https:///hooks", "has no host"),
    ("https://user:pw@agenda.example/", "user name or password"),
    ("https://user@agenda.example/", "user name or password"),
    ("https://agenda.example/h#part", "#fragment"),
    ("https://agenda.example:99999/", "cannot be read"),
    ("https://agenda.example:0/", "port must be"),
    ("https://agenda.example/a b", "spaces or control"),
    ("https://agenda.example/\n", "spaces or control"),
    ("https://agenda.example/" + "a" * 2000, "longer than 2000"),
])
def test_other_urls_refused_without_repeating_them(bad: str, says: str) -> None:
    with pytest.raises(IntegratorProblem, match=says) as refused:
        checks.endpoint_url(bad)
    assert "agenda.example" not in str(refused.value)
    assert "pw" not in str(refused.value)


def test_event_types_are_the_known_ones_all_by_default() -> None:
    assert checks.event_types([]) == frozenset(EVENT_TYPES)
    assert checks.event_types(["message.failed"]) == {"message.failed"}
    with pytest.raises(IntegratorProblem, match=r"unknown event type 'message\.read'"):
        checks.event_types(["message.failed", "message.read"])


def test_endpoint_ids() -> None:
    made = new_endpoint_id()
    assert checks.endpoint_id(made) == made
    with pytest.raises(IntegratorProblem, match="start with ep_"):
        checks.endpoint_id("agenda-plus")


def test_an_overlap_is_from_none_to_30_days() -> None:
    assert checks.overlap(dt.timedelta(0)) == dt.timedelta(0)
    assert checks.overlap(dt.timedelta(days=30)) == dt.timedelta(days=30)
    for bad in (dt.timedelta(seconds=-1), dt.timedelta(days=30, seconds=1)):
        with pytest.raises(IntegratorProblem, match="from 0s to 30d"):
            checks.overlap(bad)


def test_a_token_names_its_integrator_and_is_kept_as_its_sha256() -> None:
    token, other = new_token("agenda-plus"), new_token("agenda-plus")

    assert token.startswith("ntk_agenda-plus_") and token != other
    assert len(token) - len("ntk_agenda-plus_") >= 43  # 256 random bits, base64url
    assert looks_like_token(token)
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert not looks_like_token("integration-test-token-0123456789")


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    secret, other = new_secret(), new_secret()

    assert secret.startswith("whsec_") and secret != other
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_a_credential_acts_for_its_locations_and_the_deployments_for_all() -> None:
    mine = Credential("agenda-plus", frozenset({"clinique-plateau"}))

    assert mine.may_act_for("clinique-plateau")
    assert not mine.may_act_for("clinique-verdun")
    assert EVERY_LOCATION.may_act_for("clinique-verdun")


def test_http_is_accepted_only_where_private_receivers_are_allowed() -> None:
    assert checks.endpoint_url("http://10.0.0.7:8080/hooks", allow_http=True) == (
        "http://10.0.0.7:8080/hooks")
    with pytest.raises(IntegratorProblem, match="must start with https://"):
        checks.endpoint_url("ftp://10.0.0.7/hooks", allow_http=True)
