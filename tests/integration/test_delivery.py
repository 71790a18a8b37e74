"""Real delivery through the send step: the real twilio client against a Twilio-compatible
server on loopback, aiosmtplib against an SMTP server on loopback, and status callbacks
posted over HTTP, signed like Twilio's, to the gateway's own web app."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from notifier.actors import _as_retry, _retry_send
from notifier.channels.registry import channel_clients
from notifier.channels.twilio.twiml import keypress_url
from notifier.domain import Channel, Lang
from notifier.errors import RetryLater
from notifier.local_redis import free_port
from notifier.opt_outs import OptOutSource
from notifier.planning.entries import PlannedMessage
from notifier.sending import SendOutcome, SendStep
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.optouts import OptOutStore
from notifier.store.provider_latency import ProviderLatency
from notifier.web.app import create_app
from tests.app_server import serving
from tests.factories import Clock, event, local
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, Outcome, rebase
from tests.redis_commands import commands_sent

__all__ = ["fake_smtp", "fake_twilio"]  # fixtures

PUBLIC = "https://gateway.example.org"
START = local(2026, 12, 1, 9, 30)
MOBILE = "+15145550188"
HOME = "+15145550199"


@dataclass
class Delivery:
    settings: Settings
    client: redis.Redis
    clock: Clock
    fake: FakeTwilio
    smtp: FakeSmtp
    intake: Intake
    step: SendStep
    waits: list[float]

    def book(self, *modes: str, version: int = 1, **options: Any) -> list[dict[str, Any]]:
        """Accept a booking and claim what is due now; returns the claimed payloads."""
        now = self.clock()
        self.intake.accept(event("booked", start=START, at=now, modes=modes, version=version,
                                 **options), now)
        claimed = self.intake.schedule.claim(now)
        self.intake.schedule.ack(claimed)
        return [json.loads(p) for p in claimed]

    def step_after_a_retry(self, payload: dict[str, Any]) -> SendOutcome:
        """An attempt that ends asking for a retry, the first retry delay, then the next
        attempt: its outcome."""
        with pytest.raises(RetryLater):
            self.step(payload)
        self.clock.advance(dt.timedelta(seconds=10))
        return self.step(payload)

    def record(self, payload: dict[str, Any]) -> dict[str, str]:
        return self.deliveries.get(PlannedMessage.from_dict(payload).key)

    @property
    def deliveries(self) -> DeliveryLog:
        return DeliveryLog(self.client, keys=self.intake.keys,
                           retention=self.settings.delivery_retention)


@pytest.fixture
def web_port(redis_client: redis.Redis) -> Iterator[int]:
    """The port of a real HTTP server for the gateway's web app, started by ``serve``."""
    yield free_port()


@pytest.fixture
def delivery(
    redis_url: str, redis_client: redis.Redis, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    web_port: int, tmp_path: Any,
) -> Iterator[Delivery]:
    settings = Settings(
        redis_url=redis_url, outbox_dir=tmp_path / "outbox", api_token="t" * 32,
        window_sms="always", window_voice="always", public_base_url=PUBLIC,
        twilio_sms_from="+15145550000", twilio_voice_from="+15145550001",
        twilio_timeout=dt.timedelta(seconds=1), sms_segments_per_second=1.0,
        **fake_twilio.settings_overrides(), **fake_smtp.settings_overrides(),
    )
    clock = Clock(local(2026, 11, 24, 10))
    waits: list[float] = []
    step = SendStep(redis_client, settings,
                    channels=channel_clients(settings, clock=clock, redis=redis_client),
                    opt_outs=OptOutStore(redis_client, settings),
                    limiters={}, clock=clock, sleep=waits.append)
    fake_twilio.deliver_to = rebase(PUBLIC, f"http://127.0.0.1:{web_port}")
    fake_twilio.clock = clock
    app = create_app(settings, redis=redis_client, clock=clock)
    with serving(app, web_port):
        yield Delivery(settings, redis_client, clock, fake_twilio, fake_smtp,
                       Intake(redis_client, settings), step, waits)


