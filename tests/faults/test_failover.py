"""The operating promises hold while Redis fails over: a primary, two replicas and three
sentinels on loopback (:class:`tests.sentinel_cluster.SentinelCluster`), the gateway's
real processes connected through the sentinels, the usual workload, and in each cycle
the primary lost while traffic flows, in one of two ways (a run each):

- ``kill primary``: SIGKILLed; a replica is promoted, then the old primary is started
  again and Sentinel makes it a replica of the new one;
- ``freeze primary``: stopped with SIGSTOP past the sentinels' timeout until a replica
  is promoted, then thawed: it wakes up still believing it is the primary, with its
  clients' connections open, until Sentinel demotes it.

Workers and schedulers are SIGKILLed now and then as well. After the run settles, the
checks of :mod:`tests.faults.test_faults` that do not depend on its own faults run
against it: nothing accepted lost, no SMS after an acknowledged ARRET, nothing for a
state no longer true, duplicates at the providers counted and bounded, exactly one
fallback per message refused for good, every callback delivered, no patient in the logs.
Then the opt-outs themselves: every acknowledged ARRET is still an opt-out.

Short mode (the default) runs 45 s of traffic per way; ``NOTIFIER_SOAK_SECONDS=600
pytest tests/faults/test_failover.py -s`` runs a failover every minute for ten minutes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator

import pytest

from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio
from tests.faults.conftest import FaultRun, run_faults
from tests.faults.injector import Fault
from tests.faults.test_faults import (
    listed,
    test_a_message_refused_for_good_gets_exactly_one_fallback,
    test_ambiguous_sends_are_counted_and_bounded_by_the_faults_injected,
    test_every_callback_is_delivered_at_least_once_and_a_duplicate_carries_its_id,
    test_every_delivery_record_ends_final_unless_redis_died_under_its_send,
    test_no_duplicate_at_a_provider_but_counted_ambiguous_sends,
    test_no_message_for_an_appointment_state_no_longer_true,
    test_no_sms_reaches_a_number_after_its_arret_was_acknowledged,
    test_nothing_accepted_is_lost,
    test_the_processes_logs_name_no_patient,
)
from tests.faults.workload import Story
from tests.sentinel_cluster import SentinelCluster

# The checks of the main run that hold here too, collected again against this module's
# fault_run (see the module docstring).
__all__ = [
    "test_a_message_refused_for_good_gets_exactly_one_fallback",
    "test_ambiguous_sends_are_counted_and_bounded_by_the_faults_injected",
    "test_every_callback_is_delivered_at_least_once_and_a_duplicate_carries_its_id",
    "test_every_delivery_record_ends_final_unless_redis_died_under_its_send",
    "test_no_duplicate_at_a_provider_but_counted_ambiguous_sends",
    "test_no_message_for_an_appointment_state_no_longer_true",
    "test_no_sms_reaches_a_number_after_its_arret_was_acknowledged",
    "test_nothing_accepted_is_lost",
    "test_the_processes_logs_name_no_patient",
]

pytestmark = pytest.mark.slow

# As the README advises for a Sentinel deployment: a primary with no replica refuses
# writes, so an old primary woken from a freeze cannot take any before it is demoted.
PRIMARY_NEEDS_A_REPLICA = ("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")
CYCLE = 60.0
# When, in a cycle, the primary is lost: once the first bookings' messages flow.
LOSS = (10.0, 25.0)
KILLS = (3.0, 45.0)


def plan_failovers(way: str) -> Callable[..., list[Fault]]:
    """A plan with, per :data:`CYCLE`, the primary lost ``way`` once, two workers and a
    scheduler killed; nothing after ``until`` seconds (when the last message is due)."""

    def plan(rng: random.Random, *, length: float, until: float) -> list[Fault]:
        faults: list[Fault] = []
        for cycle in range(max(1, round(length / CYCLE + 0.49))):
            c = cycle * CYCLE
            faults.append(Fault(c + rng.uniform(*LOSS), way))
            faults += [Fault(c + rng.uniform(*KILLS), f"kill {name}")
                       for name in ("worker", "worker-2", "scheduler")]
        return sorted((f for f in faults if f.at <= until), key=lambda f: f.at)

    return plan


@pytest.fixture(scope="module", params=["kill primary", "freeze primary"])
def fault_run(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultRun]:
    way: str = request.param
    workdir = tmp_path_factory.mktemp(way.replace(" ", "-"))
    with SentinelCluster(workdir / "redis", data_args=PRIMARY_NEEDS_A_REPLICA) as cluster, \
            FakeTwilio() as twilio, FakeSmtp() as smtp:
        print(f"\nfailover: {way}")
        yield run_faults((twilio, smtp), workdir, plan=plan_failovers(way), cluster=cluster,
                         redis_sentinels=cluster.sentinels_setting,
                         redis_sentinel_service=cluster.service)


def test_the_primary_was_lost_under_traffic_and_a_replica_took_over(
    fault_run: FaultRun,
) -> None:
    tally = fault_run.tally
    assert tally.failovers >= 1 and tally.failovers == len(tally.redis_outages), tally.log
    requests = fault_run.twilio_request_times
    for outage in tally.redis_outages:
        assert any(at < outage.start for at in requests), "no sending before the failover"
        assert any(at > outage.end for at in requests), "no sending after the failover"
    # Events and texts arrived while the primary was gone, and each was acknowledged (at
    # once, or after a 503 and a retry: the run's summary counts the retries).
    during = [step for appointment in fault_run.appointments for step in appointment.steps
              if any(o.start <= step.at <= o.end for o in tally.redis_outages)]
    assert during, "no event or text arrived while the primary was gone: it tested nothing"
    assert all(step.acked is not None for step in during)


def test_every_acknowledged_opt_out_holds_on_the_new_primary(fault_run: FaultRun) -> None:
    wrong = []
    for appointment in fault_run.appointments:
        if appointment.story not in (Story.ARRET, Story.REPRISE):
            continue
        stopped = appointment.acked("arret")
        resumed = appointment.acked("reprise") if appointment.story is Story.REPRISE else math.inf
        assert not math.isinf(stopped), f"{appointment.reference}: ARRET never acknowledged"
        expected = math.isinf(resumed)
        if fault_run.opted_out[appointment.reference] is not expected:
            wrong.append(f"{appointment.reference} ({appointment.story}): opted out is "
                         f"{not expected}, should be {expected}")
    assert fault_run.opted_out, "the workload sent no ARRET: it tested nothing"
    assert not wrong, f"opt-outs lost or wrong {listed(wrong)}"
