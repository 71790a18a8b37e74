"""How the Twilio webhooks answered, counted in the web process.

Counted in memory rather than in Redis: a refused (forged or unsigned) webhook must
change nothing in the gateway's state, and the count is what an operator watches to see
such requests. Each web process counts its own, as Prometheus counters usually are: sum
them across processes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/v1/twilio/"


def result_of(status: int) -> str:
    """An HTTP status in the words of the metric's ``result`` label."""
    if status == 403:
        return "refused"  # the signature did not match
    if status >= 500:
        return "error"
    if status >= 400:
        return "invalid"
    return "answered"


class WebhookResults:
    """Counts of the Twilio webhooks' answers by path and result, for ``/metrics``; a
    path is named by what follows ``/v1/twilio/`` (``sms``, ``status``...).

    Parameters:
      paths: the webhook paths the app serves; any other path under ``/v1/twilio/`` is
        counted as ``other``, so a stranger's made-up paths cannot grow the labels.
    """

    def __init__(self, paths: frozenset[str]) -> None:
        self.paths = paths
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def count(self, path: str, status: int) -> None:
        webhook = path[len(PREFIX):].replace("/", "_") if path in self.paths else "other"
        with self._lock:
            self._counts[webhook, result_of(status)] += 1

    def families(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "notifier_webhook_requests", "Twilio webhook requests by path and result, "
            "counted by this web process", labels=["webhook", "result"],
        )
        with self._lock:
            counts = sorted(self._counts.items())
        for (webhook, result), value in counts:
            family.add_metric([webhook, result], value)
        yield family


class CountWebhooks:
    """ASGI middleware: counts each answer to a request under ``/v1/twilio/``.

    Parameters:
      app: the application it wraps.
      results: where the answers are counted.
    """

    def __init__(self, app: ASGIApp, *, results: WebhookResults) -> None:
        self.app = app
        self.results = results

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.results.count(path, int(message["status"]))
            await send(message)

        await self.app(scope, receive, counting_send)
