"""Callbacks from the change to the receiver: the send step logs what happened, the
scheduler's pass fans it out to the endpoints that want it and hands it to the callbacks
queue, a real Dramatiq worker signs and posts it to a receiver on loopback that checks the
signature with the standardwebhooks package; failures wait on the gateway's own schedule,
under the tests' clock."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from notifier.callbacks.dispatch import CallbackDispatch
from notifier.integrators.model import EndpointState
from notifier.names import CALLBACK_QUEUE
from notifier.planning.entries import PlannedMessage
from notifier.sending import SendOutcome
from notifier.store.callback_deliveries import CallbackDeliveries
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from tests.factories import event, local
from tests.fakes.webhook_receiver import FakeReceiver
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)
TYPES = frozenset({"message.sent", "message.delivered", "message.failed",
                   "message.suppressed", "contact.opted_out"})


@dataclass
class Callbacks:
    gateway: Gateway
    store: IntegratorStore
    receiver: FakeReceiver
    dispatch: CallbackDispatch
    deliveries: CallbackDeliveries

    def book_and_send(self, reference: str = "0000000001") -> dict[str, str]:
        """Book an SMS-only appointment at the sample location and send its confirmation."""
        intake = Intake(self.gateway.client, self.gateway.settings)
        now = self.gateway.clock()
        intake.accept(event("booked", start=START, at=now, modes=("sms",),
                            reference=reference), now)
        (payload,) = intake.schedule.claim(now)
        intake.schedule.ack([payload])
        message = json.loads(payload)
        assert self.gateway.send_step()(message) is SendOutcome.SENT
        return message

    def pass_and_drain(self) -> None:
        """One scheduler pass of the callbacks, then a worker until the queue is empty."""
        self.dispatch.run_once()
        self.gateway.drain(CALLBACK_QUEUE)

    def due_at(self) -> list[float]:
        keys = Keys(self.gateway.settings.queue_prefix)
        return [score for _, score in
                self.gateway.client.zrange(keys.callbacks_due, 0, -1, withscores=True)]


# Between the ninth attempt (51.6 h after the first, at most 56.7 h with its jitter) and
# the tenth (75.6 h, at least 68 h): the endpoint is suspended at the tenth, whatever the
# jitter drew.
SUSPEND_AFTER = dt.timedelta(hours=60)


@pytest.fixture
def gateway_options() -> dict[str, object]:
    # The receiver listens on loopback.
    return {"callbacks_allow_private": True, "callback_suspend_after": SUSPEND_AFTER}


@pytest.fixture
def callbacks(gateway: Gateway) -> Iterator[Callbacks]:
    settings = gateway.settings
    keys = Keys(settings.queue_prefix)
    store = IntegratorStore(gateway.client, settings, clock=gateway.clock)
    secrets: list[str] = []
    endpoints = []
    for integrator, location in (("clinic-booking", "plateau"), ("elsewhere", "verdun")):
        store.add(integrator, name=integrator, locations=frozenset({location}), actor="tests",
                  now=gateway.clock())
        endpoint, secret = store.add_endpoint(integrator, url="http://placeholder.invalid/",
                                              types=TYPES, actor="tests", now=gateway.clock())
        endpoints.append(endpoint)
        secrets.append(secret)
    with FakeReceiver(secrets=secrets) as receiver:
        # The receiver's port is known only now.
        for endpoint, path in zip(endpoints, ("/scripted", "/ok"), strict=True):
            gateway.client.hset(keys.endpoint(endpoint.id), "url", receiver.url(path))
        yield Callbacks(gateway, store, receiver,
                        CallbackDispatch(gateway.client, keys=keys, endpoints=store,
                                         clock=gateway.clock,
                                         concurrency=settings.callback_concurrency),
                        CallbackDeliveries(gateway.client, keys=keys))


def test_a_delivered_message_reaches_its_integrators_endpoint_signed_and_no_other(
    callbacks: Callbacks,
) -> None:
    message = callbacks.book_and_send()

    callbacks.pass_and_drain()

    (got,) = callbacks.receiver.received
    assert got.verified and got.path == "/scripted" and got.status == 200
    body = json.loads(got.body)
    assert got.headers["webhook-id"] == body["id"]
    assert body["type"] == "message.delivered"
    assert body["data"]["message_id"] == PlannedMessage.from_dict(message).key
    assert (body["data"]["location_id"], body["data"]["status"]) == ("plateau", "delivered")
    for private in ("Émilie", "Tremblay", "5145550188", "example.org"):
        assert private not in got.body.decode()
    assert callbacks.due_at() == []


def test_500_500_200_makes_three_attempts_with_one_webhook_id_on_the_schedule(
    callbacks: Callbacks,
) -> None:
    callbacks.receiver.script([500, 500])
    callbacks.book_and_send()
    clock = callbacks.gateway.clock

    callbacks.pass_and_drain()
    (first_due,) = callbacks.due_at()
    assert 4.5 <= first_due - clock().timestamp() <= 5.5  # 5 s, within its jitter
    callbacks.pass_and_drain()  # not due yet: nothing goes
    assert len(callbacks.receiver.received) == 1

    clock.advance(dt.timedelta(seconds=6))
    callbacks.pass_and_drain()
    (second_due,) = callbacks.due_at()
    assert 270 <= second_due - clock().timestamp() <= 330  # 5 min, within its jitter

    clock.advance(dt.timedelta(minutes=6))
    callbacks.pass_and_drain()

    attempts = callbacks.receiver.received
    assert [a.status for a in attempts] == [500, 500, 200]
    assert len({a.headers["webhook-id"] for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1 and all(a.verified for a in attempts)
    assert callbacks.due_at() == []
    health = callbacks.deliveries.health(callbacks.store.endpoints("clinic-booking")[0].id)
    assert (health.delivered, health.failed, health.failing_since, health.busy) == (
        1, 2, None, 0)


def test_429_waits_at_least_what_retry_after_asks(callbacks: Callbacks) -> None:
    callbacks.receiver.script([429])
    callbacks.book_and_send()

    callbacks.pass_and_drain()

    (due,) = callbacks.due_at()
    assert due - callbacks.gateway.clock().timestamp() >= 120
    callbacks.gateway.clock.advance(dt.timedelta(seconds=121))
    callbacks.pass_and_drain()
    assert [a.status for a in callbacks.receiver.received] == [429, 200]


def test_410_disables_the_endpoint_and_nothing_more_goes_to_it(callbacks: Callbacks) -> None:
    callbacks.receiver.script([410])
    callbacks.book_and_send("0000000001")

    callbacks.pass_and_drain()
    callbacks.book_and_send("0000000002")
    callbacks.pass_and_drain()

    (endpoint,) = callbacks.store.endpoints("clinic-booking")
    assert endpoint.state is EndpointState.DISABLED
    assert [a.status for a in callbacks.receiver.received] == [410]
    assert callbacks.due_at() == []


def test_a_receiver_that_keeps_failing_is_given_up_after_about_three_days_then_recovered(
    callbacks: Callbacks,
) -> None:
    callbacks.receiver.script([500] * 10)
    callbacks.book_and_send()
    clock = callbacks.gateway.clock
    started = clock()

    for _ in range(10):
        callbacks.pass_and_drain()
        for due in callbacks.due_at():
            clock.set(dt.datetime.fromtimestamp(due + 1, dt.UTC))

    assert [a.status for a in callbacks.receiver.received] == [500] * 10
    assert callbacks.due_at() == []
    # About three days: 75.6 h, give or take the tenth each wait may take.
    assert dt.timedelta(hours=68) <= clock() - started <= dt.timedelta(hours=84)
    (dead,) = callbacks.deliveries.dead(since=started)
    (endpoint,) = callbacks.store.endpoints("clinic-booking")
    assert endpoint.state is EndpointState.SUSPENDED  # failing longer than it may

    callbacks.store.set_endpoint_state(endpoint.id, EndpointState.ACTIVE, reason="fixed",
                                       now=clock(), actor="tests")
    assert callbacks.deliveries.recover([dead], due=clock()) == 1
    callbacks.pass_and_drain()
    assert [a.status for a in callbacks.receiver.received][-1] == 200
    assert len({a.headers["webhook-id"] for a in callbacks.receiver.received}) == 1


def test_an_endpoint_with_every_place_in_flight_taken_is_not_handed_its_next_callback(
    callbacks: Callbacks,
) -> None:
    (endpoint,) = callbacks.store.endpoints("clinic-booking")
    most = callbacks.gateway.settings.callback_concurrency
    now = callbacks.gateway.clock()
    places = [callbacks.deliveries.take_place(endpoint.id, f"held-{n}", most=most, now=now,
                                              for_at_most=dt.timedelta(minutes=1))
              for n in range(most + 1)]
    assert places == [True] * most + [False]
    callbacks.book_and_send()

    callbacks.pass_and_drain()

    # Left due, looked at again a little later; no worker saw it, no try was counted.
    assert callbacks.receiver.received == []
    (due,) = callbacks.due_at()
    assert due - callbacks.gateway.clock().timestamp() == pytest.approx(5, abs=0.01)
    (delivery,) = callbacks.gateway.client.zrange(
        Keys(callbacks.gateway.settings.queue_prefix).callbacks_due, 0, -1)
    assert callbacks.deliveries.tries(delivery.decode()) == 0
    # The places held lapse, as those of a worker killed mid-attempt do.
    callbacks.gateway.clock.advance(dt.timedelta(minutes=2))
    callbacks.pass_and_drain()
    assert [a.status for a in callbacks.receiver.received] == [200]
    assert callbacks.deliveries.health(endpoint.id).busy == 0
