"""The gateway's state as Prometheus metrics, read from Redis at each scrape.

Every value is read when Prometheus asks, so any web process answers for the whole
deployment (no per-process counters to add up). Labels hold queue names, channels,
statuses and reason codes only: never an address, a name or a reference number.

Metrics (all gauges but one):

- ``notifier_redis_up``: 1 when Redis answered this scrape; when 0, nothing else follows;
- ``notifier_queue_messages{queue,state}``: Dramatiq messages ``ready``, ``delayed``,
  ``in_flight`` and ``dead`` (dead letters);
- ``notifier_workers_live``: Dramatiq processes seen within the heartbeat timeout;
- ``notifier_scheduler_last_run_timestamp_seconds`` and ``..._age_seconds``: the end of
  the scheduler's last pass (absent if no pass ever ended);
- ``notifier_schedule_messages{channel}``: messages waiting in the schedule;
- ``notifier_schedule_overdue_messages``: due now, not yet taken by a scheduler;
- ``notifier_schedule_due_next_hour_messages``: due within the hour (overdue included);
- ``notifier_deliveries_last_hour{status,channel}``: statuses reached over the previous
  whole UTC hour and the current one so far (hourly buckets; see hourly_counts);
- ``notifier_delivery_failures_last_hour{status,channel,reason}``: undelivered, failed
  and suppressed messages by reason code over the same hours;
- ``notifier_delivery_rate_last_hour``: delivered / ended over the same hours (absent
  when nothing ended);
- ``notifier_fallback_redundant_last_hour{channel}``: messages delivered late, after
  their fallback was handed to a provider, over the same hours; a series of its own, not
  a status, so it is in no sum of ``notifier_deliveries_last_hour``;
- ``notifier_opt_outs{channel}``: numbers opted out now;
- ``notifier_opt_out_changes_total`` (counter): opt-out changes the audit stream ever
  recorded (Redis 7 counts them even after entries older than
  ``NOTIFIER_OPTOUT_AUDIT_RETENTION`` are dropped; an older Redis gives the entries kept);
- ``notifier_provider_latency_seconds{channel}`` (histogram): how long each channel's
  provider took to answer a send, refusals and timeouts included, since the deployment
  began (:mod:`notifier.store.provider_latency`);
- ``notifier_callbacks_waiting``: callbacks to booking systems on the schedule (due now,
  or later for a retry);
- ``notifier_callbacks_oldest_due_age_seconds``: how long the longest-due callback not yet
  handed out has been due (0 when none is);
- ``notifier_callbacks_dead``: callbacks given up, waiting for
  ``notifier integrators recover``;
- ``notifier_callback_endpoints{state}``: endpoints ``active``, ``disabled`` (they answered
  410) and ``suspended`` (they failed for days);
- ``notifier_callbacks_delivered_total`` and ``notifier_callback_attempts_failed_total``
  (counters): callbacks the endpoints took and attempts they failed, summed over the
  endpoints there are now (removing an endpoint lowers them, which Prometheus reads as a
  reset).

The web process adds its own count of webhook answers (``notifier_webhook_requests``:
:mod:`notifier.web.webhook_results`). Dramatiq's own worker metrics come from its
Prometheus middleware in the worker processes (``NOTIFIER_WORKER_METRICS_PORT``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from redis import Redis, RedisError

from notifier.operations.callbacks import callback_summary
from notifier.operations.delivery_stats import delivery_counts
from notifier.operations.queues import live_workers, queue_depths, scheduler_last_run
from notifier.operations.schedule_ahead import due_within, overdue, schedule_size
from notifier.operations.times import require_aware
from notifier.settings import Settings
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.store.provider_latency import ProviderLatency

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _gauge(name: str, documentation: str, value: float | None = None,
           labels: Iterable[str] = ()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels) or None)
    if value is not None:
        family.add_metric([], value)
    return family


def read_metrics(redis: Redis, settings: Settings, now: dt.datetime) -> list[Metric]:
    """The metric families for one scrape.

    Raises:
      redis.RedisError: when Redis does not answer (see :func:`prometheus_text`).
    """
    now = require_aware(now)
    families: list[Metric] = [_gauge("notifier_redis_up", "1 when Redis answered", 1)]

    queues = _gauge("notifier_queue_messages", "Dramatiq messages by queue and state",
                    labels=("queue", "state"))
    for depth in queue_depths(redis, settings):
        for state in ("ready", "delayed", "in_flight", "dead"):
            queues.add_metric([depth.queue, state], getattr(depth, state))
    families.append(queues)
    families.append(_gauge("notifier_workers_live",
                           "Dramatiq processes seen within the heartbeat timeout",
                           live_workers(redis, settings, now)))

    last_run = scheduler_last_run(redis, settings)
    if last_run is not None:
        families.append(_gauge("notifier_scheduler_last_run_timestamp_seconds",
                               "When the scheduler last finished a pass (Unix time)",
                               last_run.timestamp()))
        families.append(_gauge("notifier_scheduler_last_run_age_seconds",
                               "Seconds since the scheduler last finished a pass",
                               max(0.0, (now - last_run).total_seconds())))

    waiting = _gauge("notifier_schedule_messages", "Messages waiting in the schedule",
                     labels=("channel",))
    for channel, size in schedule_size(redis, settings).items():
        waiting.add_metric([str(channel)], size)
    families.append(waiting)
    families.append(_gauge("notifier_schedule_overdue_messages",
                           "Messages due now that no scheduler has taken",
                           overdue(redis, settings, now)))
    families.append(_gauge("notifier_schedule_due_next_hour_messages",
                           "Messages due within the next hour, overdue ones included",
                           due_within(redis, settings, now, dt.timedelta(hours=1))))

    counts = delivery_counts(redis, settings, now, "hour")
    deliveries = _gauge("notifier_deliveries_last_hour",
                        "Statuses reached over the previous and the current UTC hour",
                        labels=("status", "channel"))
    for name, statuses in counts.by_channel.items():
        for status, count in statuses.items():
            deliveries.add_metric([status, name], count)
    families.append(deliveries)
    failures = _gauge("notifier_delivery_failures_last_hour",
                      "Undelivered, failed and suppressed messages by reason code, over the "
                      "previous and the current UTC hour",
                      labels=("status", "channel", "reason"))
    for failure in [*counts.failures, *counts.suppressions]:
        failures.add_metric([failure.status, failure.channel, failure.reason or "none"],
                            failure.count)
    families.append(failures)
    redundant = _gauge("notifier_fallback_redundant_last_hour",
                       "Messages delivered late, after their fallback was handed to a "
                       "provider, over the previous and the current UTC hour",
                       labels=("channel",))
    for name, count in counts.fallback_redundant.items():
        redundant.add_metric([name], count)
    families.append(redundant)
    if counts.delivery_rate is not None:
        families.append(_gauge("notifier_delivery_rate_last_hour",
                               "Delivered / (delivered + undelivered + failed) over the "
                               "previous and the current UTC hour", counts.delivery_rate))

    opt_outs = OptOutStore(redis, settings).counts()
    numbers = _gauge("notifier_opt_outs", "Numbers opted out now", labels=("channel",))
    for name, count in opt_outs.items():
        if name != "audit":
            numbers.add_metric([name], count)
    families.append(numbers)
    changes = CounterMetricFamily("notifier_opt_out_changes",
                                  "Opt-out changes recorded in the audit")
    changes.add_metric([], opt_outs["audit"])
    families.append(changes)

    latency = HistogramMetricFamily("notifier_provider_latency_seconds",
                                    "How long the provider took to answer a send",
                                    labels=["channel"])
    histograms = ProviderLatency(redis, keys=Keys(settings.queue_prefix)).read()
    for channel, histogram in histograms.items():
        latency.add_metric([str(channel)], [(floatToGoString(bound), count)
                                            for bound, count in histogram.buckets],
                           histogram.total)
    families.append(latency)
    families.extend(_callback_families(redis, settings, now))
    return families


def _callback_families(redis: Redis, settings: Settings, now: dt.datetime) -> list[Metric]:
    summary = callback_summary(redis, settings, now)
    age = summary.oldest_due_age
    endpoints = _gauge("notifier_callback_endpoints", "Callback endpoints by state",
                       labels=("state",))
    for state, count in summary.endpoints.items():
        endpoints.add_metric([state], count)
    delivered = CounterMetricFamily("notifier_callbacks_delivered",
                                    "Callbacks the endpoints took, over today's endpoints")
    delivered.add_metric([], summary.delivered)
    failed = CounterMetricFamily("notifier_callback_attempts_failed",
                                 "Callback attempts the endpoints failed, over today's "
                                 "endpoints")
    failed.add_metric([], summary.failed)
    return [
        _gauge("notifier_callbacks_waiting", "Callbacks on the schedule, due now or later",
               summary.waiting),
        _gauge("notifier_callbacks_oldest_due_age_seconds",
               "Seconds the longest-due callback not yet handed out has been due (0: none)",
               0.0 if age is None else age.total_seconds()),
        _gauge("notifier_callbacks_dead", "Callbacks given up, waiting for an operator's "
               "recover", summary.dead),
        endpoints, delivered, failed,
    ]


class _Scrape(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def prometheus_text(redis: Redis, settings: Settings, now: dt.datetime, *,
                    local: Iterable[Metric] = ()) -> bytes:
    """The metrics in Prometheus' text format, followed by ``local`` (this process's own
    counts); only ``notifier_redis_up 0`` and those when Redis does not answer (so the
    outage itself is recorded)."""
    try:
        families = read_metrics(redis, settings, now)
    except RedisError:
        families = [_gauge("notifier_redis_up", "1 when Redis answered", 0)]
    families = [*families, *local]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(families))
    return generate_latest(registry)