def test_an_sms_goes_to_twilio_with_callback_validity_and_then_is_delivered(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")

    assert delivery.step(payload) is SendOutcome.SENT

    (sent,) = delivery.fake.messages
    assert sent.to == MOBILE and sent.from_ == "+15145550000"
    assert sent.status_callback == f"{PUBLIC}/v1/twilio/status"
    assert sent.get("ValidityPeriod") == "1800"
    assert sent.body and "Émilie" in sent.body
    record = delivery.record(payload)
    assert record["status"] == "accepted" and record["provider_id"] == sent.sid

    assert delivery.fake.callback(sent.sid, "sent") == 200
    assert delivery.fake.callback(sent.sid, "delivered") == 200
    assert delivery.record(payload)["status"] == "delivered"
    counts = delivery.client.hgetall(delivery.intake.keys.stats("2026112415"))
    assert {k.decode(): int(v) for k, v in counts.items()} == {
        "accepted|sms|confirmation|fr|plateau|": 1,
        "sent|sms|confirmation|fr|plateau|": 1,
        "delivered|sms|confirmation|fr|plateau|": 1,
    }


def test_callbacks_out_of_order_or_twice_never_move_a_record_back(delivery: Delivery) -> None:
    (payload,) = delivery.book("sms")
    delivery.step(payload)
    sid = delivery.fake.messages[0].sid

    assert delivery.fake.callback(sid, "delivered") == 200
    assert delivery.fake.callback(sid, "sent") == 200
    assert delivery.fake.callback(sid, "delivered") == 200
    assert delivery.fake.callback(sid, "queued") == 200

    record = delivery.record(payload)
    assert record["status"] == "delivered" and record["provider_status"] == "delivered"


def test_an_unsigned_or_forged_callback_is_refused_and_changes_nothing(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    delivery.step(payload)
    sid = delivery.fake.messages[0].sid
    before = delivery.record(payload)
    url = f"{PUBLIC}/v1/twilio/status"
    form = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30007"}

    assert delivery.fake.callback_raw(url, form, signature=None) == 403
    assert delivery.fake.callback_raw(url, form, signature="bm90IGEgc2lnbmF0dXJl") == 403
    forged = delivery.fake.sign(url, {**form, "ErrorCode": "30003"})
    assert delivery.fake.callback_raw(url, form, signature=forged) == 403

    assert delivery.record(payload) == before


def test_a_transient_refusal_is_retried_shortly_and_then_sent_once(delivery: Delivery) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.too_many_requests(retry_after=20))

    with pytest.raises(RetryLater) as retry:
        delivery.step(payload)
    assert retry.value.delay == 20_000 and retry.value.counted
    assert delivery.record(payload)["status"] == "retrying"

    assert delivery.step(payload) is SendOutcome.SENT
    assert len(delivery.fake.messages) == 1
    assert delivery.record(payload)["attempts"] == "2"


def test_a_permanent_refusal_stops_with_the_providers_code(delivery: Delivery) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.error(21211))

    assert delivery.step(payload) is SendOutcome.FAILED

    record = delivery.record(payload)
    assert record["status"] == "failed" and record["error_code"] == "21211"
    assert record["reason"] == "provider_permanent"
    assert delivery.step(payload) is SendOutcome.ALREADY_DONE


def test_21610_marks_the_number_opted_out_and_later_sms_are_suppressed(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.error(21610))

    assert delivery.step(payload) is SendOutcome.FAILED
    assert OptOutStore(delivery.client, delivery.settings).is_opted_out(MOBILE)

    delivery.clock.set(local(2026, 11, 28, 9, 30))
    due = delivery.intake.schedule.claim(delivery.clock())
    reminder = json.loads(due[0])
    assert delivery.step(reminder) is SendOutcome.SUPPRESSED
    assert delivery.record(reminder)["reason"] == "opted_out"
    assert len(delivery.fake.requests) == 1


def test_a_configuration_error_stops_loudly(
    delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.error(20003, status=401))

    with caplog.at_level(logging.ERROR):
        assert delivery.step(payload) is SendOutcome.FAILED

    assert delivery.record(payload)["reason"] == "provider_configuration"
    assert any("CONFIGURATION" in r.getMessage() for r in caplog.records)
    assert not any(MOBILE in r.getMessage() for r in caplog.records)


