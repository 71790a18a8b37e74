"""Strangers knocking on the Twilio webhooks: forged, unsigned, replayed, tampered and
oversized requests are refused (403/413) and leave Redis exactly as it was.

Each webhook is given a request that, were it accepted, would change something that
matters (an SMS opt-out, a delivery status and an opt-out, a voice opt-out); a control
test shows that the genuine request does change it, so every refusal below can fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import redis

from notifier.channels.twilio.twiml import KEYPRESS_PATH
from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.web.inbound import PATH as SMS_PATH
from notifier.web.twilio_signature import MAX_WEBHOOK_BYTES
from tests.factories import Clock
from tests.security.conftest import (
    PATIENT,
    PUBLIC_BASE_URL,
    TwilioWebhooks,
    redis_picture,
)

ACCOUNT_SID = "AC" + "0" * 32
SHORT_CODE = "+15145550000"
MESSAGE_SID = "SM" + "5" * 32
CALL_SID = "CA" + "7" * 32
SEND_KEY = "1234567890:reminder:sms:86400:20261201T1430Z"
STATUS_PATH = "/v1/twilio/status"


@dataclass(frozen=True)
class Webhook:
    """One webhook and a request to it that would change state if accepted.

    Parameters:
      name: for test ids.
      url: the public URL Twilio posts to (with its query, if any).
      params: the form parameters.
      changed: reads whether the request took effect.
    """

    name: str
    url: str
    params: dict[str, str]
    changed: Callable[[redis.Redis, Settings], bool]


def _sms_opted_out(client: redis.Redis, settings: Settings) -> bool:
    return OptOutStore(client, settings).is_opted_out(PATIENT.mobile_phone)


def _status_recorded(client: redis.Redis, settings: Settings) -> bool:
    record = _deliveries(client, settings).get(SEND_KEY)
    return record.get("status") == "failed" or _sms_opted_out(client, settings)


def _voice_opted_out(client: redis.Redis, settings: Settings) -> bool:
    return OptOutStore(client, settings).is_opted_out(PATIENT.home_phone, Channel.VOICE)


def _deliveries(client: redis.Redis, settings: Settings) -> DeliveryLog:
    return DeliveryLog(client, keys=Keys(settings.queue_prefix),
                       retention=settings.delivery_retention)


SMS_ARRET = Webhook(
    "sms",
    PUBLIC_BASE_URL + SMS_PATH,
    {"AccountSid": ACCOUNT_SID, "MessageSid": MESSAGE_SID, "From": PATIENT.mobile_phone,
     "To": SHORT_CODE, "Body": "ARRET", "NumMedia": "0"},
    _sms_opted_out,
)
STATUS_21610 = Webhook(
    "status",
    PUBLIC_BASE_URL + STATUS_PATH,
    {"AccountSid": ACCOUNT_SID, "MessageSid": MESSAGE_SID, "MessageStatus": "failed",
     "ErrorCode": "21610", "To": PATIENT.mobile_phone, "From": SHORT_CODE},
    _status_recorded,
)
KEYPRESS_9 = Webhook(
    "keypress",
    f"{PUBLIC_BASE_URL}{KEYPRESS_PATH}?{urlencode({'key': SEND_KEY, 'lang': 'fr'})}",
    {"AccountSid": ACCOUNT_SID, "CallSid": CALL_SID, "Digits": "9",
     "To": PATIENT.home_phone, "From": SHORT_CODE},
    _voice_opted_out,
)
WEBHOOKS = [SMS_ARRET, STATUS_21610, KEYPRESS_9]


@pytest.fixture(autouse=True)
def a_message_was_sent(
    redis_client: redis.Redis, settings: Settings, clock: Clock
) -> Iterator[None]:
    """The SMS the status callback reports on: accepted by Twilio under MESSAGE_SID."""
    deliveries = _deliveries(redis_client, settings)
    deliveries.advance(SEND_KEY, DeliveryStatus.ACCEPTED, clock(),
                       fields={"reference": "1234567890", "kind": "reminder", "channel": "sms"})
    deliveries.link_provider(MESSAGE_SID, SEND_KEY)
    yield


def _forgeries(hook: Webhook) -> dict[str, dict[str, object]]:
    """Ways of getting the signature wrong, each as options of :meth:`TwilioWebhooks.post`."""
    url = hook.url
    path_and_query = url.removeprefix(PUBLIC_BASE_URL)
    tampered = {**hook.params}
    first = sorted(tampered)[-1]
    tampered[first] += "0"
    return {
        "unsigned": {"signature": ""},
        "garbage": {"signature": "bm90IGEgc2lnbmF0dXJl"},
        "internal-url": {"signed_url": "http://testserver" + path_and_query},
        "http-scheme": {"signed_url": url.replace("https://", "http://", 1)},
        "other-host": {"signed_url": url.replace("gateway.example.org", "evil.example.net")},
        "other-path": {"signed_url": PUBLIC_BASE_URL + "/v1/twilio/other"},
        "tampered-value": {"signed_params": tampered},
        "added-param": {"signed_params": {k: v for k, v in hook.params.items() if k != first}},
    }


FORGERIES = ["unsigned", "garbage", "internal-url", "http-scheme", "other-host", "other-path",
             "tampered-value", "added-param"]


@pytest.mark.parametrize("hook", WEBHOOKS, ids=lambda hook: hook.name)
def test_the_genuine_request_takes_effect(
    twilio: TwilioWebhooks, redis_client: redis.Redis, settings: Settings, hook: Webhook
) -> None:
    assert not hook.changed(redis_client, settings)

    answer = twilio.post(hook.url, hook.params)

    assert answer.status_code == 200
    assert hook.changed(redis_client, settings)


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("hook", WEBHOOKS, ids=lambda hook: hook.name)
def test_a_request_not_signed_for_this_url_and_body_is_refused_and_changes_nothing(
    twilio: TwilioWebhooks, redis_client: redis.Redis, hook: Webhook, forgery: str
) -> None:
    before = redis_picture(redis_client)

    answer = twilio.post(hook.url, hook.params, **_forgeries(hook)[forgery])  # type: ignore[arg-type]

    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert redis_picture(redis_client) == before


@pytest.mark.parametrize("hook", WEBHOOKS, ids=lambda hook: hook.name)
def test_a_request_signed_with_another_accounts_token_is_refused(
    twilio: TwilioWebhooks, redis_client: redis.Redis, hook: Webhook
) -> None:
    stranger = TwilioWebhooks(twilio.http, auth_token="another-accounts-auth-token-0001")
    before = redis_picture(redis_client)

    assert stranger.post(hook.url, hook.params).status_code == 403
    assert redis_picture(redis_client) == before


@pytest.mark.parametrize("hook", WEBHOOKS, ids=lambda hook: hook.name)
def test_a_request_to_another_query_than_signed_is_refused(
    twilio: TwilioWebhooks, redis_client: redis.Redis, hook: Webhook
) -> None:
    signature = twilio.sign(hook.url, hook.params)
    extra = "&" if "?" in hook.url else "?"
    before = redis_picture(redis_client)

    answer = twilio.post(hook.url + extra + "lang=en", hook.params, signature=signature)

    assert answer.status_code == 403
    assert redis_picture(redis_client) == before


@pytest.mark.parametrize("hook", WEBHOOKS, ids=lambda hook: hook.name)
def test_a_duplicated_parameter_cannot_smuggle_a_value_past_the_signature(
    twilio: TwilioWebhooks, redis_client: redis.Redis, hook: Webhook
) -> None:
    # The signed parameters are genuine; a second copy of one is appended to the body.
    name = sorted(hook.params)[-1]
    signature = twilio.sign(hook.url, hook.params)
    body = urlencode(hook.params) + "&" + urlencode({name: hook.params[name] + "0"})
    before = redis_picture(redis_client)

    answer = twilio.http.post(
        hook.url.removeprefix(PUBLIC_BASE_URL), content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "X-Twilio-Signature": signature},
    )

    assert answer.status_code == 403
    assert redis_picture(redis_client) == before


@pytest.mark.parametrize("hook", WEBHOOKS, ids=lambda hook: hook.name)
def test_an_oversized_body_is_refused_before_anything_is_read(
    twilio: TwilioWebhooks, redis_client: redis.Redis, hook: Webhook
) -> None:
    # Correctly signed, so only the size can refuse it.
    params = {**hook.params, "Padding": "x" * MAX_WEBHOOK_BYTES}
    before = redis_picture(redis_client)

    answer = twilio.post(hook.url, params)

    assert answer.status_code == 413
    assert answer.json()["error"] == "payload_too_large"
    assert redis_picture(redis_client) == before


def test_an_oversized_body_without_a_length_is_cut_off_while_streaming(
    twilio: TwilioWebhooks, redis_client: redis.Redis
) -> None:
    chunk = b"Body=" + b"A" * 1024

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_WEBHOOK_BYTES // len(chunk) + 2):
            yield chunk

    before = redis_picture(redis_client)

    answer = twilio.http.post(SMS_PATH, content=chunks(),
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})

    assert answer.status_code == 413
    assert redis_picture(redis_client) == before


def test_a_body_that_is_not_utf8_is_refused(
    twilio: TwilioWebhooks, redis_client: redis.Redis
) -> None:
    before = redis_picture(redis_client)

    answer = twilio.http.post(SMS_PATH, content=b"Body=\xff\xfe",
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})

    assert answer.status_code == 403
    assert redis_picture(redis_client) == before


def test_webhooks_are_refused_when_twilio_is_not_configured(
    redis_client: redis.Redis, clock: Clock, settings: Settings
) -> None:
    from fastapi.testclient import TestClient

    from notifier.web import create_app

    bare = settings.model_copy(update={"twilio_auth_token": None})
    with TestClient(create_app(bare, redis=redis_client, clock=clock)) as http:
        webhooks = TwilioWebhooks(http)
        before = redis_picture(redis_client)
        answers = [webhooks.post(hook.url, hook.params).status_code for hook in WEBHOOKS]

    assert answers == [403, 403, 403]
    assert redis_picture(redis_client) == before


# Replays: the very same signed request delivered again (by Twilio's retries, or by
# someone who captured it) changes nothing more.


@pytest.mark.parametrize("hook", WEBHOOKS, ids=lambda hook: hook.name)
def test_the_same_signed_request_twice_changes_state_once(
    twilio: TwilioWebhooks, redis_client: redis.Redis, hook: Webhook
) -> None:
    assert twilio.post(hook.url, hook.params).status_code == 200
    after_first = redis_picture(redis_client)

    again = twilio.post(hook.url, hook.params)

    assert again.status_code == 200
    assert redis_picture(redis_client) == after_first


def test_a_replayed_arret_after_reprise_does_not_opt_out_again(
    twilio: TwilioWebhooks, redis_client: redis.Redis, settings: Settings
) -> None:
    reprise = {**SMS_ARRET.params, "MessageSid": "SM" + "6" * 32, "Body": "REPRISE"}
    twilio.post(SMS_ARRET.url, SMS_ARRET.params)
    twilio.post(SMS_ARRET.url, reprise)
    before = redis_picture(redis_client)

    replay = twilio.post(SMS_ARRET.url, SMS_ARRET.params)

    assert replay.status_code == 200
    assert "<Message>" not in replay.text  # not answered twice either
    assert not _sms_opted_out(redis_client, settings)
    assert redis_picture(redis_client) == before


def test_a_replay_under_a_fresh_idempotency_token_changes_nothing(
    twilio: TwilioWebhooks, redis_client: redis.Redis, settings: Settings
) -> None:
    # The idempotency token is a header, outside the signature: anyone replaying a
    # captured request can change it. The MessageSid, which is signed, still catches it.
    twilio.post(SMS_ARRET.url, SMS_ARRET.params,
                headers={"I-Twilio-Idempotency-Token": "first-delivery"})
    twilio.post(SMS_ARRET.url, {**SMS_ARRET.params, "MessageSid": "SM" + "6" * 32,
                                "Body": "REPRISE"})
    before = redis_picture(redis_client)

    replay = twilio.post(SMS_ARRET.url, SMS_ARRET.params,
                         headers={"I-Twilio-Idempotency-Token": "replayed-with-a-new-token"})

    assert replay.status_code == 200
    assert not _sms_opted_out(redis_client, settings)
    assert redis_picture(redis_client) == before


def test_a_replayed_21610_status_callback_after_reprise_does_not_opt_out_again(
    twilio: TwilioWebhooks, redis_client: redis.Redis, settings: Settings
) -> None:
    twilio.post(STATUS_21610.url, STATUS_21610.params)
    assert _sms_opted_out(redis_client, settings)
    twilio.post(SMS_ARRET.url, {**SMS_ARRET.params, "Body": "REPRISE"})
    assert not _sms_opted_out(redis_client, settings)
    before = redis_picture(redis_client)

    replay = twilio.post(STATUS_21610.url, STATUS_21610.params)

    assert replay.status_code == 200
    assert not _sms_opted_out(redis_client, settings)
    assert redis_picture(redis_client) == before
