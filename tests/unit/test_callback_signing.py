"""Callback signatures, checked by the independent ``standardwebhooks`` package the way a
receiver checks them."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from notifier.callbacks.signing import (
    new_secret,
    secret_key,
    signature_header,
    webhook_headers,
)
from notifier.errors import BadSecret

BODY = '{"id":"evt_1741100531250-0","type":"message.delivered","data":{"reference":"Thérèse"}}'
EVENT_ID = "evt_1741100531250-0"


def headers_now(secrets: list[str], body: bytes = BODY.encode()) -> dict[str, str]:
    # The receiver's library refuses timestamps more than five minutes from its own clock.
    return webhook_headers(secrets, EVENT_ID, int(time.time()), body)


def test_the_published_test_vector() -> None:
    # The example of the Standard Webhooks specification's reference libraries.
    assert signature_header(
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330, b'{"test": 2432232314}',
    ) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_receiver_verifies_a_signed_callback() -> None:
    secret = new_secret()
    headers = headers_now([secret])

    assert Webhook(secret).verify(BODY.encode(), headers)["data"] == {"reference": "Thérèse"}
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature",
                            "content-type"}
    assert headers["webhook-id"] == EVENT_ID
    assert headers["content-type"] == "application/json"


def test_during_a_rotation_either_secret_verifies() -> None:
    newest, oldest = new_secret(), new_secret()
    headers = headers_now([newest, oldest])

    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (newest, oldest):
        Webhook(secret).verify(BODY.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY.encode(), headers)


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp"])
def test_a_changed_callback_fails_verification(tamper: str) -> None:
    secret = new_secret()
    headers = headers_now([secret])
    body = BODY.encode()
    if tamper == "body":
        body = body.replace(b"delivered", b"failed")
    elif tamper == "id":
        headers["webhook-id"] = "evt_1741100531250-1"
    else:
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_a_wrong_secret_fails_verification() -> None:
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY.encode(), headers_now([new_secret()]))


def test_new_secrets_are_32_random_bytes_after_the_prefix() -> None:
    made = {new_secret() for _ in range(50)}
    assert len(made) == 50
    for secret in made:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        assert len(secret_key(secret)) == 32


@pytest.mark.parametrize("secret", [
    "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
    "whsec_not*base64*at*all*but*long*enough",
    "whsec_" + base64.b64encode(b"short").decode(),
    "whsec_" + base64.b64encode(bytes(65)).decode(),
])
def test_a_secret_that_is_not_one_is_refused_without_repeating_it(secret: str) -> None:
    with pytest.raises(BadSecret) as refused:
        signature_header([secret], EVENT_ID, 1, b"{}")
    assert secret.removeprefix("whsec_") not in str(refused.value)


def test_no_secret_signs_nothing() -> None:
    with pytest.raises(BadSecret):
        webhook_headers([], EVENT_ID, 1, b"{}")
