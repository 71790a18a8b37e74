"""The call keypad webhook, signed like Twilio, through the real app and Redis."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import redis
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from notifier.channels.twilio.twiml import KEYPRESS_PATH, spoken
from notifier.channels.twilio.voice import TwilioVoiceClient, call_key
from notifier.domain import Channel, Kind, Lang
from notifier.messages.catalogue import render
from notifier.messages.samples import SAMPLE_LOCATION, SAMPLE_NOW, sample_state
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from notifier.store.optouts import OptOutStore
from notifier.web import create_app
from tests.fakes.conftest_fixtures import fake_twilio
from tests.fakes.twilio_server import FakeTwilio

__all__ = ["fake_twilio"]  # the fakes' fixtures, used below

PUBLIC = "https://gateway.example.org"
TOKEN = "twilio-auth-token-0123456789abcdef"
HOME, CALLER_ID = "+15145550199", "+15145550101"
KEY = "1234567890:reminder:voice:86400:20261201T1430Z"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        api_token="integration-test-token-0123456789",
        public_base_url=PUBLIC,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=TOKEN,
    )


@pytest.fixture
def http(settings: Settings, redis_client: redis.Redis) -> Iterator[TestClient]:
    app = create_app(settings, redis=redis_client, clock=lambda: SAMPLE_NOW)
    with TestClient(app) as client:
        yield client


def keypress_url(key: str = KEY, lang: Lang = Lang.FR) -> str:
    return f"{PUBLIC}{KEYPRESS_PATH}?{urlencode({'key': key, 'lang': str(lang)})}"


def press(
    http: TestClient, digits: str, *, url: str | None = None, token: str = TOKEN,
    signed: bool = True,
) -> tuple[int, ET.Element | None]:
    """Post a keypress as Twilio would: to the public URL, signed with the auth token."""
    url = url or keypress_url()
    form = {"CallSid": "CA" + "2" * 32, "Digits": digits, "To": HOME, "From": CALLER_ID,
            "AccountSid": "AC" + "1" * 32}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signed:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, form)
    parts = urlsplit(url)
    answer = http.post(f"{parts.path}?{parts.query}", content=urlencode(form), headers=headers)
    if answer.status_code != 200:
        return answer.status_code, None
    assert answer.headers["content-type"].startswith("text/xml")
    return 200, ET.fromstring(answer.text)


def spoken_texts(root: ET.Element) -> list[str]:
    return [say.text or "" for say in root.iter("Say")]


def test_1_repeats_the_calls_message(
    http: TestClient, redis_client: redis.Redis, settings: Settings
) -> None:
    twiml = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1">'
        "<Say>Le message.</Say></Gather></Response>"
    )
    redis_client.set(call_key(settings.queue_prefix, KEY), twiml)

    status, root = press(http, "1")

    assert status == 200 and root is not None
    assert spoken_texts(root) == ["Le message."]


@pytest.mark.parametrize("lang", list(Lang))
def test_1_after_the_message_expired_says_so_and_hangs_up(
    http: TestClient, settings: Settings, lang: Lang
) -> None:
    _, root = press(http, "1", url=keypress_url(lang=lang))

    assert root is not None
    assert spoken_texts(root) == [spoken("expired", lang, settings)]
    assert root[-1].tag == "Hangup"


@pytest.mark.parametrize("lang", list(Lang))
def test_9_stops_automated_calls_and_says_so_in_the_patients_language(
    http: TestClient, redis_client: redis.Redis, settings: Settings, lang: Lang
) -> None:
    store = OptOutStore(redis_client, settings)
    assert not store.is_opted_out(HOME, Channel.VOICE)

    status, root = press(http, "9", url=keypress_url(lang=lang))

    assert status == 200 and root is not None
    assert spoken_texts(root) == [spoken("stopped", lang, settings)]
    assert root[-1].tag == "Hangup"
    assert store.is_opted_out(HOME, Channel.VOICE)
    assert not store.is_opted_out(HOME, Channel.SMS)  # a key on a call stops calls only
    (entry,) = store.audit(HOME)
    assert (entry.source, entry.keyword, entry.channel) == ("voice-keypress", "9", Channel.VOICE)
    assert entry.provider_message_id == "CA" + "2" * 32


def test_9_twice_is_recorded_once(
    http: TestClient, redis_client: redis.Redis, settings: Settings
) -> None:
    press(http, "9")
    status, root = press(http, "9")

    assert status == 200 and root is not None
    assert len(OptOutStore(redis_client, settings).audit(HOME)) == 1


@pytest.mark.parametrize("digits", ["5", "0", "*", ""])
def test_any_other_key_gets_the_choices_again(
    http: TestClient, redis_client: redis.Redis, settings: Settings, digits: str
) -> None:
    _, root = press(http, digits)

    assert root is not None
    gather = root.find("Gather")
    assert gather is not None and gather.get("action") == keypress_url()
    assert spoken_texts(gather) == [
        f"{spoken('invalid_key', Lang.FR, settings)} {spoken('stop_option', Lang.FR, settings)}"
    ]
    assert not OptOutStore(redis_client, settings).is_opted_out(HOME, Channel.VOICE)


@pytest.mark.parametrize(
    ("signed", "token"), [(False, TOKEN), (True, "another-accounts-token-0123456789")]
)
def test_an_unsigned_or_wrongly_signed_keypress_is_refused_and_changes_nothing(
    http: TestClient, redis_client: redis.Redis, settings: Settings, signed: bool, token: str
) -> None:
    status, _ = press(http, "9", signed=signed, token=token)

    assert status == 403
    assert not OptOutStore(redis_client, settings).is_opted_out(HOME, Channel.VOICE)


def test_a_signature_for_another_key_does_not_pass(http: TestClient) -> None:
    form = {"Digits": "9", "To": HOME}
    signature = RequestValidator(TOKEN).compute_signature(keypress_url(key="other"), form)
    answer = http.post(
        f"{KEYPRESS_PATH}?{urlencode({'key': KEY, 'lang': 'fr'})}", content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "X-Twilio-Signature": signature},
    )
    assert answer.status_code == 403


def test_a_placed_call_can_be_heard_again_from_its_own_menu(
    fake_twilio: FakeTwilio, redis_client: redis.Redis
) -> None:
    """The whole loop: the voice client places the call at the fake Twilio; the patient
    presses 1 on the menu the call's TwiML declares; the webhook answers the same TwiML."""
    settings = Settings(
        **fake_twilio.settings_overrides(), api_token="integration-test-token-0123456789",
        public_base_url=PUBLIC, twilio_sms_from=CALLER_ID, twilio_voice_from=CALLER_ID,
    )
    state = sample_state(Lang.EN)
    message = PlannedMessage(
        reference=state.appointment.reference, kind=Kind.REMINDER, channel=Channel.VOICE,
        version=1, send_at=SAMPLE_NOW, deadline=SAMPLE_NOW + dt.timedelta(days=1),
        start=state.appointment.start, offset_seconds=86400,
    )
    voice = TwilioVoiceClient(
        settings, redis=redis_client, locations=lambda _: SAMPLE_LOCATION,
        clock=lambda: SAMPLE_NOW,
    )
    voice.send(message, render(Kind.REMINDER, Channel.VOICE, state, settings, SAMPLE_NOW), HOME)
    (call,) = fake_twilio.calls
    action = ET.fromstring(call.twiml or "").find("Gather").get("action")  # type: ignore[union-attr]

    app = create_app(settings, redis=redis_client, clock=lambda: SAMPLE_NOW)
    with TestClient(app) as http:
        status, root = press(http, "1", url=action, token=fake_twilio.auth_token)

    assert status == 200 and root is not None
    assert ET.tostring(root) == ET.tostring(ET.fromstring(call.twiml or ""))
    assert "press 9" in spoken_texts(root)[0]
