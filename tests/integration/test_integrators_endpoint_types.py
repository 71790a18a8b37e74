"""Changing the event types an endpoint receives, in place: an endpoint made before the
patient response events existed receives them once they are added (from the next event
on), every change is audited, and a request that cannot be done changes nothing.
Against a real Redis, through the store, the callbacks' fan-out and ``notifier
integrators endpoint types``."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from notifier.callbacks.dispatch import CallbackDispatch
from notifier.cli import main
from notifier.clock import utc_now
from notifier.integrators.model import (
    EVENT_TYPES,
    MESSAGE_EVENTS,
    REPLY_EVENTS,
    RESPONSE_EVENTS,
    Endpoint,
)
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.settings import Settings
from notifier.store.callback_deliveries import delivery_parts
from notifier.store.callback_log import CallbackLog
from notifier.store.decoding import text
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from notifier.web import create_app
from tests.integration.conftest import Gateway
from tests.integration.test_inbound_webhook import TwilioSender
from tests.integration.test_patient_responses import PatientTexts, book, gateway_options

__all__ = ["gateway_options"]  # fixture

# What an endpoint made before patient responses could subscribe to.
OLDER_TYPES = frozenset({*MESSAGE_EVENTS, "contact.opted_out", "contact.opted_in"})
ANSWER_TYPES = frozenset({*RESPONSE_EVENTS, *REPLY_EVENTS})
URL = "https://agenda.example/hooks"


def older_endpoint(store: IntegratorStore) -> Endpoint:
    """An integrator acting for the sample location, with an endpoint of the older types."""
    store.add("agenda-plus", name="Agenda Plus", locations=frozenset({SAMPLE_LOCATION.id}),
              actor="ana", now=utc_now())
    endpoint, _ = store.add_endpoint("agenda-plus", url=URL, types=OLDER_TYPES, actor="ana",
                                     now=utc_now())
    return endpoint


@pytest.fixture
def texts(gateway: Gateway) -> Iterator[TwilioSender]:
    app = create_app(gateway.settings, redis=gateway.client, clock=gateway.clock)
    with TestClient(app) as http:
        yield PatientTexts(http)


def scheduled(gateway: Gateway, endpoint: Endpoint) -> list[str]:
    """The types of the events fanned out to ``endpoint`` so far, in the log's order."""
    keys = Keys(gateway.settings.queue_prefix)
    CallbackDispatch(gateway.client, keys=keys,
                     endpoints=IntegratorStore(gateway.client, gateway.settings),
                     clock=gateway.clock, concurrency=4).fan_out()
    events = {f"evt_{entry.id}": entry.fields["type"]
              for entry in CallbackLog(gateway.client, keys=keys).read(after=None, count=1000)}
    due = [delivery_parts(text(d)) for d in gateway.client.zrange(keys.callbacks_due, 0, -1)]
    mine = [event_id for endpoint_id, event_id in due if endpoint_id == endpoint.id]
    return [events[event_id] for event_id in sorted(mine, key=list(events).index)]


def test_an_older_endpoint_receives_the_answers_once_their_types_are_added(
    gateway: Gateway, texts: TwilioSender,
) -> None:
    store = IntegratorStore(gateway.client, gateway.settings)
    endpoint = older_endpoint(store)
    book(gateway)
    texts.reply("1")
    # The confirmation's (the outbox delivers at once), not the answer's.
    assert scheduled(gateway, endpoint) == ["message.delivered"]

    changed, before = store.change_endpoint_types(endpoint.id, add=ANSWER_TYPES, actor="bo",
                                                  now=utc_now())
    texts.reply("2")
    texts.reply("je serai en retard")

    assert before == OLDER_TYPES and changed.types == OLDER_TYPES | ANSWER_TYPES
    found = store.get_endpoint(endpoint.id)
    assert found is not None and found.types == OLDER_TYPES | ANSWER_TYPES
    # From the change on: the "1" told before it is not sent, the "2" after it is.
    assert scheduled(gateway, endpoint) == ["message.delivered", "appointment.patient_declined",
                                            "reply.unmatched"]
    entry = store.audit(1)[0]
    assert (entry.action, entry.actor, entry.integrator, entry.endpoint) == (
        "endpoint_types", "bo", "agenda-plus", endpoint.id)
    assert entry.details == {"from": [t for t in EVENT_TYPES if t in OLDER_TYPES],
                             "to": [t for t in EVENT_TYPES if t in changed.types]}


