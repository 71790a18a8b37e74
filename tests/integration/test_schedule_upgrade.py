"""What a gateway stored before values were packed is still claimed, handed off and sent,
once, by the gateway after: entries, claims, appointment states, event answers and the
``send_message`` messages already queued. Through the real scheduler, hand-off script and
Dramatiq worker."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import dramatiq

from notifier.domain import Channel
from notifier.intake_answer import IntakeAnswer
from notifier.names import SEND_ACTOR, SEND_QUEUE
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.scheduler import Scheduler
from notifier.store.deliveries import DeliveryLog
from notifier.store.handoff import SendHandoff
from notifier.store.intake import Intake
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(dt.UTC).isoformat()


def state_as_before(state: AppointmentState) -> str:
    """The state as ``AppointmentState.to_json`` wrote it before states were packed."""
    return json.dumps(
        {
            "appointment": state.appointment.model_dump(mode="json"),
            "version": state.version,
            "cancel_closes_at": _iso(state.cancel_closes_at),
            "attendance_set_at": _iso(state.attendance_set_at),
            "planned": dict(state.planned),
        },
        ensure_ascii=False,
    )


def entry_as_before(message: PlannedMessage) -> str:
    """A pending or claimed entry as ``PlannedMessage.to_json`` wrote it before."""
    return json.dumps(message.to_dict())


def answer_as_before(answer: IntakeAnswer) -> str:
    return json.dumps({"status_code": answer.status_code, "body": answer.body,
                       "fingerprint": answer.fingerprint})


def store_as_before(intake: Intake, reference: str, event_id: str) -> None:
    """Rewrite what the gateway holds for one appointment and its event in the forms the
    gateway before packed values wrote, expiry times kept."""
    client, keys = intake.redis, intake.keys
    state = intake.load(reference)
    assert state is not None
    client.set(keys.appointment(reference), state_as_before(state), keepttl=True)
    for message in intake.schedule.pending(reference):
        client.hset(keys.pending(reference), message.slot, entry_as_before(message))
    raw_answer = client.get(keys.event(event_id))
    assert raw_answer is not None
    client.set(keys.event(event_id), answer_as_before(IntakeAnswer.from_json(raw_answer)),
               keepttl=True)
    for i, line in enumerate(intake.history.read(reference)):
        client.lset(keys.history(reference), i, json.dumps(line, ensure_ascii=False))
    held = client.hvals(keys.pending(reference))
    assert held and all(v.startswith(b'{"reference": "') for v in held)
    assert (client.get(keys.appointment(reference)) or b"").startswith(b'{"appointment": ')


def sent(gateway: Gateway, intake: Intake) -> Counter[tuple[str, str]]:
    """(kind, channel) of each message in the outbox, each checked delivered by one attempt
    (the outbox keeps one file per send key: a second attempt would only count there)."""
    log = DeliveryLog(gateway.client, keys=intake.keys,
                      retention=gateway.settings.delivery_retention)
    found: Counter[tuple[str, str]] = Counter()
    for path in gateway.outbox_files():
        head = path.read_text().split("\n\n")[0]
        headers = dict(line.split(": ", 1) for line in head.splitlines())
        record = log.get(headers["Key"])
        assert (record["status"], record["attempts"]) == ("delivered", "1"), headers["Key"]
        found[headers["Kind"], headers["Channel"]] += 1
    return found


def test_entries_stored_before_are_claimed_handed_off_and_sent_once(gateway: Gateway) -> None:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("booked", start=START, at=now, modes=("email", "sms"),
                        event_id="b-1"), now)
    store_as_before(intake, "0000000001", "b-1")
    scheduler = Scheduler(gateway.client, gateway.settings, clock=gateway.clock)

    assert scheduler.run_once() == 2  # the confirmations
    gateway.drain()
    gateway.clock.set(local(2026, 11, 30, 10))  # both reminders are due
    assert scheduler.run_once() == 4
    gateway.drain()

    assert sent(gateway, intake) == {("confirmation", "email"): 1, ("confirmation", "sms"): 1,
                                   ("reminder", "email"): 2, ("reminder", "sms"): 2}
    assert intake.schedule.size() == intake.schedule.claimed_count() == 0


def test_an_event_after_the_upgrade_replaces_entries_stored_before(gateway: Gateway) -> None:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    booked = event("booked", start=START, at=now, modes=("sms",), event_id="b-1")
    first = intake.accept(booked, now)
    store_as_before(intake, "0000000001", "b-1")

    again = intake.accept(booked, now)
    moved = intake.accept(event("modified", version=2, start=START + dt.timedelta(hours=2),
                                at=now, modes=("sms",)), now)

    assert (again.status_code, again.body) == (first.status_code, first.body)
    assert moved.body["status"] == "accepted"
    assert [p["kind"] for p in moved.body["planned"]] == ["reminder", "reminder"]
    # The confirmation, not yet sent, stays as it was stored; the reminders are replaced.
    held = {k.decode(): v for k, v in
            gateway.client.hgetall(intake.keys.pending("0000000001")).items()}
    assert held["0000000001:confirmation:sms"].startswith(b'{"reference": ')
    assert [v.startswith(b'{"v":2,') for k, v in sorted(held.items())] == [False, True, True]
    assert intake.schedule.size() == 3
    gateway.clock.set(local(2026, 11, 30, 12))
    assert Scheduler(gateway.client, gateway.settings, clock=gateway.clock).run_once() == 3
    gateway.drain()
    assert sent(gateway, intake) == {("confirmation", "sms"): 1, ("reminder", "sms"): 2}


def test_claims_and_queued_messages_from_before_are_sent_once(gateway: Gateway) -> None:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("booked", start=START, at=now, modes=("email", "sms"),
                        event_id="b-1"), now)
    store_as_before(intake, "0000000001", "b-1")
    # Before the upgrade, a scheduler claimed both confirmations (verbose entries are
    # claimed as they are) and handed the email one to Dramatiq, then stopped.
    claimed = intake.schedule.claim(now)
    by_channel = {PlannedMessage.from_json(p).channel: p for p in claimed}
    assert all(p.startswith('{"reference": ') for p in claimed)
    assert SendHandoff(gateway.client, keys=intake.keys).hand_off([by_channel[Channel.EMAIL]])
    queue = f"{gateway.broker.namespace}:{SEND_QUEUE}"
    (queued,) = gateway.client.hvals(f"{queue}.msgs")
    message = dramatiq.Message.decode(queued)
    assert (message.actor_name, message.args) == (
        SEND_ACTOR, (json.loads(by_channel[Channel.EMAIL]),))

    gateway.clock.advance(gateway.settings.scheduler_lease)
    assert Scheduler(gateway.client, gateway.settings, clock=gateway.clock).run_once() == 1
    gateway.drain()

    assert sent(gateway, intake) == {("confirmation", "email"): 1, ("confirmation", "sms"): 1}
    assert intake.schedule.claimed_count() == 0