def test_a_5xx_after_twilio_took_the_sms_is_found_and_not_sent_again(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    # Twilio took the message but answered 500: the next attempt asks before sending.
    delivery.fake.script_messages(Outcome.server_error(500, accepted=True))

    with pytest.raises(RetryLater):
        delivery.step(payload)
    assert delivery.record(payload)["status"] == "submitting"
    delivery.clock.advance(dt.timedelta(seconds=10))  # the retry delay
    assert delivery.step(payload) is SendOutcome.SENT

    (taken,) = delivery.fake.messages
    record = delivery.record(payload)
    assert record["status"] == "accepted" and record["provider_id"] == taken.sid
    assert "ambiguous" not in record and record["attempts"] == "1"
    (lookup,) = delivery.fake.lookups
    assert lookup.get("To") == MOBILE and lookup.get("From") == "+15145550000"
    assert delivery.fake.callback(taken.sid, "delivered") == 200
    assert delivery.record(payload)["status"] == "delivered"


def test_a_5xx_before_twilio_took_the_sms_is_sent_again_and_the_resend_counted(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.server_error(500, accepted=False))

    assert delivery.step_after_a_retry(payload) is SendOutcome.SENT

    (taken,) = delivery.fake.messages
    record = delivery.record(payload)
    assert record["status"] == "accepted" and record["provider_id"] == taken.sid
    assert record["ambiguous"] == "1" and record["attempts"] == "2"


def test_the_same_text_sent_before_the_interrupted_attempt_is_not_taken_for_it(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    assert delivery.step(payload) is SendOutcome.SENT  # an earlier, finished send
    key = PlannedMessage.from_dict(payload).key
    delivery.client.delete(delivery.intake.keys.delivery(key))
    delivery.clock.advance(dt.timedelta(hours=2))  # long before the attempt below
    delivery.fake.script_messages(Outcome.timeout(3, accepted=False))

    assert delivery.step_after_a_retry(payload) is SendOutcome.SENT

    first, second = delivery.fake.messages
    assert first.body == second.body
    assert delivery.record(payload)["provider_id"] == second.sid


def test_while_twilio_cannot_say_the_message_waits_neither_sent_nor_given_up(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.timeout(3, accepted=False))
    with pytest.raises(RetryLater):
        delivery.step(payload)
    delivery.fake.fail_all(Outcome.server_error(503))  # Twilio down: no list either

    for _ in range(3):
        delivery.clock.advance(dt.timedelta(seconds=10))
        with pytest.raises(RetryLater):
            delivery.step(payload)
        assert delivery.record(payload)["status"] == "submitting"
    delivery.fake.reset()
    delivery.clock.advance(dt.timedelta(seconds=10))
    assert delivery.step(payload) is SendOutcome.SENT

    assert len(delivery.fake.messages) == 1
    assert [r.status for r in delivery.fake.lookups] == [503, 503, 503, 200]
    assert delivery.record(payload)["ambiguous"] == "1"


def test_a_lookup_refused_for_our_account_stops_the_message_loudly(
    delivery: Delivery, caplog: pytest.LogCaptureFixture,
) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.timeout(3, accepted=False))
    with pytest.raises(RetryLater):
        delivery.step(payload)
    delivery.fake.fail_all(Outcome.error(20003))  # the auth token was changed meanwhile
    delivery.clock.advance(dt.timedelta(seconds=10))

    with caplog.at_level(logging.ERROR):
        assert delivery.step(payload) is SendOutcome.FAILED

    record = delivery.record(payload)
    assert (record["reason"], record["error_code"]) == ("provider_configuration", "20003")
    assert [r.status for r in delivery.fake.lookups] == [401]
    assert delivery.fake.messages == []
    assert any("CONFIGURATION" in r.getMessage() for r in caplog.records)


def test_an_unanswered_call_that_twilio_placed_is_found_and_not_placed_again(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("voice")
    delivery.fake.script_calls(Outcome.timeout(3, accepted=True))

    assert delivery.step_after_a_retry(payload) is SendOutcome.SENT

    (call,) = delivery.fake.calls
    assert delivery.record(payload)["provider_id"] == call.sid


@pytest.mark.parametrize("mode", ["voice", "sms"])
def test_another_messages_call_or_text_a_minute_earlier_is_not_taken_for_the_interrupted_one(
    delivery: Delivery, mode: str,
) -> None:
    # Two appointments of one patient booked a minute apart: the same number, the same
    # caller ID (and for an SMS, possibly the same words), both within the look-up's span.
    (first,) = delivery.book(mode, reference="0000000301")
    assert delivery.step(first) is SendOutcome.SENT
    delivery.clock.advance(dt.timedelta(seconds=20))
    (second,) = delivery.book(mode, reference="0000000302")
    script = delivery.fake.script_calls if mode == "voice" else delivery.fake.script_messages
    script(Outcome.timeout(3, accepted=False))

    assert delivery.step_after_a_retry(second) is SendOutcome.SENT

    made = delivery.fake.calls if mode == "voice" else delivery.fake.messages
    assert len(made) == 2
    assert delivery.record(first)["provider_id"] == made[0].sid
    record = delivery.record(second)
    assert record["provider_id"] == made[1].sid and record["ambiguous"] == "1"


def test_the_providers_answer_times_are_recorded_for_the_metrics(
    delivery: Delivery, redis_client: redis.Redis,
) -> None:
    ticks = iter([100.0, 100.2, 200.0, 203.5])  # the timer: each send's start and end
    step = SendStep(redis_client, delivery.settings, channels=delivery.step.channels,
                    opt_outs=OptOutStore(redis_client, delivery.settings), limiters={},
                    clock=delivery.clock, timer=lambda: next(ticks))
    first, second = (delivery.book("sms", reference=f"000000020{n}")[0] for n in range(2))
    delivery.fake.script_messages(Outcome.ok(), Outcome.error(30003))

    assert step(first) is SendOutcome.SENT
    with pytest.raises(RetryLater):
        step(second)

    latency = ProviderLatency(redis_client, keys=delivery.intake.keys).read()
    assert set(latency) == {Channel.SMS}
    buckets = dict(latency[Channel.SMS].buckets)
    assert latency[Channel.SMS].count == 2
    assert latency[Channel.SMS].total == pytest.approx(3.7)
    assert (buckets[0.1], buckets[0.25], buckets[2.5], buckets[5.0]) == (0, 1, 1, 2)


def test_an_interrupted_email_is_sent_again_once_then_given_up(
    delivery: Delivery, redis_client: redis.Redis,
) -> None:
    """An SMTP relay cannot be asked what it took: one blind resend, then ``interrupted``."""
    settings = delivery.settings.model_copy(update={"smtp_timeout": dt.timedelta(seconds=0.5)})
    step = SendStep(redis_client, settings,
                    channels=channel_clients(settings, clock=delivery.clock,
                                             redis=redis_client),
                    opt_outs=OptOutStore(redis_client, settings), limiters={},
                    clock=delivery.clock)
    (payload,) = delivery.book("email")
    delivery.smtp.delay(3)  # past the timeout: the relay may have queued it

    for _ in range(2):
        with pytest.raises(RetryLater):
            step(payload)
        delivery.clock.advance(dt.timedelta(seconds=10))
    assert step(payload) is SendOutcome.FAILED

    record = delivery.record(payload)
    assert record["reason"] == "interrupted" and record["ambiguous"] == "1"
    assert record["attempts"] == "2"
    step.channels[Channel.EMAIL].close()


def test_no_retry_goes_past_the_deadline(delivery: Delivery) -> None:
    (payload,) = delivery.book("sms")
    delivery.clock.set(START - dt.timedelta(seconds=5))
    delivery.fake.script_messages(Outcome.error(30003, status=400))

    assert delivery.step(payload) is SendOutcome.FAILED
    assert delivery.record(payload)["reason"] == "past_deadline"


def test_the_rate_limit_counts_segments_and_waits_without_burning_retries(
    delivery: Delivery,
) -> None:
    from notifier.actors import rate_limiters

    limiter = rate_limiters(delivery.settings)[Channel.SMS]
    step = SendStep(delivery.client, delivery.settings, channels=delivery.step.channels,
                    opt_outs=OptOutStore(delivery.client, delivery.settings),
                    limiters={Channel.SMS: limiter}, clock=delivery.clock,
                    sleep=delivery.waits.append)
    payloads = [delivery.book("sms", reference=f"000000010{n}")[0] for n in range(4)]

    for payload in payloads[:3]:
        assert step(payload) is SendOutcome.SENT
    segments = int(delivery.fake.messages[0].get("NumSegments") or 2)
    assert delivery.waits == [segments * 1.0, segments * 2.0]
    with pytest.raises(RetryLater) as throttled:
        step(payloads[3])
    assert not throttled.value.counted
    assert throttled.value.delay is not None and throttled.value.delay > 5_000
    assert _retry_send(1_000, _as_retry(throttled.value))


def test_a_text_sent_at_its_first_try_costs_three_round_trips_and_one_after_a_wait(
    delivery: Delivery, redis_url: str,
) -> None:
    from notifier.actors import rate_limiters

    own = redis.Redis.from_url(redis_url)  # the step's own connection, told apart by MONITOR
    step = SendStep(own, delivery.settings,
                    channels=channel_clients(delivery.settings, clock=delivery.clock, redis=own),
                    opt_outs=OptOutStore(own, delivery.settings),
                    limiters=rate_limiters(delivery.settings), clock=delivery.clock,
                    sleep=delivery.waits.append)
    first, second = (delivery.book("sms", reference=f"000000040{n}")[0] for n in range(2))
    assert step(first) is SendOutcome.SENT  # Redis learns the scripts
    outcomes: list[SendOutcome] = []

    sent = commands_sent(redis_url, lambda: outcomes.append(step(second)), by=own)

    assert outcomes == [SendOutcome.SENT]
    # The lock and the reads; the opt-out, the rate slot and "submitting"; after the wait
    # for the slot, the opt-out again; the answer.
    assert sent == ["EVALSHA", "EVALSHA", "SISMEMBER", "EVALSHA"]
    record = delivery.record(second)
    assert record["attempts"] == "1" and record["provider_id"].startswith("SM")
    assert delivery.waits == [int(delivery.fake.messages[0].get("NumSegments") or 2) * 1.0]
    own.close()


def test_9_pressed_on_a_call_stops_the_later_calls_but_not_the_sms(
    delivery: Delivery,
) -> None:
    confirmation_call, confirmation_sms = sorted(
        delivery.book("voice", "sms"), key=lambda p: PlannedMessage.from_dict(p).channel != "voice")
    assert delivery.step(confirmation_call) is SendOutcome.SENT
    (call,) = delivery.fake.calls
    key = PlannedMessage.from_dict(confirmation_call).key
    url = keypress_url(delivery.settings, key=key, lang=Lang.FR)
    form = {"AccountSid": delivery.fake.account_sid, "CallSid": call.sid, "Digits": "9",
            "From": "+15145550001", "To": HOME}
    assert delivery.fake.callback_raw(url, form, signature=delivery.fake.sign(url, form)) == 200

    delivery.clock.set(local(2026, 11, 28, 9, 30))  # the reminders three days before
    due = [json.loads(p) for p in delivery.intake.schedule.claim(delivery.clock())]
    by_channel = {str(PlannedMessage.from_dict(p).channel): p for p in due}
    assert delivery.step(by_channel["voice"]) is SendOutcome.SUPPRESSED
    assert delivery.record(by_channel["voice"])["reason"] == "opted_out"
    assert delivery.step(by_channel["sms"]) is SendOutcome.SENT
    assert len(delivery.fake.calls) == 1
    assert delivery.step(confirmation_sms) is SendOutcome.SENT


def test_test_recipients_come_back_through_the_outcome_path_and_reach_no_provider(
    delivery: Delivery,
) -> None:
    now = delivery.clock()
    patient = {"first_name": "Test", "last_name": "Integration", "language": "en",
               "mobile_phone": "+15555550100", "home_phone": "+15555550101",
               "email": "Temporary-Failure@example.invalid", "modes": ["sms", "voice", "email"]}
    delivery.intake.accept(event("booked", start=START, at=now, patient=patient), now)
    claimed = delivery.intake.schedule.claim(now)
    delivery.intake.schedule.ack(claimed)
    by_channel = {str(PlannedMessage.from_dict(p).channel): p
                  for p in map(json.loads, claimed)}

    assert delivery.step(by_channel["sms"]) is SendOutcome.SENT
    assert delivery.step(by_channel["voice"]) is SendOutcome.FAILED
    with pytest.raises(RetryLater):
        delivery.step(by_channel["email"])

    sms, voice, email = (delivery.record(by_channel[c]) for c in ("sms", "voice", "email"))
    assert sms["status"] == "delivered"
    assert (voice["status"], voice["reason"], voice["error_code"]) == (
        "failed", "provider_permanent", "21211")
    assert (email["status"], email["error_code"]) == ("retrying", "451")
    delivery.clock.set(START - dt.timedelta(seconds=5))  # the retry would come too late
    assert delivery.step(by_channel["email"]) is SendOutcome.FAILED
    assert delivery.record(by_channel["email"])["reason"] == "past_deadline"
    assert delivery.fake.requests == [] and delivery.smtp.messages == []


def test_calls_are_paced_per_account_without_burning_retries(delivery: Delivery) -> None:
    from notifier.actors import rate_limiters

    settings = delivery.settings.model_copy(update={"voice_calls_per_second": 0.5})
    limiter = rate_limiters(settings)[Channel.VOICE]
    step = SendStep(delivery.client, settings, channels=delivery.step.channels,
                    opt_outs=OptOutStore(delivery.client, settings),
                    limiters={Channel.VOICE: limiter}, clock=delivery.clock,
                    sleep=delivery.waits.append)
    payloads = [delivery.book("voice", reference=f"000000030{n}")[0] for n in range(4)]

    for payload in payloads[:3]:
        assert step(payload) is SendOutcome.SENT
    assert delivery.waits == [2.0, 4.0]  # one call every two seconds, on the hand clock
    # A fourth would wait past the limiter's longest wait.
    with pytest.raises(RetryLater) as throttled:
        step(payloads[3])
    assert not throttled.value.counted
    assert len(delivery.fake.calls) == 3


def test_a_delivery_record_expires_after_the_retention_period(delivery: Delivery) -> None:
    (payload,) = delivery.book("sms")
    assert delivery.step(payload) is SendOutcome.SENT
    (sent,) = delivery.fake.messages
    key = PlannedMessage.from_dict(payload).key

    retention = delivery.settings.delivery_retention.total_seconds()
    for name in (delivery.intake.keys.delivery(key), delivery.intake.keys.provider(sent.sid)):
        assert retention - 5 <= delivery.client.ttl(name) <= retention, name


def test_an_email_goes_through_smtp_as_text_and_html(delivery: Delivery) -> None:
    (payload,) = delivery.book("email")

    assert delivery.step(payload) is SendOutcome.SENT

    (received,) = delivery.smtp.messages
    message = received.message
    assert message["To"] == "emilie.tremblay@example.org"
    assert "Clinique médicale du Plateau" in str(message["From"])
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= kinds
    assert delivery.record(payload)["status"] == "sent"


def test_an_email_is_built_once_per_try(delivery: Delivery) -> None:
    """The email checked before the record says "submitting" is the one sent: building it
    again would read the stored appointment again (for the clinic's name) and cost as
    much CPU as the rest of the send."""
    (payload,) = delivery.book("email")
    before = get_calls(delivery.client)

    assert delivery.step(payload) is SendOutcome.SENT

    # The send step's read of the record and appointment, then the clinic's name: once.
    assert get_calls(delivery.client) - before == 2
    (received,) = delivery.smtp.messages
    assert received.message["Message-ID"] == f"<{delivery.record(payload)['provider_id']}>"


def get_calls(client: redis.Redis) -> int:
    """How many GET commands the Redis server has run."""
    stats = client.info("commandstats").get("cmdstat_get", {})
    return int(stats.get("calls", 0))


def test_a_call_is_placed_and_completed(delivery: Delivery) -> None:
    (payload,) = delivery.book("voice")

    assert delivery.step(payload) is SendOutcome.SENT

    (call,) = delivery.fake.calls
    assert call.twiml and 'language="fr-CA"' in call.twiml
    assert delivery.fake.callback(call.sid, "completed", answered_by="machine_end_beep") == 200
    record = delivery.record(payload)
    assert record["status"] == "delivered" and record["answered_by"] == "machine_end_beep"


def test_an_arret_that_comes_in_while_a_text_waits_for_its_turn_stops_it(
    delivery: Delivery,
) -> None:
    from notifier.actors import rate_limiters

    first, second = (delivery.book("sms", reference=f"000000050{n}")[0] for n in range(2))
    opt_outs = OptOutStore(delivery.client, delivery.settings)
    number = "+15145550188"  # the booking's mobile number

    def wait_while_the_patient_texts_arret(seconds: float) -> None:
        delivery.waits.append(seconds)
        opt_outs.opt_out(number, source=OptOutSource.SMS_KEYWORD, keyword="ARRET",
                         now=delivery.clock())

    step = SendStep(delivery.client, delivery.settings,
                    channels=channel_clients(delivery.settings, clock=delivery.clock),
                    opt_outs=opt_outs, limiters=rate_limiters(delivery.settings),
                    clock=delivery.clock, sleep=wait_while_the_patient_texts_arret)
    assert step(first) is SendOutcome.SENT

    assert step(second) is SendOutcome.SUPPRESSED

    assert delivery.waits and delivery.waits[0] > 0  # it did wait for the rate limit
    assert len(delivery.fake.messages) == 1
    record = delivery.record(second)
    assert (record["status"], record["reason"]) == ("suppressed", "opted_out")
