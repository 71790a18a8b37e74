"""The ``status`` command: the gateway's health, for an operator or a monitoring script."""

from __future__ import annotations

import argparse

from notifier.cli.parsers import Commands, add_command, report_language
from notifier.cli.redis_connection import redis_connection
from notifier.domain import Lang
from notifier.errors import RedisUnreachable
from notifier.settings import Settings


def status(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from notifier.clock import utc_now
    from notifier.operations.status import health_summary
    from notifier.operations.terminal import render_status

    try:
        with redis_connection(settings, needed_by="status command",
                              say_nothing_changed=False) as redis:
            summary = health_summary(redis, settings, utc_now())
    except RedisUnreachable:
        if args.json:
            print(json.dumps({"healthy": False, "problems": ["redis_unreachable"]}))
        raise
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_status(summary, Lang(args.lang)))
    return 0 if summary.healthy else 1


def register(commands: Commands) -> None:
    """Add the ``status`` command to ``commands``."""
    sub = add_command(
        commands, "status", status,
        summary="Print the gateway's health: queues, workers, scheduler, schedule, "
        "deliveries.",
        details="Exit status 1 when messages are not going out (no live worker, the scheduler "
        "stopped, or Redis unreachable). Needs NOTIFIER_REDIS_URL.",
    )
    sub.add_argument("--json", action="store_true", help="print JSON instead of text")
    report_language(sub)
