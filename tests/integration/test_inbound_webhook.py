"""POST /v1/twilio/sms through the real app and a real Redis, signed by twilio's own
RequestValidator exactly as Twilio signs it."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry
from twilio.request_validator import RequestValidator

from notifier.domain import Channel
from notifier.inbound.keywords import parse
from notifier.inbound.replies import render_reply
from notifier.local_redis import free_port
from notifier.settings import Settings
from notifier.store.optouts import OptOutStore
from notifier.web import create_app
from notifier.web.inbound import PATH
from tests.factories import Clock, local
from tests.redis_commands import commands_sent

API_TOKEN = "inbound-test-api-token-0123456789"
AUTH_TOKEN = "twilio-auth-token-for-the-tests-01"
PUBLIC_BASE_URL = "https://gateway.example.org"
PATIENT = "+15145550123"
OTHER_PATIENT = "+14165550199"
EMPTY = None  # an empty <Response/>
MARKER_BYTES = 128  # Redis's own count for one MessageSid marker, key included


class TwilioSender:
    """Sends the webhook as Twilio would: form-encoded, signed against the public URL."""

    def __init__(self, http: TestClient, *, auth_token: str = AUTH_TOKEN) -> None:
        self.http = http
        self.validator = RequestValidator(auth_token)
        self._sids = itertools.count(1)

    def params(self, body: str, *, number: str, sid: str | None) -> dict[str, str]:
        return {
            "AccountSid": "AC00000000000000000000000000000000",
            "MessageSid": sid or f"SM{next(self._sids):032d}",
            "From": number,
            "To": "+15145550000",
            "Body": body,
            "NumMedia": "0",
        }

    def send(
        self,
        body: str,
        *,
        number: str = PATIENT,
        sid: str | None = None,
        extra: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        signed_url: str = PUBLIC_BASE_URL + PATH,
        signature: str | None = None,
    ) -> httpx.Response:
        params = {**self.params(body, number=number, sid=sid), **(extra or {})}
        if signature is None:
            signature = self.validator.compute_signature(signed_url, params)
        return self.http.post(
            PATH, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}
        )

    def reply(self, body: str, **options: object) -> str | None:
        """The text of the answer's <Message>, or None for an empty <Response/>."""
        answer = self.send(body, **options)  # type: ignore[arg-type]
        return reply_text(answer)


def reply_text(answer: httpx.Response) -> str | None:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(answer.text)
    assert root.tag == "Response"
    messages = [element.text for element in root.iter("Message")]
    assert len(messages) <= 1
    return messages[0] if messages else None


def inbound_settings(outbox: Path, **overrides: object) -> Settings:
    return Settings(
        api_token=API_TOKEN,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        outbox_dir=outbox,
        **overrides,  # type: ignore[arg-type]
    )


def expected(word: str, settings: Settings) -> str:
    return render_reply(parse(word), settings)


def snapshot(client: redis.Redis) -> dict[bytes, tuple[bytes | None, int]]:
    """Every key's value and its absolute expiry (PEXPIRETIME: a refreshed TTL shows)."""
    return {key: (client.dump(key), client.execute_command("PEXPIRETIME", key))
            for key in client.keys("*")}


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 11, 24, 10))


@pytest.fixture
def settings(outbox: Path) -> Settings:
    return inbound_settings(outbox)


@pytest.fixture
def twilio(settings: Settings, redis_client: redis.Redis, clock: Clock) -> Iterator[TwilioSender]:
    with TestClient(create_app(settings, redis=redis_client, clock=clock)) as http:
        yield TwilioSender(http)


@pytest.fixture
def optouts(settings: Settings, redis_client: redis.Redis) -> OptOutStore:
    return OptOutStore(redis_client, settings)


def test_arret_opts_the_number_out_and_answers_in_french(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings
) -> None:
    reply = twilio.reply("Arrêt")

    assert reply == expected("ARRET", settings)
    assert "REPRISE" in reply
    assert optouts.is_opted_out(PATIENT)
    assert not optouts.is_opted_out(OTHER_PATIENT)
    assert not optouts.is_opted_out(PATIENT, Channel.VOICE)


