"""Readiness and metrics for load balancers, orchestrators and Prometheus.

- ``GET /readyz`` (no token): 200 when Redis answers and a scheduler finished a pass
  recently; 503 with ``{"status": "not_ready", "reason": <code>, "message": ...}``
  otherwise. ``/healthz`` (the process is up) is in :mod:`notifier.web.app`.
- ``GET /metrics``: Prometheus text format (:mod:`notifier.operations.metrics`). It
  needs the read-only metrics token (``NOTIFIER_METRICS_TOKEN``) as
  ``Authorization: Bearer <token>``, never the intake API token: only health checks and
  Twilio's webhooks answer without authentication.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from redis import RedisError

from notifier.operations.metrics import CONTENT_TYPE, prometheus_text
from notifier.operations.queues import scheduler_last_run
from notifier.operations.status import stale_after
from notifier.web.auth import require_metrics_token
from notifier.web.context import web_context

router = APIRouter(tags=["operations"])

_NOT_READY = {
    "redis_unreachable": "Redis does not answer.",
    "scheduler_never_ran": "No scheduler has finished a pass yet.",
    "scheduler_stale": "The scheduler's last pass is too old.",
}


def _not_ready(reason: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={"status": "not_ready", "reason": reason, "message": _NOT_READY[reason],
                 **extra},
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/readyz",
    summary="Readiness check: Redis answers and the scheduler ran recently (no token needed)",
    responses={503: {"description": "Not ready; the body names the reason"}},
)
def readyz(request: Request) -> Response:
    context = web_context(request)
    now = context.clock()
    try:
        context.redis.ping()
        last_run = scheduler_last_run(context.redis, context.settings)
    except RedisError:
        return _not_ready("redis_unreachable")
    if last_run is None:
        return _not_ready("scheduler_never_ran")
    age = (now - last_run).total_seconds()
    if now - last_run > stale_after(context.settings):
        return _not_ready("scheduler_stale", scheduler_last_run=last_run.isoformat(),
                          scheduler_age_seconds=round(age, 3))
    return JSONResponse(
        {"status": "ready", "scheduler_last_run": last_run.isoformat(),
         "scheduler_age_seconds": round(age, 3)},
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (the metrics token, not the API token)",
    dependencies=[Depends(require_metrics_token)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
def metrics(request: Request) -> Response:
    context = web_context(request)
    body = prometheus_text(context.redis, context.settings, context.clock(),
                           local=context.webhook_results.families())
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
