"""Who the client is: the real ``notifier web`` believes X-Forwarded-For only from the
proxies it is told to trust, so that a client cannot choose the address that sign-in
throttling and the logs see."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.harness import GatewayConfig, Processes, wait_until
from tests.security.conftest import API_TOKEN

CLAIMED = "203.0.113.77"


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [("", "127.0.0.1"), ("127.0.0.1", CLAIMED)],
    ids=["no-proxy-trusted", "local-proxy-trusted"],
)
def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    redis_url: str, tmp_path: Path, trusted: str, seen: str
) -> None:
    config = GatewayConfig(redis_url=redis_url, api_token=API_TOKEN,
                           outbox_dir=tmp_path / "outbox", web_trusted_proxies=trusted)
    with Processes(config, workdir=tmp_path / "processes") as processes:
        web = processes.start_web()
        answer = httpx.get(f"http://127.0.0.1:{web.port}/healthz", timeout=5,
                           headers={"X-Forwarded-For": CLAIMED})
        assert answer.status_code == 200
        # The harness's readiness check made the first such line, from loopback.
        wait_until(lambda: len(health_lines(web.latest_output())) >= 2, timeout=5,
                   what="the access log line")
        assert f" {seen}:" in health_lines(web.latest_output())[-1]


def health_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if '"GET /healthz' in line]