def test_stop_opts_the_number_out_and_answers_in_english(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings
) -> None:
    reply = twilio.reply(" stop! ")

    assert reply == expected("STOP", settings)
    assert reply != expected("ARRET", settings)
    assert optouts.is_opted_out(PATIENT)


def test_reprise_restores_sending_and_answers_in_french(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings
) -> None:
    twilio.reply("ARRET")

    reply = twilio.reply("reprise")

    assert reply == expected("REPRISE", settings)
    assert not optouts.is_opted_out(PATIENT)
    state = optouts.state(PATIENT)
    assert state is not None
    assert (state.opted_out, state.keyword) == (False, "REPRISE")


@pytest.mark.parametrize("word", ["AIDE", "Help", "info"])
def test_help_and_info_are_answered_without_a_state_change(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings, word: str
) -> None:
    reply = twilio.reply(word)

    assert reply == expected(word, settings)
    assert optouts.state(PATIENT) is None
    assert optouts.counts() == {"sms": 0, "voice": 0, "audit": 0}


@pytest.mark.parametrize("word", ["ARRET", "STOP", "AIDE", "HELP", "INFO"])
def test_mandatory_keywords_are_answered_even_to_an_opted_out_number(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings, word: str
) -> None:
    twilio.reply("ARRET")

    assert twilio.reply(word) == expected(word, settings)
    assert optouts.is_opted_out(PATIENT)


def test_a_repeated_arret_changes_nothing_more(
    twilio: TwilioSender, optouts: OptOutStore
) -> None:
    twilio.reply("ARRET")
    twilio.reply("arret")

    assert len(optouts.audit(PATIENT)) == 1


def test_other_text_gets_the_notice_once_per_interval(
    twilio: TwilioSender, settings: Settings, clock: Clock
) -> None:
    notice = expected("Merci, à demain!", settings)

    assert twilio.reply("Merci, à demain!") == notice
    clock.advance(dt.timedelta(hours=23, minutes=59))
    assert twilio.reply("Est-ce que je dois apporter ma carte?") is EMPTY
    assert twilio.reply("Bonjour", number=OTHER_PATIENT) == notice
    clock.advance(dt.timedelta(minutes=1))
    assert twilio.reply("Encore moi") == notice


def test_other_text_from_an_opted_out_number_gets_no_answer(
    twilio: TwilioSender, redis_client: redis.Redis
) -> None:
    twilio.reply("ARRET")

    assert twilio.reply("Pourquoi je ne reçois plus rien?") is EMPTY
    assert not redis_client.keys("*:inbound:notice:*")
    twilio.reply("REPRISE")
    assert twilio.reply("Merci") is not EMPTY


def test_a_sentence_containing_stop_is_not_an_opt_out(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings
) -> None:
    reply = twilio.reply("please don't stop the reminders")

    assert reply == expected("anything else", settings)
    assert not optouts.is_opted_out(PATIENT)


@pytest.mark.parametrize(
    "forgery",
    [
        {"signature": ""},
        {"signature": "bm90IGEgc2lnbmF0dXJl"},
        {"signed_url": "http://testserver" + PATH},
        {"signed_url": PUBLIC_BASE_URL + "/v1/twilio/other"},
    ],
    ids=["unsigned", "forged", "internal-url", "other-path"],
)
def test_a_request_not_signed_for_this_url_is_refused_and_changes_nothing(
    twilio: TwilioSender, redis_client: redis.Redis, forgery: dict[str, str]
) -> None:
    before = snapshot(redis_client)

    answer = twilio.send("ARRET", **forgery)  # type: ignore[arg-type]

    assert answer.status_code == 403
    assert snapshot(redis_client) == before


