"""The message index on a real Redis: written by intake and by every delivery record's
move, read a page at a time."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from notifier.public_status import PublicStatus
from notifier.store.message_index import (
    STATUSES,
    Cursor,
    IndexedMessage,
    MessageIndex,
    index_score,
)
from tests.factories import event
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.fakes.twilio_server import Outcome
from tests.integration.test_delivery import START, Delivery, delivery, web_port

__all__ = ["delivery", "fake_smtp", "fake_twilio", "web_port"]  # fixtures

CHANNELS = ("email", "sms", "voice")


def index_of(delivery: Delivery) -> MessageIndex:
    return MessageIndex(delivery.client, keys=delivery.intake.keys,
                        retention=delivery.settings.delivery_retention)


def everything(index: MessageIndex, **filters: Any) -> list[IndexedMessage]:
    options: dict[str, Any] = {"locations": ["plateau"], "statuses": STATUSES,
                               "channels": CHANNELS, **filters}
    rows, _ = index.page(**options, size=1000)
    return rows


def statuses(rows: list[IndexedMessage]) -> dict[tuple[str, str], str]:
    return {(row.kind, row.channel): row.status for row in rows}


def test_a_booking_lists_its_messages_scheduled_then_as_they_are_sent(
    delivery: Delivery,
) -> None:
    now = delivery.clock()
    delivery.intake.accept(event("booked", start=START, at=now, modes=("sms", "email")), now)
    index = index_of(delivery)

    rows = everything(index)
    assert statuses(rows) == {
        ("confirmation", "sms"): "scheduled", ("confirmation", "email"): "scheduled",
        ("reminder", "sms"): "scheduled", ("reminder", "email"): "scheduled",
    }
    scheduled_before = [row for row in rows if row.status == "scheduled"]
    sms = next(row for row in rows if row.channel == "sms")
    assert sms.masked == "+1•••••••188" and sms.reference == "0000000001"

    claimed = delivery.intake.schedule.claim(now)
    delivery.intake.schedule.ack(claimed)
    for payload in claimed:
        delivery.step(json.loads(payload))
    (sent,) = delivery.fake.messages
    assert delivery.fake.callback(sent.sid, "delivered") == 200

    rows = everything(index)
    assert statuses(rows) == {
        ("confirmation", "sms"): "delivered", ("confirmation", "email"): "sent",
        ("reminder", "sms"): "scheduled", ("reminder", "email"): "scheduled",
    }
    scheduled, _ = index.page(locations=["plateau"], statuses=["scheduled"],
                              channels=CHANNELS, size=10)
    assert {row.kind for row in scheduled} == {"reminder"}
    assert len(scheduled) == len(scheduled_before) - 2


def test_a_cancellation_withdraws_and_a_landline_fails(delivery: Delivery) -> None:
    delivery.fake.script_messages(Outcome.error(21614))
    for payload in delivery.book("sms"):
        delivery.step(payload)
    now = delivery.clock() + dt.timedelta(minutes=5)
    delivery.intake.accept(event("cancelled", version=2, start=START, at=now,
                                 modes=("sms",)), now)
    index = index_of(delivery)

    rows = everything(index)
    assert statuses(rows) == {
        ("confirmation", "sms"): "failed", ("reminder", "sms"): "withdrawn",
        ("cancellation", "sms"): "scheduled",
    }
    failed = next(row for row in rows if row.status == "failed")
    assert failed.record["error_code"] == "21614"
    assert failed.masked == "+1•••••••188"


def test_filters_each_narrow_and_paging_returns_every_row_once(delivery: Delivery) -> None:
    now = delivery.clock()
    for n in range(12):
        delivery.intake.accept(event("booked", start=START + dt.timedelta(minutes=n), at=now,
                                     reference=f"00000001{n:02d}", modes=("sms", "email")),
                               now)
    index = index_of(delivery)
    every = everything(index)
    assert len(every) == 72  # a confirmation and two reminders per channel

    assert {row.channel for row in everything(index, channels=["sms"])} == {"sms"}
    assert {row.kind for row in everything(index, kinds=["reminder"])} == {"reminder"}
    assert everything(index, statuses=["failed"]) == []
    assert everything(index, locations=["rosemont"]) == []
    confirmations = everything(index, kinds=["confirmation"])
    due = confirmations[0].at
    assert all(row.at == due for row in confirmations)
    assert everything(index, since=due + dt.timedelta(seconds=1), kinds=["confirmation"]) == []
    assert len(everything(index, until=due + dt.timedelta(seconds=1),
                          kinds=["confirmation"])) == 24

    seen: list[str] = []
    cursor: Cursor | None = None
    for _ in range(20):
        rows, cursor = index.page(locations=["plateau"], statuses=STATUSES, channels=CHANNELS,
                                  cursor=cursor, size=5)
        seen += [row.key for row in rows]
        if cursor is None:
            break
        assert Cursor.parse(cursor.token()) == cursor
    assert sorted(seen) == sorted(row.key for row in every) and len(seen) == len(set(seen))
    assert seen == [row.key for row in every]  # newest first, as one page lists them

    kept, _ = index.page(locations=["plateau"], statuses=STATUSES, channels=CHANNELS,
                         size=100, keep=lambda row: row.channel == "email")
    assert len(kept) == 36


def test_retention_drops_what_is_older_than_the_records(delivery: Delivery) -> None:
    keys = delivery.intake.keys
    old_key = "0000000009:confirmation:sms:v1"
    ttl = delivery.settings.delivery_retention
    long_ago = delivery.clock() - ttl - dt.timedelta(days=1)
    failed = keys.messages("plateau", "failed", "sms")
    delivery.client.zadd(failed, {old_key: index_score(old_key, long_ago.timestamp())})
    delivery.fake.script_messages(Outcome.error(21211))
    for payload in delivery.book("sms"):
        delivery.step(payload)

    members = {m.decode() for m in delivery.client.zrange(failed, 0, -1)}
    assert old_key not in members and len(members) == 1
    assert 0 < delivery.client.ttl(failed) <= int(ttl.total_seconds())


def test_the_index_knows_the_public_statuses() -> None:
    assert set(STATUSES) == {str(status) for status in PublicStatus}


@pytest.mark.parametrize("token", ["", "x~y", "1.5", "nan~k", "inf~k"])
def test_a_cursor_token_that_is_not_one_is_none(token: str) -> None:
    assert Cursor.parse(token) is None
