"""The public words for what became of a message: statuses, reason codes, sentences."""

from __future__ import annotations

import pytest

from notifier.delivery_status import RANK as RECORD_RANK
from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Lang
from notifier.planning.reasons import Reason
from notifier.public_status import (
    RANK,
    ProviderReason,
    PublicStatus,
    describe_reason,
    describe_status,
    public_reason,
    public_status,
)


def test_a_record_moving_forward_never_moves_its_public_status_back() -> None:
    for older, older_rank in RECORD_RANK.items():
        for newer, newer_rank in RECORD_RANK.items():
            if newer_rank > older_rank:
                assert RANK[public_status(newer)] >= RANK[public_status(older)], (older, newer)


@pytest.mark.parametrize(("status", "expected"), [
    (DeliveryStatus.SUBMITTING, "sending"), (DeliveryStatus.RETRYING, "sending"),
    (DeliveryStatus.ACCEPTED, "sent"), (DeliveryStatus.SENT, "sent"),
    (DeliveryStatus.DELIVERED, "delivered"), (DeliveryStatus.UNDELIVERED, "failed"),
    (DeliveryStatus.FAILED, "failed"), (DeliveryStatus.SUPPRESSED, "suppressed"),
])
def test_each_record_status_has_one_public_status(status: DeliveryStatus, expected: str) -> None:
    assert public_status(status) == expected


@pytest.mark.parametrize(("channel", "code", "expected"), [
    (Channel.SMS, "21614", "landline"), (Channel.SMS, "30006", "landline"),
    (Channel.SMS, "21211", "invalid_number"), (Channel.SMS, "30005", "invalid_number"),
    (Channel.SMS, "30003", "unreachable"), (Channel.SMS, "30008", "unreachable"),
    (Channel.SMS, "30007", "carrier_filtered"), (Channel.SMS, "21610", "opted_out"),
    (Channel.VOICE, "21408", "configuration"), (Channel.SMS, "21999", "rejected"),
    (Channel.EMAIL, "550", "bounced"), (Channel.EMAIL, "553", "invalid_address"),
    (Channel.EMAIL, "address", "invalid_address"), (Channel.EMAIL, "554", "rejected"),
    (Channel.SMS, "", "rejected"),
])
def test_a_providers_refusal_becomes_a_word_and_the_code_travels_beside_it(
    channel: Channel, code: str, expected: str,
) -> None:
    for status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
        assert public_reason(status, reason=Reason.PROVIDER_PERMANENT, error_code=code,
                             channel=channel) == expected
    assert public_reason(DeliveryStatus.UNDELIVERED, reason=None, error_code=code,
                         channel=channel) == expected


def test_the_gateways_own_reasons_are_their_reason_codes() -> None:
    for reason in (Reason.OPTED_OUT, Reason.CANCELLED, Reason.SUPERSEDED):
        assert public_reason(DeliveryStatus.SUPPRESSED, reason=reason, error_code=None,
                             channel=Channel.SMS) == reason
    for reason in (Reason.RETRIES_EXHAUSTED, Reason.PAST_DEADLINE, Reason.INTERRUPTED):
        assert public_reason(DeliveryStatus.FAILED, reason=reason, error_code="30003",
                             channel=Channel.SMS) == reason
    assert public_reason(DeliveryStatus.FAILED, reason=Reason.PROVIDER_CONFIGURATION,
                         error_code="20003", channel=Channel.SMS) == "configuration"


def test_nothing_went_wrong_means_no_reason() -> None:
    for status in (DeliveryStatus.SUBMITTING, DeliveryStatus.RETRYING, DeliveryStatus.SENT,
                   DeliveryStatus.DELIVERED):
        assert public_reason(status, reason=None, error_code="30003", channel=Channel.SMS) is None


@pytest.mark.parametrize("lang", list(Lang))
def test_every_status_and_reason_has_a_sentence_in_each_language(lang: Lang) -> None:
    sentences = [describe_status(status, lang) for status in PublicStatus]
    sentences += [describe_reason(code, lang) for code in [*ProviderReason, *Reason]]
    assert all(sentence and "code" not in sentence.split(":")[0] for sentence in sentences)
    assert len(set(sentences[:len(PublicStatus)])) == len(PublicStatus)
    other = Lang.EN if lang is Lang.FR else Lang.FR
    assert all(describe_reason(code, lang) != describe_reason(code, other)
               for code in ProviderReason)
