"""The SMS and voice clients, with the real ``twilio`` client, against the fake Twilio."""

from __future__ import annotations

import datetime as dt
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from notifier.channels.registry import channel_clients
from notifier.channels.test_recipients import TestRecipientClient
from notifier.channels.twilio.sms import TwilioSmsClient
from notifier.channels.twilio.voice import CALL_TWIML_TTL, TwilioVoiceClient, call_key
from notifier.domain import Channel, Kind, Lang, Location
from notifier.errors import DeliveryError, FailureClass
from notifier.local_redis import free_port
from notifier.messages.catalogue import Rendered, render
from notifier.messages.samples import SAMPLE_LOCATION, SAMPLE_NOW, sample_state
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from tests.fakes.conftest_fixtures import fake_twilio
from tests.fakes.twilio_server import FakeTwilio, Outcome

__all__ = ["fake_twilio"]  # the fakes' fixtures, used below

PUBLIC = "https://gateway.example.org"
SMS_FROM, VOICE_FROM = "+15145550100", "+15145550101"
MOBILE, HOME = "+15145550188", "+15145550199"
# SAMPLE_NOW is Friday 10:00 in Montréal: inside every window.
NOW = SAMPLE_NOW


def settings_for(fake: FakeTwilio, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        **fake.settings_overrides(),
        "public_base_url": PUBLIC,
        "twilio_sms_from": SMS_FROM,
        "twilio_voice_from": VOICE_FROM,
        "twilio_timeout": dt.timedelta(seconds=5),
        **overrides,
    }
    return Settings(**values)


def planned(channel: Channel, kind: Kind = Kind.REMINDER) -> PlannedMessage:
    state = sample_state(Lang.FR)
    return PlannedMessage(
        reference=state.appointment.reference, kind=kind, channel=channel, version=1,
        send_at=NOW, deadline=NOW + dt.timedelta(days=1), start=state.appointment.start,
        offset_seconds=86400 if kind is Kind.REMINDER else None,
    )


def rendered(channel: Channel, lang: Lang, settings: Settings) -> Rendered:
    return render(Kind.REMINDER, channel, sample_state(lang), settings, NOW)


def sms_client(fake: FakeTwilio, **overrides: Any) -> TwilioSmsClient:
    return TwilioSmsClient(settings_for(fake, **overrides))


def send_sms(client: TwilioSmsClient, lang: Lang = Lang.FR) -> Any:
    return client.send(planned(Channel.SMS), rendered(Channel.SMS, lang, client.settings), MOBILE)


def sms_refusal(client: TwilioSmsClient) -> DeliveryError:
    with pytest.raises(DeliveryError) as raised:
        send_sms(client)
    return raised.value


# -- SMS ------------------------------------------------------------------------------------


def test_an_sms_goes_out_with_the_sender_callback_and_validity(fake_twilio: FakeTwilio) -> None:
    client = sms_client(fake_twilio, sms_validity=dt.timedelta(minutes=20))
    text = rendered(Channel.SMS, Lang.FR, client.settings).text

    receipt = send_sms(client)

    (record,) = fake_twilio.messages
    assert receipt.provider_id == record.sid and receipt.status == "accepted"
    assert record.to == MOBILE and record.from_ == SMS_FROM
    assert record.body == text
    assert record.status_callback == f"{PUBLIC}/v1/twilio/status"
    assert record.get("ValidityPeriod") == "1200"
    # The body goes out as the catalogue counted it: no re-encoding by Twilio.
    assert record.get("SmartEncoded") == "false"
    assert record.get("MessagingServiceSid") is None


def test_a_messaging_service_replaces_the_sender_number(fake_twilio: FakeTwilio) -> None:
    client = sms_client(fake_twilio, twilio_sms_from=None, twilio_messaging_service_sid="MG1")

    receipt = send_sms(client)

    (record,) = fake_twilio.messages
    assert record.get("MessagingServiceSid") == "MG1" and record.from_ is None
    assert receipt.status == "accepted"


def test_the_validity_period_stays_within_twilios_bounds(fake_twilio: FakeTwilio) -> None:
    send_sms(sms_client(fake_twilio, sms_validity=dt.timedelta(hours=20)))
    assert fake_twilio.messages[-1].get("ValidityPeriod") == "36000"


