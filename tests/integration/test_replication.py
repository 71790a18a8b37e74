"""Acknowledged means replicated, on a real primary and replica: an accepted event, an
opt-out and a record's move to ``submitting`` are answered only once a replica holds
them, and answered as if Redis were down when none confirms in time."""

from __future__ import annotations

import datetime as dt
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from notifier.channels.registry import channel_clients
from notifier.domain import Channel, Lang
from notifier.local_redis import RedisServer
from notifier.operations.status import health_summary
from notifier.operations.terminal import render_status
from notifier.opt_outs import OptOutSource
from notifier.planning.entries import PlannedMessage
from notifier.sending import SendOutcome, SendStep
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from notifier.store.lua import script_source
from notifier.store.optouts import OptOutStore
from notifier.store.replication import Replication
from notifier.store.schedule import Schedule
from notifier.web import create_app
from notifier.web.examples import BOOKED
from tests.browser.console_seed import SECRET_KEY, VICTOR, operators_setting
from tests.factories import Clock, event, local
from tests.harness import wait_until
from tests.integration.test_inbound_webhook import TwilioSender, inbound_settings, reply_text

NOW = local(2026, 11, 24, 10)
START = local(2026, 12, 1, 9, 30)
SHORT_WAIT = dt.timedelta(milliseconds=300)
PATIENT = "+15145550123"


@dataclass
class Pair:
    """A primary and its replica, each a private redis-server."""

    primary: RedisServer
    replica: RedisServer
    client: redis.Redis

    def replica_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.replica.url)

    def freeze_replica(self) -> None:
        assert self.replica.process is not None
        self.replica.process.send_signal(signal.SIGSTOP)

    def thaw_replica(self) -> None:
        """Wake the replica and wait until the primary hears it holds everything."""
        assert self.replica.process is not None
        self.replica.process.send_signal(signal.SIGCONT)
        wait_until(lambda: caught_up(self.client), timeout=10,
                   what="the replica to acknowledge the primary's every write")


def caught_up(primary: redis.Redis) -> bool:
    info = primary.info("replication")
    replica = info.get("slave0")
    return (isinstance(replica, dict) and replica.get("state") == "online"
            and replica.get("offset") == info["master_repl_offset"])


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    # A replica links up at once, rather than after the five seconds a primary waits by
    # default for more replicas to share its snapshot.
    primary = RedisServer(tmp_path / "primary", extra_args=("--repl-diskless-sync-delay", "0"))
    primary.start()
    replica = RedisServer(tmp_path / "replica",
                          extra_args=("--replicaof", "127.0.0.1", str(primary.port)))
    client = redis.Redis.from_url(primary.url)
    try:
        replica.start()
        wait_until(lambda: caught_up(client), timeout=10, what="the replica to link up")
        # A replica that has just linked up acknowledges its first write only at its next
        # periodic report (up to a second later); from then on, within a millisecond.
        client.incr("linked")
        assert client.wait(1, 5000) == 1
        yield Pair(primary, replica, client)
    finally:
        if replica.process is not None:
            replica.process.send_signal(signal.SIGCONT)
        replica.stop()
        client.close()
        primary.stop()


def settings_of(pair: Pair, **overrides: object) -> Settings:
    values: dict[str, object] = {"redis_url": pair.primary.url, "redis_wait_timeout": SHORT_WAIT,
                                 "window_sms": "always", "window_voice": "always"}
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


def test_auto_waits_for_one_replica_when_the_primary_has_one(pair: Pair,
                                                             redis_client: redis.Redis) -> None:
    assert Replication.of(pair.client, settings_of(pair)).required() == 1
    alone = Settings(redis_url="redis://unused/0")
    assert Replication.of(redis_client, alone).required() == 0
    assert Replication.of(redis_client, Settings(redis_wait_replicas=2)).required() == 2


def test_an_accepted_event_is_on_the_replica_when_it_is_answered(pair: Pair) -> None:
    intake = Intake(pair.client, settings_of(pair))
    booked = event("booked", start=START, at=NOW)

    answer = intake.accept(booked, NOW)

    replica = pair.replica_client()
    assert answer.body["status"] == "accepted"
    assert replica.exists(Keys().event(booked.event_id)) == 1
    replica.close()


