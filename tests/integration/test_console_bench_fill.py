"""The console benchmark's fill writes, for a message, what the real write path writes in
the message index: a real booking, send and status callback on one side, the bench's
script for the same message on the other, compared key by key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import redis

from bench.console_bench import INDEX_ONE
from notifier.planning.entries import PlannedMessage
from notifier.privacy import mask_address
from notifier.store.decoding import text_map
from notifier.store.message_index import address_digest
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.integration.test_delivery import MOBILE, Delivery, delivery, web_port

__all__ = ["delivery", "fake_smtp", "fake_twilio", "web_port"]  # fixtures


def index_holding(client: redis.Redis, prefix: str, key: str) -> dict[str, Any]:
    """Every index key that holds send ``key``: a sorted set's score of it, the row's
    fields; with each key's time to live (seconds)."""
    found: dict[str, Any] = {}
    for raw in client.scan_iter(match=f"{prefix}:message*", count=1000):
        name = raw.decode()
        if client.type(name) == b"zset":
            score = client.zscore(name, key)
            if score is not None:
                found[name] = (score, client.ttl(name))
        elif name == f"{prefix}:message:{key}":
            found[name] = (text_map(client.hgetall(name)), client.ttl(name))
    return found


def index_names(client: redis.Redis, prefix: str) -> set[str]:
    return {raw.decode() for raw in client.scan_iter(match=f"{prefix}:message*", count=1000)}


@pytest.mark.parametrize(("callback", "error_code", "status"), [
    ("delivered", None, "delivered"),
    ("undelivered", 30005, "undelivered"),
])
def test_the_fill_indexes_a_message_as_the_real_write_path_does(
    delivery: Delivery, callback: str, error_code: int | None, status: str,
) -> None:
    client, prefix = delivery.client, delivery.intake.keys.prefix
    booked_at = delivery.clock()
    (payload,) = delivery.book("sms")
    delivery.clock.advance(dt.timedelta(seconds=30))
    delivery.step(payload)
    delivery.clock.advance(dt.timedelta(seconds=20, milliseconds=250))
    moved_at = delivery.clock()
    (sent,) = delivery.fake.messages
    assert sent.sid
    assert delivery.fake.callback(sent.sid, callback, error_code=error_code) == 200
    record = delivery.record(payload)
    assert record["status"] == status
    key = PlannedMessage.from_dict(payload).key
    real = index_holding(client, prefix, key)
    names = index_names(client, prefix)
    assert len(real) == 4  # the row, the address's set, the status's set, every message's

    for name in real:  # the real write's traces of this message, gone
        if name.startswith(f"{prefix}:message:"):
            client.delete(name)
        else:
            client.zrem(name, key)
    assert index_holding(client, prefix, key) == {}
    ttl = int(delivery.settings.delivery_retention.total_seconds())
    client.register_script(INDEX_ONE)(args=[
        prefix, key, record["location"], "sms", mask_address(MOBILE), address_digest(MOBILE),
        booked_at.timestamp(), status, moved_at.timestamp(), ttl,
    ])

    bench = index_holding(client, prefix, key)
    assert index_names(client, prefix) == names
    assert bench.keys() == real.keys()
    for name, (held, lives) in real.items():
        assert bench[name][0] == held, name
        assert abs(bench[name][1] - lives) <= 5, name
