"""``notifier integrators ...`` against the tests' own Redis."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re

import pytest
import redis

from notifier.cli import main
from notifier.clock import utc_now
from notifier.integrators.model import Endpoint, EndpointState
from notifier.settings import Settings
from notifier.store.callback_deliveries import CallbackDeliveries, Fate, delivery_name
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from tests.fakes.webhook_receiver import FakeReceiver

PLATEAU, VERDUN = "clinique-plateau", "clinique-verdun"
URL = "https://agenda.example/hooks"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)


@pytest.fixture
def store(redis_client: redis.Redis) -> IntegratorStore:
    return IntegratorStore(redis_client, Settings())


def printed(pattern: str, out: str) -> str:
    found = re.search(pattern, out)
    assert found is not None, out
    return found[1]


def add(capsys: pytest.CaptureFixture[str], *locations: str) -> str:
    arguments = [part for location in locations for part in ("--location", location)]
    assert main(["integrators", "add", "agenda-plus", "Agenda Plus", *arguments]) == 0
    return printed(r"its API token: (ntk_\S+)", capsys.readouterr().out)


def test_add_prints_the_token_once_and_records_the_operator(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    token = add(capsys, PLATEAU, VERDUN)

    credential = store.authenticate(token, now=utc_now())
    assert credential is not None and credential.locations == {PLATEAU, VERDUN}
    (entry,) = store.audit()
    assert (entry.action, entry.actor, entry.integrator) == ("add", getpass.getuser(),
                                                             "agenda-plus")
    for command in (["list"], ["list", "--json"], ["show", "agenda-plus"],
                    ["show", "agenda-plus", "--json"], ["audit"], ["audit", "--json"]):
        assert main(["integrators", *command]) == 0
        out = capsys.readouterr().out
        assert "agenda-plus" in out
        assert token not in out and token[-20:] not in out


def test_list_and_show_say_what_there_is(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["integrators", "list"]) == 0
    assert capsys.readouterr().out.strip() == "No integrators."
    add(capsys, PLATEAU)

    assert main(["integrators", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert main(["integrators", "show", "agenda-plus"]) == 0
    shown = capsys.readouterr().out

    assert (listed["id"], listed["name"], listed["locations"]) == (
        "agenda-plus", "Agenda Plus", [PLATEAU])
    assert f"locations: {PLATEAU}" in shown and "no callback endpoints" in shown


def test_rotate_token_keeps_the_old_one_for_the_overlap(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    old = add(capsys, PLATEAU)

    assert main(["integrators", "rotate-token", "agenda-plus", "--overlap", "2h"]) == 0
    out = capsys.readouterr().out
    new = printed(r"its new API token: (ntk_\S+)", out)

    now = utc_now()
    assert "the previous one works until" in out
    assert store.authenticate(new, now=now) is not None
    assert store.authenticate(old, now=now) is not None
    assert store.authenticate(old, now=now + dt.timedelta(hours=2, minutes=1)) is None
    assert main(["integrators", "show", "agenda-plus"]) == 0
    assert "previous token works until" in capsys.readouterr().out
    assert store.audit()[0].action == "rotate_token"


def test_set_locations_and_remove(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    token = add(capsys, PLATEAU)

    assert main(["integrators", "set-locations", "agenda-plus", "--location", VERDUN]) == 0
    assert f"now acts for {VERDUN}" in capsys.readouterr().out
    assert store.require("agenda-plus").locations == {VERDUN}
    assert main(["integrators", "remove", "agenda-plus"]) == 0
    assert store.get("agenda-plus") is None
    assert store.authenticate(token, now=utc_now()) is None
    assert [e.action for e in store.audit()] == ["remove", "set_locations", "add"]


def test_endpoint_flow(store: IntegratorStore, capsys: pytest.CaptureFixture[str]) -> None:
    add(capsys, PLATEAU)

    assert main(["integrators", "endpoint", "add", "agenda-plus", URL,
                 "--type", "message.failed", "--type", "message.delivered"]) == 0
    out = capsys.readouterr().out
    endpoint = printed(r"added endpoint (ep_\w+)", out)
    secret = printed(r"its signing secret: (whsec_\S+)", out)
    assert [e.secrets for e in store.endpoints_for(PLATEAU, "message.failed")] == [(secret,)]

    assert main(["integrators", "endpoint", "rotate-secret", endpoint]) == 0
    new_secret = printed(r"its new signing secret: (whsec_\S+)", capsys.readouterr().out)
    assert main(["integrators", "endpoint", "disable", endpoint, "--reason", "moving"]) == 0
    assert "is now disabled" in capsys.readouterr().out
    assert store.endpoints_for(PLATEAU, "message.failed") == []
    assert main(["integrators", "endpoint", "list", "agenda-plus", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert main(["integrators", "endpoint", "enable", endpoint]) == 0
    (found,) = store.endpoints_for(PLATEAU, "message.delivered")
    assert main(["integrators", "audit", "--integrator", "agenda-plus"]) == 0
    audit = capsys.readouterr().out
    assert main(["integrators", "endpoint", "remove", endpoint]) == 0

    assert {k: v for k, v in listed.items() if k not in ("health", "waiting", "dead")} == {
        "id": endpoint, "integrator": "agenda-plus", "url": URL,
        "types": ["message.delivered", "message.failed"], "state": "disabled",
        "signing_secrets": 2, "state_reason": "moving", "state_since": listed["state_since"]}
    assert (listed["waiting"], listed["dead"], listed["health"]["delivered"]) == (0, 0, 0)
    assert found.secrets == (new_secret, secret)
    assert "reason=moving" in audit and "endpoint_state" in audit
    for private in (secret, new_secret):
        assert private not in audit and private not in json.dumps(listed)
    assert store.get_endpoint(endpoint) is None


@pytest.mark.parametrize(("command", "says"), [
    (["show", "nobody"], "no integrator 'nobody' (see 'notifier integrators list')"),
    (["rotate-token", "nobody"], "no integrator 'nobody'"),
    (["add", "Agenda", "x", "--location", PLATEAU], "invalid integrator id 'Agenda'"),
    (["add", "agenda-plus", "x", "--location", "Plateau"], "invalid location id 'Plateau'"),
    (["add", "agenda-plus", " ", "--location", PLATEAU], "name must be 1 to 100"),
    (["add", "taken", "x", "--location", PLATEAU], "'taken' already exists"),
    (["rotate-token", "taken", "--overlap", "soon"], "the overlap 'soon' is not a duration"),
    (["rotate-token", "taken", "--overlap", "90d"], "the overlap must be from 0s to 30d"),
    (["endpoint", "add", "taken", "http://agenda.example/hooks"], "must start with https://"),
    (["endpoint", "add", "taken", URL, "--type", "message.read"], "unknown event type"),
    (["endpoint", "add", "nobody", URL], "no integrator 'nobody'"),
    (["endpoint", "disable", "ep_nothing"], "no endpoint 'ep_nothing'"),
    (["endpoint", "remove", "agenda"], "endpoint ids start with ep_"),
    (["endpoint", "show", "ep_nothing"], "no endpoint 'ep_nothing'"),
    (["endpoint", "test", "ep_nothing"], "no endpoint 'ep_nothing'"),
    (["recover", "--since", "soon"], "--since 'soon' is neither a time"),
    (["recover", "--since", "2999-01-01"], "--since '2999-01-01' is in the future"),
    (["recover", "--since", "1d", "--endpoint", "ep_nothing"], "no endpoint 'ep_nothing'"),
])
def test_refusals_are_one_line_and_exit_2(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str], command: list[str], says: str,
) -> None:
    assert main(["integrators", "add", "taken", "Taken", "--location", PLATEAU]) == 0
    capsys.readouterr()
    audited = len(store.audit())

    assert main(["integrators", *command]) == 2

    out, err = capsys.readouterr()
    assert says in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("notifier: ")
    assert out == ""
    assert len(store.audit()) == audited


# Callbacks: health, tests and recovery ---------------------------------------------------


@pytest.fixture
def deliveries(redis_client: redis.Redis) -> CallbackDeliveries:
    return CallbackDeliveries(redis_client, keys=Keys())


def endpoint_at(store: IntegratorStore, state: EndpointState = EndpointState.ACTIVE) -> Endpoint:
    """An endpoint of agenda-plus (added if need be) in ``state``."""
    now = utc_now()
    if store.get("agenda-plus") is None:
        store.add("agenda-plus", name="Agenda Plus", locations=frozenset({PLATEAU}),
                  actor="tests", now=now)
    endpoint, _ = store.add_endpoint("agenda-plus", url=URL,
                                     types=frozenset({"message.sent"}), actor="tests", now=now)
    if state is not EndpointState.ACTIVE:
        endpoint = store.set_endpoint_state(endpoint.id, state, reason="failed every attempt",
                                            now=now)
    return endpoint


def point(store: IntegratorStore, endpoint: Endpoint, url: str) -> None:
    """Send ``endpoint``'s callbacks to ``url``, a loopback one that the URL check refuses
    (the receiver's port is known only once it listens)."""
    store.redis.hset(Keys().endpoint(endpoint.id), "url", url)


def failed(deliveries: CallbackDeliveries, endpoint: str, event: str, fate: Fate, *,
           at: dt.datetime) -> str:
    """A callback to ``endpoint`` whose attempt at ``at`` failed and was retried or given up
    (as the deliver_callback actor records it)."""
    delivery = delivery_name(endpoint, event)
    deliveries.attempted(delivery, fate, now=at, answer="500",
                         due=at + dt.timedelta(hours=1) if fate is Fate.RETRY else None,
                         suspend_after=dt.timedelta(days=3))
    return delivery


def test_a_suspended_endpoint_that_accepts_the_test_event_is_active_again(
    store: IntegratorStore, deliveries: CallbackDeliveries, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NOTIFIER_CALLBACKS_ALLOW_PRIVATE", "true")
    endpoint = endpoint_at(store, EndpointState.SUSPENDED)
    with FakeReceiver(secrets=endpoint.secrets) as receiver:
        point(store, endpoint, receiver.url("/ok"))
        failed(deliveries, endpoint.id, "evt_1-0", Fate.RETRY,
               at=dt.datetime(2026, 3, 1, 8, 5, 30, tzinfo=dt.UTC))

        code = main(["integrators", "endpoint", "test", endpoint.id])

    out = capsys.readouterr().out
    assert code == 0
    (got,) = receiver.received
    body = json.loads(got.body)
    assert got.verified and got.headers["webhook-id"] == body["id"]
    assert (body["type"], body["data"]) == (
        "endpoint.test", {"endpoint_id": endpoint.id, "integrator_id": "agenda-plus"})
    assert store.get_endpoint(endpoint.id).state is EndpointState.ACTIVE  # type: ignore[union-attr]
    entry = store.audit()[0]
    assert (entry.action, entry.actor, entry.details["to"], entry.details["reason"]) == (
        "endpoint_state", getpass.getuser(), "active", "accepted a test event")
    health = deliveries.health(endpoint.id)
    assert (health.last_answer, health.failing_since, health.delivered) == ("200", None, 0)
    assert "answered 200" in out and "is active again" in out
    assert f"recover --since 2026-03-01T08:05Z --endpoint {endpoint.id}" in out


@pytest.mark.parametrize(("path", "private", "says"), [
    ("/error", True, "answered 500"),
    ("/moved", True, "a redirect, never followed"),
    ("/ok", False, "leads to a private, local or reserved address"),
])
def test_a_test_event_not_accepted_changes_no_state_and_exits_1(
    store: IntegratorStore, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], path: str, private: bool, says: str,
) -> None:
    if private:
        monkeypatch.setenv("NOTIFIER_CALLBACKS_ALLOW_PRIVATE", "true")
    endpoint = endpoint_at(store, EndpointState.SUSPENDED)
    with FakeReceiver(secrets=endpoint.secrets) as receiver:
        url = receiver.url(path)
        # Without private addresses allowed, an https URL on loopback is refused too.
        point(store, endpoint, url if private else url.replace("http:", "https:"))
        audited = len(store.audit())

        code = main(["integrators", "endpoint", "test", endpoint.id])

    out = capsys.readouterr().out
    assert code == 1
    assert says in out and "stays suspended" in out
    assert store.get_endpoint(endpoint.id).state is EndpointState.SUSPENDED  # type: ignore[union-attr]
    assert len(store.audit()) == audited
    assert len(receiver.received) == (1 if private else 0)


def test_endpoint_show_and_list_tell_its_health_and_backlog(
    store: IntegratorStore, deliveries: CallbackDeliveries, capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = endpoint_at(store, EndpointState.SUSPENDED)
    now = utc_now()
    failed(deliveries, endpoint.id, "evt_1-0", Fate.RETRY, at=now)
    failed(deliveries, endpoint.id, "evt_2-0", Fate.DEAD, at=now)
    deliveries.attempted(delivery_name(endpoint.id, "evt_3-0"), Fate.DELIVERED, now=now,
                         answer="204", suspend_after=dt.timedelta(days=3))

    assert main(["integrators", "endpoint", "show", endpoint.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["integrators", "endpoint", "list", "agenda-plus"]) == 0
    listed = capsys.readouterr().out

    assert (shown["state"], shown["state_reason"], shown["waiting"], shown["dead"]) == (
        "suspended", "failed every attempt", 1, 1)
    assert {k: shown["health"][k] for k in ("delivered", "failed", "last_answer")} == {
        "delivered": 1, "failed": 2, "last_answer": "204"}
    assert shown["health"]["failing_since"] is None  # the delivery after the failures
    assert "health: 1 delivered, 2 failed; last answer 204" in listed
    assert "callbacks: 1 waiting, 1 given up" in listed
    assert f"'notifier integrators endpoint test {endpoint.id}'" in listed
    for secret in endpoint.secrets:
        assert secret not in listed and secret not in json.dumps(shown)


def test_recover_sends_again_to_active_endpoints_only_and_says_what_it_kept(
    store: IntegratorStore, deliveries: CallbackDeliveries, redis_client: redis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = utc_now()
    active = endpoint_at(store)
    suspended = endpoint_at(store, EndpointState.SUSPENDED)
    dead_keys = Keys().callbacks_dead
    recent = [failed(deliveries, active.id, f"evt_{n}-0", Fate.DEAD,
                     at=now - dt.timedelta(minutes=n)) for n in (1, 2)]
    old = failed(deliveries, active.id, "evt_9-0", Fate.DEAD, at=now - dt.timedelta(days=2))
    kept = failed(deliveries, suspended.id, "evt_3-0", Fate.DEAD, at=now)
    removed = failed(deliveries, "ep_removedlongago", "evt_4-0", Fate.DEAD, at=now)

    assert main(["integrators", "recover", "--since", "1h", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert redis_client.zcard(dead_keys) == 5
    assert main(["integrators", "recover", "--since", "1h"]) == 0
    done = capsys.readouterr().out

    assert f"{active.id}: 2 given-up callback(s) would be sent again" in dry
    assert "ep_removedlongago: 1 given-up callback(s) would be forgotten" in dry
    assert dry.strip().endswith("nothing changed (--dry-run)")
    assert f"{active.id}: 2 given-up callback(s) sent again" in done
    assert f"{suspended.id}: 1 given-up callback(s) kept: the endpoint is suspended" in done
    assert "ep_removedlongago: 1 given-up callback(s) forgotten" in done
    assert sorted(deliveries.dead(since=now - dt.timedelta(days=3))) == sorted([old, kept])
    due = {delivery for delivery in
           (m.decode() for m in redis_client.zrange(Keys().callbacks_due, 0, -1))}
    assert due == set(recent) and removed not in due
    assert all(deliveries.tries(delivery) == 0 for delivery in recent)
    entry = store.audit()[0]
    assert (entry.action, entry.endpoint, entry.details["count"]) == ("recover", active.id, 2)

    assert main(["integrators", "recover", "--since", "3d", "--endpoint", active.id]) == 0
    assert f"{active.id}: 1 given-up callback(s) sent again" in capsys.readouterr().out
    assert deliveries.dead(since=now - dt.timedelta(days=3)) == [kept]
