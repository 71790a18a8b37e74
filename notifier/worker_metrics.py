"""Dramatiq's own worker metrics, served by its Prometheus middleware.

The middleware reads where to listen, and where its worker processes keep their
counters, from the environment when it is imported, and its metrics server is a process
the Dramatiq master starts. So the master itself must be given that environment: the
``notifier worker`` command does it before it becomes the master.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from notifier.errors import SettingsError
from notifier.settings import Settings


def metrics_environment(settings: Settings) -> dict[str, str]:
    """The variables the middleware reads; empty when no port is set."""
    port = settings.worker_metrics_port
    if port is None:
        return {}
    folder = Path(tempfile.gettempdir()) / f"{settings.queue_prefix}-worker-metrics-{port}"
    return {
        "dramatiq_prom_host": settings.worker_metrics_host,
        "dramatiq_prom_port": str(port),
        "dramatiq_prom_db": str(folder),
    }


def check_metrics_environment(settings: Settings) -> bool:
    """True when the worker should add the middleware. A worker process whose master was
    not started by ``notifier worker`` would serve nothing on the port set: stop it with
    the line that says what to do."""
    wanted = metrics_environment(settings)
    if not wanted:
        return False
    if any(os.environ.get(name) != value for name, value in wanted.items()):
        raise SettingsError(
            "NOTIFIER_WORKER_METRICS_PORT is set: start workers with `notifier worker` "
            "(not `dramatiq notifier.worker`) so that Dramatiq's metrics server gets it"
        )
    return True
