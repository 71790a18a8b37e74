"""The operating promises hold while processes die, Redis restarts and the providers
fail: nothing accepted is lost (an event, a scheduled reminder, an opt-out); no patient
gets the same message twice, nor one that is no longer true; no SMS goes to an opted-out
number; a provider outage shorter than a message's deadline delays it, never loses it; a
message refused for good gets exactly one fallback per channel, however the workers die
between the failure and its fallback.

One run (:func:`tests.faults.conftest.fault_run`) drives the real processes through a
stream of appointment stories and a plan of faults; each test below checks one promise
against the providers' ledgers. Read a failure's seed in the output to replay the run
(``NOTIFIER_FAULTS_SEED=<seed> pytest tests/faults -s``).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis

from notifier.backoff import MAX_DELAY
from notifier.delivery_status import IN_FLIGHT
from notifier.domain import Channel
from notifier.names import SEND_QUEUE
from notifier.planning.reasons import Reason
from notifier.store.keys import Keys
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, Outcome
from tests.faults.conftest import API_TOKEN, FaultRun, gateway_config
from tests.faults.injector import AMBIGUOUS_WINDOWS, DurableRedis
from tests.faults.ledger import Record, delivery_records
from tests.faults.workload import Numbers, Story, Timing, new_appointment
from tests.harness import Processes, wait_until

pytestmark = pytest.mark.slow

# A send began this long before Redis went down may still have been under way.
REDIS_BLAST_RADIUS = 30.0


def listed(problems: list[str], limit: int = 25) -> str:
    shown = "\n  ".join(problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)}:\n  {shown}{more}"


def test_the_faults_really_happened(fault_run: FaultRun) -> None:
    tally = fault_run.tally
    assert tally.worker_kills >= 6 and tally.scheduler_kills >= 3, tally.log
    assert tally.redis_restarts >= 1, tally.log
    # Each kind of Twilio window was met by real traffic, or it tested nothing.
    requests = fault_run.twilio_request_times
    met = {window.name for window in tally.windows
           if any(window.start <= at <= window.end for at in requests)}
    wanted = {name for _, _, name in AMBIGUOUS_WINDOWS} | {"twilio 429"}
    assert wanted <= met, f"Twilio windows no request met: {wanted - met}"
    assert fault_run.findings.by_channel.keys() == {"sms", "email", "voice"}


def unfinished(fault_run: FaultRun) -> list[Record]:
    """Delivery records in flight, or failed but for a number Twilio refuses for good."""
    refused = {(a.reference, str(a.refused)) for a in fault_run.appointments if a.refused}
    return [r for r in fault_run.records if r.status in IN_FLIGHT or (
        r.status == "failed" and not (r.reason == Reason.PROVIDER_PERMANENT
                                      and (r.reference, r.channel) in refused))]


def test_nothing_accepted_is_lost(fault_run: FaultRun) -> None:
    undone = [f"{r.key}: {r.status} {r.reason}".strip() for r in unfinished(fault_run)]
    assert not fault_run.findings.lost, (
        f"lost messages {listed(fault_run.findings.lost)}\ndelivery records failed or "
        f"left in flight {listed(undone)}"
    )
    assert fault_run.dead_letters == 0


def test_every_delivery_record_ends_final_unless_redis_died_under_its_send(
    fault_run: FaultRun,
) -> None:
    """A record left ``submitting`` by a Redis outage under its send is the bug shown by
    ``test_a_send_that_redis_dies_under_is_finished_once_redis_is_back``: counted and
    printed here, not failed twice; any other record not final fails."""
    outages = fault_run.tally.redis_outages
    undone = unfinished(fault_run)

    def under_an_outage(record: Record) -> bool:
        return any(o.start - REDIS_BLAST_RADIUS <= record.updated_at <= o.end for o in outages)

    by_redis = [f"{r.key}: {r.status}" for r in undone if under_an_outage(r)]
    other = [f"{r.key}: {r.status} {r.reason}".strip() for r in undone if not under_an_outage(r)]
    if by_redis:
        print(f"\ndelivery records left in flight by a Redis outage {listed(by_redis)}")
    assert not other, f"delivery records failed or left in flight {listed(other)}"


def test_no_duplicate_at_a_provider_but_counted_ambiguous_sends(fault_run: FaultRun) -> None:
    assert not fault_run.findings.duplicates, (
        f"duplicates not counted as ambiguous {listed(fault_run.findings.duplicates)}"
    )


def test_ambiguous_sends_are_counted_and_bounded_by_the_faults_injected(
    fault_run: FaultRun,
) -> None:
    findings = fault_run.findings
    print(f"\nduplicates at providers: {findings.duplicate_copies}; ambiguous sends counted: "
          f"{findings.ambiguous_counted}; bound from the faults: {fault_run.ambiguous_injected}")
    assert findings.duplicate_copies <= findings.ambiguous_counted
    assert findings.ambiguous_counted <= fault_run.ambiguous_injected


def test_no_sms_reaches_a_number_after_its_arret_was_acknowledged(fault_run: FaultRun) -> None:
    assert not fault_run.findings.after_optout, (
        f"SMS inside a quiet interval {listed(fault_run.findings.after_optout)}"
    )
    stories = {a.story for a in fault_run.appointments}
    assert {Story.ARRET, Story.REPRISE, Story.CONTACT} <= stories


def test_no_message_for_an_appointment_state_no_longer_true(fault_run: FaultRun) -> None:
    findings = fault_run.findings
    assert not findings.stale, f"messages no longer true {listed(findings.stale)}"
    assert not findings.unknown, f"messages nothing explains {listed(findings.unknown)}"


def test_a_message_refused_for_good_gets_exactly_one_fallback(fault_run: FaultRun) -> None:
    findings = fault_run.findings
    refusing = [a for a in fault_run.appointments if a.refused is not None]
    assert refusing and {a.refused for a in refusing} == {Channel.SMS, Channel.VOICE}, (
        "the workload refused no number on one of the channels: it tested nothing there")
    # Both ways a message is refused: at create, and held back for a known address.
    assert findings.refused.keys() == {"provider_permanent", "contact_undeliverable"}
    assert findings.fallbacks_sent == sum(findings.refused.values())
    assert not findings.fallbacks, f"fallbacks not exactly one {listed(findings.fallbacks)}"
    # The booking system heard once of each refused number (its duplicates keep one id).
    told = fault_run.undeliverable_told
    assert {reference: len(ids) for reference, ids in told.items()} == {
        a.reference: 1 for a in refusing}


def test_the_processes_logs_name_no_patient(fault_run: FaultRun) -> None:
    output = fault_run.output
    assert "handed" in output  # the logs are there to read
    for appointment in fault_run.appointments:
        for address in appointment.addresses():
            assert address not in output, (
                f"a log names a patient's address (appointment {appointment.reference})"
            )


# -- Twilio down for a minute -----------------------------------------------------------------

OUTAGE = 60.0  # seconds Twilio is down


def test_a_minute_long_twilio_outage_loses_nothing_and_sends_once(
    redis_url: str, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp, tmp_path: Path,
) -> None:
    timing = Timing()
    config = gateway_config(redis_url, fake_twilio, fake_smtp, tmp_path / "outbox", timing)
    keys = Keys(config.settings().queue_prefix)
    now = dt.datetime.now(dt.UTC)
    appointment = new_appointment(random.Random(1), Numbers(), Story.PLAIN, index=0,
                                  booked_at=now.timestamp(), timing=timing)
    appointment.modes = ("sms",)
    appointment.start = appointment.final_start = now + dt.timedelta(days=2)  # no reminder
    client = redis.Redis.from_url(redis_url)

    def confirmation() -> Record:
        (record,) = [r for r in delivery_records(client, keys) if r.kind == "confirmation"]
        return record

    with Processes(config, workdir=tmp_path / "processes") as processes:
        processes.start_worker(threads=2)
        processes.start_scheduler()
        web = processes.start_web()
        # Down for a minute: a 429 (not taken), a 503 (maybe taken: Twilio is asked before
        # a resend), then 503 to every request, lookups included, until the minute is over.
        fake_twilio.script_messages(Outcome.too_many_requests(), Outcome.server_error(503))
        fake_twilio.fail_all(Outcome.server_error(503))
        began = time.monotonic()

        answer = httpx.post(
            f"http://127.0.0.1:{web.port}/v1/events",
            json=appointment.event_json(appointment.steps[0], now),
            headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10,
        )
        assert answer.status_code == 202, answer.text
        wait_until(lambda: len(fake_twilio.requests) >= 2, timeout=OUTAGE,
                   what="the confirmation to meet the 429 and the 503")
        threading.Event().wait(max(0.0, OUTAGE - (time.monotonic() - began)))  # the outage
        fake_twilio.reset()
        # Its next try comes within one capped retry delay.
        wait_until(lambda: confirmation().status not in IN_FLIGHT,
                   timeout=MAX_DELAY.total_seconds() + 30,
                   what="the confirmation to be sent or given up once Twilio is back",
                   hint=lambda: f"delivery record {confirmation()}")
        record = confirmation()
    client.close()
    assert [r.status for r in fake_twilio.requests] == [429, 503, 201]
    assert record.status == "accepted", f"the confirmation was {record}"
    assert len(fake_twilio.messages) == 1
    assert fake_twilio.lookups, "the create answered 503 was not asked about"


# -- Redis dies under a send ------------------------------------------------------------------

TWILIO_HOLD = 3.0  # seconds Twilio takes to answer the SMS it took
REDIS_DOWN = 15.0  # longer than redis-py's own reconnection attempts (about 8 s)


def book_an_sms_confirmation(web_port: int, *, seed: int) -> None:
    """Books, through the web process, an appointment in two days (no reminder yet) told
    by SMS only: its one message is the confirmation."""
    timing, now = Timing(), dt.datetime.now(dt.UTC)
    appointment = new_appointment(random.Random(seed), Numbers(), Story.PLAIN, index=0,
                                  booked_at=now.timestamp(), timing=timing)
    appointment.modes = ("sms",)
    appointment.start = appointment.final_start = now + dt.timedelta(days=2)
    answer = httpx.post(
        f"http://127.0.0.1:{web_port}/v1/events",
        json=appointment.event_json(appointment.steps[0], now),
        headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10,
    )
    assert answer.status_code == 202, answer.text


def confirmation_record(client: redis.Redis, keys: Keys) -> Record:
    (record,) = [r for r in delivery_records(client, keys) if r.kind == "confirmation"]
    return record


def test_a_send_that_redis_dies_under_is_finished_once_redis_is_back(
    fake_twilio: FakeTwilio, fake_smtp: FakeSmtp, tmp_path: Path,
) -> None:
    durable = DurableRedis(tmp_path / "redis")
    durable.start()
    config = gateway_config(durable.url, fake_twilio, fake_smtp, tmp_path / "outbox",
                            Timing()).with_values(twilio_timeout=dt.timedelta(seconds=4))
    keys = Keys(config.settings().queue_prefix)
    # Twilio takes the SMS and answers 201 after a while, inside the client's timeout.
    fake_twilio.script_messages(Outcome.timeout(TWILIO_HOLD, accepted=True))
    client = redis.Redis.from_url(durable.url)
    try:
        with Processes(config, workdir=tmp_path / "processes") as processes:
            processes.start_worker(threads=2)
            processes.start_scheduler()
            book_an_sms_confirmation(processes.start_web().port or 0, seed=2)
            wait_until(lambda: fake_twilio.requests, timeout=30,
                       what="the confirmation to reach Twilio")
            durable.crash()  # while the worker waits for Twilio's answer
            threading.Event().wait(REDIS_DOWN)  # the outage itself
            durable.start()
            wait_until(lambda: confirmation_record(client, keys).status not in IN_FLIGHT,
                       timeout=45,
                       what="the confirmation's delivery record to be final once Redis is back",
                       hint=lambda: f"record {confirmation_record(client, keys)}")
            record = confirmation_record(client, keys)
    finally:
        client.close()
        durable.stop()
    assert record.status == "accepted", record
    assert 1 <= len(fake_twilio.messages) <= 1 + record.ambiguous


# -- Redis crashes while a worker holds a retry -------------------------------------------

BRIEF_REDIS_DOWN = 3.0  # seconds: a worker's delay queue polls Redis at least every second


def test_a_retry_a_worker_holds_through_a_redis_crash_is_sent_when_it_falls_due(
    fake_twilio: FakeTwilio, fake_smtp: FakeSmtp, tmp_path: Path,
) -> None:
    """The retry waits in the worker's memory, listed in Redis as held by that worker,
    whose heartbeat goes on: a crash while it waits must not strand it there."""
    durable = DurableRedis(tmp_path / "redis")
    durable.start()
    config = gateway_config(durable.url, fake_twilio, fake_smtp, tmp_path / "outbox", Timing())
    keys = Keys(config.settings().queue_prefix)
    fake_twilio.script_messages(Outcome.too_many_requests())  # not taken: retried later
    client = redis.Redis.from_url(durable.url)
    namespace = f"{config.settings().queue_prefix}-dramatiq"

    def retry_held_in_memory() -> bool:
        return bool(client.hlen(f"{namespace}:{SEND_QUEUE}.DQ.msgs") == 1
                    and client.llen(f"{namespace}:{SEND_QUEUE}.DQ") == 0
                    and client.hlen(f"{namespace}:{SEND_QUEUE}.msgs") == 0)

    try:
        with Processes(config, workdir=tmp_path / "processes") as processes:
            processes.start_worker(threads=2)
            processes.start_scheduler()
            book_an_sms_confirmation(processes.start_web().port or 0, seed=3)
            wait_until(retry_held_in_memory, timeout=30,
                       what="the confirmation's retry to wait in the worker after the 429")
            assert [r.status for r in fake_twilio.requests] == [429]
            durable.crash()
            threading.Event().wait(BRIEF_REDIS_DOWN)  # the outage itself
            durable.start()
            wait_until(lambda: processes.queue_settled(SEND_QUEUE)
                       and confirmation_record(client, keys).status not in IN_FLIGHT,
                       timeout=45,
                       what="the retry to be sent once Redis is back and the send queue "
                            "to settle",
                       hint=lambda: "\n".join(processes.queue_leftovers(SEND_QUEUE)))
            record = confirmation_record(client, keys)
    finally:
        client.close()
        durable.stop()
    assert record.status == "accepted", record
    assert [r.status for r in fake_twilio.requests] == [429, 201]


def test_every_callback_is_delivered_at_least_once_and_a_duplicate_carries_its_id(
    fault_run: FaultRun,
) -> None:
    # Workers killed between a change and its callback, or mid-attempt, and Redis
    # restarted: the change and the callback it owes were one step, so each is owed and
    # sent, perhaps twice (with the same webhook-id: the receiver can tell).
    assert fault_run.callbacks_owed, "the workload owed no callback: it tested nothing"
    assert fault_run.callbacks_lost == set(), listed(sorted(fault_run.callbacks_lost))
    assert all(verified for _, verified in fault_run.callbacks_received)
    unknown = {webhook_id for webhook_id, _ in fault_run.callbacks_received
               } - fault_run.callbacks_owed
    assert unknown == set(), listed(sorted(unknown))