def test_a_request_signed_with_another_accounts_token_is_refused(
    twilio: TwilioSender, redis_client: redis.Redis
) -> None:
    stranger = TwilioSender(twilio.http, auth_token="someone-elses-auth-token-000")

    assert stranger.send("ARRET").status_code == 403
    assert redis_client.dbsize() == 0


def test_a_tampered_body_is_refused(twilio: TwilioSender, optouts: OptOutStore) -> None:
    params = twilio.params("Bonjour", number=PATIENT, sid=None)
    signature = twilio.validator.compute_signature(PUBLIC_BASE_URL + PATH, params)

    answer = twilio.http.post(
        PATH, data={**params, "Body": "ARRET"}, headers={"X-Twilio-Signature": signature}
    )

    assert answer.status_code == 403
    assert not optouts.is_opted_out(PATIENT)


def test_a_duplicate_delivery_is_answered_once(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings
) -> None:
    first = twilio.reply("ARRET", sid="SM" + "d" * 32)
    twilio.reply("REPRISE")

    again = twilio.reply("ARRET", sid="SM" + "d" * 32)

    assert first == expected("ARRET", settings)
    assert again is EMPTY
    assert not optouts.is_opted_out(PATIENT)  # the redelivered ARRET did not undo REPRISE
    assert len(optouts.audit(PATIENT)) == 2


def age_redis(client: redis.Redis, by: dt.timedelta) -> None:
    """Make Redis's keys as they would be ``by`` later: those expiring sooner are gone, the
    others have that much less to live (Redis's own clock cannot be moved)."""
    step = int(by.total_seconds() * 1000)
    for key in list(client.scan_iter(count=1000)):
        left = client.pttl(key)
        if left < 0:
            continue
        if left <= step:
            client.delete(key)
        else:
            client.pexpire(key, left - step)


def test_a_stop_replayed_after_a_day_and_a_reprise_is_still_a_duplicate(
    twilio: TwilioSender, optouts: OptOutStore, redis_client: redis.Redis, clock: Clock
) -> None:
    stop = "SM" + "e" * 32
    twilio.reply("STOP", sid=stop)
    twilio.reply("REPRISE")
    later = dt.timedelta(days=30)
    age_redis(redis_client, later)
    clock.advance(later)

    replay = twilio.reply("STOP", sid=stop)

    assert replay is EMPTY
    assert not optouts.is_opted_out(PATIENT)
    assert len(optouts.audit(PATIENT)) == 2


def test_a_processed_message_sid_is_kept_as_long_as_the_audit(
    twilio: TwilioSender, redis_client: redis.Redis, settings: Settings
) -> None:
    twilio.reply("STOP", sid="SM" + "f" * 32)

    (marker,) = redis_client.keys("*seen:sid:*")
    retention = settings.optout_audit_retention.total_seconds()
    assert retention - 60 < redis_client.ttl(marker) <= retention
    # What three years of texts cost: the README says about 100 bytes per text.
    assert redis_client.memory_usage(marker) <= MARKER_BYTES


def test_keyword_answers_are_capped_per_number_and_day(
    twilio: TwilioSender, settings: Settings, clock: Clock
) -> None:
    limit = settings.keyword_reply_limit
    answers = [twilio.reply("HELP") for _ in range(limit + 5)]

    assert answers[:limit] == [expected("HELP", settings)] * limit
    assert answers[limit:] == [EMPTY] * 5
    assert twilio.reply("AIDE") is EMPTY  # the same kind, in the other language
    assert twilio.reply("INFO") == expected("INFO", settings)  # another kind
    assert twilio.reply("HELP", number=OTHER_PATIENT) == expected("HELP", settings)
    clock.advance(dt.timedelta(days=1))
    assert twilio.reply("HELP") == expected("HELP", settings)