def test_types_are_removed_the_others_kept_and_a_change_to_nothing_is_not_audited(
    gateway: Gateway,
) -> None:
    store = IntegratorStore(gateway.client, gateway.settings)
    endpoint = older_endpoint(store)

    changed, _ = store.change_endpoint_types(
        endpoint.id, add=frozenset({"contact.undeliverable"}),
        remove=frozenset({"message.sent", "message.suppressed"}), actor="ana", now=utc_now())
    assert changed.types == (OLDER_TYPES | {"contact.undeliverable"}) - {
        "message.sent", "message.suppressed"}
    audited = len(store.audit())
    # Already so: nothing written, nothing audited.
    same, before = store.change_endpoint_types(endpoint.id, remove=frozenset({"message.sent"}),
                                               actor="ana", now=utc_now())
    assert same.types == before == changed.types
    assert len(store.audit()) == audited
    assert [e.id for e in store.endpoints_for(SAMPLE_LOCATION.id, "contact.undeliverable")] == [
        endpoint.id]
    assert store.endpoints_for(SAMPLE_LOCATION.id, "message.sent") == []


# The command ------------------------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)


@pytest.fixture
def cli_store(environment: None, redis_client: redis.Redis) -> IntegratorStore:
    return IntegratorStore(redis_client, Settings())


def test_the_command_adds_and_removes_types_and_says_what_changed(
    cli_store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = older_endpoint(cli_store)

    assert main(["integrators", "endpoint", "types", endpoint.id,
                 "--add-type", "appointment.patient_confirmed",
                 "--add-type", "appointment.patient_declined", "--add-type", "reply.unmatched",
                 "--remove-type", "message.sent"]) == 0

    out = capsys.readouterr().out
    wanted = (OLDER_TYPES | ANSWER_TYPES) - {"message.sent"}
    found = cli_store.get_endpoint(endpoint.id)
    assert found is not None and found.types == wanted
    assert f"endpoint {endpoint.id} of agenda-plus now receives " in out
    assert re.search(r"added: appointment\.patient_confirmed, appointment\.patient_declined, "
                     r"reply\.unmatched\n", out), out
    assert "removed: message.sent\n" in out
    entry = cli_store.audit(1)[0]
    assert (entry.action, entry.actor) == ("endpoint_types", getpass.getuser())

    assert main(["integrators", "endpoint", "types", endpoint.id,
                 "--add-type", "reply.unmatched"]) == 0
    assert "already receives" in capsys.readouterr().out
    assert cli_store.audit(1)[0].id == entry.id


@pytest.mark.parametrize(("options", "says"), [
    ([], "say which event types to add (--add-type) or remove (--remove-type)"),
    (["--add-type", "message.read"], "unknown event type 'message.read': choose among"),
    (["--remove-type", "appointment.confirmed"], "unknown event type 'appointment.confirmed'"),
    (["--add-type", "reply.unmatched", "--remove-type", "reply.unmatched"],
     "event type 'reply.unmatched' is both added and removed"),
    ([part for t in sorted(OLDER_TYPES) for part in ("--remove-type", t)],
     "would receive no event type: remove it"),
])
def test_a_change_that_cannot_be_done_is_one_line_exit_2_and_changes_nothing(
    cli_store: IntegratorStore, capsys: pytest.CaptureFixture[str], options: list[str],
    says: str,
) -> None:
    endpoint = older_endpoint(cli_store)
    audited = len(cli_store.audit())

    assert main(["integrators", "endpoint", "types", endpoint.id, *options]) == 2

    out, err = capsys.readouterr()
    assert says in err and err.startswith("notifier: ") and err.endswith("; nothing changed\n")
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert cli_store.get_endpoint(endpoint.id) == endpoint
    assert len(cli_store.audit()) == audited


@pytest.mark.parametrize(("endpoint", "says"), [
    ("ep_nothing", "no endpoint 'ep_nothing' (see 'notifier integrators endpoint list"),
    ("agenda", "endpoint ids start with ep_"),
])
def test_an_unknown_or_invalid_endpoint_is_refused(
    cli_store: IntegratorStore, capsys: pytest.CaptureFixture[str], endpoint: str, says: str,
) -> None:
    assert main(["integrators", "endpoint", "types", endpoint,
                 "--add-type", "reply.unmatched"]) == 2
    assert says in capsys.readouterr().err
    assert cli_store.audit() == []

