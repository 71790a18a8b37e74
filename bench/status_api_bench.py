"""Benchmark: the status API (GET /v1/messages/{message_id}) on one web process, next to a
bare endpoint of the same app (GET /healthz) measured in the same run.

The private Redis first holds --messages messages, each moved through the delivery log as
the send step moves one (submitting, then delivered), so each has a record and callback
log entries; every request reads one of them, in turn, with the deployment's token. The
latency figures come from one client, one request at a time (a stated rate: as fast as
one client goes); the throughput from --threads clients. Also printed: the web process's
CPU per request.

    PYTHONPATH=. python bench/status_api_bench.py               # 3,000 requests per measure
    PYTHONPATH=. python bench/status_api_bench.py --requests 10000 --threads 16
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import redis

from bench.http_load import Measure, Request, compare, web_server
from notifier.delivery_status import DeliveryStatus
from notifier.local_redis import running_redis
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog

TOKEN = "bench-api-token-0123456789"


def seed(url: str, count: int) -> list[str]:
    """``count`` messages sent and delivered, as the send step records them; their ids."""
    client = redis.Redis.from_url(url)
    deliveries = DeliveryLog.of(client, Settings(redis_url=url))
    now = dt.datetime.now(dt.UTC)
    ids = []
    for n in range(count):
        key = f"{n:010d}:confirmation:sms:v1"
        fields: dict[str, str | int] = {
            "reference": f"{n:010d}", "kind": "confirmation", "channel": "sms", "version": 1,
            "lang": "fr", "location": "plateau",
        }
        deliveries.advance(key, DeliveryStatus.SUBMITTING, now, fields=fields)
        deliveries.advance(key, DeliveryStatus.DELIVERED, now, fields={"provider_id": f"SM{n}"})
        ids.append(key)
    client.close()
    return ids


def status_requests(ids: list[str]) -> Measure:
    turn = itertools.cycle(ids)
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def make(count: int) -> Iterator[Request]:
        for _ in range(count):
            path = f"/v1/messages/{next(turn)}"

            def call(http: httpx.Client, path: str = path) -> httpx.Response:
                return http.get(path, headers=headers)

            yield call

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per measure")
    parser.add_argument("--messages", type=int, default=5000, help="messages stored")
    parser.add_argument("--threads", type=int, default=8, help="clients for the throughput run")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch)) as redis_server:
        ids = seed(redis_server.url, args.messages)
        with web_server({
            "NOTIFIER_REDIS_URL": redis_server.url,
            "NOTIFIER_API_TOKEN": TOKEN,
            "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox"),
        }) as (base_url, pid):
            print(f"uvicorn, 1 process, loopback; {args.messages:,} messages stored; "
                  f"{args.requests:,} requests per measure, latency from 1 client one request "
                  f"at a time, throughput from {args.threads} clients")
            figures = compare(base_url, ("GET /v1/messages/{id}", status_requests(ids), 200),
                              requests=args.requests, threads=args.threads, server_pid=pid)
        if args.json is not None:
            args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
