"""The fallback's pure rules: which failures start it, where it may go, its keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from notifier.domain import Appointment, Channel, FallbackPolicy, Kind
from notifier.fallback_triggers import classify_failure
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.planning.entries import AppointmentState, PlannedMessage, Route
from notifier.planning.fallback import (
    UNDELIVERABLE_REASONS,
    Next,
    candidates,
    fallback_address,
    family_id,
    family_keys,
    message_of_key,
    retry_of,
)
from notifier.planning.reasons import Reason
from notifier.planning.send_check import Drop, FallbackFacts, Send, decide_at_send
from notifier.public_status import UNDELIVERABLE
from notifier.settings import Settings
from tests.factories import event, local

NOW = local(2026, 11, 24, 10).astimezone(dt.UTC)
START = local(2026, 12, 1, 9, 30)
MOBILE, HOME, EMAIL = "+15145550188", "+15145550199", "emilie.tremblay@example.org"
POLICY = {"stand_ins": {"sms": ["voice", "email"], "voice": ["sms"]}}


def appointment(*modes: str, policy: dict[str, Any] | None = POLICY,
                **patient: Any) -> Appointment:
    location = {**SAMPLE_LOCATION.model_dump(mode="json"), "fallback": policy}
    return event("booked", start=START, at=NOW, modes=modes, location=location,
                 patient=patient).appointment


def message(channel: Channel, route: Route | None = None, **changes: Any) -> PlannedMessage:
    values: dict[str, Any] = {
        "reference": "0000000001", "kind": Kind.CONFIRMATION, "channel": channel,
        "version": 1, "send_at": NOW, "deadline": START.astimezone(dt.UTC),
        "start": START.astimezone(dt.UTC), "route": route, **changes}
    return PlannedMessage(**values)


def never(channel: Channel, address: str) -> bool:
    return False


@pytest.mark.parametrize(("channel", "code", "status", "expected"), [
    (Channel.SMS, "21211", None, (Next.FALLBACK, "invalid_number")),
    (Channel.SMS, "21614", None, (Next.FALLBACK, "landline")),
    (Channel.SMS, "30006", "undelivered", (Next.FALLBACK, "landline")),
    (Channel.SMS, "30005", None, (Next.FALLBACK, "invalid_number")),
    (Channel.SMS, "30007", None, (Next.FALLBACK, None)),
    (Channel.SMS, "30004", None, (Next.FALLBACK, None)),
    (Channel.SMS, "21610", None, (Next.NOTHING, None)),
    (Channel.SMS, "30003", None, (Next.NOTHING, None)),
    (Channel.SMS, "", "undelivered", (Next.NOTHING, None)),
    (Channel.EMAIL, "550", None, (Next.FALLBACK, "bounced")),
    (Channel.EMAIL, "554", None, (Next.FALLBACK, None)),
    (Channel.EMAIL, "address", None, (Next.FALLBACK, "invalid_address")),
    (Channel.EMAIL, "451", None, (Next.NOTHING, None)),
    (Channel.VOICE, "", "busy", (Next.RETRY, None)),
    (Channel.VOICE, "", "no-answer", (Next.RETRY, None)),
    (Channel.VOICE, "", "failed", (Next.NOTHING, None)),
])
def test_which_failures_start_a_fallback(channel: Channel, code: str, status: str | None,
                                         expected: tuple[Next, str | None]) -> None:
    verdict = classify_failure(channel, error_code=code, provider_status=status)
    assert (verdict.next, verdict.undeliverable) == expected


def test_a_retried_call_unanswered_again_goes_to_the_fallback() -> None:
    verdict = classify_failure(Channel.VOICE, error_code=None, provider_status="busy",
                               route=Route.RETRY)
    assert verdict.next is Next.FALLBACK


def test_the_store_clears_the_reasons_public_status_calls_undeliverable() -> None:
    assert set(UNDELIVERABLE_REASONS) == {str(reason) for reason in UNDELIVERABLE}


def test_a_call_stands_in_at_the_mobile_when_the_home_number_was_tried() -> None:
    chosen = appointment("sms", "voice")
    assert fallback_address(chosen, Channel.VOICE, undeliverable=never) == MOBILE
    assert fallback_address(appointment("sms", "voice", home_phone=None), Channel.VOICE,
                            undeliverable=never) == MOBILE


def test_an_unchosen_mode_needs_the_location_and_the_patients_consent() -> None:
    allowed = {**POLICY, "unchosen_modes": True}
    assert fallback_address(appointment("sms"), Channel.EMAIL, undeliverable=never) is None
    assert fallback_address(appointment("sms", policy=allowed), Channel.EMAIL,
                            undeliverable=never) is None
    assert fallback_address(appointment("sms", policy=allowed, fallback_consent=True),
                            Channel.EMAIL, undeliverable=never) == EMAIL


def test_candidates_follow_the_policy_and_skip_undeliverable_addresses() -> None:
    chosen = appointment("sms", "voice", "email")
    found = candidates(message(Channel.SMS), chosen, NOW, undeliverable=never)
    assert [(m.channel, m.route) for m in found] == [
        (Channel.VOICE, Route.FALLBACK)]  # email: the address was tried, sms: the only one
    assert candidates(message(Channel.SMS), chosen, NOW,
                      undeliverable=lambda channel, address: address == MOBILE) == []
    assert candidates(message(Channel.SMS), appointment("sms", policy=None), NOW,
                      undeliverable=never) == []


def test_keys_name_one_fallback_per_family_and_channel() -> None:
    fallback = message(Channel.VOICE, Route.FALLBACK)
    assert fallback.key == "0000000001:confirmation:voice:fallback:v1"
    assert PlannedMessage.from_json(fallback.to_json()) == fallback
    assert PlannedMessage.from_dict(fallback.to_dict()) == fallback
    reminder = message(Channel.SMS, Route.RETRY, kind=Kind.REMINDER, offset_seconds=86400)
    assert PlannedMessage.from_json(reminder.to_json()) == reminder
    assert family_id(reminder) == family_id(message(Channel.EMAIL, kind=Kind.REMINDER,
                                                    offset_seconds=86400))
    assert len(set(family_keys(fallback).values())) == 9
    state = AppointmentState(appointment("sms"), 1, START)
    assert message_of_key(fallback.key, version=1, state=state, deadline=fallback.deadline,
                          now=NOW) == fallback
    assert message_of_key("0000000001:reminder:sms:86400:20261101T1430Z", version=1,
                          state=state, deadline=fallback.deadline, now=NOW) is None


def test_a_call_is_retried_once_before_its_deadline() -> None:
    chosen = appointment("voice")
    retry = retry_of(message(Channel.VOICE), chosen, NOW)
    assert retry is not None and retry.route is Route.RETRY
    assert retry.send_at == NOW + dt.timedelta(minutes=30)
    assert retry_of(retry, chosen, NOW) is None
    assert retry_of(message(Channel.VOICE, deadline=NOW + dt.timedelta(minutes=10)), chosen,
                    NOW) is None


def test_the_send_check_of_a_fallback() -> None:
    settings = Settings(window_sms="always", window_voice="always")
    state = AppointmentState(appointment("sms", "voice"), 1, START)
    fallback = message(Channel.VOICE, Route.FALLBACK)
    assert decide_at_send(fallback, state, settings, NOW) == Send(MOBILE)
    assert decide_at_send(fallback, state, settings, NOW,
                          facts=FallbackFacts(delivered=True)) == Drop(Reason.ALREADY_DELIVERED)
    assert decide_at_send(fallback, state, settings, NOW,
                          facts=FallbackFacts(answered=True)) == Drop(Reason.ALREADY_ANSWERED)
    off = AppointmentState(appointment("sms", "voice", policy=None), 1, START)
    assert decide_at_send(fallback, off, settings, NOW) == Drop(Reason.FALLBACK_OFF)
    known = FallbackFacts(undeliverable=frozenset({(Channel.SMS, MOBILE)}))
    assert decide_at_send(message(Channel.SMS), state, settings, NOW,
                          facts=known) == Drop(Reason.CONTACT_UNDELIVERABLE)
    # Without a fallback, a known address is sent to as before.
    assert decide_at_send(message(Channel.SMS), off, settings, NOW, facts=known) == Send(MOBILE)


def test_a_policy_refuses_unknown_channels() -> None:
    with pytest.raises(ValueError, match="stand_ins"):
        FallbackPolicy.model_validate({"stand_ins": {"pigeon": ["sms"]}})
