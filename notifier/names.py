"""The names the gateway's processes and its booking systems share on Dramatiq's broker:
queues, actors and the broker's Redis namespace.

A booking system's :class:`notifier.event_sender.EventSender`, the scheduler and the
operators' commands name the queues and actors of :mod:`notifier.actors` without importing
it (and the send step, the templates and the channels with it). Nothing is imported here.
"""

from __future__ import annotations

INTAKE_QUEUE = "intake"
SEND_QUEUE = "send"
# Callbacks to booking systems: their own queue, consumed by their own worker process, so
# that a slow receiver never holds a thread a patient's message needs.
CALLBACK_QUEUE = "callbacks"
QUEUES = (INTAKE_QUEUE, SEND_QUEUE, CALLBACK_QUEUE)
"""The gateway's Dramatiq queues, in the order operators read them."""
PATIENT_QUEUES = (INTAKE_QUEUE, SEND_QUEUE)
"""The queues a plain ``notifier worker`` consumes."""

INTAKE_ACTOR = "intake_event"
SEND_ACTOR = "send_message"
SEND_EXHAUSTED_ACTOR = "send_exhausted"
CALLBACK_ACTOR = "deliver_callback"


def broker_namespace(queue_prefix: str) -> str:
    """The Redis namespace of a deployment's Dramatiq broker, from its
    ``NOTIFIER_QUEUE_PREFIX``."""
    return f"{queue_prefix}-dramatiq"
