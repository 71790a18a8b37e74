"""The worker process's module: ``dramatiq notifier.worker`` (or ``notifier worker``).

Reads the settings, builds the broker on the deployment's Redis (NOTIFIER_REDIS_URL, or
the primary NOTIFIER_REDIS_SENTINELS name) and declares the actors.
With ``NOTIFIER_WORKER_METRICS_PORT`` set, Dramatiq's Prometheus middleware serves its
worker metrics (messages processed, errors, retries, durations, in progress) on that port
(see :mod:`notifier.worker_metrics`).
"""

from __future__ import annotations

import dramatiq
from redis import Redis

from notifier.actors import REDIS_OUTAGE_WAIT, build_broker, declare_actors
from notifier.channels.registry import channel_clients
from notifier.clock import utc_now
from notifier.logs import configure_logging
from notifier.settings import load_settings
from notifier.worker_metrics import check_metrics_environment

configure_logging()
settings = load_settings()
broker = build_broker(settings, outage_wait=REDIS_OUTAGE_WAIT)
dramatiq.set_broker(broker)
redis: Redis = broker.client
channels = channel_clients(settings, clock=utc_now, redis=redis)
actors = declare_actors(broker, settings, redis=redis, channels=channels)


class CloseChannels(dramatiq.Middleware):
    """Closes the channel clients' open connections (SMTP) when the worker stops."""

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        for channel_client in {id(c): c for c in channels.values()}.values():
            channel_client.close()


class FlushSendSummary(dramatiq.Middleware):
    """Logs what the sends came to since the last summary line when the worker stops."""

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        actors.summary.flush()


broker.add_middleware(CloseChannels())
broker.add_middleware(FlushSendSummary())

if check_metrics_environment(settings):
    from dramatiq.middleware.prometheus import Prometheus  # reads the environment

    broker.add_middleware(Prometheus())
