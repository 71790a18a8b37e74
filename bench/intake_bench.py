"""Benchmark: the intake API (POST /v1/events) on one web process, next to a bare endpoint
of the same app (GET /healthz) measured in the same run.

Each request is a new booked appointment (its own event id and reference), so every one
is validated, planned and stored with its confirmation and reminders.

    PYTHONPATH=. python bench/intake_bench.py               # 3,000 requests per measure
    PYTHONPATH=. python bench/intake_bench.py --requests 10000 --threads 16
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

from bench.http_load import ROOT, Request, add_server_options, compare, web_process
from notifier.local_redis import running_redis

TOKEN = "bench-api-token-0123456789"
_numbers = itertools.count()
EXAMPLE = json.loads((ROOT / "config" / "example-event.json").read_text())


def booking_requests(count: int) -> Iterator[Request]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    first = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    for _ in range(count):
        n = next(_numbers)
        event = json.loads(json.dumps(EXAMPLE))
        event["event_id"] = f"bench-{first:%H%M%S%f}-{n}"
        event["occurred_at"] = dt.datetime.now(dt.UTC).isoformat()
        event["appointment"]["reference"] = f"{n % 10_000_000_000:010d}"
        start = first + dt.timedelta(minutes=15 * (n % 2000))
        event["appointment"]["start"] = start.replace(tzinfo=None, microsecond=0).isoformat()
        body = json.dumps(event).encode()

        def call(http: httpx.Client, body: bytes = body) -> httpx.Response:
            return http.post("/v1/events", content=body, headers=headers)

        yield call


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per measure")
    parser.add_argument("--threads", type=int, default=8, help="clients for the throughput run")
    add_server_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch)) as redis_server, \
            web_process({
                "NOTIFIER_REDIS_URL": redis_server.url,
                "NOTIFIER_API_TOKEN": TOKEN,
                "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox"),
            }, loop=args.loop, http=args.http) as server:
        print(f"uvicorn ({args.loop}, {args.http}), 1 process, loopback; "
              f"{args.requests:,} requests per measure, {args.threads} client threads")
        compare(server, ("POST /v1/events", booking_requests, 202),
                requests=args.requests, threads=args.threads)


if __name__ == "__main__":
    main()
