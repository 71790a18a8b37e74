"""Shared load-driving for the HTTP benchmarks: the real app under uvicorn in a
subprocess on loopback, clients in this process, and a table of latency and throughput
next to a bare endpoint of the same app measured in the same run."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from notifier.local_redis import free_port

ROOT = Path(__file__).resolve().parents[1]

Request = Callable[[httpx.Client], httpx.Response]
Measure = Callable[[int], Iterator[Request]]


def serve(port: int, loop: str, http: str) -> None:
    """The subprocess: the real app under uvicorn, settings from the environment.

    Parameters:
      port: where to listen on loopback.
      loop, http: uvicorn's event loop and HTTP parser (``auto`` takes uvloop and
        httptools when they are installed).
    """
    import uvicorn

    from notifier.settings import load_settings
    from notifier.web import create_app

    app = create_app(load_settings())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                loop=loop, http=http)


@dataclass(frozen=True)
class WebProcess:
    """A running web process.

    Parameters:
      url: its base URL.
      pid: its process id, whose CPU time :meth:`cpu_seconds` reads.
    """

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all its threads) the process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def web_process(settings: Mapping[str, str], *, loop: str = "asyncio",
                http: str = "h11") -> Iterator[WebProcess]:
    """Start the web app with ``settings`` (NOTIFIER_* variables).

    Parameters:
      settings: the process's NOTIFIER_* variables.
      loop, http: uvicorn's event loop and HTTP parser, see :func:`serve`.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")},
        **settings,
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "-c",
         f"from bench.http_load import serve; serve({port}, {loop!r}, {http!r})"],
        env=env, cwd=ROOT,
    )
    try:
        _wait_until_up(base_url, server)
        yield WebProcess(base_url, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options choosing uvicorn's event loop and HTTP parser."""
    parser.add_argument("--loop", default="asyncio", choices=("asyncio", "uvloop", "auto"),
                        help="uvicorn's event loop (default: asyncio, what notifier web runs)")
    parser.add_argument("--http", default="h11", choices=("h11", "httptools", "auto"),
                        help="uvicorn's HTTP parser (default: h11, which notifier web uses)")


def healthz_requests(count: int) -> Iterator[Request]:
    for _ in range(count):
        yield lambda http: http.get("/healthz")


def sequential(base_url: str, calls: list[Request], ok: int) -> tuple[list[float], float]:
    """Latency of each call (seconds) made one after another, and the total time."""
    latencies: list[float] = []
    with httpx.Client(base_url=base_url) as http:
        began = time.perf_counter()
        for call in calls:
            start = time.perf_counter()
            answer = call(http)
            latencies.append(time.perf_counter() - start)
            if answer.status_code != ok:
                raise SystemExit(f"unexpected answer {answer.status_code}: {answer.text[:200]}")
        total = time.perf_counter() - began
    return latencies, total


def concurrent(base_url: str, calls: list[Request], threads: int, ok: int) -> float:
    """Requests per second with ``threads`` clients sharing the calls."""
    shares = [calls[i::threads] for i in range(threads)]
    failures: list[int] = []

    def run(share: list[Request]) -> None:
        with httpx.Client(base_url=base_url) as http:
            for call in share:
                status = call(http).status_code
                if status != ok:
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


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def compare(server: WebProcess, measured: tuple[str, Measure, int], *, requests: int,
            threads: int) -> None:
    """Print latency, throughput and the web process's CPU per request of ``measured``
    (name, request maker, expected status) next to ``GET /healthz`` of the same app, and
    their ratios. The CPU is the process's own (all its threads) during the throughput run."""
    print(f"{'endpoint':<22} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'1 client/s':>11} {threads:>3} clients/s {'web CPU ms/req':>15}")
    results = {}
    for name, make, ok in (("GET /healthz", healthz_requests, 200), measured):
        sequential(server.url, list(make(200)), ok)  # warm up
        latencies, total = sequential(server.url, list(make(requests)), ok)
        calls = list(make(requests))
        cpu_before = server.cpu_seconds()
        rate = concurrent(server.url, calls, threads, ok)
        cpu = (server.cpu_seconds() - cpu_before) / len(calls)
        p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
        results[name] = (p50, p99, len(latencies) / total, rate, cpu)
        print(f"{name:<22} {p50 * 1e3:8.2f} {p99 * 1e3:8.2f} {max(latencies) * 1e3:8.2f} "
              f"{len(latencies) / total:11,.0f} {rate:14,.0f} {cpu * 1e3:15.3f}")
        print(f"{'':<22} mean {statistics.mean(latencies) * 1e3:.2f} ms")
    bare, endpoint = results["GET /healthz"], results[measured[0]]
    print(f"{measured[0]} / bare: p50 x{endpoint[0] / bare[0]:.2f}, "
          f"p99 x{endpoint[1] / bare[1]:.2f}, throughput x{endpoint[3] / bare[3]:.2f} "
          f"({threads} clients), x{endpoint[2] / bare[2]:.2f} (1 client); "
          f"web CPU per request {endpoint[4] * 1e3:.3f} ms (bare {bare[4] * 1e3:.3f} ms)")


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
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
