"""OptOutStore on a real Redis: state per number, scope and channel, and its audit stream."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import redis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifier.domain import Channel
from notifier.errors import InvalidNumber
from notifier.opt_outs import OptOutSource
from notifier.settings import Settings
from notifier.store.optouts import OptOutStore

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
PATIENT = "+15145550123"
OTHER = "+14165550199"


@pytest.fixture
def store(redis_client: redis.Redis) -> OptOutStore:
    return OptOutStore(redis_client, Settings())


def test_opt_out_changes_the_state_once(store: OptOutStore) -> None:
    assert store.opt_out(PATIENT, source=OptOutSource.SMS_KEYWORD, keyword="ARRET", now=NOW)
    assert not store.opt_out(PATIENT, source=OptOutSource.SMS_KEYWORD, keyword="STOP", now=NOW)

    assert store.is_opted_out(PATIENT)
    assert store.state(PATIENT) == store.state(PATIENT, Channel.SMS)
    state = store.state(PATIENT)
    assert state is not None
    assert (state.opted_out, state.since, state.source, state.keyword) == (
        True, NOW, "sms-keyword", "ARRET",
    )
    assert len(store.audit()) == 1


def test_opting_in_a_number_that_never_opted_out_is_no_change(store: OptOutStore) -> None:
    assert not store.opt_in(PATIENT, source=OptOutSource.OPERATOR, reason="test", now=NOW)

    assert store.state(PATIENT) is None
    assert store.audit() == []


def test_sms_and_voice_are_kept_apart(store: OptOutStore) -> None:
    store.opt_out(PATIENT, channel=Channel.VOICE, source=OptOutSource.VOICE_KEYPRESS,
                  keyword="9", now=NOW)

    assert store.is_opted_out(PATIENT, Channel.VOICE)
    assert not store.is_opted_out(PATIENT, Channel.SMS)
    assert store.counts() == {"sms": 0, "voice": 1, "audit": 1}


def test_email_has_no_opt_out_state_here(store: OptOutStore) -> None:
    with pytest.raises(ValueError, match="sms and voice only"):
        store.is_opted_out(PATIENT, Channel.EMAIL)


def test_scopes_are_kept_apart(redis_client: redis.Redis) -> None:
    short_code = OptOutStore(redis_client, Settings(optout_scope="short-code-12345"))
    service = OptOutStore(redis_client, Settings(optout_scope="MG0123"))

    short_code.opt_out(PATIENT, source=OptOutSource.SMS_KEYWORD, now=NOW)

    assert short_code.is_opted_out(PATIENT)
    assert not service.is_opted_out(PATIENT)
    assert service.audit() == []


def test_numbers_are_kept_in_e164_whatever_their_spelling(store: OptOutStore) -> None:
    store.opt_out("+1 (514) 555-0123", source=OptOutSource.OPERATOR, reason="phone", now=NOW)

    assert store.is_opted_out(PATIENT)
    assert store.audit()[0].number == PATIENT


@pytest.mark.parametrize("number", ["4165550199", "+141655501", "+14165550199x", "", "abc"])
def test_a_number_that_is_not_e164_is_refused_without_repeating_it(
    store: OptOutStore, number: str
) -> None:
    with pytest.raises(InvalidNumber) as refused:
        store.opt_out(number, source=OptOutSource.OPERATOR, now=NOW)

    assert "international form" in str(refused.value)
    assert not number or number not in str(refused.value)


def test_a_naive_time_is_refused(store: OptOutStore) -> None:
    with pytest.raises(ValueError, match="aware"):
        store.opt_out(PATIENT, source=OptOutSource.OPERATOR, now=NOW.replace(tzinfo=None))


def test_the_audit_keeps_every_field_of_a_change(store: OptOutStore) -> None:
    store.opt_out(PATIENT, source=OptOutSource.TWILIO_21610, provider_message_id="SM1",
                  reason="provider refused the send", now=NOW)
    store.opt_in(PATIENT, source=OptOutSource.OPERATOR, reason="patient called the clinic",
                 now=NOW + dt.timedelta(days=2))

    first, second = store.audit(PATIENT)

    assert (first.source, first.provider_message_id, first.reason) == (
        "twilio-21610", "SM1", "provider refused the send",
    )
    assert (first.previous, first.state, first.previous_since) == ("opted_in", "opted_out", None)
    assert (second.previous, second.state, second.previous_since) == (
        "opted_out", "opted_in", NOW,
    )
    assert second.at == NOW + dt.timedelta(days=2)
    assert first.id < second.id


def test_the_audit_of_one_number_reaches_back_past_other_numbers(
    store: OptOutStore, redis_client: redis.Redis
) -> None:
    store.opt_out(PATIENT, source=OptOutSource.SMS_KEYWORD, now=NOW)
    for minute in range(1200):  # more than one read batch of other numbers' changes
        number = f"+1416555{minute:04d}"
        store.opt_out(number, source=OptOutSource.SMS_KEYWORD,
                      now=NOW + dt.timedelta(minutes=minute))

    assert [entry.number for entry in store.audit(PATIENT)] == [PATIENT]
    assert len(store.audit(count=5)) == 5
    assert store.audit(count=1)[0].number == "+14165551199"


def test_export_writes_every_state_of_the_scope(store: OptOutStore) -> None:
    store.opt_out(PATIENT, source=OptOutSource.SMS_KEYWORD, keyword="ARRET", now=NOW)
    store.opt_out(OTHER, source=OptOutSource.SMS_KEYWORD, keyword="STOP", now=NOW)
    store.opt_in(OTHER, source=OptOutSource.SMS_KEYWORD, keyword="START", now=NOW)
    store.opt_out(PATIENT, channel=Channel.VOICE, source=OptOutSource.VOICE_KEYPRESS,
                  keyword="9", now=NOW)
    out = io.StringIO()

    assert store.export(out) == 3

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["number"], r["channel"], r["state"], r["keyword"]) for r in rows] == [
        (OTHER, "sms", "opted_in", "START"),
        (PATIENT, "sms", "opted_out", "ARRET"),
        (PATIENT, "voice", "opted_out", "9"),
    ]
    assert {r["scope"] for r in rows} == {"default"}
    assert rows[0]["since"] == NOW.isoformat()


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(
        st.tuples(st.booleans(), st.sampled_from([Channel.SMS, Channel.VOICE]),
                  st.sampled_from([PATIENT, OTHER])),
        max_size=20,
    )
)
def test_state_and_audit_follow_any_sequence_of_changes(
    redis_client: redis.Redis, changes: list[tuple[bool, Channel, str]]
) -> None:
    redis_client.flushdb()
    store = OptOutStore(redis_client, Settings())
    model: dict[tuple[str, Channel], bool] = {}
    audited = 0
    for step, (opted_out, channel, number) in enumerate(changes):
        change = store.opt_out if opted_out else store.opt_in
        changed = change(number, channel=channel, source=OptOutSource.OPERATOR,
                         now=NOW + dt.timedelta(seconds=step))
        assert changed == (model.get((number, channel), False) != opted_out)
        audited += changed
        model[number, channel] = opted_out

    for number in (PATIENT, OTHER):
        for channel in (Channel.SMS, Channel.VOICE):
            assert store.is_opted_out(number, channel) == model.get((number, channel), False)
    entries = store.audit(count=1000)
    assert len(entries) == audited
    assert all(entry.previous != entry.state for entry in entries)
    assert store.counts()["sms"] + store.counts()["voice"] == sum(model.values())
