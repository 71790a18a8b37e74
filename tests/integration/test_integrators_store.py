"""Integrators, their tokens and endpoints in a real Redis, with the clock passed in."""

from __future__ import annotations

import datetime as dt

import pytest
import redis

from notifier.integrators.checks import IntegratorProblem
from notifier.integrators.credentials import Credential, token_digest
from notifier.integrators.model import EVENT_TYPES, EndpointState
from notifier.settings import Settings
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys

T0 = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
PLATEAU, VERDUN = "clinique-plateau", "clinique-verdun"
URL = "https://agenda.example/hooks"


@pytest.fixture
def store(redis_client: redis.Redis) -> IntegratorStore:
    return IntegratorStore(redis_client, Settings(), clock=lambda: T0)


def added(store: IntegratorStore, integrator: str = "agenda-plus",
          *locations: str) -> str:
    _, made = store.add(integrator, name="Agenda Plus",
                        locations=frozenset(locations or (PLATEAU,)), actor="ana", now=T0)
    return made.token


def test_a_new_integrator_is_kept_and_its_token_acts_for_its_locations(
    store: IntegratorStore, redis_client: redis.Redis,
) -> None:
    token = added(store, "agenda-plus", PLATEAU, VERDUN)

    integrator = store.require("agenda-plus")
    assert (integrator.name, integrator.locations, integrator.created_at) == (
        "Agenda Plus", {PLATEAU, VERDUN}, T0)
    assert store.authenticate(token, now=T0) == Credential(
        "agenda-plus", frozenset({PLATEAU, VERDUN}))
    assert store.authenticate(token + "x", now=T0) is None
    assert [i.id for i in store.all()] == ["agenda-plus"]
    # Only its digest is stored: the token appears in no key and no value.
    for key in redis_client.keys("*"):
        assert token.encode() not in key
        dump = redis_client.dump(key) or b""
        assert token.encode() not in dump
    assert redis_client.exists(Keys().integrator_token(token_digest(token)))


def test_an_id_is_taken_once(store: IntegratorStore) -> None:
    added(store)

    with pytest.raises(IntegratorProblem, match="'agenda-plus' already exists"):
        added(store)
    assert len(store.audit()) == 1


def test_unknown_integrators_and_endpoints_are_named(store: IntegratorStore) -> None:
    with pytest.raises(IntegratorProblem, match="no integrator 'nobody'"):
        store.rotate_token("nobody", overlap=DAY, actor="ana", now=T0)
    with pytest.raises(IntegratorProblem, match="no integrator 'nobody'"):
        store.add_endpoint("nobody", url=URL, types=frozenset(EVENT_TYPES), actor="ana",
                           now=T0)
    with pytest.raises(IntegratorProblem, match="no endpoint 'ep_nothing'"):
        store.set_endpoint_state("ep_nothing", EndpointState.DISABLED, reason="x", now=T0)
    assert store.audit() == []


def test_a_rotated_token_works_until_its_overlap_ends(store: IntegratorStore) -> None:
    old = added(store)

    made = store.rotate_token("agenda-plus", overlap=DAY, actor="ana", now=T0)

    assert made.previous_until == T0 + DAY
    assert store.authenticate(made.token, now=T0) is not None
    assert store.authenticate(old, now=T0 + DAY - dt.timedelta(seconds=1)) is not None
    assert store.authenticate(old, now=T0 + DAY) is None
    assert store.authenticate(made.token, now=T0 + 30 * DAY) is not None
    assert store.token_state("agenda-plus", now=T0).previous_until == T0 + DAY
    assert store.token_state("agenda-plus", now=T0 + DAY).previous_until is None


def test_a_second_rotation_ends_the_first_overlap_and_zero_means_at_once(
    store: IntegratorStore,
) -> None:
    first = added(store)
    second = store.rotate_token("agenda-plus", overlap=DAY, actor="ana", now=T0).token

    third = store.rotate_token("agenda-plus", overlap=DAY, actor="ana", now=T0).token
    assert store.authenticate(first, now=T0) is None
    assert store.authenticate(second, now=T0) is not None

    store.rotate_token("agenda-plus", overlap=dt.timedelta(0), actor="ana", now=T0)
    assert store.authenticate(second, now=T0) is None
    assert store.authenticate(third, now=T0) is None


def test_new_locations_apply_to_both_tokens_at_once(store: IntegratorStore) -> None:
    old = added(store, "agenda-plus", PLATEAU)
    new = store.rotate_token("agenda-plus", overlap=DAY, actor="ana", now=T0).token

    store.set_locations("agenda-plus", frozenset({VERDUN}), actor="ana", now=T0)

    for token in (old, new):
        credential = store.authenticate(token, now=T0)
        assert credential is not None and credential.locations == {VERDUN}
    assert store.authenticate(old, now=T0 + DAY) is None  # still ends with its overlap


