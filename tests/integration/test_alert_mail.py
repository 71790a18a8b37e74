"""The on-call email, sent by the scheduler's pass through a real loopback SMTP server,
with the tests' Redis and a hand clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from redis import Redis

from notifier.names import broker_namespace
from notifier.operations.alert_mail import AlertMail, smtp_send
from notifier.scheduler import Scheduler
from notifier.settings import Settings
from tests.factories import Clock
from tests.fakes.conftest_fixtures import fake_smtp
from tests.fakes.smtp_server import FakeSmtp
from tests.integration.conftest import Gateway

__all__ = ["fake_smtp"]  # fixture

ON_CALL = "garde@clinique.example.net"
MakeMail = Callable[[], AlertMail]


@pytest.fixture
def settings(gateway: Gateway, fake_smtp: FakeSmtp) -> Settings:
    return Settings(redis_url=gateway.settings.redis_url, outbox_dir=gateway.outbox,
                    alert_email=ON_CALL, **fake_smtp.settings_overrides())


@pytest.fixture
def make_mail(gateway: Gateway, settings: Settings) -> Iterator[MakeMail]:
    """Makes the on-call email of one scheduler (each with its own SMTP connections)."""
    closers = []

    def make() -> AlertMail:
        send, close = smtp_send(settings)
        closers.append(close)
        return AlertMail(gateway.client, settings, clock=gateway.clock, send=send)

    yield make
    for close in closers:
        close()


def worker_beats(redis: Redis, settings: Settings, clock: Clock) -> None:
    """A worker's heartbeat as Dramatiq's Redis broker writes it (ms since the epoch)."""
    key = f"{broker_namespace(settings.queue_prefix)}:__heartbeats__"
    redis.zadd(key, {"worker-1": clock().timestamp() * 1000})


def subjects(fake: FakeSmtp) -> list[str]:
    # A long subject is folded on the wire; its words are what a person reads.
    return [" ".join(str(m.message["Subject"]).split()) for m in fake.messages]


def test_a_rule_is_emailed_once_when_it_fires_and_once_when_it_clears(
    gateway: Gateway, settings: Settings, fake_smtp: FakeSmtp, make_mail: MakeMail,
) -> None:
    clock = gateway.clock
    scheduler = Scheduler(gateway.client, settings, clock=clock, alerts=make_mail())
    scheduler.run_once()  # no worker has ever beaten: the rule fires
    (fired,) = fake_smtp.messages
    assert fired.rcpt_tos == (ON_CALL,)
    assert subjects(fake_smtp)[0] == ("[Passerelle] Alerte : Aucun processus d’envoi actif / "
                       "[Gateway] Alert: No live workers")
    body = fired.message.get_content()
    french = body.index("L’alerte « Aucun processus d’envoi actif »")
    assert french < body.index("The “No live workers”")
    assert "2026-11-24 10:00 (America/Toronto)" in body
    assert "redémarrer les processus d’envoi (workers)" in body and "restart the workers" in body

    clock.advance(dt.timedelta(seconds=30))
    worker_beats(gateway.client, settings, clock)
    scheduler.run_once()  # within the minute: not evaluated again
    assert len(fake_smtp.messages) == 1

    clock.advance(dt.timedelta(seconds=31))
    scheduler.run_once()
    assert subjects(fake_smtp)[1] == ("[Passerelle] Rétabli : Aucun processus d’envoi actif / "
                                      "[Gateway] Resolved: No live workers")
    clock.advance(dt.timedelta(minutes=2))
    worker_beats(gateway.client, settings, clock)
    scheduler.run_once()
    assert len(fake_smtp.messages) == 2  # still fine: nothing more


def test_restarted_and_concurrent_schedulers_tell_each_change_once(
    gateway: Gateway, settings: Settings, fake_smtp: FakeSmtp, make_mail: MakeMail,
) -> None:
    first, second = make_mail(), make_mail()
    assert [s.rule for s in first.check()] == ["scheduler_stale", "no_live_workers"]
    assert second.check() == []  # the other scheduler saw the same changes: told already
    restarted = make_mail()
    assert restarted.check() == []
    assert len(fake_smtp.messages) == 2
    gateway.clock.advance(dt.timedelta(minutes=1))
    gateway.client.set(f"{settings.queue_prefix}:scheduler:last-run",
                       gateway.clock().isoformat())
    worker_beats(gateway.client, settings, gateway.clock)
    told = [first.check(), second.check(), restarted.check()]
    assert sorted(len(t) for t in told) == [0, 0, 2]
    assert len(fake_smtp.messages) == 4


def test_a_refused_email_is_tried_again_at_the_next_check(
    gateway: Gateway, settings: Settings, fake_smtp: FakeSmtp, make_mail: MakeMail,
) -> None:
    gateway.client.set(f"{settings.queue_prefix}:scheduler:last-run",
                       gateway.clock().isoformat())
    mail = make_mail()
    fake_smtp.refuse_next(1, code=451)
    assert mail.check() == []
    assert fake_smtp.messages == []
    gateway.clock.advance(dt.timedelta(minutes=1))
    gateway.client.set(f"{settings.queue_prefix}:scheduler:last-run",
                       gateway.clock().isoformat())
    (told,) = mail.check()
    assert told.rule == "no_live_workers"
    assert len(fake_smtp.messages) == 1
    assert "No live workers" in subjects(fake_smtp)[0]


def test_the_email_holds_no_patient_data(
    gateway: Gateway, settings: Settings, fake_smtp: FakeSmtp, make_mail: MakeMail,
) -> None:
    from tests.browser.console_seed import PATIENT_DATA, seed

    seed(gateway)  # appointments, deliveries and a dead letter with patient data
    make_mail().check()
    assert fake_smtp.messages
    for received in fake_smtp.messages:
        text = received.data.decode()
        assert not [secret for secret in PATIENT_DATA if secret in text]
    assert any("Messages abandonnés" in s for s in subjects(fake_smtp))
