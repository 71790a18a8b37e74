"""The ``appointment`` command group: repair an appointment the gateway holds."""

from __future__ import annotations

import argparse
import sys

from notifier.cli.argument_types import _reason, _reference, _version
from notifier.cli.operator_name import operator_name
from notifier.cli.parsers import Commands, add_command, add_group
from notifier.cli.redis_connection import redis_connection
from notifier.settings import Settings


def appointment_reset_version(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.clock import utc_now
    from notifier.operations.versions import reset_version

    with redis_connection(settings, needed_by="appointment command",
                          say_nothing_changed=True) as redis:
        done = reset_version(redis, settings, args.reference, version=args.to,
                             actor=operator_name(), reason=args.reason, now=utc_now())
    if done is None:
        print(f"notifier: no appointment {args.reference} is held (never received, or "
              "expired); nothing changed", file=sys.stderr)
        return 1
    print(f"appointment {done.reference}: version {done.previous} -> {done.version}; "
          "recorded in its story and the audit")
    return 0


def register(commands: Commands) -> None:
    """Add the ``appointment`` command group to ``commands``."""
    repairs = add_group(
        commands, "appointment",
        summary="Repair an appointment the gateway holds.",
        description="Repair an appointment the gateway holds. Every change is recorded in "
        "its story and in the operators' audit with your user name and the reason. Needs "
        "NOTIFIER_REDIS_URL.",
    )
    sub = add_command(
        repairs, "reset-version", appointment_reset_version,
        summary="Set the version the gateway holds for an appointment.",
        details="After a stray event with a far too high version, every real event is "
        "ignored as stale_version: set the version back to the booking system's latest real "
        "one and its next event applies as usual. Nothing is sent.",
    )
    sub.add_argument("reference", metavar="REFERENCE", type=_reference,
                     help="the appointment's 10-digit reference number")
    sub.add_argument("--to", required=True, type=_version, metavar="VERSION",
                     help="the version to hold, e.g. the booking system's latest")
    sub.add_argument("--reason", required=True, type=_reason,
                     help="why, for the story and the audit (e.g. 'test event sent to "
                     "production, ticket 1234')")