def test_endpoints_are_found_by_location_and_type(store: IntegratorStore) -> None:
    added(store, "agenda-plus", PLATEAU)
    added(store, "rdv-sante", PLATEAU, VERDUN)
    added(store, "elsewhere", "clinique-laval")
    failed_only, _ = store.add_endpoint("agenda-plus", url=URL,
                                        types=frozenset({"message.failed"}), actor="ana",
                                        now=T0)
    everything, secret = store.add_endpoint("rdv-sante", url=URL + "/2",
                                            types=frozenset(EVENT_TYPES), actor="ana", now=T0)
    store.add_endpoint("elsewhere", url=URL, types=frozenset(EVENT_TYPES), actor="ana", now=T0)

    assert {e.id for e in store.endpoints_for(PLATEAU, "message.failed")} == {
        failed_only.id, everything.id}
    assert [e.id for e in store.endpoints_for(PLATEAU, "message.sent")] == [everything.id]
    assert [e.id for e in store.endpoints_for(VERDUN, "message.failed")] == [everything.id]
    assert store.endpoints_for("clinique-nowhere", "message.failed") == []
    assert store.get_endpoint(everything.id) == everything
    assert everything.secrets == (secret,)

    store.set_endpoint_state(everything.id, EndpointState.DISABLED, reason="answered 410",
                             now=T0)
    assert store.endpoints_for(VERDUN, "message.failed") == []
    assert store.endpoint_state_reason(everything.id) == ("answered 410", T0)
    store.set_locations("rdv-sante", frozenset({VERDUN}), actor="ana", now=T0)
    assert [e.id for e in store.endpoints_for(PLATEAU, "message.failed")] == [failed_only.id]


def test_a_rotated_secret_is_listed_second_until_its_overlap_ends(
    store: IntegratorStore,
) -> None:
    added(store)
    endpoint, first = store.add_endpoint("agenda-plus", url=URL,
                                         types=frozenset(EVENT_TYPES), actor="ana", now=T0)

    rotated, second = store.rotate_secret(endpoint.id, overlap=DAY, actor="ana", now=T0)

    def secrets_at(now: dt.datetime) -> tuple[str, ...]:
        found = store.get_endpoint(endpoint.id, now=now)
        assert found is not None
        return found.secrets

    assert rotated.secrets == (second, first)
    assert secrets_at(T0 + DAY / 2) == (second, first)
    assert secrets_at(T0 + DAY) == (second,)
    _, third = store.rotate_secret(endpoint.id, overlap=dt.timedelta(0), actor="ana", now=T0)
    assert secrets_at(T0) == (third,)


def test_removing_an_integrator_removes_its_tokens_endpoints_and_index(
    store: IntegratorStore, redis_client: redis.Redis,
) -> None:
    old = added(store, "agenda-plus", PLATEAU)
    new = store.rotate_token("agenda-plus", overlap=DAY, actor="ana", now=T0).token
    endpoint, _ = store.add_endpoint("agenda-plus", url=URL, types=frozenset(EVENT_TYPES),
                                     actor="ana", now=T0)

    store.remove("agenda-plus", actor="ana", now=T0)

    assert store.get("agenda-plus") is None
    assert store.authenticate(old, now=T0) is None and store.authenticate(new, now=T0) is None
    assert store.get_endpoint(endpoint.id) is None
    assert store.endpoints_for(PLATEAU, "message.failed") == []
    assert {k.decode() for k in redis_client.keys("*")} == {Keys().integrators_audit}


def test_every_change_is_audited_without_tokens_or_secrets(
    store: IntegratorStore, redis_client: redis.Redis,
) -> None:
    tokens = [added(store, "agenda-plus", PLATEAU)]
    tokens.append(store.rotate_token("agenda-plus", overlap=DAY, actor="bo", now=T0).token)
    store.set_locations("agenda-plus", frozenset({VERDUN}), actor="ana", now=T0 + DAY)
    endpoint, secret = store.add_endpoint("agenda-plus", url=URL,
                                          types=frozenset({"message.failed"}), actor="ana",
                                          now=T0)
    secrets = [secret, store.rotate_secret(endpoint.id, overlap=DAY, actor="ana", now=T0)[1]]
    store.set_endpoint_state(endpoint.id, EndpointState.DISABLED, reason="answered 410",
                             now=T0)
    store.remove_endpoint(endpoint.id, actor="ana", now=T0)
    store.remove("agenda-plus", actor="ana", now=T0)

    entries = store.audit()
    assert [e.action for e in entries] == [
        "remove", "endpoint_remove", "endpoint_state", "rotate_secret", "endpoint_add",
        "set_locations", "rotate_token", "add"]
    add, rotate = entries[-1], entries[-2]
    assert (add.actor, add.at, add.integrator, add.details) == (
        "ana", T0, "agenda-plus", {"name": "Agenda Plus", "locations": [PLATEAU]})
    assert (rotate.actor, rotate.details) == ("bo", {"previous_until": (T0 + DAY).isoformat()})
    assert entries[2].actor == "gateway" and entries[2].endpoint == endpoint.id
    assert entries[2].details == {"from": "active", "to": "disabled", "reason": "answered 410"}
    assert entries[5].details == {"from": [PLATEAU], "to": [VERDUN]}
    assert [e.action for e in store.audit(2)] == ["remove", "endpoint_remove"]
    assert len(store.audit(integrator="agenda-plus")) == 8
    assert store.audit(integrator="other") == []
    raw = repr(redis_client.xrange(Keys().integrators_audit))
    for credential in (*tokens, *secrets):
        assert credential not in raw
        assert token_digest(credential) not in raw
