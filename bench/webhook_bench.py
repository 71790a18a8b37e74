"""Benchmark: the inbound SMS webhook next to a bare endpoint of the same app, one process.

In one run: a private redis-server (with config/redis.conf unless --no-conf), the web app
under uvicorn in a subprocess on loopback (one process, access log off), and clients in
this process:
  1. latency: one client, requests one after another (p50 / p99 / max, requests per second);
  2. throughput: --threads clients at once (requests per second).
Each against ``GET /healthz`` (no Redis, no body) and ``POST /v1/twilio/sms`` (signature
check, form parsing, keyword, Redis, TwiML), with a mix of ARRET, REPRISE, AIDE, INFO and
plain texts (or the texts of --bodies), each with its own MessageSid (no duplicate
shortcut) from 1,000 numbers. ARRET and REPRISE are one Redis round trip, the others two.

    python bench/webhook_bench.py                      # 3,000 requests per measure
    python bench/webhook_bench.py --requests 10000 --threads 16 --no-conf
    python bench/webhook_bench.py --bodies ARRET       # opt-outs only
"""

from __future__ import annotations

import argparse
import functools
import itertools
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from bench.http_load import ROOT, Request, compare, web_process
from notifier.local_redis import running_redis

REDIS_CONF = ROOT / "config" / "redis.conf"
PATH = "/v1/twilio/sms"
PUBLIC_BASE_URL = "https://gateway.example.org"
AUTH_TOKEN = "bench-twilio-auth-token-000000"
BODIES = ("ARRET", "REPRISE", "Aide", "Merci, à demain!", "INFO", "ok")


def signed_text(validator: RequestValidator, n: int, *, sender: str, body: str) -> Request:
    """The webhook call of text number ``n`` from ``sender``, signed as Twilio signs it
    (computed here, before the clock starts: signing is Twilio's cost)."""
    params = {
        "AccountSid": "AC" + "0" * 32,
        "MessageSid": f"SM{time.time_ns():020d}{n:012d}",
        "From": sender,
        "To": "+15145550000",
        "Body": body,
        "NumMedia": "0",
    }
    headers = {"X-Twilio-Signature": validator.compute_signature(PUBLIC_BASE_URL + PATH,
                                                                 params)}

    def call(http: httpx.Client) -> httpx.Response:
        return http.post(PATH, data=params, headers=headers)

    return call


def webhook_requests(count: int, *, texts: tuple[str, ...] = BODIES) -> Iterator[Request]:
    """Signed webhook calls, each a new message with the next of ``texts``, from 1,000
    numbers in turn."""
    validator = RequestValidator(AUTH_TOKEN)
    bodies = itertools.cycle(texts)
    for n in range(count):
        yield signed_text(validator, n, sender=f"+1514555{n % 1000:04d}", body=next(bodies))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per measure")
    parser.add_argument("--threads", type=int, default=8, help="clients for the throughput run")
    parser.add_argument("--no-conf", action="store_true",
                        help="plain redis-server instead of config/redis.conf (appendfsync)")
    parser.add_argument("--bodies", nargs="+", default=BODIES, metavar="TEXT",
                        help="the texts patients send, in turn")
    args = parser.parse_args()

    extra = () if args.no_conf else (str(REDIS_CONF),)
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch), extra_args=extra) as redis_server, \
            web_process({
                "NOTIFIER_REDIS_URL": redis_server.url,
                "NOTIFIER_API_TOKEN": "bench-api-token-0123456789",
                "NOTIFIER_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "NOTIFIER_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox"),
            }) as base_url:
        print(f"uvicorn, 1 process, loopback; redis-server "
              f"{'plain' if args.no_conf else 'with config/redis.conf (appendfsync always)'}; "
              f"{args.requests:,} requests per measure, {args.threads} client threads; "
              f"texts: {' | '.join(args.bodies)}")
        texts = tuple(args.bodies)
        compare(base_url, (f"POST {PATH}", functools.partial(webhook_requests, texts=texts), 200),
                requests=args.requests, threads=args.threads)


if __name__ == "__main__":
    main()
