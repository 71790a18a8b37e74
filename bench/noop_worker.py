"""The baseline of ``bench/delivery_bench.py``: a Dramatiq actor that does nothing, on the
gateway's own broker (``build_broker``: same Redis, namespace and broker settings).

Run as ``dramatiq bench.noop_worker`` with the same ``NOTIFIER_*`` settings as the gateway's
worker; it consumes only the ``noop`` queue.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from notifier.actors import build_broker
from notifier.logs import configure_logging
from notifier.settings import load_settings

NOOP_QUEUE = "noop"
NOOP_ACTOR = "noop"

configure_logging()
broker = build_broker(load_settings())
dramatiq.set_broker(broker)


def noop(payload: dict[str, Any]) -> None:
    """Takes the same payload as ``send_message`` and does nothing with it."""


actor = dramatiq.Actor(noop, broker=broker, actor_name=NOOP_ACTOR, queue_name=NOOP_QUEUE,
                       priority=0, options={})