def test_an_event_no_replica_confirms_is_not_acknowledged_and_its_repeat_is_once_it_can_be(
    pair: Pair,
) -> None:
    intake = Intake(pair.client, settings_of(pair))
    booked = event("booked", start=START, at=NOW)
    pair.freeze_replica()
    try:
        with pytest.raises(redis.ConnectionError, match="0 of 1 replicas"):
            intake.accept(booked, NOW)
        # Written on the primary, but not promised: its repeat waits for the replica too.
        with pytest.raises(redis.ConnectionError):
            intake.accept(booked, NOW)
    finally:
        pair.thaw_replica()

    answer = intake.accept(booked, NOW)

    assert answer.body["status"] == "accepted"
    replica = pair.replica_client()
    assert replica.exists(Keys().event(booked.event_id)) == 1
    replica.close()


def test_the_intake_api_answers_503_while_no_replica_confirms(
    pair: Pair, outbox: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    token = "replication-test-api-token-0123456789"
    settings = settings_of(pair, api_token=token, outbox_dir=outbox)
    app = create_app(settings, redis=pair.client, clock=lambda: dt.datetime(
        2026, 11, 24, 15, 30, tzinfo=dt.UTC))
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as http:
        pair.freeze_replica()
        try:
            refused = http.post("/v1/events", json=BOOKED, headers=auth)
        finally:
            pair.thaw_replica()
        accepted = http.post("/v1/events", json=BOOKED, headers=auth)

    assert (refused.status_code, refused.json()["error"]) == (503, "unavailable")
    assert refused.headers["Retry-After"]
    assert "0 of the 1 Redis replicas required confirmed a write" in caplog.text
    assert accepted.status_code == 202


def test_an_arret_no_replica_confirms_is_answered_once_its_redelivery_can_be(
    pair: Pair, outbox: Path,
) -> None:
    settings = inbound_settings(outbox, redis_url=pair.primary.url,
                                redis_wait_timeout=SHORT_WAIT)
    app = create_app(settings, redis=pair.client, clock=Clock(NOW))
    with TestClient(app) as http:
        twilio = TwilioSender(http)
        pair.freeze_replica()
        try:
            refused = twilio.send("ARRET", sid="SM" + "1" * 32)
        finally:
            pair.thaw_replica()
        redelivered = twilio.send("ARRET", sid="SM" + "1" * 32)

    assert refused.status_code == 503
    # Not taken for a duplicate: the patient hears that the opt-out holds.
    assert reply_text(redelivered)
    replica = pair.replica_client()
    assert OptOutStore(replica, settings).is_opted_out(PATIENT)
    replica.close()


def test_an_operator_opt_out_no_replica_confirms_is_refused(pair: Pair) -> None:
    store = OptOutStore(pair.client, settings_of(pair))
    pair.freeze_replica()
    try:
        with pytest.raises(redis.ConnectionError):
            store.opt_out(PATIENT, source=OptOutSource.OPERATOR, reason="asked by phone",
                          now=NOW)
    finally:
        pair.thaw_replica()

    assert store.opt_out(PATIENT, source=OptOutSource.OPERATOR, reason="asked by phone",
                         now=NOW) is False  # already so on the primary; now confirmed
    replica = pair.replica_client()
    assert OptOutStore(replica, settings_of(pair)).is_opted_out(PATIENT)
    replica.close()


def booked_text(pair: Pair, settings: Settings) -> tuple[PlannedMessage, SendStep]:
    """A booking's SMS confirmation, planned and due, and the send step that sends it."""
    clock = Clock(NOW)
    Intake(pair.client, settings).accept(event("booked", start=START, at=NOW, modes=("sms",)),
                                         NOW)
    message = Schedule(pair.client, keys=Keys(), lease=settings.scheduler_lease).pending(
        "0000000001")[0]
    return message, SendStep(pair.client, settings,
                             channels=channel_clients(settings, clock=clock),
                             opt_outs=OptOutStore(pair.client, settings), clock=clock)


def test_no_provider_is_called_before_a_replica_holds_the_move_to_submitting(
    pair: Pair, outbox: Path,
) -> None:
    settings = settings_of(pair, outbox_dir=outbox)
    message, step = booked_text(pair, settings)
    pair.freeze_replica()
    try:
        with pytest.raises(redis.ConnectionError):
            step(message.to_dict())
    finally:
        pair.thaw_replica()

    assert list(outbox.glob("*/*.txt")) == []
    assert pair.client.hget(Keys().delivery(message.key), "status") == b"submitting"
    assert message.channel is Channel.SMS


def test_a_primary_that_does_not_know_a_script_is_given_it(pair: Pair) -> None:
    intake = Intake(pair.client, settings_of(pair))
    pair.client.script_flush()

    answer = intake.accept(event("booked", start=START, at=NOW), NOW)

    assert answer.body["status"] == "accepted"


def test_status_names_the_primary_and_counts_the_replicas_that_confirm(pair: Pair) -> None:
    settings = settings_of(pair)
    confirming = health_summary(pair.client, settings, dt.datetime.now(dt.UTC))
    pair.freeze_replica()
    try:
        unconfirmed = health_summary(pair.client, settings, dt.datetime.now(dt.UTC))
    finally:
        pair.thaw_replica()

    topology = confirming.redis
    assert topology is not None
    assert (topology.primary, topology.replicas, topology.acknowledged, topology.required) == (
        f"127.0.0.1:{pair.primary.port}", 1, 1, 1)
    assert "replicas_unconfirmed" not in confirming.problems
    assert "primary 127.0.0.1:" in render_status(confirming, Lang.EN)
    assert unconfirmed.redis is not None and unconfirmed.redis.acknowledged == 0
    assert "replicas_unconfirmed" in unconfirmed.problems and not unconfirmed.healthy
    french = render_status(unconfirmed, Lang.FR)
    assert "qui confirment une écriture 0 ; les écritures confirmées en attendent 1" in french
    assert "Moins de réplicas Redis que requis confirment les écritures" in french


def test_the_console_overview_shows_the_primary_and_its_confirming_replicas(
    pair: Pair, outbox: Path,
) -> None:
    settings = settings_of(pair, operators=operators_setting(), console_secret_key=SECRET_KEY,
                           api_token="t" * 32, outbox_dir=outbox)
    app = create_app(settings, redis=pair.client, clock=lambda: dt.datetime.now(dt.UTC))
    with TestClient(app, headers={"Accept-Language": "en"}) as http:
        page = http.get("/console/sign-in").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        http.post("/console/sign-in", data={"csrf": csrf[1], "name": VICTOR.name,
                                            "password": VICTOR.password, "next": "/console/"})
        overview = http.get("/console/").text
        pair.freeze_replica()
        try:
            short = http.get("/console/").text
        finally:
            pair.thaw_replica()

    assert f"<code>127.0.0.1:{pair.primary.port}</code>" in overview
    assert "replicas confirming a write: 1 of 1 connected (1 required)" in overview
    assert "replicas confirming a write: 0 of 1 connected (1 required)" in short
    assert "Fewer Redis replicas than required confirm writes" in short


def test_an_arret_that_comes_in_while_the_move_to_submitting_waits_for_its_replica_stops_it(
    pair: Pair, outbox: Path,
) -> None:
    settings = settings_of(pair, outbox_dir=outbox, redis_wait_timeout=dt.timedelta(seconds=10))
    message, step = booked_text(pair, settings)
    outcomes: list[SendOutcome] = []
    # Redis knows the script already: the move itself, not a first NOSCRIPT, waits.
    pair.client.script_load(script_source("send_begin"))
    pair.freeze_replica()
    sending = threading.Thread(target=lambda: outcomes.append(step(message.to_dict())))
    sending.start()
    try:
        wait_until(lambda: pair.client.info("clients")["blocked_clients"] == 1, timeout=10,
                   what="the move to submitting to wait for the replica")
        # The ARRET lands on the primary while the send waits (acknowledged once the
        # replica is back, as the send's own wait is).
        OptOutStore(pair.client, settings_of(pair, redis_wait_replicas=0)).opt_out(
            "+15145550188", source=OptOutSource.SMS_KEYWORD, keyword="ARRET", now=NOW)
    finally:
        pair.thaw_replica()
        sending.join(timeout=15)

    assert outcomes == [SendOutcome.SUPPRESSED]
    assert list(outbox.glob("*/*.txt")) == []
    record = pair.client.hgetall(Keys().delivery(message.key))
    assert (record[b"status"], record[b"reason"]) == (b"suppressed", b"opted_out")
