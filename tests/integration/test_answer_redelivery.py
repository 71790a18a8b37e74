"""A patient's answer whose webhook failed half-way is recorded when Twilio delivers it
again: the text is marked as processed only in the step that records what it did, so a
failure after the webhook read the number's questions leaves no mark that would make the
redelivery a duplicate (answered with nothing, the answer lost).

The failure is Redis refusing, from that point on, every command of the web's client (a
user whose rights an ACL takes away, then gives back), as a crash would: the webhook's
own clean-up fails too."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from notifier.responses import Answer
from notifier.responses.replies import ResponseReply
from notifier.web import create_app
from tests.integration.conftest import Gateway
from tests.integration.test_inbound_webhook import TwilioSender, reply_text
from tests.integration.test_patient_responses import (
    MOBILE,
    book,
    expected,
    gateway_options,
    open_question,
    responses_logged,
    store,
)

__all__ = ["gateway_options"]  # fixture

USER = "answers-web"
# What the webhook's first round trip reads (the markers, the opt-out, the questions),
# and nothing it would do next.
FIRST_ROUND_TRIP = "+exists +set +sismember +hgetall +ping +hello +client +select"


@pytest.fixture
def failing_web(gateway: Gateway) -> Iterator[tuple[redis.Redis, TwilioSender]]:
    """The web app on a Redis user that may do anything until :func:`fail_after_read`."""
    password = secrets.token_hex(16)
    admin = gateway.client
    admin.acl_setuser(USER, enabled=True, passwords=[f"+{password}"], keys=["*"],
                      channels=["*"], commands=["+@all"], reset=True)
    url = gateway.settings.require_redis_url("tests").replace("redis://",
                                                             f"redis://{USER}:{password}@")
    client = redis.Redis.from_url(url)
    app = create_app(gateway.settings, redis=client, clock=gateway.clock)
    try:
        with TestClient(app) as http:
            yield admin, TwilioSender(http)
    finally:
        client.close()
        admin.acl_deluser(USER)


def fail_after_read(admin: redis.Redis) -> None:
    admin.acl_setuser(USER, enabled=True, commands=["-@all", *FIRST_ROUND_TRIP.split()])


def recover(admin: redis.Redis) -> None:
    admin.acl_setuser(USER, enabled=True, commands=["+@all"])


@pytest.mark.parametrize("body", ["1", "2"])
def test_an_answer_that_failed_after_its_questions_were_read_is_recorded_when_redelivered(
    gateway: Gateway, failing_web: tuple[redis.Redis, TwilioSender], body: str,
) -> None:
    admin, twilio = failing_web
    book(gateway)
    question = open_question(gateway, "0000000001")
    sid = "SM" + secrets.token_hex(16)

    fail_after_read(admin)
    assert twilio.send(body, number=MOBILE, sid=sid).status_code == 503
    recover(admin)
    answer = reply_text(twilio.send(body, number=MOBILE, sid=sid))

    kind = ResponseReply.CONFIRMED if body == "1" else ResponseReply.DECLINED
    assert answer == expected(gateway, kind, question)
    response = store(gateway).response("0000000001")
    assert response is not None
    assert response.answer is (Answer.CONFIRMED if body == "1" else Answer.DECLINED)
    assert len(responses_logged(gateway)) == 1
    # And a third delivery is a duplicate: answered with nothing, nothing written.
    assert reply_text(twilio.send(body, number=MOBILE, sid=sid)) is None
    assert len(responses_logged(gateway)) == 1


def test_free_text_that_failed_after_its_questions_were_read_is_kept_when_redelivered(
    gateway: Gateway, failing_web: tuple[redis.Redis, TwilioSender],
) -> None:
    admin, twilio = failing_web
    book(gateway)
    sid = "SM" + secrets.token_hex(16)

    fail_after_read(admin)
    assert twilio.send("Je serai en retard", number=MOBILE, sid=sid).status_code == 503
    recover(admin)
    assert reply_text(twilio.send("Je serai en retard", number=MOBILE, sid=sid)) is not None

    assert [e.fields["type"] for e in responses_logged(gateway)] == ["reply.unmatched"]
    assert reply_text(twilio.send("Je serai en retard", number=MOBILE, sid=sid)) is None
    assert len(responses_logged(gateway)) == 1