@pytest.mark.parametrize(
    ("outcome", "failure", "code"),
    [
        (Outcome.error(21610), FailureClass.PERMANENT, "21610"),
        (Outcome.error(21211), FailureClass.PERMANENT, "21211"),
        (Outcome.error(21614), FailureClass.PERMANENT, "21614"),
        (Outcome.error(21611), FailureClass.TRANSIENT, "21611"),
        (Outcome.error(21408), FailureClass.CONFIGURATION, "21408"),
        (Outcome.error(21606), FailureClass.CONFIGURATION, "21606"),
        (Outcome.too_many_requests(), FailureClass.TRANSIENT, "20429"),
        (Outcome.server_error(500), FailureClass.AMBIGUOUS, "20500"),
        (Outcome.server_error(502, accepted=True), FailureClass.AMBIGUOUS, "20502"),
        (Outcome.server_error(503), FailureClass.AMBIGUOUS, "20503"),
    ],
)
def test_each_refusal_becomes_its_failure_class(
    fake_twilio: FakeTwilio, outcome: Outcome, failure: FailureClass, code: str
) -> None:
    fake_twilio.script_messages(outcome)

    error = sms_refusal(sms_client(fake_twilio))

    assert (error.failure, error.code) == (failure, code)
    assert error.opted_out is (code == "21610")
    assert MOBILE not in str(error) and "+1514" not in error.detail
    # One request, whatever the answer: the library never sends it again by itself.
    assert len(fake_twilio.requests) == 1


def test_a_rate_limit_passes_on_the_wait_twilio_asked_for(fake_twilio: FakeTwilio) -> None:
    fake_twilio.script_messages(Outcome.too_many_requests(retry_after=7))

    error = sms_refusal(sms_client(fake_twilio))

    assert error.failure is FailureClass.TRANSIENT and error.retry_after == 7.0


def test_wrong_credentials_are_a_configuration_failure(fake_twilio: FakeTwilio) -> None:
    error = sms_refusal(sms_client(fake_twilio, twilio_auth_token="0" * 32))
    assert (error.failure, error.code) == (FailureClass.CONFIGURATION, "20003")


def test_a_wrong_account_is_a_configuration_failure(fake_twilio: FakeTwilio) -> None:
    error = sms_refusal(sms_client(fake_twilio, twilio_account_sid="AC" + "0" * 32))
    assert error.failure is FailureClass.CONFIGURATION


@pytest.mark.parametrize("taken", [False, True])
def test_a_timeout_is_ambiguous_and_is_not_retried_by_the_library(
    fake_twilio: FakeTwilio, taken: bool
) -> None:
    fake_twilio.script_messages(Outcome.timeout(30, accepted=taken))
    client = sms_client(fake_twilio, twilio_timeout=dt.timedelta(seconds=0.5))

    began = time.monotonic()
    error = sms_refusal(client)

    assert time.monotonic() - began < 10  # the configured timeout ended the wait
    assert (error.failure, error.code) == (FailureClass.AMBIGUOUS, "timeout")
    assert len(fake_twilio.requests) == 1
    # Why it is ambiguous: the message may exist all the same.
    assert len(fake_twilio.messages) == (1 if taken else 0)


def test_no_connection_at_all_is_transient() -> None:
    settings = Settings(
        sms_provider="twilio", twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="2" * 32, twilio_api_base_url=f"http://127.0.0.1:{free_port()}",
        public_base_url=PUBLIC, twilio_sms_from=SMS_FROM,
    )
    with pytest.raises(DeliveryError) as raised:
        send_sms(TwilioSmsClient(settings))
    assert (raised.value.failure, raised.value.code) == (FailureClass.TRANSIENT, "connection")


def test_the_client_works_again_after_a_failure(fake_twilio: FakeTwilio) -> None:
    client = sms_client(fake_twilio)
    fake_twilio.script_messages(Outcome.server_error(500), Outcome.ok())

    sms_refusal(client)
    receipt = send_sms(client)

    assert receipt.provider_id == fake_twilio.messages[-1].sid


# -- voice ----------------------------------------------------------------------------------


@pytest.fixture
def voice(fake_twilio: FakeTwilio, redis_client: redis.Redis) -> Iterator[VoiceRig]:
    yield VoiceRig(fake_twilio, redis_client)