def test_capped_stop_and_start_still_change_the_state_every_time(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    flips = 10
    answers = []
    for _ in range(flips):
        answers.append(twilio.reply("STOP"))
        assert optouts.is_opted_out(PATIENT)
        answers.append(twilio.reply("START"))
        assert not optouts.is_opted_out(PATIENT)

    limit = settings.keyword_reply_limit
    assert sum(answer == expected("STOP", settings) for answer in answers) == limit
    assert sum(answer == expected("START", settings) for answer in answers) == limit
    assert answers.count(EMPTY) == 2 * (flips - limit)
    assert len(optouts.audit(PATIENT)) == 2 * flips
    assert "answer held back" in caplog.text


def test_audit_entries_older_than_the_retention_are_dropped(
    twilio: TwilioSender, optouts: OptOutStore, settings: Settings, clock: Clock
) -> None:
    twilio.reply("STOP")
    twilio.reply("STOP", number=OTHER_PATIENT)
    clock.advance(settings.optout_audit_retention - dt.timedelta(days=1))
    twilio.reply("REPRISE")
    assert len(optouts.audit()) == 3

    clock.advance(dt.timedelta(days=2))
    twilio.reply("START", number=OTHER_PATIENT)

    assert [(e.number, e.keyword) for e in optouts.audit()] == [
        (PATIENT, "REPRISE"), (OTHER_PATIENT, "START"),
    ]
    assert not optouts.is_opted_out(PATIENT)  # the state outlives its audit entries
    assert optouts.counts()["audit"] == 4  # the metric counts every change ever recorded


def test_a_duplicate_idempotency_token_is_answered_once(twilio: TwilioSender) -> None:
    token = {"I-Twilio-Idempotency-Token": "c9d4e2a0-token"}

    assert twilio.reply("AIDE", headers=token) is not EMPTY
    assert twilio.reply("AIDE", headers=token) is EMPTY


@pytest.mark.parametrize(
    ("word", "answered", "opted_out"),
    [
        ("STOP", False, True),
        ("ARRET", True, True),
        ("HELP", False, False),
        ("AIDE", True, False),
        ("INFO", False, False),  # on Twilio's default HELP list too
        ("OPT OUT", True, True),  # we read it as STOP; Twilio does not
    ],
)
def test_when_twilio_answers_english_keywords_the_gateway_records_and_stays_silent(
    outbox: Path, redis_client: redis.Redis, clock: Clock,
    word: str, answered: bool, opted_out: bool,
) -> None:
    settings = inbound_settings(outbox, twilio_answers_english_keywords=True)
    with TestClient(create_app(settings, redis=redis_client, clock=clock)) as http:
        reply = TwilioSender(http).reply(word)

    assert reply == (expected(word, settings) if answered else EMPTY)
    assert OptOutStore(redis_client, settings).is_opted_out(PATIENT) is opted_out


def test_when_twilio_answers_english_keywords_start_opts_in_silently(
    outbox: Path, redis_client: redis.Redis, clock: Clock
) -> None:
    settings = inbound_settings(outbox, twilio_answers_english_keywords=True)
    with TestClient(create_app(settings, redis=redis_client, clock=clock)) as http:
        sender = TwilioSender(http)
        sender.reply("STOP")
        assert sender.reply("START") is EMPTY
        # A French word Twilio's Advanced Opt-Out matched: Twilio answered it.
        sender.reply("ARRET")
        assert sender.reply("REPRISE", extra={"OptOutType": "START"}) is EMPTY

    assert not OptOutStore(redis_client, settings).is_opted_out(PATIENT)


def test_the_audit_stream_has_one_entry_per_change_with_the_previous_state(
    twilio: TwilioSender, optouts: OptOutStore, clock: Clock
) -> None:
    twilio.send("ARRET", sid="SM" + "1" * 32)
    clock.advance(dt.timedelta(hours=1))
    twilio.send("AIDE")
    twilio.send("REPRISE", sid="SM" + "2" * 32)
    clock.advance(dt.timedelta(hours=1))
    twilio.send("STOP", sid="SM" + "3" * 32)

    entries = optouts.audit(PATIENT)

    assert [(e.previous, e.state, e.keyword) for e in entries] == [
        ("opted_in", "opted_out", "ARRET"),
        ("opted_out", "opted_in", "REPRISE"),
        ("opted_in", "opted_out", "STOP"),
    ]
    assert [e.provider_message_id for e in entries] == ["SM" + d * 32 for d in "123"]
    assert {(e.source, e.channel, e.scope) for e in entries} == {
        ("sms-keyword", Channel.SMS, "default")
    }
    assert entries[0].previous_since is None
    assert entries[1].previous_since == entries[0].at
    assert entries[2].at - entries[1].at == dt.timedelta(hours=1)


def test_logs_name_the_message_and_outcome_but_never_the_number_or_text(
    twilio: TwilioSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    twilio.send("ARRET", sid="SM" + "a" * 32)
    twilio.send(
        "Mon numéro est le 514-555-0123, rappelez-moi", sid="SM" + "b" * 32, number=OTHER_PATIENT
    )

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "SM" + "a" * 32 in text
    assert "opted_out" in text and "notice_sent" in text
    for secret in (PATIENT, PATIENT[2:], OTHER_PATIENT[2:], "514-555-0123", "rappelez", "ARRET"):
        assert secret not in text


def test_an_unreachable_store_answers_503_so_twilio_can_retry(outbox: Path) -> None:
    settings = inbound_settings(outbox)
    dead = redis.Redis(
        port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    with TestClient(create_app(settings, redis=dead)) as http:
        answer = TwilioSender(http).send("ARRET")

    assert answer.status_code == 503


@pytest.mark.parametrize(("earlier", "word", "state"), [
    ((), "ARRET", "opted_out"), ((), "STOP", "opted_out"), (("ARRET",), "REPRISE", "opted_in"),
])
def test_an_opt_out_keyword_is_recorded_and_claimed_in_one_round_trip(
    twilio: TwilioSender, redis_url: str, optouts: OptOutStore, settings: Settings,
    earlier: tuple[str, ...], word: str, state: str,
) -> None:
    twilio.reply("ARRET", number=OTHER_PATIENT)  # Redis knows the script by now
    for text in earlier:
        twilio.reply(text)
    answers = []

    sent = commands_sent(redis_url, lambda: answers.append(twilio.reply(word)))

    assert sent == ["EVALSHA"]
    assert answers == [expected(word, settings)]
    assert (optouts.audit(PATIENT)[-1].keyword, optouts.audit(PATIENT)[-1].state) == (
        word, state
    )


def test_a_duplicate_opt_out_keyword_costs_one_round_trip_and_writes_nothing(
    twilio: TwilioSender, redis_client: redis.Redis, redis_url: str
) -> None:
    twilio.reply("ARRET", sid="SM" + "c" * 32)
    before = snapshot(redis_client)

    sent = commands_sent(redis_url, lambda: twilio.reply("ARRET", sid="SM" + "c" * 32))

    assert sent == ["EVALSHA"]
    assert snapshot(redis_client) == before


def test_a_keyword_that_failed_in_redis_is_processed_when_twilio_retries(
    twilio: TwilioSender, redis_client: redis.Redis, optouts: OptOutStore, settings: Settings
) -> None:
    twilio.reply("REPRISE")  # counts an answer under the number's digest
    (start_count,) = redis_client.keys("*:inbound:replies:*:start:*")
    stop_count = start_count.replace(b":start:", b":stop:")
    # Not a counter: counting the ARRET's answer fails in Redis, after its state change.
    redis_client.hset(stop_count, "not", "a counter")
    sid = "SM" + "9" * 32

    failed = twilio.send("ARRET", sid=sid)
    redis_client.delete(stop_count)
    retried = twilio.reply("ARRET", sid=sid)

    assert failed.status_code == 503
    assert retried == expected("ARRET", settings)
    assert optouts.is_opted_out(PATIENT)
    assert [entry.state for entry in optouts.audit(PATIENT)] == ["opted_out"]
