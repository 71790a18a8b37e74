"""Benchmark: the inbound SMS webhook next to a bare endpoint of the same app, one process.

In one run: a private redis-server (with config/redis.conf unless --no-conf), the web app
under uvicorn in a subprocess on loopback (one process, access log off), and clients in
this process:
  1. latency: one client, requests one after another (p50 / p99 / max, requests per second);
  2. throughput: --threads clients at once (requests per second).
Each against ``GET /healthz`` (no Redis, no body) and ``POST /v1/twilio/sms`` (signature
check, form parsing, keyword, two Redis round trips, TwiML), with a mix of ARRET,
REPRISE, AIDE, INFO and plain texts, each with its own MessageSid (no duplicate shortcut)
from 1,000 numbers.

    python bench/webhook_bench.py                      # 3,000 requests per measure
    python bench/webhook_bench.py --requests 10000 --threads 16 --no-conf
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from notifier.local_redis import free_port, running_redis

ROOT = Path(__file__).resolve().parents[1]
REDIS_CONF = ROOT / "config" / "redis.conf"
PATH = "/v1/twilio/sms"
PUBLIC_BASE_URL = "https://gateway.example.org"
AUTH_TOKEN = "bench-twilio-auth-token-000000"
BODIES = ("ARRET", "REPRISE", "Aide", "Merci, à demain!", "INFO", "ok")

Request = Callable[[httpx.Client], httpx.Response]


def serve(port: int) -> None:
    """The subprocess: the real app under uvicorn, settings from the environment."""
    import uvicorn

    from notifier.settings import load_settings
    from notifier.web import create_app

    app = create_app(load_settings())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def webhook_requests(count: int) -> Iterator[Request]:
    """Signed webhook calls, each a new message (precomputed: signing is Twilio's cost)."""
    validator = RequestValidator(AUTH_TOKEN)
    bodies = itertools.cycle(BODIES)
    for n in range(count):
        params = {
            "AccountSid": "AC" + "0" * 32,
            "MessageSid": f"SM{time.time_ns():020d}{n:012d}",
            "From": f"+1514555{n % 1000:04d}",
            "To": "+15145550000",
            "Body": next(bodies),
            "NumMedia": "0",
        }
        headers = {"X-Twilio-Signature": validator.compute_signature(
            PUBLIC_BASE_URL + PATH, params
        )}

        def call(http: httpx.Client, params: dict[str, str] = params,
                 headers: dict[str, str] = headers) -> httpx.Response:
            return http.post(PATH, data=params, headers=headers)

        yield call


def healthz_requests(count: int) -> Iterator[Request]:
    for _ in range(count):
        yield lambda http: http.get("/healthz")


def sequential(base_url: str, calls: list[Request]) -> tuple[list[float], float]:
    """Latency of each call (seconds) made one after another, and the total time."""
    latencies: list[float] = []
    with httpx.Client(base_url=base_url) as http:
        began = time.perf_counter()
        for call in calls:
            start = time.perf_counter()
            answer = call(http)
            latencies.append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise SystemExit(f"unexpected answer {answer.status_code}: {answer.text[:200]}")
        total = time.perf_counter() - began
    return latencies, total


def concurrent(base_url: str, calls: list[Request], threads: int) -> float:
    """Requests per second with ``threads`` clients sharing the calls."""
    shares = [calls[i::threads] for i in range(threads)]
    failures: list[int] = []

    def run(share: list[Request]) -> None:
        with httpx.Client(base_url=base_url) as http:
            for call in share:
                status = call(http).status_code
                if status != 200:
                    failures.append(status)

    workers = [threading.Thread(target=run, args=(share,)) for share in shares]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return len(calls) / seconds


def wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the web process stopped; run it by hand to see why")
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the web process did not start within 20 s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per measure")
    parser.add_argument("--threads", type=int, default=8, help="clients for the throughput run")
    parser.add_argument("--no-conf", action="store_true",
                        help="plain redis-server instead of config/redis.conf (appendfsync)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    extra = () if args.no_conf else (str(REDIS_CONF),)
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch), extra_args=extra) as redis_server:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")},
            "NOTIFIER_REDIS_URL": redis_server.url,
            "NOTIFIER_API_TOKEN": "bench-api-token-0123456789",
            "NOTIFIER_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "NOTIFIER_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox"),
            "PYTHONPATH": str(ROOT),
        }
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port)], env=env, cwd=ROOT
        )
        try:
            wait_until_up(base_url, server)
            print(f"uvicorn, 1 process, loopback; redis-server "
                  f"{'plain' if args.no_conf else 'with config/redis.conf (appendfsync always)'}; "
                  f"{args.requests:,} requests per measure, {args.threads} client threads")
            print(f"{'endpoint':<22} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
                  f"{'1 client/s':>11} {args.threads:>3} clients/s")
            results = {}
            for name, make in (("GET /healthz", healthz_requests),
                               (f"POST {PATH}", webhook_requests)):
                sequential(base_url, list(make(200)))  # warm up
                latencies, total = sequential(base_url, list(make(args.requests)))
                rate = concurrent(base_url, list(make(args.requests)), args.threads)
                p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
                results[name] = (p50, p99, len(latencies) / total, rate)
                print(f"{name:<22} {p50 * 1e3:8.2f} {p99 * 1e3:8.2f} "
                      f"{max(latencies) * 1e3:8.2f} {len(latencies) / total:11,.0f} "
                      f"{rate:14,.0f}")
                print(f"{'':<22} mean {statistics.mean(latencies) * 1e3:.2f} ms")
            bare, hook = results["GET /healthz"], results[f"POST {PATH}"]
            print(f"webhook / bare: p50 x{hook[0] / bare[0]:.2f}, p99 x{hook[1] / bare[1]:.2f}, "
                  f"throughput x{hook[3] / bare[3]:.2f} ({args.threads} clients), "
                  f"x{hook[2] / bare[2]:.2f} (1 client)")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