class VoiceRig:
    """A voice client on the fake Twilio and the tests' Redis, with a hand clock."""

    def __init__(self, fake: FakeTwilio, redis_client: redis.Redis) -> None:
        self.fake, self.redis = fake, redis_client
        self.now = NOW
        self.location: Location | None = SAMPLE_LOCATION
        self.settings = settings_for(fake)
        self.client = TwilioVoiceClient(
            self.settings, redis=redis_client, locations=lambda _: self.location,
            clock=lambda: self.now,
        )

    def call(self, lang: Lang = Lang.FR) -> Any:
        text = rendered(Channel.VOICE, lang, self.settings)
        return self.client.send(planned(Channel.VOICE), text, HOME)

    def refusal(self) -> DeliveryError:
        with pytest.raises(DeliveryError) as raised:
            self.call()
        return raised.value


@pytest.mark.parametrize(
    ("lang", "language", "voice_name"),
    [(Lang.FR, "fr-CA", "Polly.Gabrielle-Neural"), (Lang.EN, "en-US", "Polly.Joanna-Neural")],
)
def test_a_call_speaks_the_message_in_the_patients_language(
    voice: VoiceRig, lang: Lang, language: str, voice_name: str
) -> None:
    receipt = voice.call(lang)

    (record,) = voice.fake.calls
    assert receipt.provider_id == record.sid and receipt.status == "accepted"
    assert record.to == HOME and record.from_ == VOICE_FROM
    assert record.twiml is not None
    root = ET.fromstring(record.twiml)
    say = root.find("Gather/Say")
    assert say is not None
    assert (say.get("language"), say.get("voice")) == (language, voice_name)
    assert rendered(Channel.VOICE, lang, voice.settings).text in (say.text or "")


def test_a_call_asks_for_progress_callbacks_and_leaves_voicemail(voice: VoiceRig) -> None:
    voice.call()

    (record,) = voice.fake.calls
    assert record.status_callback == f"{PUBLIC}/v1/twilio/status"
    assert record.fields["StatusCallbackEvent"] == ("initiated", "ringing", "answered", "completed")
    assert record.get("StatusCallbackMethod") == "POST"
    assert record.get("MachineDetection") == "DetectMessageEnd"
    assert record.get("Timeout") == "45"


def test_the_calls_twiml_is_kept_for_press_1(voice: VoiceRig) -> None:
    voice.call()

    (record,) = voice.fake.calls
    key = call_key(voice.settings.queue_prefix, planned(Channel.VOICE).key)
    assert voice.redis.get(key) == (record.twiml or "").encode()
    assert 0 < voice.redis.ttl(key) <= CALL_TWIML_TTL.total_seconds()


def test_no_call_outside_the_voice_window_until_it_opens(voice: VoiceRig) -> None:
    # Friday 22:00 in Montréal: calls close at 21:30; Saturday they open at 10:00.
    voice.now = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)

    error = voice.refusal()

    assert (error.failure, error.code) == (FailureClass.TRANSIENT, "outside-window")
    assert error.retry_after == 12 * 3600
    assert voice.fake.requests == []


def test_no_call_when_the_appointment_is_gone(voice: VoiceRig) -> None:
    voice.location = None
    assert voice.refusal().failure is FailureClass.PERMANENT
    assert voice.fake.requests == []


@pytest.mark.parametrize(
    ("outcome", "failure"),
    [
        (Outcome.error(21211), FailureClass.PERMANENT),
        (Outcome.error(21408), FailureClass.CONFIGURATION),
        (Outcome.too_many_requests(retry_after=2), FailureClass.TRANSIENT),
        (Outcome.server_error(502, accepted=True), FailureClass.AMBIGUOUS),
    ],
)
def test_call_refusals_are_classified_like_sms_ones(
    voice: VoiceRig, outcome: Outcome, failure: FailureClass
) -> None:
    voice.fake.script_calls(outcome)
    assert voice.refusal().failure is failure


# -- the registry ---------------------------------------------------------------------------


def test_the_registry_puts_twilio_behind_the_test_recipients(
    fake_twilio: FakeTwilio, redis_client: redis.Redis
) -> None:
    settings = settings_for(fake_twilio)

    clients = channel_clients(settings, clock=lambda: NOW, redis=redis_client)

    sms = clients[Channel.SMS]
    assert isinstance(sms, TestRecipientClient) and isinstance(sms.inner, TwilioSmsClient)
    assert isinstance(clients[Channel.VOICE], TestRecipientClient)
    assert not sms.idempotent
    text = rendered(Channel.SMS, Lang.FR, settings)
    sms.send(planned(Channel.SMS), text, "+15555550100")  # a test number: not sent
    assert fake_twilio.requests == []
    sms.send(planned(Channel.SMS), text, MOBILE)
    assert [r.to for r in fake_twilio.messages] == [MOBILE]
